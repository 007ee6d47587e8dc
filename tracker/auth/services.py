"""Accounts: creating users, checking passwords, throttling failed logins, the account single sign-on names,
ending an account's tokens."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, and_, case, delete, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from .. import audit
from ..api.models import ApiToken
from ..errors import DomainError
from ..regions.models import Department, Region
from ..timeutil import format_datetime, now
from .models import LoginThrottle, Role, User, UserKind

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
FORGET_AFTER = timedelta(days=1)
ADDRESS_LIMIT = 30  # failures from one address within LOCKOUT, whatever the names
ADDRESS_SLOT = timedelta(seconds=5)  # while an address is paused: one password check from it this often
MIN_PASSWORD_LENGTH = 8


@cache
def _dummy_hash() -> str:
    """Checked against for unknown names, so they take as long as wrong passwords; made on first use,
    not at import (hashing takes a noticeable time)."""
    return generate_password_hash("not-a-real-password")


class LoginFailed(DomainError):
    status_code = 200


def validate_password(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(f"密码至少需要{MIN_PASSWORD_LENGTH}位。", field=field)
    if password.isdigit() or password.isalpha():
        raise DomainError("密码需同时包含字母和数字。", field=field)


def create_user(session: Session, actor: User | None, *, username: str, name: str, role: str | Role,
                region_code: str, department_name: str, password: str, email: str | None = None,
                check_password: bool = True) -> User:
    try:
        role = Role(role) if not isinstance(role, Role) else role
    except ValueError:
        try:
            role = Role.from_label(str(role))  # type: ignore[assignment]
        except ValueError:
            raise DomainError(f"未知角色：{role}", field="role") from None
    department = session.scalar(
        select(Department).join(Region).where(Region.code == region_code, Department.name == department_name)
    )
    if department is None:
        raise DomainError(f"区划 {region_code} 下没有部门“{department_name}”。", field="department")
    if session.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
        raise DomainError(f"用户名 {username} 已存在。", field="username")
    if check_password:
        validate_password(password)
    user = User(username=username, name=name, role=role, department=department,
                password_hash=generate_password_hash(password), email=email, password_changed_at=now())
    session.add(user)
    session.flush()
    audit.record(session, actor, user, "create", summary=f"创建用户 {username}")
    return user


def throttle_name(username: str) -> str:
    """The key failed sign-ins with this name count against: the name as the login lookup reads it."""
    return "user:" + _typed(username)


def _typed(username: str) -> str:
    return username.strip().lower()[:80]


def authenticate(session: Session, username: str, password: str, address: str | None = None) -> User:
    """Return the user, or raise LoginFailed with a message.

    Every attempt counts against the name typed, whether an account has it or not, *before* its password
    is checked (one atomic upsert), so however many arrive at once at most MAX_FAILED_LOGINS passwords are
    checked before the name is paused for LOCKOUT; the count is kept through the pause and starts again
    after it, or after a correct password. Every answer reads the same for an unknown name as for a known
    one and takes as long (a password hash is checked either way).

    Failures also count against the client's ``address``. ADDRESS_LIMIT of them within LOCKOUT pause the
    address in proportion: names that failed from it are refused there until the pause ends, while other
    names (colleagues behind the same NAT) may still sign in, one password check per ADDRESS_SLOT from that
    address, so trying many names from it stays slow."""
    current = now()
    _forget_old(session, current)
    name_key = throttle_name(username)
    address_key = pair_key = None
    if address:
        address_key, pair_key = f"addr:{address}"[:100], f"from:{address}|{_typed(username)}"[:100]
        _check_address(session, address_key, pair_key, current)
    attempts, paused_until = _count(session, name_key, current, limit=MAX_FAILED_LOGINS)
    if attempts > MAX_FAILED_LOGINS:  # paused: the pause began at the last attempt allowed a check
        check_password_hash(_dummy_hash(), password)
        raise LoginFailed(f"登录失败次数过多，该用户名已暂停登录至{format_datetime(paused_until)}。")
    user = session.scalar(select(User).where(func.lower(User.username) == _typed(username)))
    # service accounts and accounts without a local password sign in here no more than unknown names
    usable = user is not None and user.is_active and user.kind == UserKind.PERSON and user.password_hash is not None
    if usable and check_password_hash(user.password_hash, password):  # type: ignore[union-attr, arg-type]
        # the name's count starts again; the address's does not (one good account must not clear it)
        session.execute(delete(LoginThrottle).where(LoginThrottle.name == name_key))
        user.last_login_at = current  # type: ignore[union-attr]
        return user  # type: ignore[return-value]
    if not usable:
        check_password_hash(_dummy_hash(), password)
    if address_key and pair_key:
        _count(session, address_key, current, limit=ADDRESS_LIMIT, window=LOCKOUT)
        _count(session, pair_key, current, limit=ADDRESS_LIMIT, window=LOCKOUT)
    minutes = int(LOCKOUT.total_seconds() // 60)
    if attempts == MAX_FAILED_LOGINS:
        if user is not None:
            audit.record(session, None, user, "lock", summary="连续登录失败，账户临时锁定")
        raise LoginFailed(f"登录失败次数过多，该用户名已暂停登录{minutes}分钟。")
    raise LoginFailed(f"用户名或密码错误。再失败{MAX_FAILED_LOGINS - attempts}次该用户名将暂停登录{minutes}分钟。")


def _check_address(session: Session, address_key: str, pair_key: str, at: datetime) -> None:
    """Refuse the attempt when its address is paused and this name failed from there, or when another
    attempt from the paused address had its password checked less than ADDRESS_SLOT ago."""
    paused_until = session.scalar(select(LoginThrottle.locked_until).where(
        LoginThrottle.name == address_key, LoginThrottle.locked_until > at))
    if paused_until is None:
        return
    failed_here = session.scalar(select(LoginThrottle.failures).where(
        LoginThrottle.name == pair_key, LoginThrottle.updated_at >= at - LOCKOUT))
    if failed_here:
        raise LoginFailed(f"来自您网络地址的登录失败次数过多，该用户名在此地址已暂停登录至"
                          f"{format_datetime(paused_until)}。")
    slot = session.execute(update(LoginThrottle).where(
        LoginThrottle.name == address_key, LoginThrottle.updated_at <= at - ADDRESS_SLOT).values(updated_at=at))
    if slot.rowcount != 1:  # type: ignore[attr-defined]
        seconds = int(ADDRESS_SLOT.total_seconds())
        raise LoginFailed(f"来自您网络地址的登录失败次数过多，请{seconds}秒后再试。")


def _count(session: Session, key: str, at: datetime, *, limit: int,
           window: timedelta | None = None) -> tuple[int, datetime | None]:
    """One more attempt for ``key`` in one atomic upsert (concurrent attempts each get their own number);
    the attempt that reaches ``limit`` starts a pause of LOCKOUT. Returns the number and the pause's end.
    The count starts again once a pause is over, or, with a ``window``, when no attempt came within it."""
    row = LoginThrottle.__table__.c
    expired = or_(row.locked_until <= at, and_(row.locked_until.is_(None), row.updated_at < at - window)) \
        if window is not None else row.locked_until <= at
    pause_end = literal(at + LOCKOUT, row.locked_until.type)
    dialect = session.get_bind().dialect.name
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(LoginThrottle)
    stmt = insert.values(name=key, failures=1, updated_at=at).on_conflict_do_update(
        index_elements=[LoginThrottle.name],
        set_={
            "failures": case((expired, 1), else_=row.failures + 1),
            "locked_until": case((expired, None), (row.failures + 1 >= limit, func.coalesce(row.locked_until, pause_end)),
                                 else_=row.locked_until),
            "updated_at": at,
        },
    ).returning(LoginThrottle.failures, LoginThrottle.locked_until)
    failures, locked_until = session.execute(stmt).one()
    return int(failures), locked_until


def _forget_old(session: Session, at: datetime) -> None:
    """Keys nobody has tried for a day, and not paused, are forgotten."""
    session.execute(delete(LoginThrottle).where(
        LoginThrottle.updated_at < at - FORGET_AFTER,
        or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < at)))


def locked_names(session: Session) -> set[str]:
    """Names whose sign-in is paused now (the admin page marks their accounts)."""
    return set(session.scalars(select(LoginThrottle.name).where(LoginThrottle.locked_until > now())))


def unlock(session: Session, user: User) -> None:
    session.execute(delete(LoginThrottle).where(LoginThrottle.name == throttle_name(user.username)))


def change_password(session: Session, user: User, old_password: str, new_password: str) -> None:
    if user.password_hash is None:
        raise DomainError("您的账号通过统一身份认证登录，没有本系统的密码；请在统一身份认证平台修改密码。",
                          field="old_password")
    if not check_password_hash(user.password_hash, old_password):
        raise DomainError("原密码不正确。", field="old_password")
    validate_password(new_password, field="new_password")
    user.password_hash = generate_password_hash(new_password)
    user.password_changed_at = now()
    user.end_sessions()  # signed in elsewhere with the old password: signed out there
    audit.record(session, user, user, "change_password", summary="修改密码")
    revoke_tokens(session, user, user, "修改密码")


def revoke_tokens(session: Session, actor: User | None, user: User, reason: str) -> int:
    """Revoke every access token of ``user`` that still works (one UPDATE), with one audit entry on the
    account naming how many and why: a new password or a switched-off account ends what was issued before."""
    at = now()
    revoked = session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > at)
        .values(revoked_at=at).execution_options(synchronize_session="fetch")
    ).rowcount  # type: ignore[attr-defined]
    if revoked:
        audit.record(session, actor, user, "revoke_tokens", summary=f"{reason}，吊销其全部{revoked}个访问令牌")
    return int(revoked or 0)


USER_FIELDS = ["name", "role", "department_id", "email", "is_active"]


def update_user(session: Session, actor: User, user: User, *, name: str, role: Role, department: Department,
                email: str | None, is_active: bool, new_password: str | None) -> None:
    if user.id == actor.id and (not is_active or role != Role.ADMIN):
        raise DomainError("不能停用自己或取消自己的管理员角色。", field="role")
    if user.kind == UserKind.SERVICE:
        raise DomainError("这是服务账号，请在“服务账号”页管理。", field="role")
    was_active = user.is_active
    before = audit.snapshot(user, USER_FIELDS)
    user.name, user.role, user.department, user.email, user.is_active = name, role, department, email, is_active
    if new_password:
        validate_password(new_password)
        user.password_hash = generate_password_hash(new_password)
        user.password_changed_at = now()
        unlock(session, user)
        user.end_sessions()
    session.flush()
    changes = audit.diff(before, audit.snapshot(user, USER_FIELDS))
    if new_password:
        changes["password"] = ["***", "（已重置）"]
    audit.record(session, actor, user, "update", changes, f"修改用户 {user.username}")
    if was_active and not is_active:
        user.end_sessions()
        revoke_tokens(session, actor, user, "停用账号")
    elif new_password:
        revoke_tokens(session, actor, user, "重置密码")


def user_list(role: Role | None = None, region_id: int | None = None, q: str = "") -> Select[Any]:
    """The accounts the administrator looks through, region by region, filtered (for paging)."""
    stmt = (select(User).outerjoin(User.department).where(User.kind == UserKind.PERSON)
            .options(selectinload(User.department).selectinload(Department.region))
            .order_by(Department.region_id.is_(None).desc(), Department.region_id, User.username))
    if role:
        stmt = stmt.where(User.role == role)
    if region_id:
        stmt = stmt.where(Department.region_id == region_id)
    if q:
        stmt = stmt.where(or_(User.username.contains(q, autoescape=True), User.name.contains(q, autoescape=True)))
    return stmt


# ---------------------------------------------------------------- single sign-on: the account the claims name


@dataclass(frozen=True)
class SsoOutcome:
    """The account single sign-on lets in, or why not (``refusal``, with the page's status)."""

    user: User | None = None
    refusal: str | None = None
    status: int = 403


PENDING_ROLE = Role.DEPT_STAFF  # the least a created account can do, until an administrator decides
_USERNAME_CHARACTERS = re.compile(r"[^A-Za-z0-9_.-]")


def sso_account(session: Session, claims: dict[str, Any], *, user_claim: str, user_field: str,
                create_users: bool) -> SsoOutcome:
    """The account validated ID token ``claims`` sign in, in this order:

    1. the person account bound to the subject (``sub``) at an earlier sign-on;
    2. else the person account whose ``user_field`` (username or email) equals the claim ``user_claim``,
       case-insensitively, not yet bound to another subject: it is bound now (audited);
    3. else, with ``create_users``, a new account is recorded, switched off, without a department or a
       password and with the least role (PENDING_ROLE): it signs in once an administrator has placed it
       and switched it on; without ``create_users`` the person is refused.

    Refusals of a known account (switched off, bound to another subject) are audited on it."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        return SsoOutcome(refusal="身份令牌缺少有效的用户标识（sub），无法登录。", status=400)
    user = session.scalar(select(User).where(User.external_id == subject))
    value = claims.get(user_claim)
    typed = value.strip() if isinstance(value, str) else ""
    if user is None:
        if not typed:
            return SsoOutcome(refusal=f"统一身份认证平台没有提供账号标识（{user_claim}），无法确定您在本系统的账号，"
                                      "请联系系统管理员。")
        if user_field == "email" and claims.get("email_verified") is False:
            return SsoOutcome(refusal="您在统一身份认证平台的电子邮箱尚未验证，无法据此确定账号，请联系系统管理员。")
        column = User.email if user_field == "email" else User.username
        matches = list(session.scalars(select(User).where(func.lower(column) == typed.lower(),
                                                          User.kind == UserKind.PERSON).limit(2)))
        if len(matches) > 1:
            return SsoOutcome(refusal="有多个账号与您的统一身份认证账号对应，无法确定登录哪一个，请联系系统管理员。")
        user = matches[0] if matches else None
        if user is not None:
            if user.external_id is not None:
                audit.record(session, None, user, "login_refused",
                             summary="统一身份认证登录被拒绝：该账号已绑定其他统一身份认证账号")
                return SsoOutcome(refusal=f"本系统账号 {user.username} 已绑定其他统一身份认证账号，不能以您的身份登录。"
                                          "如有疑问请联系系统管理员。")
            user.external_id = subject
            audit.record(session, None, user, "bind_sso", {"external_id": [None, subject]},
                         "首次通过统一身份认证登录，绑定统一身份认证账号")
    if user is None:
        if not create_users:
            return SsoOutcome(refusal=f"您的统一身份认证账号（{typed}）尚未开通本系统的使用权限。"
                                      "请联系系统管理员开通账号后再登录。")
        user = _pending_account(session, claims, subject, typed)
        return SsoOutcome(refusal=f"已登记您的账号 {user.username}。系统管理员为您分配所在单位和角色并启用后，"
                                  "您即可通过统一身份认证登录。")
    if user.kind != UserKind.PERSON:
        return SsoOutcome(refusal="服务账号不能登录页面。")
    if not user.is_active:
        audit.record(session, None, user, "login_refused", summary="统一身份认证登录被拒绝：账号未启用")
        if user.department_id is None:
            return SsoOutcome(refusal="您的账号已登记，正等待系统管理员分配所在单位和角色并启用，请稍后再试。")
        return SsoOutcome(refusal="您的账号已停用，如有疑问请联系系统管理员。")
    user.last_login_at = now()
    return SsoOutcome(user=user)


def _pending_account(session: Session, claims: dict[str, Any], subject: str, typed: str) -> User:
    base = _USERNAME_CHARACTERS.sub("", typed.split("@")[0])[:34] or "sso"
    username, n = base, 1
    while session.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
        n += 1
        username = f"{base}-{n}"
    name = claims.get("name")
    email = claims.get("email")
    user = User(username=username, name=(name.strip()[:40] if isinstance(name, str) and name.strip() else username),
                kind=UserKind.PERSON, role=PENDING_ROLE, department=None, password_hash=None, external_id=subject,
                email=email[:120] if isinstance(email, str) and "@" in email else None, is_active=False)
    session.add(user)
    session.flush()
    audit.record(session, None, user, "create", summary=f"通过统一身份认证首次登录，登记账号 {username}（待分配单位后启用）")
    return user
