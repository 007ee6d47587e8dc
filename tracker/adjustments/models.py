from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, LabeledEnum, enum_type

if TYPE_CHECKING:
    from ..attachments.models import Attachment
    from ..auth.models import User
    from ..indicators.models import Indicator
    from ..projects.models import KeyProject
    from ..regions.models import Department
    from ..tasks.models import Milestone, Task


class AdjustmentKind(LabeledEnum):
    DEADLINE = "deadline", "延期"
    TARGET = "target", "调整目标"
    INVESTMENT = "investment", "调整投资"


class AdjustmentState(LabeledEnum):
    PENDING = "pending", "待审批"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "已驳回"
    WITHDRAWN = "withdrawn", "已撤回"


def _one_pending(name: str, column: str) -> Index:
    where = text(f"state = 'pending' AND {column} IS NOT NULL")
    return Index(name, column, unique=True, sqlite_where=where, postgresql_where=where)


class AdjustmentRequest(Base):
    """调整申请: a department asks to move a deadline or change a target; the planner decides."""

    __tablename__ = "adjustment_requests"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'deadline' AND task_id IS NOT NULL AND new_date IS NOT NULL)"
            " OR (kind = 'target' AND indicator_id IS NOT NULL AND new_value IS NOT NULL)"
            " OR (kind = 'investment' AND project_id IS NOT NULL AND new_value IS NOT NULL)",
            name="kind_has_item",
        ),
        CheckConstraint("(state IN ('approved', 'rejected')) = (decided_at IS NOT NULL)", name="decided_has_time"),
        _one_pending("uq_adjustment_requests_pending_task", "task_id"),
        Index("ix_adjustment_requests_milestone", "milestone_id"),  # deleting a task's milestones deletes these
        _one_pending("uq_adjustment_requests_pending_indicator", "indicator_id"),
        _one_pending("uq_adjustment_requests_pending_project", "project_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AdjustmentKind] = mapped_column(enum_type(AdjustmentKind, "adjustment_kind"))
    state: Mapped[AdjustmentState] = mapped_column(
        enum_type(AdjustmentState, "adjustment_state"), default=AdjustmentState.PENDING
    )
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestones.id", ondelete="CASCADE"))
    indicator_id: Mapped[int | None] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("key_projects.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    old_date: Mapped[date | None]
    new_date: Mapped[date | None]
    old_value: Mapped[str | None] = mapped_column(String(60))
    new_value: Mapped[str | None] = mapped_column(String(60))
    reason: Mapped[str] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    decision_comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]

    task: Mapped[Task | None] = relationship()
    milestone: Mapped[Milestone | None] = relationship()
    indicator: Mapped[Indicator | None] = relationship()
    project: Mapped[KeyProject | None] = relationship()
    department: Mapped[Department] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    attachments: Mapped[list[Attachment]] = relationship(order_by="Attachment.id", viewonly=True)
