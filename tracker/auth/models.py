from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, LabeledEnum, TimestampMixin, enum_type

if TYPE_CHECKING:
    from ..regions.models import Department


class Role(LabeledEnum):
    ADMIN = "admin", "系统管理员"
    PLANNER = "planner", "规划处"
    DEPT_HEAD = "dept_head", "责任单位负责人"
    DEPT_STAFF = "dept_staff", "责任单位填报员"
    SUPERVISOR = "supervisor", "督查室"
    EVALUATOR = "evaluator", "考核组"
    LEADER = "leader", "领导"


class User(TimestampMixin, Base):
    """A person who signs in; belongs to one department in one region."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("session_epoch >= 0", name="session_epoch_nonnegative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(enum_type(Role, "user_role"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"), index=True)
    email: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(30))
    # the account id on 浙政钉 (专有钉钉), to which work notifications are addressed
    zzd_account_id: Mapped[str | None] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
    # Part of the id kept in the session cookie: raising it ends every session signed in before
    # (signing out, a new password, an administrator's reset; a deactivated account is refused anyway).
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")

    department: Mapped[Department] = relationship(back_populates="users")

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}.{self.session_epoch}"

    def end_sessions(self) -> None:
        """Every session cookie issued for this account so far stops working."""
        self.session_epoch += 1

    @property
    def region_id(self) -> int:
        return self.department.region_id

    def __str__(self) -> str:
        return self.name


class LoginThrottle(Base):
    """Failed sign-ins per username as typed (``user:`` and the name trimmed, in lower case), whether or
    not an account has it — the answers and the pause are the same for every name, so the login page does
    not tell which usernames exist — and per client address (``addr:`` and the address)."""

    __tablename__ = "login_throttles"
    __table_args__ = (CheckConstraint("failures >= 0", name="failures_nonnegative"),)

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(index=True)
