"""Accounts: creating users, checking passwords, throttling failed logins."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .. import audit
from ..errors import DomainError
from ..regions.models import Department, Region
from ..timeutil import format_datetime, now
from .models import Role, User

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 8
# Spend the same time on unknown usernames as on wrong passwords.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


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


def authenticate(session: Session, username: str, password: str) -> User:
    """Return the user, or raise LoginFailed with a message; counts failures and locks the account."""
    user = session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    if user is None or not user.is_active:
        check_password_hash(_DUMMY_HASH, password)
        raise LoginFailed("用户名或密码错误。")
    current = now()
    if user.locked_until is not None and user.locked_until > current:
        raise LoginFailed(f"登录失败次数过多，账户已锁定至{format_datetime(user.locked_until)}。")
    if not check_password_hash(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = current + LOCKOUT
            user.failed_logins = 0
            audit.record(session, None, user, "lock", summary="连续登录失败，账户临时锁定")
            raise LoginFailed(f"登录失败次数过多，账户已锁定{int(LOCKOUT.total_seconds() // 60)}分钟。")
        left = MAX_FAILED_LOGINS - user.failed_logins
        raise LoginFailed(f"用户名或密码错误。再失败{left}次账户将被临时锁定。")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = current
    return user


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
        user.failed_logins, user.locked_until = 0, None
        user.end_sessions()
    session.flush()
    changes = audit.diff(before, audit.snapshot(user, USER_FIELDS))
    if new_password:
        changes["password"] = ["***", "（已重置）"]
    audit.record(session, actor, user, "update", changes, f"修改用户 {user.username}")
