"""Personal access tokens of the open platform (/api/v1)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, LabeledEnum, enum_type

if TYPE_CHECKING:
    from ..auth.models import User


class TokenScope(LabeledEnum):
    READ = "read", "只读"
    WRITE = "write", "读写"


class ApiToken(Base):
    """A token a user made for a program to act as them. Only the SHA-256 of the token is kept (the token
    itself is shown once, when it is made); ``hint`` is its first characters, for the list. A token works
    until it expires or is revoked.

    ``window_start`` and ``window_count`` count the places of the current minute taken (the rate limit): a
    process takes a share of them at a time (``services.count_request``), and stamps ``last_used_at`` when it
    does."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        CheckConstraint("expires_at > created_at", name="expires_after_creation"),
        CheckConstraint("window_count >= 0", name="window_count_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))
    scope: Mapped[TokenScope] = mapped_column(enum_type(TokenScope, "api_token_scope"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    window_start: Mapped[datetime | None]
    window_count: Mapped[int] = mapped_column(default=0, server_default="0")

    user: Mapped[User] = relationship()

    def is_usable(self, at: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > at

    @property
    def can_write(self) -> bool:
        return self.scope == TokenScope.WRITE
