from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, LabeledEnum, enum_type

if TYPE_CHECKING:
    from ..indicators.models import Indicator
    from ..tasks.models import Milestone, Task


class AlertRule(LabeledEnum):
    DEADLINE = "deadline", "期限预警"
    PACE = "pace", "进度滞后"
    INDICATOR = "indicator", "指标滞后"


class AlertLevel(LabeledEnum):
    DUE_SOON = "due_soon", "临期"
    OVERDUE = "overdue", "逾期"
    SEVERE = "severe", "严重逾期"
    LAGGING = "lagging", "滞后"


LEVEL_COLOURS = {
    AlertLevel.DUE_SOON: "yellow",
    AlertLevel.OVERDUE: "red",
    AlertLevel.SEVERE: "black",
    AlertLevel.LAGGING: "orange",
}


class AlertTarget(LabeledEnum):
    TASK = "task", "任务"
    MILESTONE = "milestone", "节点"
    INDICATOR = "indicator", "指标"


class AlertStatus(LabeledEnum):
    OPEN = "open", "未解除"
    RESOLVED = "resolved", "已解除"
    CANCELLED = "cancelled", "已取消"


class ResolveReason(LabeledEnum):
    """Why an alert stopped being open (stored in ``resolved_reason``)."""

    DONE = "done", "已完成"
    DEADLINE_CHANGED = "deadline_changed", "期限已调整"
    CAUGHT_UP = "caught_up", "进度已赶上"
    NOT_APPLICABLE = "not_applicable", "不再适用"


# Severity order: a badge shows the most severe open alert of an item.
LEVEL_RANK = {
    AlertLevel.DUE_SOON: 1,
    AlertLevel.LAGGING: 2,
    AlertLevel.OVERDUE: 3,
    AlertLevel.SEVERE: 4,
}


class Alert(Base):
    """预警: raised by the scheduled scan; at most one open alert per rule and item."""

    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint(
            "(target = 'task' AND task_id IS NOT NULL AND milestone_id IS NULL AND indicator_id IS NULL)"
            " OR (target = 'milestone' AND task_id IS NOT NULL AND milestone_id IS NOT NULL"
            " AND indicator_id IS NULL)"
            " OR (target = 'indicator' AND indicator_id IS NOT NULL AND task_id IS NULL AND milestone_id IS NULL)",
            name="target_matches_item",
        ),
        CheckConstraint("(status = 'open') = (resolved_at IS NULL)", name="closed_has_time"),
        Index(
            "uq_alerts_open_task", "rule", "task_id", unique=True,
            sqlite_where=text("status = 'open' AND target = 'task'"),
            postgresql_where=text("status = 'open' AND target = 'task'"),
        ),
        Index(
            "uq_alerts_open_milestone", "rule", "milestone_id", unique=True,
            sqlite_where=text("status = 'open' AND target = 'milestone'"),
            postgresql_where=text("status = 'open' AND target = 'milestone'"),
        ),
        Index(
            "uq_alerts_open_indicator", "rule", "indicator_id", unique=True,
            sqlite_where=text("status = 'open' AND target = 'indicator'"),
            postgresql_where=text("status = 'open' AND target = 'indicator'"),
        ),
        # the overdue list's order (open alerts by deadline) with every column it filters by: a page, however deep,
        # and the whole order are read from this index alone
        Index(
            "ix_alerts_open_order", "due_date", "id", "region_id", "department_id", "plan_id", "level", "target",
            sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'"),
        ),
        Index("ix_alerts_task", "task_id"),
        # a plan's open alerts by level (the leader's dashboard) from its tasks' ids, read from the index alone; and
        # every open alert's level (the counts by level)
        Index(
            "ix_alerts_open_task_level", "task_id", "level",
            sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'"),
        ),
        # deleting a milestone or an indicator deletes its alerts; a task's alerts have neither, and are not entered
        Index("ix_alerts_milestone", "milestone_id",
              sqlite_where=text("milestone_id IS NOT NULL"), postgresql_where=text("milestone_id IS NOT NULL")),
        Index("ix_alerts_indicator", "indicator_id",
              sqlite_where=text("indicator_id IS NOT NULL"), postgresql_where=text("indicator_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[AlertRule] = mapped_column(enum_type(AlertRule, "alert_rule"))
    level: Mapped[AlertLevel] = mapped_column(enum_type(AlertLevel, "alert_level"))
    target: Mapped[AlertTarget] = mapped_column(enum_type(AlertTarget, "alert_target"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestones.id", ondelete="CASCADE"))
    indicator_id: Mapped[int | None] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"))
    due_date: Mapped[date | None]
    # Where a task's or milestone's alert stands in the overdue list: its task's plan, that plan's region and the
    # task's lead department — copies, kept in step by ``services.keep_in_step`` whenever a task or plan changes
    # them, so the list filters, counts and orders open alerts without reading their tasks. (No foreign keys:
    # the task's own keys are the record; an indicator's alert has none of the three.)
    plan_id: Mapped[int | None]
    region_id: Mapped[int | None]
    department_id: Mapped[int | None]
    status: Mapped[AlertStatus] = mapped_column(enum_type(AlertStatus, "alert_status"), default=AlertStatus.OPEN)
    raised_on: Mapped[date]
    level_changed_on: Mapped[date]
    resolved_at: Mapped[datetime | None]
    resolved_reason: Mapped[str | None] = mapped_column(String(40))

    task: Mapped[Task | None] = relationship(foreign_keys=[task_id])
    milestone: Mapped[Milestone | None] = relationship()
    indicator: Mapped[Indicator | None] = relationship()

    @property
    def colour(self) -> str:
        return LEVEL_COLOURS[self.level]


class OverdueListVersion(Base):
    """One row: a random token that changes with every committed change to what the overdue list counts,
    orders or offers as filters (alerts, and the tasks, milestones, plans, departments and regions they hang
    on). Each process keeps the list's counts, order and filter choices under the token it read them at
    (``overdue.py``), so a request costs the same however many alerts are open."""

    __tablename__ = "overdue_list_version"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    token: Mapped[str] = mapped_column(String(32))


class AlertTally(Base):
    """How many open alerts stand at a place (their plan's region, their task's lead department; 0: none) at a
    level, of a kind — kept by the database's triggers on ``alerts`` in the statement that changes an alert, by
    whatever writes it (migration ``a27t4l1y6c8n``). The overdue list's counts read these rather than the alerts
    themselves when filtered by nothing the tallies do not hold (``overdue._grouped``)."""

    __tablename__ = "alert_tallies"

    region_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    department_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    level: Mapped[str] = mapped_column(String(20), primary_key=True)
    target: Mapped[str] = mapped_column(String(20), primary_key=True)
    n: Mapped[int]


class AlertDepartmentTally(Base):
    """The overdue list's open alerts (a task's or a milestone's) of one lead department (0: none), every region
    together, by level — kept by the same triggers as ``AlertTally``; what a reader of every region is shown."""

    __tablename__ = "alert_department_tallies"

    department_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    total: Mapped[int]
    due_soon: Mapped[int]
    lagging: Mapped[int]
    overdue: Mapped[int]
    severe: Mapped[int]
