from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import DUPLICATE, Base, LabeledEnum, enum_type
from ..errors import DomainError
from ..indicators.models import Judgement, ValueState

if TYPE_CHECKING:
    from ..auth.models import User
    from ..indicators.models import Indicator
    from ..planning.models import Plan
    from ..regions.models import Department

Score = Numeric(7, 2)
Rate = Numeric(7, 4)


def investment_rate(planned: Decimal | None, completed: Decimal | None) -> Decimal | None:
    """Confirmed completed investment as a share (0–1, four places) of the planned investment; None
    without a plan."""
    if planned is None or planned <= 0:
        return None
    return ((completed or Decimal(0)) / planned).quantize(Decimal("0.0001"))


class EvaluationKind(LabeledEnum):
    ANNUAL = "annual", "年度监测"
    MIDTERM = "midterm", "中期评估"
    FINAL = "final", "总结评估"


class EvaluationState(LabeledEnum):
    DRAFT = "draft", "草稿"
    LOCKED = "locked", "已锁定"


class Grade(LabeledEnum):
    EXCELLENT = "excellent", "优秀"
    GOOD = "good", "良好"
    PASS = "pass", "合格"
    FAIL = "fail", "不合格"


class Evaluation(Base):
    """考核评估: one computation of a plan's results for a year; locked versions never change."""

    __tablename__ = "evaluations"
    __table_args__ = (
        UniqueConstraint("plan_id", "kind", "year", "version",
                         info={DUPLICATE: "另一位考核人员正在计算同一规划、同一年度的考核，请稍后刷新查看。"}),
        CheckConstraint("(state = 'locked') = (locked_at IS NOT NULL)", name="locked_has_time"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("pace_tolerance BETWEEN 0 AND 50", name="pace_tolerance_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    kind: Mapped[EvaluationKind] = mapped_column(enum_type(EvaluationKind, "evaluation_kind"))
    year: Mapped[int]
    version: Mapped[int] = mapped_column(default=1)
    state: Mapped[EvaluationState] = mapped_column(
        enum_type(EvaluationState, "evaluation_state"), default=EvaluationState.DRAFT
    )
    weights: Mapped[dict[str, Any]] = mapped_column(default=dict)
    grade_thresholds: Mapped[dict[str, Any]] = mapped_column(default=dict)
    summary: Mapped[str | None] = mapped_column(Text)
    # 目标一致法: how far behind the expected pace (in percent of it) still counts as 基本符合
    pace_tolerance: Mapped[int] = mapped_column(default=10, server_default="10")
    # The evaluator's own words (prefilled from the figures), kept with this version and locked with it
    overview: Mapped[str | None] = mapped_column(Text)
    problems: Mapped[str | None] = mapped_column(Text)
    suggestions: Mapped[str | None] = mapped_column(Text)
    # 中期评估 and 总结评估: key tasks, key projects and the cascade as computed (see .plan_review); None for 年度监测
    plan_review: Mapped[dict[str, Any] | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    computed_at: Mapped[datetime]
    locked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    locked_at: Mapped[datetime | None]

    plan: Mapped[Plan] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    locked_by: Mapped[User | None] = relationship(foreign_keys=[locked_by_id])
    scores: Mapped[list[DepartmentScore]] = relationship(
        back_populates="evaluation", order_by="DepartmentScore.rank", cascade="all, delete-orphan"
    )
    indicator_results: Mapped[list[IndicatorResult]] = relationship(
        back_populates="evaluation", cascade="all, delete-orphan"
    )


class DepartmentScore(Base):
    """One department's figures and score in an evaluation."""

    __tablename__ = "department_scores"
    __table_args__ = (
        UniqueConstraint("evaluation_id", "department_id"),
        CheckConstraint(
            "adjusted_score IS NULL OR (adjust_reason IS NOT NULL AND adjust_reason <> '')",
            name="adjustment_has_reason",
        ),
        CheckConstraint("score BETWEEN 0 AND 100", name="score_range"),
        CheckConstraint("adjusted_score IS NULL OR adjusted_score BETWEEN 0 AND 100", name="adjusted_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"))
    tasks_due: Mapped[int] = mapped_column(default=0)
    tasks_done: Mapped[int] = mapped_column(default=0)
    tasks_done_on_time: Mapped[int] = mapped_column(default=0)
    tasks_overdue: Mapped[int] = mapped_column(default=0)
    completion_rate: Mapped[Decimal | None] = mapped_column(Rate)
    on_time_rate: Mapped[Decimal | None] = mapped_column(Rate)
    indicators_achieved: Mapped[int] = mapped_column(default=0)
    indicators_on_track: Mapped[int] = mapped_column(default=0)
    indicators_lagging: Mapped[int] = mapped_column(default=0)
    cases_opened: Mapped[int] = mapped_column(default=0)
    cases_closed: Mapped[int] = mapped_column(default=0)
    cases_returned: Mapped[int] = mapped_column(default=0)
    investment_planned: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    investment_completed: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    score: Mapped[Decimal] = mapped_column(Score)
    adjusted_score: Mapped[Decimal | None] = mapped_column(Score)
    adjust_reason: Mapped[str | None] = mapped_column(Text)
    adjusted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    grade: Mapped[Grade | None] = mapped_column(enum_type(Grade, "department_grade"))
    rank: Mapped[int | None]

    evaluation: Mapped[Evaluation] = relationship(back_populates="scores")
    department: Mapped[Department] = relationship()

    @property
    def final_score(self) -> Decimal:
        return self.adjusted_score if self.adjusted_score is not None else self.score

    @property
    def investment_rate(self) -> Decimal | None:
        return investment_rate(self.investment_planned, self.investment_completed)


# Only confirmed values are judged. A value not yet confirmed is frozen unjudged (待评判) with its review state:
# 待确认 when entered, 已退回 (the note holds the planner's reason) when returned.
UNCONFIRMED_NOTE = "该监测值已填报，尚未经规划处确认，不予评判。"
REVIEW_LABELS = {ValueState.ENTERED: "待确认", ValueState.RETURNED: "已退回"}


class IndicatorResult(Base):
    """An indicator's value and judgement as frozen into an evaluation."""

    __tablename__ = "indicator_results"
    __table_args__ = (UniqueConstraint("evaluation_id", "indicator_id"),
                      Index("ix_indicator_results_indicator", "indicator_id"))  # deleting an indicator deletes these

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id", ondelete="CASCADE"))
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"))
    value_text: Mapped[str | None] = mapped_column(String(60))
    judgement: Mapped[Judgement] = mapped_column(enum_type(Judgement, "indicator_result_judgement"))
    note: Mapped[str | None] = mapped_column(Text)
    # the review state of the value when the evaluation was computed (None: there was no value)
    value_state: Mapped[ValueState | None] = mapped_column(enum_type(ValueState, "indicator_result_value_state"))

    evaluation: Mapped[Evaluation] = relationship(back_populates="indicator_results")
    indicator: Mapped[Indicator] = relationship()

    @property
    def review_label(self) -> str | None:
        """待确认 or 已退回 for a value that was not confirmed when the evaluation was computed (not judged)."""
        return REVIEW_LABELS.get(self.value_state) if self.value_state is not None else None

    @property
    def return_reason(self) -> str | None:
        return self.note if self.value_state == ValueState.RETURNED else None


# ---------------------------------------------------------------------------------------------------
# A locked evaluation never changes: the ORM refuses to write to it or to its figures.
# ---------------------------------------------------------------------------------------------------


class EvaluationLocked(DomainError):
    status_code = 409


def _was_locked(evaluation: Evaluation | None) -> bool:
    if evaluation is None:
        return False
    history = inspect(evaluation).attrs.state.history
    return EvaluationState.LOCKED in (*history.unchanged, *history.deleted)


@event.listens_for(Evaluation, "before_update")
@event.listens_for(Evaluation, "before_delete")
def _guard_evaluation(_mapper: Any, _connection: Any, target: Evaluation) -> None:
    if _was_locked(target):
        raise EvaluationLocked("该考核已锁定，不能再修改。")


@event.listens_for(DepartmentScore, "before_update")
@event.listens_for(DepartmentScore, "before_delete")
@event.listens_for(IndicatorResult, "before_update")
@event.listens_for(IndicatorResult, "before_delete")
def _guard_figures(_mapper: Any, _connection: Any, target: DepartmentScore | IndicatorResult) -> None:
    if _was_locked(target.evaluation):
        raise EvaluationLocked("该考核已锁定，得分和指标结果不能再修改。")
