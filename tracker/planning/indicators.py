"""The planner's side of indicators: create and edit them, with the target understood and explained."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..auth.models import User
from ..errors import Checks, DomainError
from ..indicators.models import Direction, Indicator, IndicatorNature
from ..indicators.targets import TargetRule, parse_target, parse_value, rounded, with_direction
from ..permissions import can_edit_plan, require
from .models import Plan
from .services import NOT_YOURS, check_version, clean_text, region_department, required_text

INDICATOR_FIELDS = ["number", "category", "name", "unit", "baseline_text", "baseline_year", "target_text",
                    "target_year", "direction", "nature", "lead_department", "definition", "data_source"]

CATEGORIES = ["健康水平", "健康生活", "健康服务", "健康保障", "服务体系", "服务效能", "保障水平", "创新发展",
              "健康产业"]


@dataclass
class IndicatorData:
    number: int
    name: str
    target_text: str
    nature: IndicatorNature
    category: str | None = None
    unit: str | None = None
    baseline_text: str | None = None
    baseline_year: int | None = None
    target_year: int | None = None
    lead_department_id: int | None = None
    definition: str | None = None
    data_source: str | None = None
    direction: Direction | None = None  # the planner's confirmation where the wording leaves it open


BASIS_TEXT = {
    "planner": "方向已由规划处确认",
    "indicator_name": "方向依据指标名称判断",
    "baseline": "方向依据基期值与目标值判断",
    "unit": "方向依据计量单位判断",
}


def _num(value: Decimal | None) -> str:
    return "?" if value is None else format(rounded(value).normalize(), "f")


def understand(target_text: str, name: str | None, direction: Direction | None = None, *,
               unit: str | None = None, baseline: str | None = None) -> TargetRule:
    """The target as the system reads it; ``direction`` settles a figure or ratio whose wording has none."""
    rule = parse_target(target_text, name, unit=unit, baseline=baseline)
    if direction is None:
        return rule
    if rule.op in ("reach", "ratio"):
        return with_direction(rule, direction)
    if rule.direction == Direction.NONE:
        raise DomainError(f"目标值“{rule.text}”无法按数值判断方向，请选择“按目标值自动识别”。", field="direction")
    if rule.direction != direction:
        raise DomainError(f"目标值“{rule.text}”已表明{rule.direction.label}，与所选方向不符。", field="direction")
    return rule


def explain(rule: TargetRule, unit: str | None = None) -> str:
    """How the system understood a target, in words the planner can check."""
    u = unit or ""
    if u[:1].isdigit():  # "7" and "1/10万" must not run together
        u = " " + u
    match rule.op:
        case "ge":
            text = f"{'高于' if rule.strict else '不低于'} {_num(rule.low)}{u}（越高越好）"
        case "le":
            text = f"{'低于' if rule.strict else '不高于'} {_num(rule.high)}{u}（越低越好）"
        case "between":
            text = f"在 {_num(rule.low)}–{_num(rule.high)}{u} 之间（控制在区间内）"
        case "ratio" | "reach":
            value = rule.low if rule.low is not None else rule.high
            text = (f"比值目标，按后项÷前项 = {_num(value)} 比较" if rule.op == "ratio"
                    else f"达到 {_num(value)}{u}")
            if rule.direction == Direction.NONE:
                return text + "；原文没有写明方向，请在“评价方向”中确认是越高越好还是越低越好。"
            text += f"（{rule.direction.label}）"
        case "trend":
            return f"趋势目标：{rule.direction.label}，由考核组对照基期值评判。"
        case _:
            return "定性目标，无法按数值自动判断，由考核组评判。"
    if rule.basis in BASIS_TEXT:
        text += "；" + BASIS_TEXT[rule.basis]
    if rule.review:
        text += "，请确认方向是否正确"
    return text + "。"


def explain_json(data: dict[str, Any], unit: str | None = None) -> str:
    if not data:
        return ""
    return explain(TargetRule.from_json(data), unit)


def _check(session: Session, plan: Plan, data: IndicatorData, indicator: Indicator | None) -> Any:
    """Every rule of the indicator form, every refusal at once (errors.Checks); returns (lead, target rule)."""
    checks = Checks()
    data.name = checks.attempt(required_text, data.name, "name", "请填写指标名称。") or ""
    data.target_text = checks.attempt(required_text, data.target_text, "target_text", "请填写目标值（按规划原文）。") or ""
    if data.number is None or not 1 <= data.number <= 999:
        checks.fail("number", "序号须为1到999之间的整数。")
    elif (owner := session.scalar(select(Indicator).where(Indicator.plan_id == plan.id,
                                                          Indicator.number == data.number))) not in (None, indicator):
        checks.fail("number", f"序号 {data.number} 已被指标“{owner.name}”使用。")
    if data.target_year is not None and data.baseline_year is not None and data.target_year < data.baseline_year:
        checks.fail("target_year", "目标年份不能早于基期年份。")
    lead = None
    if data.lead_department_id is not None:
        lead = checks.attempt(region_department, session, plan, data.lead_department_id, "lead_department_id",
                              "牵头单位")
    rule = None
    if data.target_text:
        rule = checks.attempt(understand, data.target_text, data.name, data.direction, unit=data.unit,
                              baseline=data.baseline_text)
    checks.done()
    return lead, rule


def check_indicator(session: Session, plan: Plan, data: IndicatorData, indicator: Indicator | None) -> None:
    """The indicator rules alone, for a form whose own checks failed: every error in one round."""
    _check(session, plan, data, indicator)


def _apply(indicator: Indicator, data: IndicatorData, lead: Any, rule: TargetRule) -> None:
    indicator.number = data.number
    indicator.category = clean_text(data.category)
    indicator.name = data.name
    indicator.unit = clean_text(data.unit)
    indicator.baseline_text = clean_text(data.baseline_text)
    indicator.baseline_value = parse_value(indicator.baseline_text) if indicator.baseline_text else None
    indicator.baseline_year = data.baseline_year
    indicator.target_text = data.target_text
    indicator.target_year = data.target_year
    indicator.target_rule = rule.to_json()
    indicator.direction = rule.direction
    indicator.nature = data.nature
    indicator.lead_department = lead
    indicator.definition = clean_text(data.definition)
    indicator.data_source = clean_text(data.data_source)


def create_indicator(session: Session, actor: User, plan: Plan, data: IndicatorData) -> Indicator:
    require(can_edit_plan(actor, plan), NOT_YOURS)
    lead, rule = _check(session, plan, data, None)
    indicator = Indicator(plan=plan)
    _apply(indicator, data, lead, rule)
    session.add(indicator)
    session.flush()
    audit.record(session, actor, indicator, "create",
                 changes=audit.diff({}, audit.snapshot(indicator, INDICATOR_FIELDS)),
                 summary=f"新增指标 {indicator.number}. {indicator.name}")
    session.flush()
    return indicator


def update_indicator(session: Session, actor: User, indicator: Indicator, data: IndicatorData,
                     version: int | None) -> Indicator:
    require(can_edit_plan(actor, indicator.plan), NOT_YOURS)
    check_version(indicator, version, "指标")
    lead, rule = _check(session, indicator.plan, data, indicator)
    before = audit.snapshot(indicator, INDICATOR_FIELDS)
    _apply(indicator, data, lead, rule)
    changes = audit.diff(before, audit.snapshot(indicator, INDICATOR_FIELDS))
    if changes:
        audit.record(session, actor, indicator, "update", changes=changes, summary="修改指标")
    session.flush()
    return indicator
