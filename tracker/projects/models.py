from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, LabeledEnum, TimestampMixin, enum_type
from ..tasks.models import ReportState

if TYPE_CHECKING:
    from ..auth.models import User
    from ..regions.models import Region
    from ..tasks.models import Task

# Amounts are stored exactly in 万元; a plan chooses whether people read 万元 or 亿元.
Money = Numeric(18, 4)


class ProjectKind(LabeledEnum):
    NEW = "new", "新建"
    EXPANSION = "expansion", "改扩建"
    RELOCATION = "relocation", "迁建"
    DIGITAL = "digital", "信息化"
    OTHER = "other", "其他"


class ProjectStatus(LabeledEnum):
    PREPARING = "preparing", "前期"
    BUILDING = "building", "在建"
    COMPLETED = "completed", "已竣工"
    IN_USE = "in_use", "已投用"
    SUSPENDED = "suspended", "暂缓"


class FundingSource(LabeledEnum):
    FISCAL = "fiscal", "财政"
    SPECIAL_BOND = "special_bond", "专项债"
    SELF = "self", "自筹"
    SOCIAL = "social", "社会资本"
    OTHER = "other", "其他"


class KeyProject(TimestampMixin, Base):
    """重大项目/重点工程: the investment side of a task of kind 重大工程 or 重大项目.

    Name, owner (lead department), co-operating units and construction nodes are the task's.
    """

    __tablename__ = "key_projects"
    __table_args__ = (
        CheckConstraint("NOT (total_tbd AND total_investment IS NOT NULL)", name="total_tbd_has_no_amount"),
        CheckConstraint("NOT (period_tbd AND period_investment IS NOT NULL)", name="period_tbd_has_no_amount"),
        CheckConstraint("total_investment IS NULL OR total_investment >= 0", name="total_nonnegative"),
        CheckConstraint("period_investment IS NULL OR period_investment >= 0", name="period_nonnegative"),
        CheckConstraint("end_year IS NULL OR start_year IS NULL OR end_year >= start_year", name="years_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), unique=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"))
    kind: Mapped[ProjectKind] = mapped_column(enum_type(ProjectKind, "project_kind"), default=ProjectKind.OTHER)
    status: Mapped[ProjectStatus] = mapped_column(
        enum_type(ProjectStatus, "project_status"), default=ProjectStatus.PREPARING
    )
    content: Mapped[str | None] = mapped_column(Text)
    items: Mapped[list[Any]] = mapped_column(default=list)
    total_investment: Mapped[Decimal | None] = mapped_column(Money)
    total_tbd: Mapped[bool] = mapped_column(default=False)
    period_investment: Mapped[Decimal | None] = mapped_column(Money)
    period_tbd: Mapped[bool] = mapped_column(default=False)
    start_year: Mapped[int | None]
    end_year: Mapped[int | None]
    version_id: Mapped[int] = mapped_column(default=1)

    task: Mapped[Task] = relationship(back_populates="project")
    region: Mapped[Region | None] = relationship()
    funding: Mapped[list[ProjectFunding]] = relationship(back_populates="project", cascade="all, delete-orphan")
    investments: Mapped[list[ProjectInvestment]] = relationship(
        back_populates="project", order_by="ProjectInvestment.year", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version_id}


class ProjectFunding(Base):
    """One funding source of a project and its amount (万元); a NULL amount is 待定."""

    __tablename__ = "project_funding"
    __table_args__ = (CheckConstraint("amount IS NULL OR amount >= 0", name="amount_nonnegative"),)

    project_id: Mapped[int] = mapped_column(ForeignKey("key_projects.id", ondelete="CASCADE"), primary_key=True)
    source: Mapped[FundingSource] = mapped_column(enum_type(FundingSource, "funding_source"), primary_key=True)
    amount: Mapped[Decimal | None] = mapped_column(Money)

    project: Mapped[KeyProject] = relationship(back_populates="funding")


class ProjectInvestment(TimestampMixin, Base):
    """One year's planned and completed investment of a project (万元)."""

    __tablename__ = "project_investments"
    __table_args__ = (
        UniqueConstraint("project_id", "year"),
        CheckConstraint("planned IS NULL OR planned >= 0", name="planned_nonnegative"),
        CheckConstraint("completed IS NULL OR completed >= 0", name="completed_nonnegative"),
        CheckConstraint("state <> 'confirmed' OR confirmed_at IS NOT NULL", name="confirmed_has_time"),
        CheckConstraint("state <> 'returned' OR return_reason IS NOT NULL", name="returned_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("key_projects.id", ondelete="CASCADE"))
    year: Mapped[int]
    planned: Mapped[Decimal | None] = mapped_column(Money)
    completed: Mapped[Decimal | None] = mapped_column(Money)
    note: Mapped[str | None] = mapped_column(Text)
    state: Mapped[ReportState] = mapped_column(
        enum_type(ReportState, "project_investment_state"), default=ReportState.DRAFT
    )
    return_reason: Mapped[str | None] = mapped_column(Text)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None]
    version_id: Mapped[int] = mapped_column(default=1)

    project: Mapped[KeyProject] = relationship(back_populates="investments")
    entered_by: Mapped[User | None] = relationship(foreign_keys=[entered_by_id])

    __mapper_args__ = {"version_id_col": version_id}
