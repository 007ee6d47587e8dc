"""Investment in the evaluation: completed investment counts only the figures the planner confirmed (as the
project register does), amounts are shown in the plan's unit, with a completion rate per department."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from docx import Document
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import timeutil
from tracker.auth.models import User
from tracker.evaluations.models import EvaluationKind
from tracker.evaluations.queries import scores_of, totals
from tracker.evaluations.services import run_evaluation
from tracker.planning.models import InvestmentUnit, Plan
from tracker.projects.models import KeyProject, ProjectInvestment
from tracker.projects.queries import investment_by_department
from tracker.tasks.models import ReportState, Task, TaskKind

from ..conftest import login
from . import final_2025
from .test_exports import _download, _table
from .world import World, at, task

W = Decimal


def _second_project(world: World, session: Session) -> None:
    """A project of 甲处 with a figure in every state: only 2025's (confirmed) counts as completed."""
    plan = world.plan
    plan.investment_unit = InvestmentUnit.YI
    a = world.departments["甲处"]
    project_task = task(session, plan, a, date(2027, 12, 31), kind=TaskKind.ENGINEERING,
                        parent=world.tasks["a_on_time"].parent)
    project = KeyProject(task=project_task, region=plan.region)
    project.investments = [
        ProjectInvestment(year=2025, planned=W(25000), completed=W(20000), state=ReportState.CONFIRMED,
                          confirmed_at=at(date(2025, 12, 28))),
        ProjectInvestment(year=2024, planned=W(10000), completed=W(9000), state=ReportState.SUBMITTED),
        ProjectInvestment(year=2023, planned=W(5000), completed=W(5000), state=ReportState.RETURNED,
                          return_reason="与财务决算不符"),
        ProjectInvestment(year=2022, completed=W(1000), state=ReportState.DRAFT),
    ]
    session.add(project)
    session.commit()


@pytest.mark.parametrize(("kind", "expected"), [
    # (planned, completed) in 万元: 甲处's submitted, returned and draft figures are not completed investment
    (EvaluationKind.ANNUAL, {"甲处": (W(25000), W(20000)), "丁处": (W(100), W(80))}),
    (EvaluationKind.FINAL, {"甲处": (W(40000), W(20000)), "丁处": (W(150), W(130))}),
])
def test_only_confirmed_completed_investment_is_counted(world: World, session: Session, kind: EvaluationKind,
                                                        expected: dict[str, tuple[Decimal, Decimal]]) -> None:
    _second_project(world, session)
    evaluation = run_evaluation(session, world.evaluator, world.plan, kind, 2025)
    session.commit()
    got = {s.department.name: (s.investment_planned, s.investment_completed)
           for s in scores_of(session, evaluation) if s.investment_planned is not None}
    assert got == expected
    # the same figures as the register's
    register = investment_by_department(session, world.plan, 2025 if kind == EvaluationKind.ANNUAL else None)
    assert {r.department.name: (r.planned, r.confirmed) for r in register} == expected
    tot = totals(session, evaluation)
    assert (tot.planned, tot.completed) == (sum(p for p, _ in expected.values()), sum(c for _, c in expected.values()))


def test_the_page_shows_investment_in_the_plans_unit_with_rates(app: Flask, world: World, session: Session) -> None:
    _second_project(world, session)
    evaluation = run_evaluation(session, world.evaluator, world.plan, EvaluationKind.ANNUAL, 2025)
    session.commit()
    client = app.test_client()
    login(client, world.evaluator.username)
    html = client.get(f"/evaluations/{evaluation.id}").get_data(as_text=True)
    assert "计划投资（亿元）" in html and "完成投资（亿元）" in html and "投资完成率" in html and "万元" not in html

    def cells(department: str) -> list[str]:
        dept_id = world.departments[department].id
        row = re.search(rf'<tr id="score-{dept_id}">(.*?)</tr>', html, re.S)
        assert row is not None
        return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)]

    assert cells("甲处")[10:13] == ["2.5", "2", "80.0%"]  # 25000 / 20000 万元
    assert cells("丁处")[10:13] == ["0.01", "0.008", "80.0%"]
    assert cells("乙处")[10:13] == ["—", "—", "—"]  # no project
    # the plan's totals: 2.51亿元 planned, 2.008亿元 completed (confirmed)
    for box, text in (("investment-planned", "2.51"), ("investment-completed", "2.008"), ("investment-rate", "80.0%")):
        found = re.search(rf'id="{box}"><span>[^<]*</span><strong>([^<]*)</strong>', html)
        assert found is not None and found.group(1) == text, box
    assert "完成投资只计规划处已确认的数额" in html


def test_the_workbook_and_the_report_use_the_plans_unit(app: Flask, world: World, session: Session) -> None:
    _second_project(world, session)
    evaluation = run_evaluation(session, world.evaluator, world.plan, EvaluationKind.ANNUAL, 2025)
    session.commit()
    wb = load_workbook(io.BytesIO(_download(app, world.evaluator.username,
                                            f"/evaluations/{evaluation.id}/export.xlsx").data))
    header, rows = _table(wb["部门考核"], "排名")
    by_name = {r[1]: dict(zip(header, r, strict=False)) for r in rows}
    assert (by_name["甲处"]["计划投资（亿元）"], by_name["甲处"]["完成投资（已确认，亿元）"],
            by_name["甲处"]["投资完成率"]) == (2.5, 2, 0.8)
    assert by_name["乙处"]["计划投资（亿元）"] is None and by_name["乙处"]["投资完成率"] is None
    summary = {r[0]: r[1] for r in wb["汇总"].iter_rows(values_only=True) if r and r[0]}
    assert (summary["计划投资（亿元）"], summary["完成投资（已确认，亿元）"], summary["投资完成率"]) == (2.51, 2.008, 0.8)

    doc = Document(io.BytesIO(_download(app, world.leader.username, f"/evaluations/{evaluation.id}/report.docx").data))
    assert "五、重大项目投资（亿元）" in [p.text for p in doc.paragraphs]
    investment = doc.tables[-1]
    assert [[c.text for c in r.cells] for r in investment.rows] == [
        ["责任单位", "计划投资", "完成投资（已确认）", "完成率"], ["甲处", "2.5", "2", "80.0%"],
        ["丁处", "0.01", "0.008", "80.0%"]]


# ------------------------------------------------------------------------------------------ the demo plan


@pytest.mark.parametrize(("kind", "year"), [(EvaluationKind.ANNUAL, 2025), (EvaluationKind.FINAL, 2025)])
def test_the_evaluation_equals_the_register_for_the_demo_plan(demo: Flask, session: Session, kind: EvaluationKind,
                                                              year: int) -> None:
    plan = session.scalars(select(Plan).where(Plan.code == "zj-14")).one()
    evaluator = session.scalars(select(User).where(User.username == "zj_evaluator")).one()
    first, last = (year, year) if kind == EvaluationKind.ANNUAL else (plan.start_year, year)
    # the demo holds completed figures of 2025 the planner has not confirmed yet, so the test means something
    unconfirmed = session.scalars(
        select(ProjectInvestment).join(KeyProject).join(Task, KeyProject.task_id == Task.id)
        .where(Task.plan_id == plan.id, ProjectInvestment.year.between(first, last),
               ProjectInvestment.completed.is_not(None), ProjectInvestment.state != ReportState.CONFIRMED)).all()
    assert unconfirmed
    evaluation = run_evaluation(session, evaluator, plan, kind, year)
    session.commit()
    register = investment_by_department(session, plan, year if kind == EvaluationKind.ANNUAL else None)
    expected = {r.department.id: (r.planned, r.confirmed) for r in register if r.planned or r.confirmed}
    got = {s.department_id: (s.investment_planned, s.investment_completed) for s in scores_of(session, evaluation)
           if s.investment_planned is not None and (s.investment_planned or s.investment_completed)}
    assert got == expected and expected
    # and the page reads it in the plan's unit, 亿元
    assert plan.investment_unit == InvestmentUnit.YI
    client = demo.test_client()
    login(client, "zj_evaluator")
    html = client.get(f"/evaluations/{evaluation.id}").get_data(as_text=True)
    assert "计划投资（亿元）" in html and "（万元）" not in html


def test_the_final_evaluation_of_the_demo_counts_confirmed_figures(demo: Flask, session: Session) -> None:
    """Made after the demo's day (final_2025): the 2025 figures are still 已提交, and do not count."""
    with timeutil.frozen(final_2025.EVALUATED):
        evaluation = final_2025.final_evaluation(session)
    register = {r.department.id: r.confirmed for r in investment_by_department(session, evaluation.plan)}
    for s in scores_of(session, evaluation):
        if s.investment_completed is not None:
            assert s.investment_completed == register[s.department_id], s.department.name
