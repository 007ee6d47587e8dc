from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import DUPLICATE, Base, LabeledEnum, TimestampMixin, enum_type

if TYPE_CHECKING:
    from ..auth.models import User
    from ..indicators.models import Indicator
    from ..regions.models import Region
    from ..tasks.models import Task


class PlanLevel(LabeledEnum):
    PROVINCE = "province", "省"
    CITY = "city", "市"
    COUNTY = "county", "县"


class PlanStage(LabeledEnum):
    DRAFTING = "drafting", "起草"
    CONSULTATION = "consultation", "征求意见"
    EXPERT_REVIEW = "expert_review", "专家论证"
    LEGAL_REVIEW = "legal_review", "合法性审查"
    APPROVED = "approved", "审议通过"
    ISSUED = "issued", "印发"
    EXECUTING = "executing", "执行中"
    MIDTERM = "midterm", "中期评估"
    FINAL = "final", "总结评估"
    ARCHIVED = "archived", "归档"


class InvestmentUnit(LabeledEnum):
    WAN = "wan", "万元"
    YI = "yi", "亿元"


DUPLICATE_PLAN = "本地区已有同名（或同简称）、同层级、规划期重叠的规划，不能重复新建。"


class Plan(TimestampMixin, Base):
    """规划: a five-year (or any period) plan of one region."""

    __tablename__ = "plans"
    __table_args__ = (
        CheckConstraint("end_year >= start_year", name="period_ordered"),
        CheckConstraint("start_year BETWEEN 1990 AND 2100", name="start_year_sane"),
        Index("ix_plans_region_level", "region_id", "level"),
        UniqueConstraint("code", info={DUPLICATE: "同一时间另有一份本地区、同一规划期的规划正在新建，本次没有保存。"
                                               "请刷新规划列表查看后重试。"}),
        UniqueConstraint("region_id", "level", "title", "start_year", "end_year", info={DUPLICATE: DUPLICATE_PLAN}),
        UniqueConstraint("region_id", "level", "short_name", "start_year", "end_year",
                         info={DUPLICATE: DUPLICATE_PLAN}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(60))
    level: Mapped[PlanLevel] = mapped_column(enum_type(PlanLevel, "plan_level"))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"))
    start_year: Mapped[int]
    end_year: Mapped[int]
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id", ondelete="SET NULL"), index=True)
    issuing_body: Mapped[str | None] = mapped_column(String(200))
    doc_number: Mapped[str | None] = mapped_column(String(80))
    stage: Mapped[PlanStage] = mapped_column(enum_type(PlanStage, "plan_stage"), default=PlanStage.DRAFTING)
    investment_unit: Mapped[InvestmentUnit] = mapped_column(
        enum_type(InvestmentUnit, "plan_investment_unit"), default=InvestmentUnit.WAN
    )
    description: Mapped[str | None] = mapped_column(Text)
    version_id: Mapped[int] = mapped_column(default=1)

    region: Mapped[Region] = relationship()
    parent: Mapped[Plan | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Plan]] = relationship(back_populates="parent", order_by="Plan.id")
    stage_events: Mapped[list[PlanStageEvent]] = relationship(
        back_populates="plan", order_by="(PlanStageEvent.on_date, PlanStageEvent.id)", cascade="all, delete-orphan"
    )
    tasks: Mapped[list[Task]] = relationship(back_populates="plan", cascade="all, delete-orphan", viewonly=False)
    indicators: Mapped[list[Indicator]] = relationship(
        back_populates="plan", order_by="Indicator.number", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version_id}

    @property
    def period_label(self) -> str:
        if self.start_year == self.end_year:
            return f"{self.start_year}年"
        return f"{self.start_year}—{self.end_year}年"

    def __str__(self) -> str:
        return self.title


class PlanStageEvent(Base):
    """One step of a plan's lifecycle, with the date it happened."""

    __tablename__ = "plan_stage_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    stage: Mapped[PlanStage] = mapped_column(enum_type(PlanStage, "plan_stage_event_stage"))
    on_date: Mapped[date]
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    plan: Mapped[Plan] = relationship(back_populates="stage_events")
    recorded_by: Mapped[User | None] = relationship()
