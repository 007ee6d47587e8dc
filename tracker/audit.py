"""Append-only audit trail: who changed what, when, before and after."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, Text, event, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from .db import Base
from .timeutil import now

if TYPE_CHECKING:
    from .auth.models import User


class AuditEntry(Base):
    """One change to one record. Never updated, never deleted."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_object", "object_type", "object_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int]
    action: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str | None] = mapped_column(Text)
    # {"field": [before, after], ...}
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)

    actor: Mapped[User | None] = relationship()


class AuditImmutable(Exception):
    pass


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(*_args: Any) -> None:
    raise AuditImmutable("audit entries cannot be changed")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(*_args: Any) -> None:
    raise AuditImmutable("audit entries cannot be deleted")


# What a changed field is called on the pages (history tabs, the lines of a refused stale save).
FIELD_LABELS = {
    # tasks, milestones, progress reports
    "status": "状态", "progress": "进度（%）", "completed_on": "实际完成日期", "status_note": "状态说明",
    "evidence": "佐证说明", "period": "填报周期", "period_year": "填报年度", "period_no": "期次",
    "achievements": "完成情况", "problems": "存在问题", "next_steps": "下步打算", "state": "状态",
    "return_reason": "退回原因", "level": "层级", "code": "编号", "title": "名称", "description": "说明",
    "kind": "类型", "lead_department": "牵头单位", "lead_department_id": "牵头单位",
    "responsible_person": "责任人", "start_date": "开始日期", "deadline": "截止日期", "year": "年度",
    "weight": "权重", "node": "节点", "due_date": "计划完成日期",
    # plans and indicators
    "short_name": "简称", "start_year": "起始年份", "end_year": "结束年份", "parent": "上级规划",
    "issuing_body": "印发机关", "doc_number": "文号", "investment_unit": "投资金额单位", "number": "序号",
    "category": "类别", "name": "名称", "unit": "单位", "baseline_text": "基期值", "baseline_year": "基期年份",
    "target_text": "目标值", "target_year": "目标年份", "direction": "方向", "nature": "指标属性",
    "definition": "指标解释", "data_source": "数据来源", "value_text": "监测值", "source": "数据来源",
    "note": "说明", "judgement": "评判", "judgement_note": "评判说明",
    # cases, adjustments, evaluations, accounts
    "response_deadline": "答复期限", "outcome": "销号结果", "rating": "整改评价", "return_count": "退回次数",
    "decision_comment": "审核意见", "decided_at": "审核时间", "weights": "权重", "grade_thresholds": "等级分数线",
    "computed_at": "计算时间", "role": "角色", "department_id": "所在单位", "email": "电子邮箱",
    "is_active": "启用", "version_id": "版本",
}


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name)


def plain(value: Any) -> Any:
    """A JSON-friendly form of a column value."""
    if isinstance(value, Enum):
        return getattr(value, "label", value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Base):
        return str(value)
    return value


def snapshot(obj: Base, fields: list[str]) -> dict[str, Any]:
    return {f: plain(getattr(obj, f)) for f in fields}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


def record(
    session: Session,
    actor: User | None,
    obj: Base | tuple[str, int],
    action: str,
    changes: dict[str, list[Any]] | None = None,
    summary: str | None = None,
) -> AuditEntry:
    """Append an audit entry — the one way anything is audited.

    ``obj`` is a record (flushed here if it has no id yet) or, for what is keyed by something other than a
    row id (a setting, a calendar day), the pair (object type, object id)."""
    if isinstance(obj, tuple):
        object_type, object_id = obj
    else:
        if inspect(obj).identity is None:
            session.flush()
        object_type, object_id = obj.__tablename__, obj.id  # type: ignore[attr-defined]
    entry = AuditEntry(
        at=now(),
        actor_id=actor.id if actor is not None else None,
        object_type=object_type,
        object_id=object_id,
        action=action,
        summary=summary,
        changes=changes or {},
    )
    session.add(entry)
    return entry


def record_change(
    session: Session,
    actor: User | None,
    obj: Base,
    action: str,
    before: dict[str, Any],
    fields: list[str],
    summary: str | None = None,
) -> AuditEntry:
    """Audit what changed on ``obj`` since ``before`` (a ``snapshot`` of the same fields): flushes first, so
    that the version counter and defaults the database sets are in the after-image."""
    session.flush()
    return record(session, actor, obj, action, diff(before, snapshot(obj, fields)), summary)
