"""A small plan whose 2025 figures are known by hand, for checking the evaluation's computation.

Departments and what falls in the 2025 annual window:

* 甲处: four tasks due — done on time, done late, still open, done only in January 2026 — and two indicators
  (one achieved, one missing its target). Score 40×½ + 20×¼ + 30×½ over 90 = 44.44.
* 乙处: a task done on time and the open child of a parent task (the parent itself is not counted); a
  terminated task (not counted); two cases filed in 2025, one closed on time after being returned once.
  Score 40×½ + 20×½ + 10×½ over 70 = 50.00.
* 丙处: a task due in 2026 (outside the window) and one achieved indicator. Score 30×1 over 30 = 100.00.
* 丁处: a key project with 2025 investment only: listed without a score.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count

from sqlalchemy.orm import Session

from tests import factories as f
from tracker.auth.models import Role, User
from tracker.indicators.models import Indicator, IndicatorNature, IndicatorValue, ValueState
from tracker.indicators.services import rejudge
from tracker.indicators.targets import parse_target, parse_value
from tracker.planning.models import Plan, PlanStage
from tracker.projects.models import KeyProject, ProjectInvestment
from tracker.regions.models import Department, Region
from tracker.supervision.models import CaseOutcome, CaseSource, CaseState, SupervisionCase
from tracker.tasks.models import ReportState, Task, TaskKind, TaskLevel, TaskStatus

_case_numbers = count(1)


@dataclass
class World:
    region: Region
    plan: Plan
    departments: dict[str, Department]
    evaluator: User
    leader: User
    planner: User
    head: User
    tasks: dict[str, Task] = field(default_factory=dict)
    indicators: dict[str, Indicator] = field(default_factory=dict)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)


def task(session: Session, plan: Plan, lead: Department | None, deadline: date, *, done_on: date | None = None,
         status: TaskStatus | None = None, parent: Task | None = None, **kw: object) -> Task:
    status = status or (TaskStatus.DONE if done_on else TaskStatus.IN_PROGRESS)
    return f.task(session, plan, lead, deadline=deadline, start_date=date(2021, 1, 1), status=status,
                  completed_on=done_on, progress=100 if done_on else 50, parent=parent, **kw)


def indicator(session: Session, plan: Plan, lead: Department, number: int, name: str, target: str,
              values: dict[int, str], nature: IndicatorNature = IndicatorNature.EXPECTED) -> Indicator:
    rule = parse_target(target, name)
    ind = Indicator(plan=plan, number=number, name=name, target_text=target, target_year=plan.end_year,
                    target_rule=rule.to_json(), direction=rule.direction, nature=nature, lead_department=lead,
                    category="健康水平", unit="%")
    for year, text in values.items():
        ind.values.append(IndicatorValue(year=year, value_text=text, value=parse_value(text), state=ValueState.CONFIRMED,
                                         confirmed_at=at(date(2026, 1, 15))))
    session.add(ind)
    session.flush()
    return ind


def case(session: Session, on: Task, department: Department, filed: date, *, closed: date | None = None,
         closed_by: User | None = None, outcome: CaseOutcome | None = None, returns: int = 0,
         title: str = "督办事项") -> SupervisionCase:
    state = CaseState.CLOSED if closed else CaseState.RECTIFYING
    obj = SupervisionCase(
        number_year=filed.year, number_seq=next(_case_numbers) + 1000, office_id=department.id,
        source=CaseSource.ROUTINE, state=state,
        task=on, department=department, title=title, problem="进度滞后", response_deadline=filed,
        issued_at=at(filed), acknowledged_at=at(filed), submitted_at=at(closed) if closed else None,
        closed_at=at(closed) if closed else None, closed_by_id=closed_by.id if closed_by else None,
        outcome=outcome, return_count=returns, created_at=at(filed), updated_at=at(filed),
    )
    session.add(obj)
    session.flush()
    return obj


def build_world(session: Session, *, extra_departments: int = 0, tag: str = "t") -> World:
    region = f.region(session, name="浙江省")
    plan = f.plan(session, region, start_year=2021, end_year=2025, stage=PlanStage.EXECUTING,
                  title="测试卫生健康规划", short_name="测试规划")
    names = ["甲处", "乙处", "丙处", "丁处", "考核办", "委领导"]
    depts = {n: f.department(session, region, n) for n in names}
    world = World(region, plan, depts,
                  evaluator=f.user(session, depts["考核办"], Role.EVALUATOR, username=f"{tag}_evaluator"),
                  leader=f.user(session, depts["委领导"], Role.LEADER, username=f"{tag}_leader"),
                  planner=f.user(session, depts["考核办"], Role.PLANNER, username=f"{tag}_planner"),
                  head=f.user(session, depts["甲处"], Role.DEPT_HEAD, username=f"{tag}_head"))
    a, b, c, d = (depts[n] for n in ("甲处", "乙处", "丙处", "丁处"))
    chapter = f.task(session, plan, None, level=TaskLevel.CHAPTER, code="一", title="第一章", deadline=None,
                     start_date=None, status=TaskStatus.NOT_STARTED, progress=0)
    t = world.tasks
    t["a_on_time"] = task(session, plan, a, date(2025, 6, 30), done_on=date(2025, 6, 1), parent=chapter)
    t["a_late"] = task(session, plan, a, date(2025, 3, 31), done_on=date(2025, 5, 1), parent=chapter)
    t["a_open"] = task(session, plan, a, date(2025, 9, 30), parent=chapter)
    t["a_after"] = task(session, plan, a, date(2025, 12, 31), done_on=date(2026, 1, 10), parent=chapter)
    t["a_2024"] = task(session, plan, a, date(2024, 6, 30), done_on=date(2024, 6, 1), parent=chapter)
    t["b_on_time"] = task(session, plan, b, date(2025, 8, 31), done_on=date(2025, 8, 1), parent=chapter)
    t["b_terminated"] = task(session, plan, b, date(2025, 5, 31), status=TaskStatus.TERMINATED, parent=chapter)
    t["b_parent"] = task(session, plan, b, date(2025, 12, 31), parent=chapter)
    t["b_child"] = task(session, plan, b, date(2025, 11, 30), parent=t["b_parent"], level=TaskLevel.ANNUAL, year=2025)
    t["c_2026"] = task(session, plan, c, date(2026, 6, 30), parent=chapter)
    t["d_project"] = task(session, plan, d, date(2027, 12, 31), parent=chapter, kind=TaskKind.PROJECT)
    project = KeyProject(task=t["d_project"], region=region)
    for year, planned, completed in ((2025, "100", "80"), (2024, "50", "50")):  # confirmed: the evaluation counts them
        project.investments.append(ProjectInvestment(year=year, planned=Decimal(planned), completed=Decimal(completed),
                                                     state=ReportState.CONFIRMED, confirmed_at=at(date(year, 12, 20))))
    session.add(project)

    ind = world.indicators
    ind["a_achieved"] = indicator(session, plan, a, 1, "居民健康素养水平", "40", {2024: "38", 2025: "41.5"})
    ind["a_missed"] = indicator(session, plan, a, 2, "孕产妇死亡率", "7以下", {2025: "7.6"})
    ind["c_achieved"] = indicator(session, plan, c, 3, "疾控机构标准化率", "95", {2025: "96"})
    ind["b_trend"] = indicator(session, plan, b, 4, "人均基本公共卫生服务经费", "稳步提高", {2025: "较上年提高"})
    ind["c_missing"] = indicator(session, plan, c, 5, "每千人床位数", "7.5", {2024: "6.9"})

    closer = world.evaluator  # who closes does not enter the figures
    case(session, t["b_on_time"], b, date(2025, 3, 1), closed=date(2025, 6, 1), closed_by=closer,
         outcome=CaseOutcome.ON_TIME, returns=1, title="督办乙处任务")
    case(session, t["b_child"], b, date(2025, 10, 8))
    case(session, t["a_2024"], a, date(2024, 7, 1), closed=date(2024, 9, 1), closed_by=closer,
         outcome=CaseOutcome.LATE)

    for n in range(extra_departments):
        dept = f.department(session, region, f"扩展单位{n}")
        task(session, plan, dept, date(2025, 6, 30), done_on=date(2025, 6, 1) if n % 2 else None, parent=chapter)
        case(session, t["b_on_time"], dept, date(2025, 2, 1), closed=date(2025, 3, 1), closed_by=closer,
             outcome=CaseOutcome.LATE)
    rejudge(ind.values())
    session.flush()
    return world
