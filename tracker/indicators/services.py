"""Monitoring values: entry by the lead department, confirmation (or return with a reason) by the planner,
judgement per year, and the 指标滞后 alerts of binding indicators. One idea: an indicator's yearly value,
from the figure entered to the judgement and the alert it leads to.

Every function that changes data takes the acting user, checks permission and the record's version,
writes the audit entry and flushes; the caller's unit of work commits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, and_, exists, func, literal, select, text, update
from sqlalchemy.orm import Session, selectinload

from .. import audit, review
from ..alerts.models import Alert, AlertLevel, AlertRule, AlertStatus, AlertTarget
from ..auth.models import User
from ..errors import DomainError, InvalidTransition
from ..notifications.outbox import link_to
from ..permissions import (
    can_confirm_indicator_value,
    can_confirm_plan_values,
    can_enter_indicator_value,
    can_judge_indicator_value,
    require,
)
from ..planning.models import Plan, PlanStage
from ..timeutil import now, today
from ..versioning import check_version
from .models import Indicator, IndicatorNature, IndicatorValue, Judgement, ValueState
from .targets import (
    Reading,
    Start,
    TargetRule,
    expected_at,
    figure_refusal,
    judge,
    meets,
    parse_target,
    read_value,
    rounded,
)

VALUE_FIELDS = ["year", "value_text", "source", "note", "state", "return_reason", "judgement", "judgement_note",
                "version_id"]
VALUE_MAX = 60
SOURCE_MAX = 200
NOTE_MAX = 2000

# Plans whose indicators are being monitored: drafts and archived plans raise no alerts.
ACTIVE_STAGES = (PlanStage.ISSUED, PlanStage.EXECUTING, PlanStage.MIDTERM, PlanStage.FINAL)
LAGGING_JUDGEMENTS = (Judgement.LAGGING, Judgement.NOT_ACHIEVED)
MANUAL_JUDGEMENTS = (Judgement.ACHIEVED, Judgement.ON_TRACK, Judgement.LAGGING, Judgement.NOT_ACHIEVED)


class RowsRefused(DomainError):
    """Some rows of a bulk entry or an upload were refused; nothing was saved.

    ``errors`` maps a row key (the indicator id, or the spreadsheet row) to (field, message).
    """

    status_code = 422

    def __init__(self, errors: dict[Any, tuple[str | None, str]], *, stale: bool = False) -> None:
        super().__init__(f"有 {len(errors)} 行未通过校验，全部未保存。请按提示修改后重新提交。")
        self.errors = errors
        if stale:
            self.status_code = 409


# ---------------------------------------------------------------------------------------------------
# Rules and judgement
# ---------------------------------------------------------------------------------------------------


def figure(value: Any, places: int = 4) -> str:
    """A number as people write it: 79.4700 → 79.47, 1.1500 → 1.15, None → —."""
    if value is None:
        return "—"
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    text = format(rounded(value, places).normalize(), "f")
    return "0" if text in ("-0", "") else text


_DECIMALS = re.compile(r"\d+\.(\d+)")


def places_of(indicator: Indicator) -> int:
    """How many decimals the indicator's figures need: as many as its baseline and target are written with
    (79.47岁 → 2, 6.0张 → 1), and at least one, so a pace figure between two whole numbers still reads
    (94 → 95 gives 94.5 rather than 94.4667)."""
    texts = [indicator.baseline_text, indicator.target_text]
    written = [len(m) for t in texts if t for m in _DECIMALS.findall(t)]
    return min(max([1, *written]), 4)


def rule_of(indicator: Indicator) -> TargetRule:
    """The indicator's target as understood (parsed again when an older record has none stored)."""
    if indicator.target_rule:
        return TargetRule.from_json(indicator.target_rule)
    return parse_target(indicator.target_text, indicator.name, unit=indicator.unit,
                        baseline=indicator.baseline_value)


def target_year_of(indicator: Indicator) -> int:
    return indicator.target_year or indicator.plan.end_year


def trajectory_start(indicator: Indicator, values: Sequence[IndicatorValue] | None = None) -> Start | None:
    """The baseline, or without one the first monitoring value that reads as a number."""
    if indicator.baseline_value is not None and indicator.baseline_year is not None:
        return Start(indicator.baseline_year, indicator.baseline_value)
    for v in sorted(values if values is not None else indicator.values, key=lambda v: v.year):
        reading = read_value(v.value_text)
        if reading is not None and reading.op == "eq":
            return Start(v.year, reading.value, from_baseline=False)
    return None


def verdict_for(indicator: Indicator, value: IndicatorValue, start: Start | None = None) -> Any:
    start = start if start is not None else trajectory_start(indicator)
    return judge(rule_of(indicator), read_value(value.value_text), year=value.year,
                 target_year=target_year_of(indicator), start=start)


def rejudge(indicators: Iterable[Indicator]) -> int:
    """Judge every automatically judged value of these indicators again; returns how many changed.

    Values an evaluator judged by hand keep their judgement until the value itself changes.
    """
    changed = 0
    at = now()
    for indicator in indicators:
        start = trajectory_start(indicator)
        for value in indicator.values:
            if value.judged_by_id is not None:
                continue
            verdict = verdict_for(indicator, value, start)
            if value.judgement != verdict.judgement or value.judgement_note != verdict.note:
                value.judgement = verdict.judgement
                value.judgement_note = verdict.note
                value.judged_at = at
                changed += 1
    return changed


def rejudge_plan(session: Session, plan: Plan) -> int:
    indicators = session.scalars(
        select(Indicator).where(Indicator.plan_id == plan.id).options(selectinload(Indicator.values))
    ).all()
    changed = rejudge(indicators)
    session.flush()
    return changed


def understand_again(indicator: Indicator) -> bool:
    """Read the target again with the indicator's unit and baseline (not where a planner settled it)."""
    if indicator.target_rule and indicator.target_rule.get("basis") == "planner":
        return False
    rule = parse_target(indicator.target_text, indicator.name, unit=indicator.unit,
                        baseline=indicator.baseline_value)
    if rule.to_json() == indicator.target_rule and rule.direction == indicator.direction:
        return False
    indicator.target_rule = rule.to_json()
    indicator.direction = rule.direction
    return True


# ---------------------------------------------------------------------------------------------------
# Trajectories (for the indicator page, the dashboard and the exports)
# ---------------------------------------------------------------------------------------------------


@dataclass
class Point:
    year: int
    value: IndicatorValue | None = None
    reading: Reading | None = None
    expected: Decimal | None = None

    @property
    def number(self) -> Decimal | None:
        return self.reading.value if self.reading is not None else None

    @property
    def confirmed(self) -> bool:
        """Whether the year's value is confirmed: only confirmed figures are judged, counted and drawn."""
        return self.value is not None and self.value.state == ValueState.CONFIRMED


@dataclass
class Trajectory:
    indicator: Indicator
    rule: TargetRule
    start: Start | None
    target_year: int
    points: list[Point] = field(default_factory=list)

    @property
    def target_line(self) -> list[Decimal]:
        """The target figure(s) a chart draws as horizontal lines (two for a range)."""
        if self.rule.op == "between":
            return [v for v in (self.rule.low, self.rule.high) if v is not None]
        figure = self.rule.figure
        return [figure] if figure is not None and self.rule.op != "qualitative" else []


def trajectory(indicator: Indicator) -> Trajectory:
    """Baseline, the yearly values and the straight line to the target, year by year."""
    rule = rule_of(indicator)
    target_year = target_year_of(indicator)
    start = trajectory_start(indicator)
    by_year = {v.year: v for v in indicator.values}
    first = min([*by_year, *([start.year] if start else []), indicator.plan.start_year - 1])
    last = max([*by_year, target_year])
    target = _line_target(rule, start)
    if start is not None and meets(rule, Reading("eq", start.value)):
        target = None  # already at the target: there is no way left to go, only the target line to hold
    points = []
    for year in range(first, last + 1):
        value = by_year.get(year)
        expected = None
        if start is not None and target is not None and start.year <= year <= target_year:
            expected = expected_at(start, target, target_year, year)
        if value is None and expected is None and not (start and year == start.year):
            continue
        points.append(Point(year, value, read_value(value.value_text) if value else None, expected))
    return Trajectory(indicator, rule, start, target_year, points)


def _line_target(rule: TargetRule, start: Start | None) -> Decimal | None:
    if not rule.measurable:
        return None
    if rule.op == "between":
        if start is None or rule.low is None or rule.high is None:
            return None
        if start.value < rule.low:
            return rule.low
        if start.value > rule.high:
            return rule.high
        return None
    return rule.figure


# ---------------------------------------------------------------------------------------------------
# Entering and confirming values
# ---------------------------------------------------------------------------------------------------


@dataclass
class ValueInput:
    value_text: str | None
    source: str | None = None
    note: str | None = None
    version: int | None = None  # of the stored value the person saw (None when there was none)


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def year_range(indicator: Indicator) -> range:
    plan = indicator.plan
    first = min(indicator.baseline_year or plan.start_year, plan_years(plan)[0])
    last = max(target_year_of(indicator), plan.end_year)
    return range(first, min(last, today().year) + 1)


def stored_value(session: Session, indicator: Indicator, year: int) -> IndicatorValue | None:
    return session.scalar(
        select(IndicatorValue).where(IndicatorValue.indicator_id == indicator.id, IndicatorValue.year == year)
    )


def _check_input(session: Session, actor: User, indicator: Indicator, year: int, data: ValueInput,
                 stored: IndicatorValue | None) -> None:
    require(can_enter_indicator_value(actor, indicator),
            f"只有指标“{indicator.name}”的牵头单位或本级规划处可以填报监测值。")
    if year not in year_range(indicator):
        years = year_range(indicator)
        raise DomainError(f"年度须在 {years.start} 到 {years.stop - 1} 之间。", field="year")
    if stored is not None:
        if data.version is None:
            raise DomainError("该年度的监测值已由他人填报，请刷新页面查看后再修改。", field="value_text")
        check_version(session, stored, data.version)
        if stored.state == ValueState.CONFIRMED and not can_confirm_indicator_value(actor, indicator):
            raise InvalidTransition("该监测值已由规划处确认，不能再修改；如需更正请联系规划处。")
    elif data.version is not None:
        raise DomainError("该监测值已被删除或不存在，请刷新页面。", field="value_text")
    text_value = _clean(data.value_text)
    if text_value is None:
        raise DomainError("请填写监测值。", field="value_text")
    if len(text_value) > VALUE_MAX:
        raise DomainError(f"监测值不能超过{VALUE_MAX}字。", field="value_text")
    rule = rule_of(indicator)
    if rule.op not in ("trend", "qualitative"):
        refusal = figure_refusal(text_value, indicator.unit, ratio=rule.op == "ratio")
        if refusal is not None:
            raise DomainError(refusal, field="value_text")
    if len(_clean(data.source) or "") > SOURCE_MAX:
        raise DomainError(f"数据来源不能超过{SOURCE_MAX}字。", field="source")
    if len(_clean(data.note) or "") > NOTE_MAX:
        raise DomainError(f"备注不能超过{NOTE_MAX}字。", field="note")


def _apply(session: Session, actor: User, indicator: Indicator, year: int, data: ValueInput,
           stored: IndicatorValue | None) -> IndicatorValue | None:
    text_value, source, note = _clean(data.value_text), _clean(data.source), _clean(data.note)
    assert text_value is not None
    reading = read_value(text_value)
    if stored is None:
        value = IndicatorValue(indicator=indicator, year=year, value_text=text_value, source=source, note=note,
                               value=reading.value if reading else None, state=ValueState.ENTERED,
                               entered_by_id=actor.id)
        session.add(value)
        session.flush()
        rejudge([indicator])
        session.flush()
        audit.record(session, actor, value, "create", audit.diff({}, audit.snapshot(value, VALUE_FIELDS)),
                     f"填报{indicator.name}{year}年监测值")
        review.announce(session, actor, _notice(value), review.SUBMIT, value)
        return value
    resubmit = stored.state == ValueState.RETURNED
    if (stored.value_text, stored.source, stored.note) == (text_value, source, note) and not resubmit:
        return None
    before = audit.snapshot(stored, VALUE_FIELDS)
    if stored.value_text != text_value:
        stored.value_text = text_value
        stored.value = reading.value if reading else None
        stored.judged_by_id = None  # a new figure is judged afresh
    stored.source, stored.note = source, note
    stored.state = ValueState.ENTERED
    stored.confirmed_by_id, stored.confirmed_at = None, None
    stored.return_reason, stored.returned_by_id, stored.returned_at = None, None, None
    stored.entered_by_id = actor.id
    session.flush()
    rejudge([indicator])
    session.flush()
    audit.record(session, actor, stored, "update", audit.diff(before, audit.snapshot(stored, VALUE_FIELDS)),
                 f"{'修改后重新提交' if resubmit else '修改'}{indicator.name}{year}年监测值")
    review.announce(session, actor, _notice(stored), review.SUBMIT, stored)
    return stored


def _notice(value: IndicatorValue) -> review.Notice:
    """What the planners and the lead department hear of a value's submission, confirmation or return."""
    return review.Notice("value", f"指标“{value.indicator.name}”{value.year}年监测值（{value.value_text}）",
                         link_to("indicators.show", indicator_id=value.indicator_id),
                         value.indicator.lead_department_id, value.indicator.plan_id, value.entered_by_id)


def save_value(session: Session, actor: User, indicator: Indicator, year: int, data: ValueInput) -> IndicatorValue:
    """Enter or correct one year's value of an indicator (back to 已填报 until the planner confirms). Saving a
    returned value re-submits it, even unchanged (the department has checked the figure)."""
    stored = stored_value(session, indicator, year)
    _check_input(session, actor, indicator, year, data, stored)
    saved = _apply(session, actor, indicator, year, data, stored)
    return saved or stored  # type: ignore[return-value]


@dataclass
class Row:
    key: Any  # how the refusal names the row: the indicator id, or "第5行"
    indicator: Indicator
    data: ValueInput


def save_values(session: Session, actor: User, plan: Plan, year: int, rows: Sequence[Row]) -> int:
    """Save one year's values of many indicators at once: every row is checked first, and when any
    row is refused nothing is saved. Rows without a value and without a stored value are skipped.
    Returns the number of values created or changed."""
    errors: dict[Any, tuple[str | None, str]] = {}
    stale = False
    todo: list[tuple[Row, IndicatorValue | None]] = []
    for row in rows:
        if row.indicator.plan_id != plan.id:
            errors[row.key] = ("number", "该指标不属于本规划。")
            continue
        stored = stored_value(session, row.indicator, year)
        if stored is None and _clean(row.data.value_text) is None:
            continue
        if stored is not None and (stored.value_text, stored.source, stored.note) == (
                _clean(row.data.value_text), _clean(row.data.source), _clean(row.data.note)):
            continue  # unchanged rows are left alone (a confirmed value stays confirmed)
        try:
            _check_input(session, actor, row.indicator, year, row.data, stored)
        except DomainError as exc:
            errors[row.key] = (exc.field, exc.message)
            stale = stale or exc.status_code == 409
            continue
        todo.append((row, stored))
    if errors:
        raise RowsRefused(errors, stale=stale)
    changed = 0
    for row, stored in todo:
        if _apply(session, actor, row.indicator, year, row.data, stored) is not None:
            changed += 1
    return changed


def _check_reason_length(session: Session, value: IndicatorValue, action: str, reason: str | None) -> None:
    if reason is not None and len(reason) > NOTE_MAX:
        raise DomainError(f"退回原因不能超过{NOTE_MAX}字。", field="reason")


# Why a value cannot be confirmed or returned, in its own words (the table refuses the rest).
VALUE_REFUSALS = {
    (ValueState.CONFIRMED, review.CONFIRM): "该监测值已经确认。",
    (ValueState.RETURNED, review.CONFIRM): "该监测值已退回，须由牵头单位修改并重新提交后才能确认。",
    (ValueState.CONFIRMED, review.RETURN): "该监测值已经确认，不能退回；如需更正请直接修改。",
    (ValueState.RETURNED, review.RETURN): "该监测值已经退回，等待牵头单位修改。",
}

# An indicator value goes round the review lifecycle without a draft: entering it (已填报) submits it, and
# saving a returned value submits it again (`save_value`, which also empties the review's stamps). The
# planner of the plan's region confirms it or returns it; each is stamped in its own columns
# (confirmed_at / returned_at), and neither empties the other's.
VALUE_REVIEW = review.Reviewed(
    states={review.Stage.SUBMITTED: ValueState.ENTERED, review.Stage.CONFIRMED: ValueState.CONFIRMED,
            review.Stage.RETURNED: ValueState.RETURNED},
    may={
        review.CONFIRM: (lambda user, value: can_confirm_indicator_value(user, value.indicator),
                         "只有本级规划处可以确认监测值。"),
        review.RETURN: (lambda user, value: can_confirm_indicator_value(user, value.indicator),
                        "只有本级规划处可以退回监测值。"),
    },
    stamps={
        review.CONFIRM: review.Stamp("confirmed_at", "confirmed_by_id"),
        review.RETURN: review.Stamp("returned_at", "returned_by_id"),
    },
    fields=VALUE_FIELDS,
    refused=lambda value, action: VALUE_REFUSALS.get(
        (value.state, action), f"该监测值当前为“{value.state.label}”，不能{review.action_label(action)}。"),
    summary=lambda value, label, reason: (f"{label}{value.indicator.name}{value.year}年监测值"
                                          + (f"：{reason}" if reason else "")),
    check=_check_reason_length,
    notice=lambda value: _notice(value),
)


def confirm_value(session: Session, actor: User, value: IndicatorValue, version: int | None) -> None:
    review.move(session, actor, VALUE_REVIEW, value, review.CONFIRM, version=version)


def return_value(session: Session, actor: User, value: IndicatorValue, reason: str | None,
                 version: int | None) -> None:
    """退回: the planner sends an entered value back to the lead department with a reason; the department
    corrects it and saves it again, which re-submits it as 已填报."""
    review.move(session, actor, VALUE_REVIEW, value, review.RETURN, reason=reason, version=version)


def confirm_year(session: Session, actor: User, plan: Plan, year: int) -> int:
    """Confirm every entered value of a plan's year; returns how many."""
    require(can_confirm_plan_values(actor, plan), "只有本级规划处可以确认监测值。")
    values = session.scalars(
        select(IndicatorValue).join(Indicator)
        .where(Indicator.plan_id == plan.id, IndicatorValue.year == year, IndicatorValue.state == ValueState.ENTERED)
        .options(selectinload(IndicatorValue.indicator).selectinload(Indicator.plan))
    ).all()
    for value in values:
        confirm_value(session, actor, value, value.version_id)
    return len(values)


def judge_by_hand(session: Session, actor: User, value: IndicatorValue, judgement: Judgement | None,
                  note: str | None, version: int | None) -> None:
    """An evaluator's judgement of a value (``None`` gives the value back to the automatic rules)."""
    indicator = value.indicator
    require(can_judge_indicator_value(actor, indicator), "只有本级考核组可以评判监测值。")
    check_version(session, value, version)
    note = _clean(note)
    if judgement is not None and judgement not in MANUAL_JUDGEMENTS:
        raise DomainError("请选择评判结果。", field="judgement")
    if note is None:
        raise DomainError("请写明评判依据。", field="note")
    if len(note) > NOTE_MAX:
        raise DomainError(f"评判依据不能超过{NOTE_MAX}字。", field="note")
    before = audit.snapshot(value, VALUE_FIELDS)
    if judgement is None:
        value.judged_by_id = None
        session.flush()
        rejudge([indicator])
        summary = f"恢复按规则评判{indicator.name}{value.year}年监测值：{note}"
    else:
        value.judgement = judgement
        value.judgement_note = note
        value.judged_by_id = actor.id
        value.judged_at = now()
        summary = f"评判{indicator.name}{value.year}年监测值为“{judgement.label}”"
    audit.record_change(session, actor, value, "judge", before, VALUE_FIELDS, summary)


# ---------------------------------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------------------------------


@dataclass
class YearRow:
    indicator: Indicator
    value: IndicatorValue | None
    rule: TargetRule


def plan_year(session: Session, plan: Plan, year: int) -> list[YearRow]:
    """Every indicator of a plan with its value of ``year`` (two queries)."""
    indicators = session.scalars(
        select(Indicator).where(Indicator.plan_id == plan.id).order_by(Indicator.number)
        .options(selectinload(Indicator.lead_department))
    ).all()
    values = {v.indicator_id: v for v in session.scalars(
        select(IndicatorValue).join(Indicator)
        .where(Indicator.plan_id == plan.id, IndicatorValue.year == year)
        .options(selectinload(IndicatorValue.entered_by), selectinload(IndicatorValue.confirmed_by))
    )}
    return [YearRow(i, values.get(i.id), rule_of(i)) for i in indicators]


def plan_years(plan: Plan) -> list[int]:
    """The years a plan's values may be entered for: the baseline year (for a multi-year plan) up to the
    plan's last year, never past this year."""
    first = plan.start_year - 1 if plan.start_year < plan.end_year else plan.start_year
    return list(range(first, max(first, min(plan.end_year, today().year)) + 1))


def judgement_counts(rows: Iterable[YearRow]) -> dict[str, int]:
    counts = {j.value: 0 for j in Judgement}
    counts["missing"] = 0
    for row in rows:
        if row.value is None:
            counts["missing"] += 1
        else:
            counts[(row.value.judgement or Judgement.PENDING).value] += 1
    return counts


# ---------------------------------------------------------------------------------------------------
# 指标滞后 alerts (a scheduled job)
# ---------------------------------------------------------------------------------------------------


def _insert_alerts(session: Session) -> Any:
    """INSERT into alerts that skips indicators already holding an open alert of the rule."""
    alerts_t = Alert.__table__
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(alerts_t).on_conflict_do_nothing(
        index_elements=["rule", "indicator_id"],
        index_where=text("status = 'open' AND target = 'indicator'"),
    )


def scan_indicator_alerts(session: Session, day: date | None = None) -> dict[str, int]:
    """Raise a 指标滞后 alert for every binding indicator of a plan in force whose latest judged value
    (up to ``day``'s year) lags or missed its target; resolve alerts whose indicator caught up and cancel
    those that no longer apply. A few set-based statements, whatever the number of indicators; running it
    twice changes nothing the second time."""
    session.flush()
    day = day or today()
    at = now()
    a, i, v, p = Alert.__table__, Indicator.__table__, IndicatorValue.__table__, Plan.__table__
    rule = a.c.rule == AlertRule.INDICATOR.value
    decided = and_(v.c.judgement.is_not(None), v.c.judgement != Judgement.PENDING.value, v.c.year <= day.year)
    latest_year = (select(func.max(v.c.year)).where(v.c.indicator_id == i.c.id, decided)
                   .correlate(i).scalar_subquery())
    applies = and_(i.c.nature == IndicatorNature.BINDING.value,
                   exists().where(p.c.id == i.c.plan_id, p.c.stage.in_([s.value for s in ACTIVE_STAGES])))
    lagging = and_(applies, exists().where(
        v.c.indicator_id == i.c.id, v.c.year == latest_year,
        v.c.judgement.in_([j.value for j in LAGGING_JUDGEMENTS])))
    counts = {}

    def close(where: Any, status: AlertStatus, reason: str) -> int:
        return session.execute(
            update(a).where(a.c.status == AlertStatus.OPEN.value, rule, where)
            .values(status=status.value, resolved_at=at, resolved_reason=reason),
            execution_options={"preserve_rowcount": True},
        ).rowcount

    counts["cancelled"] = close(~exists().where(i.c.id == a.c.indicator_id, applies), AlertStatus.CANCELLED,
                                "not_applicable")
    counts["resolved"] = close(~exists().where(i.c.id == a.c.indicator_id, lagging), AlertStatus.RESOLVED,
                               "caught_up")
    today_ = literal(day, Date)
    no_open = ~exists().where(a.c.status == AlertStatus.OPEN.value, rule, a.c.indicator_id == i.c.id)
    counts["raised"] = session.execute(
        _insert_alerts(session).from_select(
            ["rule", "level", "target", "indicator_id", "status", "raised_on", "level_changed_on"],
            select(literal(AlertRule.INDICATOR.value), literal(AlertLevel.LAGGING.value),
                   literal(AlertTarget.INDICATOR.value), i.c.id, literal(AlertStatus.OPEN.value), today_, today_)
            .where(lagging, no_open),
        ),
        execution_options={"preserve_rowcount": True},
    ).rowcount
    counts["open"] = session.scalar(select(func.count()).select_from(a).where(
        a.c.status == AlertStatus.OPEN.value, rule)) or 0
    session.expire_all()
    return counts


def open_indicator_alerts(session: Session, indicator_ids: Iterable[int]) -> set[int]:
    ids = list(indicator_ids)
    if not ids:
        return set()
    return set(session.scalars(select(Alert.indicator_id).where(
        Alert.rule == AlertRule.INDICATOR, Alert.status == AlertStatus.OPEN, Alert.indicator_id.in_(ids))))
