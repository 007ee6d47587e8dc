"""Personal access tokens: made and revoked by their user, checked and counted on every API request.

A token is ``trk_`` and 43 random URL-safe characters; only its SHA-256 is stored, so a token is looked up by
the hash of what the request presents. The prefix lets a secret scanner (and a person) tell what it is.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, event, literal, select, update
from sqlalchemy.orm import Session, object_session

from .. import audit
from ..auth.models import User
from ..errors import DomainError, NotFound
from ..notifications.models import Notification
from ..notifications.services import mark_read
from ..timeutil import now
from .models import ApiToken, TokenScope

# The session's info key naming the token a request acts with: its audit entries say so.
TOKEN_INFO = "api_token_name"
PREFIX = "trk_"
HINT_LENGTH = 8  # characters after the prefix shown in the list
LONGEST_LIFE_DAYS = 365
LIFETIMES = (7, 30, 90, 180, 365)  # the choices the page offers, in days
RATE_WINDOW = timedelta(minutes=1)
RATE_LIMIT = 600  # requests a token may make in a minute (the app's API_RATE_LIMIT overrides it)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def user_tokens(session: Session, user: User) -> list[ApiToken]:
    """The user's tokens, the newest first (revoked and expired ones too, so the list shows what happened)."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


@dataclass
class NewToken:
    name: str
    scope: TokenScope
    days: int


def create_token(session: Session, actor: User, data: NewToken) -> tuple[ApiToken, str]:
    """Make a token for ``actor`` (for no one else); returns the record and the token, which is not stored."""
    name = (data.name or "").strip()
    if not name:
        raise DomainError("请填写令牌名称（用途），以便日后辨认。", field="name")
    if len(name) > 60:
        raise DomainError("令牌名称不能超过60个字。", field="name")
    if not 1 <= data.days <= LONGEST_LIFE_DAYS:
        raise DomainError(f"有效期须在1到{LONGEST_LIFE_DAYS}天之间。", field="days")
    token = PREFIX + secrets.token_urlsafe(32)
    at = now()
    record = ApiToken(user_id=actor.id, name=name, token_hash=hash_token(token),
                      hint=token[: len(PREFIX) + HINT_LENGTH], scope=data.scope, created_at=at,
                      expires_at=at + timedelta(days=data.days), window_count=0)
    session.add(record)
    session.flush()
    audit.record(session, actor, record, "create", {}, f"新建访问令牌“{name}”（{data.scope.label}，{data.days}天）")
    return record, token


def revoke_token(session: Session, actor: User, token_id: int) -> ApiToken:
    """Revoke one of the actor's own tokens (another user's token does not exist for them)."""
    record = session.get(ApiToken, token_id)
    if record is None or record.user_id != actor.id:
        raise NotFound("该访问令牌不存在。")
    if record.revoked_at is None:
        record.revoked_at = now()
        audit.record(session, actor, record, "revoke", {}, f"吊销访问令牌“{record.name}”")
        session.flush()
    return record


# ---------------------------------------------------------------- checking a request's token


class TokenRefused(Exception):
    """The request's token does not let it in: 401 (none, unknown, expired, revoked) or 429 (too many)."""

    def __init__(self, status: int, detail: str, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.retry_after = retry_after


@dataclass(frozen=True)
class Grant:
    """What a checked token allows: acting as ``user_id`` with ``scope``."""

    token_id: int
    token_name: str
    user_id: int
    scope: TokenScope
    token_hash: str  # names the token's places in this process (ids repeat across databases, hashes do not)

    @property
    def can_write(self) -> bool:
        return self.scope == TokenScope.WRITE


def check_token(session: Session, presented: str | None) -> Grant:
    """Check a presented token (reads only: the request's own session will do)."""
    if not presented or not presented.startswith(PREFIX) or len(presented) > 200:
        raise TokenRefused(401, "缺少有效的访问令牌。请在请求头中以 Authorization: Bearer <令牌> 提供。")
    found = session.execute(select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                            .where(ApiToken.token_hash == hash_token(presented))).one_or_none()
    if found is None:
        raise TokenRefused(401, "访问令牌无效。")
    record, user = found
    if record.revoked_at is not None:
        raise TokenRefused(401, "访问令牌已被吊销。")
    if record.expires_at <= now():
        raise TokenRefused(401, "访问令牌已过期，请重新生成。")
    if not user.is_active:
        raise TokenRefused(401, "令牌所属账号已停用。")
    return Grant(record.id, record.name, record.user_id, record.scope, record.token_hash)


# ---------------------------------------------------------------- the rate limit

LEASE_SHARE = 10  # a process takes a tenth of a token's minute at a time


@dataclass
class _Lease:
    """Places of a token's current minute this process has taken and not used yet."""

    window_start: datetime
    left: int


_leases: dict[str, _Lease] = {}  # by token hash
_leases_lock = threading.Lock()


def count_request(sessions: Callable[[], AbstractContextManager[Session]], grant: Grant,
                  limit: int = RATE_LIMIT) -> None:
    """Count a request against its token's minute; TokenRefused(429) once the minute's places are taken.

    A process takes the places ``limit // LEASE_SHARE`` at a time, in a transaction of its own
    (``sessions()``, committed whatever the request then does): one UPDATE … RETURNING, so two processes
    never both take the last place, and a token's row is written a few times a minute rather than on every
    request. A place a process took and did not use is lost to the others until the minute ends."""
    at = now()
    with _leases_lock:
        lease = _leases.get(grant.token_hash)
        if lease is not None and lease.left > 0 and lease.window_start + RATE_WINDOW > at:
            lease.left -= 1
            return
    places = max(1, limit // LEASE_SHARE)
    with sessions() as session:
        taken, started = _take_places(session, grant.token_id, places, at)
    granted = min(places, limit - (taken - places))
    if granted <= 0:
        raise TokenRefused(429, f"请求过于频繁：每个令牌每分钟最多{limit}次请求，请稍后重试。",
                           retry_after=_seconds_left(started, at))
    with _leases_lock:
        for ended in [key for key, held in _leases.items() if held.window_start + RATE_WINDOW <= at]:
            del _leases[ended]
        _leases[grant.token_hash] = _Lease(started, granted - 1)


def _take_places(session: Session, token_id: int, places: int, at: datetime) -> tuple[int, datetime]:
    """Add ``places`` to the token's count of its minute (a new minute starts at ``at``); the count after it,
    and when the minute started. The token's last use is stamped too."""
    stamp = literal(at, ApiToken.window_start.type)
    in_window = ApiToken.window_start > literal(at - RATE_WINDOW, ApiToken.window_start.type)
    count, started = session.execute(
        update(ApiToken).where(ApiToken.id == token_id)
        .values(window_count=case((in_window, ApiToken.window_count + places), else_=places),
                window_start=case((in_window, ApiToken.window_start), else_=stamp),
                last_used_at=at)
        .returning(ApiToken.window_count, ApiToken.window_start)
        .execution_options(synchronize_session=False)
    ).one()
    return count, started


def _seconds_left(started: datetime, at: datetime) -> int:
    return max(1, int((started + RATE_WINDOW - at).total_seconds() + 0.999))


# ---------------------------------------------------------------- writes through the API


@event.listens_for(audit.AuditEntry, "before_insert")
def _name_the_token(_mapper: Any, _connection: Any, entry: audit.AuditEntry) -> None:
    """An audit entry written in a request made with a token says which token (the actor is its user)."""
    session = object_session(entry)
    name = session.info.get(TOKEN_INFO) if session is not None else None
    if name:
        entry.summary = f"{entry.summary or entry.action}（经 API 令牌“{name}”）"


def read_notification(session: Session, actor: User, notification_id: int) -> Notification:
    """Mark one of the actor's messages read through the API (audited, as every write of the API is)."""
    notification = mark_read(session, actor, notification_id)
    audit.record(session, actor, notification, "read", {}, "标记通知已读")
    return notification
