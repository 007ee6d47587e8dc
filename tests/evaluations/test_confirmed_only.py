"""Only confirmed figures count: entered values are 待确认, returned ones 已退回, neither judged nor scored;
computing asks first; ties share a rank; an empty year reads honestly."""

from __future__ import annotations

import io
from datetime import date

import pytest
from docx import Document
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from tracker.errors import DomainError
from tracker.evaluations.models import EvaluationKind
from tracker.evaluations.queries import scores_of, totals
from tracker.evaluations.services import CONFIRM_FIELD, run_evaluation
from tracker.indicators.models import IndicatorValue, ValueState

from ..conftest import login
from .world import World, at, build_world

REASON = "约数不能作为监测值，请填写统计数"


def _unconfirm(world: World, session: Session) -> None:
    returned = world.indicators["a_achieved"].values[-1]  # 居民健康素养水平 2025: 41.5 (achieved when confirmed)
    returned.value_text, returned.state = "约1450", ValueState.RETURNED
    returned.return_reason, returned.returned_at, returned.confirmed_at = REASON, at(date(2026, 1, 20)), None
    entered = world.indicators["c_achieved"].values[-1]  # 疾控机构标准化率 2025: 96
    entered.state, entered.confirmed_at = ValueState.ENTERED, None
    session.commit()


def test_computing_asks_while_values_are_unconfirmed(world: World, session: Session) -> None:
    _unconfirm(world, session)
    with pytest.raises(DomainError) as refused:
        run_evaluation(session, world.evaluator, world.plan, EvaluationKind.ANNUAL, 2025)
    assert refused.value.field == CONFIRM_FIELD
    assert "仍有2个2025年监测值未确认（待确认1个、已退回1个）" in refused.value.message
    session.rollback()
    evaluation = run_evaluation(session, world.evaluator, world.plan, EvaluationKind.ANNUAL, 2025,
                                proceed_unconfirmed=True)
    session.commit()
    results = {r.indicator.name: r for r in evaluation.indicator_results}
    returned, entered = results["居民健康素养水平"], results["疾控机构标准化率"]
    assert (returned.value_text, returned.review_label, returned.return_reason) == ("约1450", "已退回", REASON)
    assert (entered.value_text, entered.review_label) == ("96", "待确认")
    s = {x.department.name: x for x in scores_of(session, evaluation)}
    assert (s["甲处"].indicators_achieved, s["甲处"].indicators_lagging) == (0, 1)  # 41.5 is not counted
    assert s["丙处"].indicators_achieved == 0 and s["丙处"].rank is None  # nothing confirmed, nothing scored
    tot = totals(session, evaluation)
    assert (tot.unconfirmed, tot.values_returned, tot.achieved, tot.lagging) == (1, 1, 0, 1)
    assert "另有2个2025年监测值未确认（待确认1个、已退回1个），未予评判、不计分。" in (evaluation.summary or "")


def test_page_workbook_and_report_show_unconfirmed_values(app: Flask, world: World, session: Session) -> None:
    _unconfirm(world, session)
    evaluation = run_evaluation(session, world.evaluator, world.plan, EvaluationKind.ANNUAL, 2025,
                                proceed_unconfirmed=True)
    session.commit()
    client = app.test_client()
    login(client, world.evaluator.username)
    page = client.get(f"/evaluations/{evaluation.id}?tab=indicators").get_data(as_text=True)
    assert "已退回" in page and REASON in page and "待确认" in page
    assert "本次计算时有2个2025年监测值未确认" in page
    assert "仍有2个2025年监测值未确认" in page  # the recompute form asks
    refused = client.post(f"/evaluations/{evaluation.id}/recompute")
    assert refused.status_code == 422 and "请勾选确认后再计算" in refused.get_data(as_text=True)
    again = client.post(f"/evaluations/{evaluation.id}/recompute", data={"proceed_unconfirmed": "y"})
    assert again.status_code == 302

    wb = load_workbook(io.BytesIO(client.get(f"/evaluations/{evaluation.id}/export.xlsx").data))
    summary = {row[0]: row[1] for row in wb["汇总"].iter_rows(values_only=True) if row and row[0]}
    assert (summary["未确认的监测值（不予评判）"], summary["其中：待确认"], summary["其中：已退回"]) == (2, 1, 1)
    judgements = {row[2]: row[6] for row in wb["指标完成情况"].iter_rows(values_only=True) if row and len(row) > 6}
    assert (judgements["居民健康素养水平"], judgements["疾控机构标准化率"]) == ("已退回", "待确认")

    doc = Document(io.BytesIO(client.get(f"/evaluations/{evaluation.id}/report.docx").data))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "未确认的监测值2个，不予评判、不计分" in text and REASON in text


def test_ties_share_a_rank_and_the_summary_says_so(app: Flask, session: Session) -> None:
    world = build_world(session, extra_departments=4, tag="tie")
    session.commit()
    evaluation = run_evaluation(session, world.evaluator, world.plan, EvaluationKind.ANNUAL, 2025)
    session.commit()
    top = [s for s in scores_of(session, evaluation) if s.rank == 1]
    assert sorted(s.department.name for s in top) == ["丙处", "扩展单位1", "扩展单位3"]
    assert "3个单位并列第1（100.00分）：丙处、扩展单位1、扩展单位3" in (evaluation.summary or "")
    assert "居前" not in (evaluation.summary or "")
    client = app.test_client()
    login(client, world.evaluator.username)
    page = client.get(f"/evaluations/{evaluation.id}").get_data(as_text=True)
    assert page.count("并列第1") >= 3


def test_a_year_without_confirmed_values_reads_honestly(world: World, session: Session) -> None:
    for value in session.query(IndicatorValue).all():
        value.state, value.confirmed_at = ValueState.ENTERED, None
    session.commit()
    evaluation = run_evaluation(session, world.evaluator, world.plan, EvaluationKind.ANNUAL, 2025,
                                proceed_unconfirmed=True)
    session.commit()
    summary = evaluation.summary or ""
    assert "本年度尚无已确认的监测值，指标未评判。" in summary
    assert "已评判的指标均已达成或符合进度" not in summary
    assert all(s.indicators_achieved + s.indicators_lagging == 0 for s in scores_of(session, evaluation))


def test_equal_completion_and_on_time_rates_are_shown(app: Flask, world: World, session: Session) -> None:
    a_late = world.tasks["a_late"]
    a_late.completed_on = date(2025, 3, 1)  # now every done task of 2025 is on time
    session.commit()
    s = {x.department.name: x for x in scores_of(session, run_evaluation(
        session, world.evaluator, world.plan, EvaluationKind.ANNUAL, 2025))}
    session.commit()
    assert all(x.completion_rate == x.on_time_rate for x in s.values() if x.tasks_due)
    client = app.test_client()
    login(client, world.evaluator.username)
    evaluation_id = s["甲处"].evaluation_id
    page = client.get(f"/evaluations/{evaluation_id}").get_data(as_text=True)
    assert "各单位的任务完成率与按期完成率相同" in page
