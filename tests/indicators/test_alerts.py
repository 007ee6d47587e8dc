"""指标滞后: a binding indicator whose latest judged value lags raises one alert; catching up resolves it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories as f
from tracker.alerts.models import Alert, AlertLevel, AlertRule, AlertStatus, AlertTarget
from tracker.auth.models import Role
from tracker.indicators.models import Indicator, IndicatorNature, IndicatorValue, Judgement, ValueState
from tracker.indicators.services import ValueInput, rejudge, save_value, scan_indicator_alerts
from tracker.indicators.targets import parse_target
from tracker.planning.models import PlanStage
from tracker.timeutil import now

DAY = date(2026, 11, 22)


def _indicator(session: Session, plan, nature: IndicatorNature, number: int, values: dict[int, str],  # type: ignore[no-untyped-def]
               target: str = "90以上", baseline: str = "70") -> Indicator:
    rule = parse_target(target, "疾控机构标准化率")
    indicator = Indicator(plan=plan, number=number, name=f"指标{number}", target_text=target, target_year=2025,
                          baseline_text=baseline, baseline_value=Decimal(baseline), baseline_year=2020,
                          target_rule=rule.to_json(), direction=rule.direction, nature=nature)
    for year, text in values.items():
        indicator.values.append(IndicatorValue(year=year, value_text=text, value=Decimal(text),
                                               state=ValueState.CONFIRMED, confirmed_at=now()))
    session.add(indicator)
    session.flush()
    rejudge([indicator])
    session.flush()
    return indicator


def _open(session: Session) -> list[Alert]:
    session.expire_all()
    return list(session.scalars(select(Alert).where(Alert.status == AlertStatus.OPEN,
                                                    Alert.rule == AlertRule.INDICATOR)))


def test_binding_lagging_indicators_raise_one_alert(app, session: Session) -> None:  # type: ignore[no-untyped-def]
    region = f.region(session)
    plan = f.plan(session, region, stage=PlanStage.EXECUTING)
    lagging = _indicator(session, plan, IndicatorNature.BINDING, 1, {2021: "72", 2022: "73"})  # line: 74, 78
    expected = _indicator(session, plan, IndicatorNature.EXPECTED, 2, {2021: "71"})
    on_track = _indicator(session, plan, IndicatorNature.BINDING, 3, {2021: "80"})
    session.commit()
    assert lagging.values[-1].judgement == Judgement.LAGGING
    assert expected.values[-1].judgement == Judgement.LAGGING and on_track.values[-1].judgement == Judgement.ON_TRACK

    counts = scan_indicator_alerts(session, DAY)
    session.commit()
    assert counts["raised"] == 1 and counts["open"] == 1
    [alert] = _open(session)
    assert (alert.target, alert.level, alert.indicator_id, alert.task_id) == (
        AlertTarget.INDICATOR, AlertLevel.LAGGING, lagging.id, None)
    assert alert.raised_on == DAY

    again = scan_indicator_alerts(session, DAY)
    session.commit()
    assert again == {"cancelled": 0, "resolved": 0, "raised": 0, "open": 1}


def test_catching_up_resolves_and_a_closed_plan_cancels(app, session: Session) -> None:  # type: ignore[no-untyped-def]
    region = f.region(session)
    planner = f.user(session, f.department(session, region), Role.PLANNER)
    plan = f.plan(session, region, stage=PlanStage.EXECUTING)
    ind = _indicator(session, plan, IndicatorNature.BINDING, 1, {2021: "72"})
    other = _indicator(session, plan, IndicatorNature.BINDING, 2, {2021: "71"})
    session.commit()
    assert scan_indicator_alerts(session, DAY)["raised"] == 2
    session.commit()

    save_value(session, planner, session.get(Indicator, ind.id), 2022, ValueInput("79"))  # line at 78: on track
    session.commit()
    counts = scan_indicator_alerts(session, DAY)
    session.commit()
    assert counts["resolved"] == 1 and [a.indicator_id for a in _open(session)] == [other.id]
    resolved = session.scalars(select(Alert).where(Alert.indicator_id == ind.id)).one()
    assert resolved.status == AlertStatus.RESOLVED and resolved.resolved_reason == "caught_up"

    plan.stage = PlanStage.ARCHIVED
    session.commit()
    counts = scan_indicator_alerts(session, DAY)
    session.commit()
    assert counts["cancelled"] == 1 and _open(session) == []


def test_a_missed_target_keeps_its_alert_and_pending_values_do_not_count(app, session: Session) -> None:  # type: ignore[no-untyped-def]
    region = f.region(session)
    plan = f.plan(session, region, stage=PlanStage.FINAL)
    ind = _indicator(session, plan, IndicatorNature.BINDING, 1, {2024: "80", 2025: "85"})
    assert ind.values[-1].judgement == Judgement.NOT_ACHIEVED
    session.add(IndicatorValue(indicator=ind, year=2026, value_text="待统计", judgement=Judgement.PENDING))
    session.commit()
    assert scan_indicator_alerts(session, DAY)["raised"] == 1  # the latest decided value is 2025's
    session.commit()
    assert scan_indicator_alerts(session, date(2024, 12, 31))["raised"] == 0  # already open
