from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Computed,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import DUPLICATE, Base, LabeledEnum, TimestampMixin, enum_type

if TYPE_CHECKING:
    from ..alerts.models import Alert
    from ..attachments.models import Attachment
    from ..auth.models import User
    from ..regions.models import Department
    from ..tasks.models import Task


class CaseSource(LabeledEnum):
    ALERT = "alert", "预警督办"
    ROUTINE = "routine", "日常督查"
    SPECIAL = "special", "专项督查"
    LEADER = "leader", "领导批示"


class CaseState(LabeledEnum):
    FILED = "filed", "立案"
    ISSUED = "issued", "已下发"
    ACKNOWLEDGED = "acknowledged", "已签收"
    RECTIFYING = "rectifying", "整改中"
    SUBMITTED = "submitted", "提交复核"
    CLOSED = "closed", "已销号"


class CaseAction(LabeledEnum):
    FILE = "file", "立案"
    ISSUE = "issue", "下发督办单"
    ACKNOWLEDGE = "acknowledge", "签收"
    PLAN = "plan", "提交整改方案"
    PROGRESS = "progress", "报送整改进展"
    SUBMIT = "submit", "提交复核"
    CLOSE = "close", "销号"
    RETURN = "return", "退回"
    REMIND = "remind", "催办"
    INTERVIEW = "interview", "约谈"
    CIRCULATE = "circulate", "通报"


class CaseOutcome(LabeledEnum):
    ON_TIME = "on_time", "按期整改"
    LATE = "late", "逾期整改"
    NOT_DONE = "not_done", "未整改到位"
    OTHER = "other", "其他"


# The 文号 prefix of an office that has none set: 督〔2026〕1号.
DEFAULT_PREFIX = "督"

# Whom a case waits on, in the case list's order: the department (issued, acknowledged, rectifying), the office's
# review (submitted), the office's issuing (filed), nobody (closed). The database keeps it from the state (a
# generated column), and the list reads its first page from an index on it and the response deadline.
QUEUE = {CaseState.ISSUED: 0, CaseState.ACKNOWLEDGED: 0, CaseState.RECTIFYING: 0, CaseState.SUBMITTED: 1,
         CaseState.FILED: 2, CaseState.CLOSED: 3}
QUEUE_SQL = "CASE " + " ".join(f"WHEN state = '{state.value}' THEN {rank}" for state, rank in QUEUE.items()) + " END"


class SupervisionCase(TimestampMixin, Base):
    """督办件: one closed-loop supervision case, usually about one task."""

    __tablename__ = "supervision_cases"
    __table_args__ = (
        UniqueConstraint("office_id", "number_year", "number_seq"),
        CheckConstraint(
            "(state = 'closed') = (closed_at IS NOT NULL AND outcome IS NOT NULL)", name="closed_has_outcome"
        ),
        CheckConstraint(
            "state = 'filed' OR (number_seq IS NOT NULL AND issued_at IS NOT NULL"
            " AND response_deadline IS NOT NULL)",
            name="issued_has_number",
        ),
        CheckConstraint("state IN ('filed', 'issued') OR acknowledged_at IS NOT NULL", name="acknowledged_has_time"),
        CheckConstraint("state <> 'submitted' OR submitted_at IS NOT NULL", name="submitted_has_time"),
        CheckConstraint("state <> 'closed' OR closed_by_id IS NOT NULL", name="closed_has_closer"),
        CheckConstraint("(number_seq IS NULL) = (number_year IS NULL)", name="number_complete"),
        CheckConstraint("number_seq IS NULL OR office_id IS NOT NULL", name="number_has_office"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
        # deleting alerts (a task's, with it) sets this to NULL: without the index each one reads every case
        Index("ix_supervision_cases_alert", "alert_id"),
        Index(
            "uq_supervision_cases_open_task", "task_id", unique=True,
            sqlite_where=text("state <> 'closed' AND task_id IS NOT NULL"),
            postgresql_where=text("state <> 'closed' AND task_id IS NOT NULL"),
            info={DUPLICATE: "该任务已有未销号的督办件，不能重复立案。请刷新页面查看。"},
        ),
        Index("ix_supervision_cases_department_state", "department_id", "state"),
        Index("ix_supervision_cases_queue", "queue", "response_deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number_year: Mapped[int | None]
    number_seq: Mapped[int | None]
    # the supervising office that issued it (its counter gave the number) and its 文号 prefix at the time
    office_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"))
    number_prefix: Mapped[str | None] = mapped_column(String(20))
    source: Mapped[CaseSource] = mapped_column(enum_type(CaseSource, "case_source"))
    state: Mapped[CaseState] = mapped_column(enum_type(CaseState, "case_state"), default=CaseState.FILED)
    queue: Mapped[int] = mapped_column(SmallInteger, Computed(QUEUE_SQL))  # (QUEUE: STORED on PostgreSQL)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="RESTRICT"))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(200))
    problem: Mapped[str] = mapped_column(Text)
    requirements: Mapped[str | None] = mapped_column(Text)
    instruction: Mapped[str | None] = mapped_column(Text)
    response_deadline: Mapped[date | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    issued_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None]
    outcome: Mapped[CaseOutcome | None] = mapped_column(enum_type(CaseOutcome, "case_outcome"))
    rating: Mapped[int | None]
    return_count: Mapped[int] = mapped_column(default=0)
    version_id: Mapped[int] = mapped_column(default=1)

    task: Mapped[Task | None] = relationship()
    alert: Mapped[Alert | None] = relationship()
    department: Mapped[Department] = relationship(foreign_keys=[department_id])
    office: Mapped[Department | None] = relationship(foreign_keys=[office_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    steps: Mapped[list[CaseStep]] = relationship(
        back_populates="case", order_by="CaseStep.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version_id}

    @property
    def number_label(self) -> str:
        if self.number_seq is None:
            return "（未编号）"
        return f"{self.number_prefix or DEFAULT_PREFIX}〔{self.number_year}〕{self.number_seq}号"

    @property
    def issuing_body(self) -> str:
        """Who issued it, in full (浙江省卫生健康委员会督查室)."""
        office = self.office or self.department
        return office.region.authority + (office.name if self.office is not None else "督查室")


class CaseStep(Base):
    """One recorded step of a case: a transition, a reminder, an escalation or a progress note,
    with the files filed with it."""

    __tablename__ = "case_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("supervision_cases.id", ondelete="CASCADE"), index=True)
    action: Mapped[CaseAction] = mapped_column(enum_type(CaseAction, "case_action"))
    from_state: Mapped[CaseState | None] = mapped_column(enum_type(CaseState, "case_step_from_state"))
    to_state: Mapped[CaseState | None] = mapped_column(enum_type(CaseState, "case_step_to_state"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]

    case: Mapped[SupervisionCase] = relationship(back_populates="steps")
    actor: Mapped[User | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(order_by="Attachment.id", viewonly=True)


class CaseNumberSequence(Base):
    """The last 督办单 number a supervising office issued in a year (each office counts on its own, from 1)."""

    __tablename__ = "case_number_sequences"

    office_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"), primary_key=True,
                                           autoincrement=False)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(default=0)
