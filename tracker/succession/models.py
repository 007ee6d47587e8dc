from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import DUPLICATE, Base

if TYPE_CHECKING:
    from ..auth.models import User
    from ..evaluations.models import Evaluation
    from ..planning.models import Plan

ALREADY_STARTED = "该总结评估已启动下一期规划（另一次提交刚刚完成），本次没有重复新建。请刷新页面查看已新建的规划。"


class Succession(Base):
    """规划衔接: the next period's plan (``plan``) started from a locked final evaluation of its predecessor
    (``evaluation.plan``); one per evaluation. Keeps the drafting background (the evaluation's 存在问题 as it
    was attached) and the tasks the planner closed in the old plan rather than carry (``not_carried``:
    [{"task_id", "code", "title", "note"}])."""

    __tablename__ = "plan_successions"
    __table_args__ = (
        UniqueConstraint("evaluation_id", info={DUPLICATE: ALREADY_STARTED}),
        UniqueConstraint("plan_id", info={DUPLICATE: ALREADY_STARTED}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id", ondelete="CASCADE"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    background: Mapped[str | None] = mapped_column(Text)
    not_carried: Mapped[list[Any]] = mapped_column(default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]

    evaluation: Mapped[Evaluation] = relationship()
    plan: Mapped[Plan] = relationship()
    created_by: Mapped[User | None] = relationship()
