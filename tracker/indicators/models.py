from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import DUPLICATE, Base, LabeledEnum, TimestampMixin, enum_type

if TYPE_CHECKING:
    from ..auth.models import User
    from ..planning.models import Plan
    from ..regions.models import Department
    from ..tasks.models import Task


class IndicatorNature(LabeledEnum):
    BINDING = "binding", "约束性"
    EXPECTED = "expected", "预期性"
    GUIDING = "guiding", "指导性"


class Direction(LabeledEnum):
    HIGHER = "higher", "越高越好"
    LOWER = "lower", "越低越好"
    RANGE = "range", "控制在区间内"
    NONE = "none", "需人工评判"


class ValueState(LabeledEnum):
    ENTERED = "entered", "已填报"
    CONFIRMED = "confirmed", "已确认"
    RETURNED = "returned", "已退回"


class Judgement(LabeledEnum):
    ACHIEVED = "achieved", "已达成"
    ON_TRACK = "on_track", "符合进度"
    LAGGING = "lagging", "滞后"
    NOT_ACHIEVED = "not_achieved", "未达成"
    PENDING = "pending", "待评判"


class Indicator(TimestampMixin, Base):
    """指标: a measurable goal of a plan, with its target as written and as understood."""

    __tablename__ = "indicators"
    __table_args__ = (
        UniqueConstraint("plan_id", "number"),
        CheckConstraint("target_year IS NULL OR baseline_year IS NULL OR target_year >= baseline_year",
                        name="target_after_baseline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    number: Mapped[int]
    category: Mapped[str | None] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str | None] = mapped_column(String(30))
    baseline_text: Mapped[str | None] = mapped_column(String(60))
    baseline_value: Mapped[Decimal | None]
    baseline_year: Mapped[int | None]
    target_text: Mapped[str] = mapped_column(String(60))
    target_year: Mapped[int | None]
    # The target as understood: {"op": "ge"|"le"|"between"|"eq"|"ratio"|"trend"|"qualitative", ...}
    target_rule: Mapped[dict[str, Any]] = mapped_column(default=dict)
    direction: Mapped[Direction] = mapped_column(enum_type(Direction, "indicator_direction"), default=Direction.NONE)
    nature: Mapped[IndicatorNature] = mapped_column(enum_type(IndicatorNature, "indicator_nature"))
    lead_department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="RESTRICT"), index=True
    )
    definition: Mapped[str | None] = mapped_column(Text)
    data_source: Mapped[str | None] = mapped_column(String(200))
    version_id: Mapped[int] = mapped_column(default=1)

    plan: Mapped[Plan] = relationship(back_populates="indicators")
    lead_department: Mapped[Department | None] = relationship()
    values: Mapped[list[IndicatorValue]] = relationship(
        back_populates="indicator", order_by="IndicatorValue.year", cascade="all, delete-orphan"
    )
    tasks: Mapped[list[Task]] = relationship(secondary="task_indicators", back_populates="indicators")

    __mapper_args__ = {"version_id_col": version_id}

    @property
    def measurable(self) -> bool:
        return self.target_rule.get("op") not in (None, "trend", "qualitative")


class IndicatorValue(TimestampMixin, Base):
    """监测值: the value of an indicator in one year, with its judgement."""

    __tablename__ = "indicator_values"
    __table_args__ = (
        UniqueConstraint("indicator_id", "year",
                         info={DUPLICATE: "该指标本年度的监测值刚刚已由他人填报，您的填写没有保存。请刷新页面后在原值上修改。"}),
        CheckConstraint("state <> 'confirmed' OR confirmed_at IS NOT NULL", name="confirmed_has_time"),
        CheckConstraint("state <> 'returned' OR (return_reason IS NOT NULL AND returned_at IS NOT NULL)",
                        name="returned_has_reason"),
        CheckConstraint(
            "judgement IS NULL OR judgement = 'pending' OR judged_at IS NOT NULL", name="judged_has_time"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"))
    year: Mapped[int]
    value_text: Mapped[str] = mapped_column(String(60))
    value: Mapped[Decimal | None]
    source: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    state: Mapped[ValueState] = mapped_column(enum_type(ValueState, "indicator_value_state"),
                                              default=ValueState.ENTERED)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None]
    return_reason: Mapped[str | None] = mapped_column(Text)  # why the planner sent it back (已退回 only)
    returned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    returned_at: Mapped[datetime | None]
    judgement: Mapped[Judgement | None] = mapped_column(enum_type(Judgement, "indicator_judgement"))
    judgement_note: Mapped[str | None] = mapped_column(Text)
    judged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    judged_at: Mapped[datetime | None]
    version_id: Mapped[int] = mapped_column(default=1)

    indicator: Mapped[Indicator] = relationship(back_populates="values")
    entered_by: Mapped[User | None] = relationship(foreign_keys=[entered_by_id])
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])
    returned_by: Mapped[User | None] = relationship(foreign_keys=[returned_by_id])

    __mapper_args__ = {"version_id_col": version_id}
