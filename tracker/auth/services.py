"""Accounts: creating users, checking passwords, throttling failed logins."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, and_, case, delete, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from .. import audit
from ..errors import DomainError
from ..regions.models import Department, Region
from ..timeutil import format_datetime, now
from .models import LoginThrottle, Role, User

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
    usable = user is not None and user.is_active
    if usable and check_password_hash(user.password_hash, password):  # type: ignore[union-attr]
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
    if not check_password_hash(user.password_hash, old_password):
        raise DomainError("原密码不正确。", field="old_password")
    validate_password(new_password, field="new_password")
    user.password_hash = generate_password_hash(new_password)
    user.password_changed_at = now()
    user.end_sessions()  # signed in elsewhere with the old password: signed out there
    audit.record(session, user, user, "change_password", summary="修改密码")


USER_FIELDS = ["name", "role", "department_id", "email", "is_active"]


def update_user(session: Session, actor: User, user: User, *, name: str, role: Role, department: Department,
                email: str | None, is_active: bool, new_password: str | None) -> None:
    if user.id == actor.id and (not is_active or role != Role.ADMIN):
        raise DomainError("不能停用自己或取消自己的管理员角色。", field="role")
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


def user_list(role: Role | None = None, region_id: int | None = None, q: str = "") -> Select[Any]:
    """The accounts the administrator looks through, region by region, filtered (for paging)."""
    stmt = (select(User).join(User.department).options(selectinload(User.department).selectinload(Department.region))
            .order_by(Department.region_id, User.username))
    if role:
        stmt = stmt.where(User.role == role)
    if region_id:
        stmt = stmt.where(Department.region_id == region_id)
    if q:
        stmt = stmt.where(or_(User.username.contains(q, autoescape=True), User.name.contains(q, autoescape=True)))
    return stmt
