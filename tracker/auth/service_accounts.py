"""Service accounts: accounts of other systems (a city platform's sync, a data warehouse) that act through
/api/v1 only. A service account is a user of kind ``service`` — so every rule of scope and role, every audit
entry and the API's token checks apply to it unchanged — with no password and no page sign-in. The
administrator creates it, binds it to a department (and so a region) and a role, and issues and revokes its
tokens (made by tracker/api's own ``create_token``: shown once, stored as a hash, scoped, rate limited)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from .. import audit
from ..api.models import ApiToken
from ..api.services import NewToken, create_token, revoke_token, user_tokens
from ..errors import DomainError, NotFound
from ..regions.models import Department
from .models import Role, User, UserKind
from .services import revoke_tokens

FIELDS = ["name", "role", "department_id", "is_active"]


def service_account_list() -> Select[Any]:
    """Every service account, region by region (for paging)."""
    return (select(User).join(User.department).where(User.kind == UserKind.SERVICE)
            .options(selectinload(User.department).selectinload(Department.region))
            .order_by(Department.region_id, User.username))


def get_service_account(session: Session, account_id: int) -> User:
    account = session.get(User, account_id)
    if account is None or account.kind != UserKind.SERVICE:
        raise NotFound("该服务账号不存在。")
    return account


def create_service_account(session: Session, actor: User, *, username: str, name: str, role: Role,
                           department: Department) -> User:
    username = username.strip()
    if session.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
        raise DomainError(f"用户名 {username} 已存在。", field="username")
    account = User(username=username, name=name.strip(), kind=UserKind.SERVICE, role=role, department=department,
                   password_hash=None, is_active=True)
    session.add(account)
    session.flush()
    audit.record(session, actor, account, "create", audit.diff({}, audit.snapshot(account, FIELDS)),
                 f"创建服务账号 {username}")
    return account


def update_service_account(session: Session, actor: User, account: User, *, name: str, role: Role,
                           department: Department, is_active: bool) -> None:
    """Change what the account is; switching it off revokes every token it has."""
    was_active = account.is_active
    before = audit.snapshot(account, FIELDS)
    account.name, account.role, account.department, account.is_active = name.strip(), role, department, is_active
    audit.record_change(session, actor, account, "update", before, FIELDS, f"修改服务账号 {account.username}")
    if was_active and not is_active:
        revoke_tokens(session, actor, account, "停用服务账号")


def account_tokens(session: Session, account: User) -> list[ApiToken]:
    return user_tokens(session, account)


def issue_token(session: Session, actor: User, account: User, data: NewToken) -> tuple[ApiToken, str]:
    """A token for the service account (the API's own ``create_token``, whose entry names the account it acts
    for); the administrator who issued it is on the account's history."""
    if not account.is_active:
        raise DomainError("服务账号已停用，不能签发令牌。请先启用。", field="name")
    record, token = create_token(session, account, data)
    audit.record(session, actor, account, "issue_token", {},
                 f"为服务账号签发访问令牌“{record.name}”（{record.scope.label}，{data.days}天）")
    return record, token


def revoke_account_token(session: Session, actor: User, account: User, token_id: int) -> ApiToken:
    record = revoke_token(session, account, token_id)
    audit.record(session, actor, account, "revoke_token", {}, f"吊销服务账号的访问令牌“{record.name}”")
    return record


def account_history(session: Session, account: User) -> list[audit.AuditEntry]:
    """The account's history: what the administrators changed and issued, and what its tokens went through."""
    token_ids = [t.id for t in user_tokens(session, account)]
    return audit.history(session, ("users", account.id), ("api_tokens", token_ids), limit=50)
