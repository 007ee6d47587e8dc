from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import DUPLICATE, Base, LabeledEnum, TimestampMixin, enum_type

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


class UserKind(LabeledEnum):
    PERSON = "person", "人员"
    SERVICE = "service", "服务账号"


class User(TimestampMixin, Base):
    """An account: a person who signs in, or a service account (``kind``) that other systems use through the
    API with the tokens the administrator issues for it. Either belongs to one department in one region and
    has one role; what it may see and do follows from these alone.

    ``password_hash`` is None where there is no local password: service accounts (never one) and people who
    sign in through the unified identity platform only. ``external_id`` is the platform's subject (``sub``),
    bound at the first single sign-on. ``department_id`` is None only for an account created by single
    sign-on that an administrator has not yet placed (and so not yet switched on)."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("session_epoch >= 0", name="session_epoch_nonnegative"),
        CheckConstraint("kind <> 'service' OR password_hash IS NULL", name="service_has_no_password"),
        CheckConstraint("kind <> 'service' OR department_id IS NOT NULL", name="service_has_department"),
        CheckConstraint("department_id IS NOT NULL OR NOT is_active", name="active_has_department"),
        UniqueConstraint("external_id", info={DUPLICATE: "该统一身份认证账号已绑定其他用户。"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(40))
    kind: Mapped[UserKind] = mapped_column(enum_type(UserKind, "user_kind"), default=UserKind.PERSON,
                                           server_default=UserKind.PERSON.value)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    external_id: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_type(Role, "user_role"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"),
                                                      index=True)
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

    # None only while the account is switched off (the CHECK above): every signed-in account has one.
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
    def is_service(self) -> bool:
        return self.kind == UserKind.SERVICE

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
