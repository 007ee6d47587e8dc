from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import DUPLICATE, Base, LabeledEnum, TimestampMixin, enum_type

if TYPE_CHECKING:
    from ..auth.models import User
    from ..indicators.models import Indicator
    from ..planning.models import Plan
    from ..projects.models import KeyProject
    from ..regions.models import Department


class TaskLevel(LabeledEnum):
    CHAPTER = "chapter", "章"
    KEY_TASK = "key_task", "重点任务"
    MEASURE = "measure", "工作举措"
    ANNUAL = "annual", "年度任务"


class TaskKind(LabeledEnum):
    TASK = "task", "任务"
    ENGINEERING = "engineering", "重大工程"
    PROJECT = "project", "重大项目"
    REFORM = "reform", "重大改革"
    POLICY = "policy", "重大政策"
    LIVELIHOOD = "livelihood", "民生实事"


PROJECT_KINDS = frozenset({TaskKind.ENGINEERING, TaskKind.PROJECT})


class TaskStatus(LabeledEnum):
    NOT_STARTED = "not_started", "未启动"
    IN_PROGRESS = "in_progress", "进行中"
    DONE = "done", "已完成"
    OVERDUE = "overdue", "已逾期"
    SUSPENDED = "suspended", "暂缓"
    TERMINATED = "terminated", "已终止"


OPEN_STATUSES = frozenset({TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS, TaskStatus.OVERDUE})


class MilestoneStatus(LabeledEnum):
    PENDING = "pending", "未完成"
    DONE = "done", "已完成"
    OVERDUE = "overdue", "已逾期"
    WAIVED = "waived", "已豁免"


class ProjectNode(LabeledEnum):
    """Construction nodes of a key project's milestones."""

    INITIATION = "initiation", "前期立项"
    FEASIBILITY = "feasibility", "可研批复"
    GROUNDBREAKING = "groundbreaking", "开工"
    TOPPING_OUT = "topping_out", "主体结顶"
    ACCEPTANCE = "acceptance", "竣工验收"
    OPERATION = "operation", "投入使用"


class ReportPeriod(LabeledEnum):
    MONTH = "month", "月"
    QUARTER = "quarter", "季"
    HALF = "half", "半年"
    YEAR = "year", "年"

    @property
    def numbers(self) -> list[str]:
        """The names of the period's 期次, the first being 1: 1月…12月, 第一季度…, 上半年/下半年, 全年."""
        return PERIOD_NUMBERS[self]


def period_name(period: ReportPeriod, year: int, number: int) -> str:
    """A reporting period as people say it: 2026年第一季度, 2026年3月, 2026年上半年, 2026年度."""
    return f"{year}年度" if period == ReportPeriod.YEAR else f"{year}年{period.numbers[number - 1]}"


def period_end(period: ReportPeriod, year: int, number: int) -> date:
    """The last day of a reporting period: 2026年第一季度 → 2026年3月31日."""
    months = {ReportPeriod.MONTH: 1, ReportPeriod.QUARTER: 3, ReportPeriod.HALF: 6, ReportPeriod.YEAR: 12}[period]
    last_month = number * months
    return date(year + last_month // 12, last_month % 12 + 1, 1) - timedelta(days=1)


PERIOD_NUMBERS = {
    ReportPeriod.MONTH: [f"{n}月" for n in range(1, 13)],
    ReportPeriod.QUARTER: [f"第{c}季度" for c in "一二三四"],
    ReportPeriod.HALF: ["上半年", "下半年"],
    ReportPeriod.YEAR: ["全年"],
}


class ReportState(LabeledEnum):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已提交"
    CONFIRMED = "confirmed", "已确认"
    RETURNED = "returned", "已退回"


task_co_departments = Table(
    "task_co_departments",
    Base.metadata,
    Column("task_id", ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("departments.id", ondelete="RESTRICT"), primary_key=True, index=True),
)

task_indicators = Table(
    "task_indicators",
    Base.metadata,
    Column("task_id", ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("indicator_id", ForeignKey("indicators.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Task(TimestampMixin, Base):
    """任务: one node of a plan's task tree (chapter > key task > measure > annual task)."""

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("plan_id", "code"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_range"),
        CheckConstraint("deadline IS NULL OR start_date IS NULL OR deadline >= start_date", name="deadline_after_start"),
        CheckConstraint("level = 'chapter' OR lead_department_id IS NOT NULL", name="lead_department_required"),
        CheckConstraint("level = 'chapter' OR deadline IS NOT NULL", name="deadline_required"),
        CheckConstraint("level <> 'annual' OR year IS NOT NULL", name="annual_task_has_year"),
        CheckConstraint("(status = 'done') = (completed_on IS NOT NULL)", name="done_has_completion_date"),
        CheckConstraint("weight > 0", name="weight_positive"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        # No index holds a column the overdue scan sets (status, version_id, updated_at): marking a
        # task 已逾期 is then written in place on PostgreSQL (a heap-only update, the page's room kept by the
        # table's fillfactor — migration a24h6o8t0u2p) instead of re-entering every index, the search's among them.
        Index("ix_tasks_lead_deadline", "lead_department_id", "deadline"),
        Index("ix_tasks_plan_parent_sort", "plan_id", "parent_id", "sort_order"),
        # the ids of some plans' tasks read from the index alone (a reader's scope, said on a searched row)
        Index("ix_tasks_plan_id_id", "plan_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="RESTRICT"), index=True)
    level: Mapped[TaskLevel] = mapped_column(enum_type(TaskLevel, "task_level"))
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[TaskKind] = mapped_column(enum_type(TaskKind, "task_kind"), default=TaskKind.TASK)
    lead_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"))
    responsible_person: Mapped[str | None] = mapped_column(String(60))
    start_date: Mapped[date | None]
    deadline: Mapped[date | None]
    year: Mapped[int | None]
    status: Mapped[TaskStatus] = mapped_column(enum_type(TaskStatus, "task_status"), default=TaskStatus.NOT_STARTED)
    progress: Mapped[int] = mapped_column(default=0)
    completed_on: Mapped[date | None]
    status_note: Mapped[str | None] = mapped_column(Text)
    weight: Mapped[int] = mapped_column(default=1)
    upstream_task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"), index=True)
    sort_order: Mapped[int] = mapped_column(default=0)
    version_id: Mapped[int] = mapped_column(default=1)

    plan: Mapped[Plan] = relationship(back_populates="tasks")
    parent: Mapped[Task | None] = relationship(
        remote_side=[id], back_populates="children", foreign_keys=[parent_id]
    )
    children: Mapped[list[Task]] = relationship(
        back_populates="parent", foreign_keys=[parent_id], order_by="(Task.sort_order, Task.id)"
    )
    upstream: Mapped[Task | None] = relationship(
        remote_side=[id], back_populates="downstream", foreign_keys=[upstream_task_id]
    )
    downstream: Mapped[list[Task]] = relationship(
        back_populates="upstream", foreign_keys=[upstream_task_id], order_by="Task.id"
    )
    lead_department: Mapped[Department | None] = relationship(foreign_keys=[lead_department_id])
    co_departments: Mapped[list[Department]] = relationship(
        secondary=task_co_departments, order_by="Department.id"
    )
    indicators: Mapped[list[Indicator]] = relationship(
        secondary=task_indicators, back_populates="tasks", order_by="Indicator.number"
    )
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="task", order_by="(Milestone.due_date, Milestone.id)", cascade="all, delete-orphan"
    )
    reports: Mapped[list[ProgressReport]] = relationship(
        back_populates="task",
        order_by="(ProgressReport.period_year.desc(), ProgressReport.id.desc())",
        cascade="all, delete-orphan",
    )
    project: Mapped[KeyProject | None] = relationship(back_populates="task", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version_id}

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Milestone(TimestampMixin, Base):
    """节点: a dated checkpoint of a task (for key projects, a construction node)."""

    __tablename__ = "milestones"
    __table_args__ = (
        CheckConstraint("(status = 'done') = (completed_on IS NOT NULL)", name="done_has_completion_date"),
        # no index on the columns the overdue scan sets (see Task)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    node: Mapped[ProjectNode | None] = mapped_column(enum_type(ProjectNode, "milestone_node"))
    due_date: Mapped[date]
    completed_on: Mapped[date | None]
    evidence: Mapped[str | None] = mapped_column(Text)
    status: Mapped[MilestoneStatus] = mapped_column(
        enum_type(MilestoneStatus, "milestone_status"), default=MilestoneStatus.PENDING
    )
    version_id: Mapped[int] = mapped_column(default=1)

    task: Mapped[Task] = relationship(back_populates="milestones")

    __mapper_args__ = {"version_id_col": version_id}

    @property
    def is_open(self) -> bool:
        return self.status in (MilestoneStatus.PENDING, MilestoneStatus.OVERDUE)


class ProgressReport(TimestampMixin, Base):
    """进展填报: one department's report on one task for one period."""

    __tablename__ = "progress_reports"
    __table_args__ = (
        UniqueConstraint("task_id", "department_id", "period", "period_year", "period_no",
                         info={DUPLICATE: "本单位该期的填报已存在，请打开原填报修改。"}),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_range"),
        CheckConstraint(
            "(period = 'month' AND period_no BETWEEN 1 AND 12)"
            " OR (period = 'quarter' AND period_no BETWEEN 1 AND 4)"
            " OR (period = 'half' AND period_no BETWEEN 1 AND 2)"
            " OR (period = 'year' AND period_no = 1)",
            name="period_no_valid",
        ),
        CheckConstraint("state <> 'returned' OR return_reason IS NOT NULL", name="returned_has_reason"),
        CheckConstraint("state = 'draft' OR submitted_at IS NOT NULL", name="submitted_has_time"),
        CheckConstraint(
            "state NOT IN ('confirmed', 'returned') OR reviewed_at IS NOT NULL", name="reviewed_has_time"
        ),
        Index("ix_progress_reports_state_year", "state", "period_year"),
        Index("ix_progress_reports_department", "department_id", "period_year"),
        # a department's reports newest first (its search, its list): without it PostgreSQL may walk every
        # report backwards by id looking for the department's
        Index("ix_progress_reports_department_newest", "department_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"))
    period: Mapped[ReportPeriod] = mapped_column(enum_type(ReportPeriod, "report_period"))
    period_year: Mapped[int]
    period_no: Mapped[int]
    progress: Mapped[int] = mapped_column(default=0)
    achievements: Mapped[str | None] = mapped_column(Text)
    problems: Mapped[str | None] = mapped_column(Text)
    next_steps: Mapped[str | None] = mapped_column(Text)
    state: Mapped[ReportState] = mapped_column(enum_type(ReportState, "report_state"), default=ReportState.DRAFT)
    return_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None]
    version_id: Mapped[int] = mapped_column(default=1)

    task: Mapped[Task] = relationship(back_populates="reports")
    department: Mapped[Department] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])

    __mapper_args__ = {"version_id_col": version_id}

    @property
    def period_label(self) -> str:
        return period_name(self.period, self.period_year, self.period_no)
