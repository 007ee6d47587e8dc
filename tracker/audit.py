"""Append-only audit trail: who changed what, when, before and after."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, Text, and_, event, inspect, or_, select
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column, relationship, selectinload

from .db import Base
from .timeutil import format_date, format_datetime, now

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


# What an audited field is called on the pages (history tabs, the lines of a refused stale save): every key
# written into ``AuditEntry.changes`` has its label here (tests/test_audit_labels.py walks them). A field
# whose name means different things on different records maps object types (table names) to labels, ""
# being the label elsewhere.
FIELD_LABELS: dict[str, str | dict[str, str]] = {
    # webhooks
    "url": "推送地址", "event_kinds": "事件类型", "scope_region": "区域范围", "secret_hint": "密钥开头",
    # accounts
    "external_id": "统一身份认证账号",
    # tasks, milestones, progress reports
    "status": "状态", "progress": "进度（%）", "completed_on": "实际完成日期", "status_note": "状态说明",
    "evidence": "佐证说明", "period": "填报周期", "period_year": "填报年度", "period_no": "期次",
    "achievements": "完成情况", "problems": "存在问题", "next_steps": "下步打算", "state": "状态",
    "return_reason": "退回原因", "level": "层级", "code": "编号", "title": "名称", "description": "说明",
    "kind": {"key_projects": "建设性质", "departments": "单位类型", "": "类型"},
    "lead_department": "牵头单位", "lead_department_id": "牵头单位", "co_departments": "配合单位",
    "responsible_person": "责任人", "start_date": "开始日期", "deadline": "截止日期", "year": "年度",
    "weight": "权重", "node": "节点", "due_date": "计划完成日期", "indicators": "关联指标",
    "upstream": "承接的上级规划任务", "children": "下级任务", "milestones": "节点",
    "parent": {"tasks": "上级任务", "plans": "上级规划", "import_documents": "上级条目", "": "上级"},
    # plans and indicators
    "short_name": "简称", "start_year": {"key_projects": "开工年份", "": "起始年份"},
    "end_year": {"key_projects": "建成年份", "": "结束年份"}, "stage": "阶段",
    "issuing_body": "印发机关", "doc_number": "文号", "investment_unit": "投资金额单位", "number": "序号",
    "category": "类别", "name": {"users": "姓名", "": "名称"}, "unit": "单位", "baseline_text": "基期值",
    "baseline_year": "基期年份", "target_text": "目标值", "target_year": "目标年份", "direction": "方向",
    "nature": "指标属性", "definition": "指标解释", "data_source": "数据来源", "value_text": "监测值",
    "source": "数据来源", "note": "说明", "judgement": "评判", "judgement_note": "评判说明",
    # key projects and their yearly investment (amounts in 万元; planned.2026, funding.fiscal by rule below)
    "region": "建设地点", "content": "建设内容", "items": "建设内容及规模", "total_investment": "总投资（万元）",
    "total_tbd": "总投资待定", "period_investment": "期内计划投资（万元）", "period_tbd": "期内投资待定",
    "planned": "计划投资（万元）", "completed": "完成投资（万元）", "new_value": "调整后总投资（万元）",
    "funding.fiscal": "财政资金（万元）", "funding.special_bond": "专项债资金（万元）",
    "funding.self": "自筹资金（万元）", "funding.social": "社会资本资金（万元）", "funding.other": "其他资金（万元）",
    # cases, adjustments, evaluations, accounts, departments
    "response_deadline": "答复期限", "outcome": "销号结果", "rating": "整改评价", "return_count": "退回次数",
    "decision_comment": "审核意见", "decided_at": "审核时间", "weights": "权重", "grade_thresholds": "等级分数线",
    "weights.completion": "任务完成率", "weights.on_time": "按期完成率", "weights.indicators": "指标达成率",
    "weights.supervision": "督办办结率", "grade_thresholds.excellent": "优秀", "grade_thresholds.good": "良好",
    "grade_thresholds.pass": "合格", "computed_at": "计算时间", "adjusted_score": "调整后得分",
    "adjust_reason": "调整理由", "role": "角色", "department_id": "所在单位", "email": "电子邮箱",
    "is_active": "启用", "doc_prefix": "文号前缀", "password": "密码", "version_id": "版本",
    "pace_tolerance": "基本符合容差（%）", "overview": "总体情况", "suggestions": "下一步工作建议",
    "phone": "手机号码", "zzd_account_id": "浙政钉账号ID", "mode_email": "电子邮件接收方式",
    "mode_dingtalk": "钉钉机器人接收方式", "mode_wecom": "企业微信机器人接收方式", "mode_zzd": "浙政钉工作通知接收方式",
    # document imports: the draft's items and indicators, keyword rules
    "type": "条目类型", "lead": "牵头单位", "co": "配合单位", "target": "目标值", "baseline": "基期值",
    "keyword": "关键词", "department": "责任单位",
    # system settings (the settings page takes these labels: tracker.system.services.SETTINGS) and the calendar
    "alerts.due_soon_working_days": "临期预警（工作日）", "alerts.severe_after_days": "严重逾期（自然日）",
    "alerts.holiday_rolls_forward": "截止日遇节假日顺延", "alerts.pace_enabled": "进度滞后预警",
    "alerts.pace_threshold": "进度滞后阈值（百分点）", "reports.period": "进展填报周期",
    "reports.remind_working_days": "期末前提前提醒（工作日）",
    "reports.due_working_days": "填报截止（期末后第 N 个工作日）", "day": "日历安排",
    # 规划衔接 (tracker.succession): the next period's plan started from a final evaluation
    "predecessor": "上一期规划", "successor": "下一期规划", "background": "起草背景", "not_carried": "不再转入的任务",
}
# Keys made of a prefix and a year: {prefix: label with {} for the year}.
YEAR_FIELD_LABELS = {"planned.": "{}年计划投资（万元）"}
# Amounts (stored as the text of a Decimal: "5000.0000") shown as people write them: 5000.
DECIMAL_FIELDS = frozenset({"total_investment", "period_investment", "planned", "completed", "new_value",
                            "adjusted_score"})
DECIMAL_PREFIXES = ("planned.", "funding.")


def label_of(name: str, object_type: str | None = None) -> str:
    """The Chinese name of an audited field of a record of ``object_type`` (a table name); the key itself
    when it has none (keys already in Chinese, such as "节点“…”计划日期")."""
    label = FIELD_LABELS.get(name)
    if isinstance(label, dict):
        return label.get(object_type or "", label[""])
    if label is not None:
        return label
    for prefix, pattern in YEAR_FIELD_LABELS.items():
        year = name.removeprefix(prefix)
        if name.startswith(prefix) and year.isascii() and year.isdigit():
            return pattern.format(year)
    return name


EMPTY = "（空）"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?")


def display_value(value: Any, field: str | None = None) -> str:
    """An audited value for people: 是/否, amounts without trailing zeros (5000.0000 → 5000), dates in
    Chinese (2025-12-31 → 2025年12月31日, times in Asia/Shanghai), lists joined with "、", nothing as （空）."""
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Enum):
        return str(getattr(value, "label", value.value))
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, list | tuple):
        return "、".join(display_value(v) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{label_of(f'{field}.{k}' if field else str(k))} {display_value(v)}"
                        for k, v in value.items())
    if isinstance(value, str):
        if field is not None and (field in DECIMAL_FIELDS or field.startswith(DECIMAL_PREFIXES)):
            try:
                return _decimal_text(Decimal(value))
            except ArithmeticError:
                return value  # 待定 and other words
        try:  # a date or time stored as text reads as one; text that only looks like one (0000-13-45) stays text
            if _ISO_DATE.fullmatch(value):
                return format_date(date.fromisoformat(value))
            if _ISO_DATETIME.fullmatch(value):
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
                return format_datetime(moment) if moment.tzinfo else format_date(moment.date())
        except ValueError:
            return value
    return str(value)


def _decimal_text(value: Decimal) -> str:
    if not value.is_finite():
        return str(value)
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "0") else text


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


def history(
    session: Session,
    *objects: tuple[str, int | Iterable[int]],
    hide_actions: str | None = None,
    except_actions: Iterable[str] = (),
    limit: int | None = None,
) -> list[AuditEntry]:
    """The audit entries of some records, newest first, with their actors loaded — what every history tab
    shows. Each of ``objects`` is (object type, id or ids). Actions starting with ``hide_actions`` are left
    out, but for those named in ``except_actions``."""
    conditions = []
    for object_type, ids in objects:
        id_list = [ids] if isinstance(ids, int) else list(ids)
        if id_list:
            conditions.append(and_(AuditEntry.object_type == object_type, AuditEntry.object_id.in_(id_list)))
    if not conditions:
        return []
    # an id the database gave again after a deletion (SQLite reuses the highest) starts a new record: what
    # was recorded up to and including the deletion belongs to the record that was deleted
    ended = aliased(AuditEntry)
    earlier_life = select(ended.id).where(ended.object_type == AuditEntry.object_type,
                                          ended.object_id == AuditEntry.object_id, ended.action == "delete",
                                          ended.id >= AuditEntry.id).exists()
    stmt = select(AuditEntry).where(or_(*conditions), ~earlier_life)
    if hide_actions:
        kept = list(except_actions)
        hidden = AuditEntry.action.startswith(hide_actions, autoescape=True)
        stmt = stmt.where(or_(~hidden, AuditEntry.action.in_(kept)) if kept else ~hidden)
    stmt = stmt.options(selectinload(AuditEntry.actor)).order_by(AuditEntry.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))
