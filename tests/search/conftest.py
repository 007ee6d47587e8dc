"""A few records in the demo data that only a search can tell apart: each holds a made-up word (鹭岛, 鹭岛试点 and
the like) that the seeds do not, in the province's plan and in Wenzhou's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.auth.models import User
from tracker.db import unit_of_work
from tracker.indicators.models import Indicator, IndicatorNature
from tracker.planning.models import Plan
from tracker.projects.models import KeyProject
from tracker.regions.models import Department
from tracker.search import services
from tracker.supervision.models import CaseAction, CaseSource
from tracker.supervision.services import CaseInput, file_case, perform
from tracker.tasks.models import Milestone, ProgressReport, Task, TaskKind, TaskLevel


@dataclass
class World:
    ids: dict[str, int]
    case_number: str  # the province's case, as people write it
    city_case_number: str


def user(session: Session, username: str) -> User:
    return session.scalars(select(User).where(User.username == username)).one()


def new_task(plan: Plan, lead: Department, code: str, title: str, **kw: object) -> Task:
    return Task(plan=plan, level=TaskLevel.ANNUAL, code=code, title=title, lead_department=lead, year=2026,
                start_date=date(2026, 1, 1), deadline=date(2026, 12, 31), **kw)


def build(app: Flask) -> World:
    with unit_of_work(app.extensions["tracker.sessions"]) as s:
        zj_sup, wz_sup = user(s, "zj_supervisor"), user(s, "wz_supervisor")
        jk, wz_jk = user(s, "zj_head_jk").department, user(s, "wz_head_jk").department
        zj, wz = (s.scalars(select(Plan).where(Plan.code == code)).one() for code in ("zj-14", "wz-14"))
        task = new_task(zj, jk, "9.8.7", "鹭岛试点任务", description="开展鹭岛试点，形成可复制经验。")
        child = new_task(zj, jk, "9.8.7.1", "子任务甲", parent=task)
        lookalike = new_task(zj, jk, "19.8.7", "编号相近的任务")
        literal = new_task(zj, jk, "9.8.8", '达标率100%_"NEAR" OR * 引号\'与\\斜杠/正斜杠')
        script = new_task(zj, jk, "9.8.9", "<script>alert(1)</script>鹭岛")
        project_task = new_task(zj, jk, "9.8.10", "鹭岛医院迁建项目", kind=TaskKind.PROJECT)
        city_task = new_task(wz, wz_jk, "9.1", "鹭岛温州任务")
        s.add_all([task, child, lookalike, literal, script, project_task, city_task])
        s.flush()
        milestone = Milestone(task=task, title="鹭岛节点验收", due_date=date(2026, 6, 30))
        report = ProgressReport(task=task, department=jk, period="year", period_year=2026, period_no=1,
                                progress=40, achievements="鹭岛进展顺利", problems="无", next_steps="继续推进")
        city_report = ProgressReport(task=city_task, department=wz_jk, period="year", period_year=2026, period_no=1,
                                     progress=10, achievements="鹭岛温州进展")
        indicator = Indicator(plan=zj, number=99, name="鹭岛指标覆盖率", target_text="90以上",
                              nature=IndicatorNature.EXPECTED, definition="鹭岛指标的名词解释")
        project = KeyProject(task=project_task, content="新建鹭岛院区门诊楼")
        s.add_all([milestone, report, city_report, indicator, project])
        zj.description = (zj.description or "") + "（鹭岛规划说明）"
        case = file_case(s, zj_sup, CaseInput(source=CaseSource.ROUTINE, department=jk, task=task,
                                              title="关于鹭岛试点滞后的督办", problem="鹭岛试点进度滞后"))
        perform(s, zj_sup, case, CaseAction.ISSUE, version=case.version_id, response_days=10)
        city_case = file_case(s, wz_sup, CaseInput(source=CaseSource.ROUTINE, department=wz_jk, task=city_task,
                                                   title="鹭岛温州督办", problem="进度滞后"))
        perform(s, wz_sup, city_case, CaseAction.ISSUE, version=city_case.version_id, response_days=10)
        s.flush()
        ids = {"plan": zj.id, "city_plan": wz.id, "task": task.id, "child": child.id, "lookalike": lookalike.id,
               "literal": literal.id, "script": script.id, "project_task": project_task.id,
               "city_task": city_task.id, "milestone": milestone.id, "report": report.id,
               "city_report": city_report.id, "indicator": indicator.id, "project": project.id, "case": case.id,
               "city_case": city_case.id}
        return World(ids, case.number_label, city_case.number_label)


@pytest.fixture
def world(demo: Flask) -> World:
    return build(demo)


def found(session: Session, username: str, text: str, kind: services.Kind | None = None) -> dict[str, set[int]]:
    """{kind value: ids found} for a search by ``username`` (every hit of every kind)."""
    results = services.search(session, user(session, username), text, kinds=[kind] if kind else None, limit=1000)
    session.rollback()
    return {g.kind.value: {h.id for h in g.hits} for g in results.groups}
