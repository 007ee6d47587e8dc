"""Key-project fixtures: the demo's provincial plan (amounts in 亿元) and a small world of our own
(one project, its owner unit's head and staff, another unit, the planner, a planner elsewhere)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.auth.models import Role
from tracker.planning.models import InvestmentUnit, Plan
from tracker.projects.models import KeyProject, ProjectInvestment, ProjectKind, ProjectStatus
from tracker.regions.models import RegionLevel
from tracker.tasks.models import MilestoneStatus, ProjectNode, ReportState, Task, TaskKind, TaskLevel
from tracker.timeutil import now

from .. import factories as f
from ..conftest import client_for

client_as = client_for


def project_of(app: Flask, code: str, plan_code: str = "zj-14") -> KeyProject:
    """A project of the demo with its task and milestones loaded (to read after the session closes)."""
    with app.extensions["tracker.sessions"]() as s:
        project = s.scalars(select(KeyProject).join(Task).join(Plan)
                            .where(Plan.code == plan_code, Task.code == code)).one()
        _ = (project.task.plan, project.task.milestones, project.investments)
        return project


def fresh(app: Flask, model: type, ident: int):  # type: ignore[no-untyped-def]
    with app.extensions["tracker.sessions"]() as s:
        obj = s.get(model, ident)
        if isinstance(obj, KeyProject):
            _ = (obj.investments, obj.funding, obj.task.milestones)
        return obj


def register_form(app: Flask, project_id: int, **changes: str) -> dict[str, str]:
    """The register form as the page fills it for the test world's project, with some fields changed."""
    p = fresh(app, KeyProject, project_id)
    data = {
        "kind": p.kind.value, "status": p.status.value, "region": str(p.region_id), "start_year": "2024",
        "end_year": "2027", "content": p.content or "", "total_investment": "10", "period_investment": "6",
        "funding_fiscal": "", "funding_special_bond": "", "funding_self": "", "funding_social": "", "funding_other": "",
        "planned_2024": "2", "planned_2025": "3", "planned_2026": "3", "planned_2027": "",
        "version": str(p.version_id),
    }
    data.update(changes)
    return data


def investment(app: Flask, project_id: int, year: int) -> ProjectInvestment | None:
    with app.extensions["tracker.sessions"]() as s:
        return s.scalar(select(ProjectInvestment).where(ProjectInvestment.project_id == project_id,
                                                        ProjectInvestment.year == year))


def text_of(html_fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html_fragment)).strip()


def field_error(html: str) -> list[str]:
    """The messages shown next to fields (and above the form)."""
    errors = re.findall(r'<div class="field-error" role="alert">(.*?)</div>', html, re.S)
    errors += re.findall(r'<div class="flash flash-error[^"]*" role="alert">(.*?)</div>', html, re.S)
    return [text_of(e) for e in errors]


@dataclass
class World:
    plan_id: int
    project_id: int
    task_id: int
    node_ids: dict[ProjectNode, int]
    users: dict[str, str] = field(default_factory=dict)


def build_world(session: Session, unit: InvestmentUnit = InvestmentUnit.YI) -> World:
    province = f.region(session, "测试省")
    city = f.region(session, "测试市", RegionLevel.CITY, province)
    other_province = f.region(session, "外省")
    planning = f.department(session, province, "规划发展与信息化处")
    owner = f.department(session, province, "医政医管处")
    other = f.department(session, province, "疾控处")
    elsewhere = f.department(session, other_province, "外省规划处")
    users = {
        "planner": f.user(session, planning, Role.PLANNER, "t_planner").username,
        "head": f.user(session, owner, Role.DEPT_HEAD, "t_head").username,
        "staff": f.user(session, owner, Role.DEPT_STAFF, "t_staff").username,
        "other_head": f.user(session, other, Role.DEPT_HEAD, "t_other").username,
        "outsider": f.user(session, elsewhere, Role.PLANNER, "t_outsider").username,
        "leader": f.user(session, planning, Role.LEADER, "t_leader").username,
    }
    plan = f.plan(session, province, investment_unit=unit, start_year=2021, end_year=2025)
    task = f.task(session, plan, owner, code="专栏1", title="省级区域医疗中心新院区", kind=TaskKind.PROJECT,
                  level=TaskLevel.MEASURE, start_date=date(2024, 1, 1), deadline=date(2027, 12, 31))
    task.co_departments = [other]
    project = KeyProject(task=task, region=city, kind=ProjectKind.NEW, status=ProjectStatus.PREPARING,
                         content="新建门急诊楼和住院楼", total_investment=Decimal(100000),
                         period_investment=Decimal(60000), start_year=2024, end_year=2027)
    project.investments = [
        ProjectInvestment(year=2024, planned=Decimal(20000), completed=Decimal(18000), state=ReportState.CONFIRMED,
                          confirmed_at=now()),
        ProjectInvestment(year=2025, planned=Decimal(30000), completed=Decimal(29000), state=ReportState.CONFIRMED,
                          confirmed_at=now()),
        ProjectInvestment(year=2026, planned=Decimal(30000), state=ReportState.DRAFT),
    ]
    session.add(project)
    nodes = {}
    for node, due in [(ProjectNode.INITIATION, date(2024, 3, 31)), (ProjectNode.FEASIBILITY, date(2024, 9, 30)),
                      (ProjectNode.GROUNDBREAKING, date(2026, 10, 31)), (ProjectNode.TOPPING_OUT, date(2027, 6, 30))]:
        m = f.milestone(session, task, title=node.label, node=node, due_date=due)
        nodes[node] = m
    for node, done_on in [(ProjectNode.INITIATION, date(2024, 3, 20)), (ProjectNode.FEASIBILITY, date(2024, 10, 12))]:
        nodes[node].status, nodes[node].completed_on = MilestoneStatus.DONE, done_on
    session.flush()
    return World(plan.id, project.id, task.id, {n: m.id for n, m in nodes.items()}, users)


@pytest.fixture
def world(session: Session) -> World:
    w = build_world(session)
    session.commit()
    return w


class _Table(HTMLParser):
    """A table of the page as text cells (body and footer rows), as a person reads it."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id, self.depth, self.in_rows = table_id, 0, False
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.depth += 1 if self.depth or dict(attrs).get("id") == self.table_id else 0
        elif not self.depth:
            return
        elif tag in ("tbody", "tfoot"):
            self.in_rows = True
        elif tag == "tr" and self.in_rows:
            self.rows.append([])
        elif tag in ("td", "th") and self.in_rows:
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if not self.depth:
            return
        if tag == "table":
            self.depth -= 1
        elif tag in ("tbody", "tfoot"):
            self.in_rows = False
        elif tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def table(html: str, table_id: str) -> list[list[str]]:
    parser = _Table(table_id)
    parser.feed(html)
    return parser.rows
