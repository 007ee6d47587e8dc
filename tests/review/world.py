"""A small province for the review and adjustment tests: the planner of the plan's region, the head and a
staff member of the owner department, a planner of another province; one task with a progress report,
the task's key project with a year's completed investment, and an indicator with a year's value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from tracker.auth.models import Role, User
from tracker.indicators.models import Indicator, IndicatorNature, IndicatorValue, ValueState
from tracker.indicators.targets import parse_target
from tracker.projects.models import KeyProject, ProjectInvestment
from tracker.tasks.models import ProgressReport, ReportPeriod, ReportState, Task, TaskKind

from .. import factories as f


@dataclass
class World:
    planner: User
    head: User
    staff: User
    outsider: User
    task: Task
    report: ProgressReport
    project: KeyProject
    investment: ProjectInvestment
    indicator: Indicator
    value: IndicatorValue


def build_world(session: Session) -> World:
    province, elsewhere = f.region(session, "测试省"), f.region(session, "外省")
    planning, owner = f.department(session, province, "规划处"), f.department(session, province, "医政处")
    plan = f.plan(session, province, start_year=2021, end_year=2025)
    task = f.task(session, plan, owner, kind=TaskKind.PROJECT, start_date=date(2024, 1, 1),
                  deadline=date(2026, 12, 31))
    report = ProgressReport(task=task, department=owner, period=ReportPeriod.YEAR, period_year=2025, period_no=1,
                            progress=40, achievements="主体完工", state=ReportState.DRAFT)
    investment = ProjectInvestment(year=2025, completed=Decimal(300), state=ReportState.DRAFT)
    project = KeyProject(task=task, total_investment=Decimal(1000), start_year=2024, end_year=2026,
                         investments=[investment])
    rule = parse_target("95以上", "疾控机构标准化率")
    indicator = Indicator(plan=plan, number=1, name="疾控机构标准化率", target_text="95以上",
                          target_rule=rule.to_json(), direction=rule.direction, nature=IndicatorNature.BINDING,
                          lead_department=owner)
    value = IndicatorValue(indicator=indicator, year=2025, value_text="90", value=Decimal(90),
                           state=ValueState.ENTERED)
    session.add_all([report, project, indicator, value])
    world = World(planner=f.user(session, planning, Role.PLANNER, "r_planner"),
                  head=f.user(session, owner, Role.DEPT_HEAD, "r_head"),
                  staff=f.user(session, owner, Role.DEPT_STAFF, "r_staff"),
                  outsider=f.user(session, f.department(session, elsewhere, "外省规划处"), Role.PLANNER, "r_out"),
                  task=task, report=report, project=project, investment=investment, indicator=indicator,
                  value=value)
    session.flush()
    return world
