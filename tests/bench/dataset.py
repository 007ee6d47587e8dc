"""A deterministic province-scale dataset for the benchmarks (not a test, not demo data).

    generate(session)                # 1 province, 11 cities, 90 counties, 100 plans, 30,000 tasks, ...
    generate(session, provinces=10)  # a nation: ten such provinces under one root region

Everything is inserted set-wise (multi-row INSERTs of prepared dicts, ids chosen up front), so the whole
province loads in about a minute on SQLite and PostgreSQL. The same seed gives the same rows.

Shape, on 2026-11-22 (the demo's date):

* regions 1 + 11 + 90; 20 departments in each; 3,000 users: in every region a supervisor ``sup<region>``,
  a planner ``plan<region>``, a leader ``lead<region>`` and an evaluator ``eval<region>``, a head
  ``head<department>`` in every department, the rest staff; one password for all (``PASSWORD``);
* 100 plans of 2021–2025 (one per province and city, the rest counties), the provincial one the largest
  (2,000 tasks); each a real tree: 10 chapters > key tasks > measures > annual tasks; co-operating
  departments on most tasks; four or five milestones on every task below a chapter;
* 100,000 quarterly progress reports (mostly confirmed, some submitted, returned or drafts);
* 20 indicators per plan with their targets parsed, and values for 2021–2025;
* 5,000 supervision cases on late tasks in every state of the loop, with their steps and 督办单 numbers.

With ``provinces=N`` (the benchmarks' ``--scale nation``: N = 10) every count above is N times as large: N such
provinces (第1省 …, each with its 11 cities and 90 counties, 100 plans, 3,000 users, …) under one root region,
全国, whose supervisor ``sup1`` sees everything — the reader of a national deployment. The product's levels end at
the province (a root region above them is stored as one), so the root has departments and readers but no plan.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from tracker import timeutil
from tracker.auth.models import Role, User
from tracker.indicators.models import Indicator, IndicatorNature, IndicatorValue, ValueState
from tracker.indicators.targets import parse_target
from tracker.planning.models import Plan, PlanLevel, PlanStage
from tracker.regions.models import Department, DepartmentKind, Region, RegionLevel
from tracker.supervision.models import (
    CaseAction,
    CaseNumberSequence,
    CaseOutcome,
    CaseSource,
    CaseState,
    CaseStep,
    SupervisionCase,
)
from tracker.tasks.models import (
    Milestone,
    MilestoneStatus,
    ProgressReport,
    ReportPeriod,
    ReportState,
    Task,
    TaskLevel,
    TaskStatus,
    task_co_departments,
)

TODAY = date(2026, 11, 22)
PASSWORD = "bench1234"
DEPARTMENTS_PER_REGION = 20
PLANS = 100
TASKS = 30_000
PROVINCE_TASKS = 2_000
CHAPTERS_PER_PLAN = 10
INDICATORS_PER_PLAN = 20
REPORTS = 100_000
CASES = 5_000
USERS = 3_000
BATCH = 5_000

# Targets as plans write them, with a baseline that makes each one reachable.
INDICATOR_SHAPES = [
    ("人均预期寿命", "岁", "79.2", "80以上"), ("婴儿死亡率", "‰", "2.8", "5以下"),
    ("孕产妇死亡率", "/10万", "4.2", "8.5以下"), ("5岁以下儿童死亡率", "‰", "3.5", "6以下"),
    ("重大慢性病过早死亡率", "%", "9.1", "8.5以下"), ("每千人口医疗卫生机构床位数", "张", "5.8", "7"),
    ("每千人口执业（助理）医师数", "人", "3.2", "3.8"), ("每千人口注册护士数", "人", "3.4", "4.2"),
    ("每万人口全科医生数", "人", "3.9", "5"), ("个人卫生支出占卫生总费用的比重", "%", "26.8", "25以下"),
    ("居民健康素养水平", "%", "31.2", "40以上"), ("经常参加体育锻炼人数比例", "%", "41", "42以上"),
    ("医护比", "", "1:1.1", "1:1.2"), ("县域就诊率", "%", "88", "90%以上"),
    ("二级以上医院远程医疗覆盖率", "%", "95", "100"), ("儿童青少年总体近视率", "%", "56", "持续降低"),
    ("以乡镇为单位适龄儿童免疫规划疫苗接种率", "%", "95", "95以上"), ("千人口拥有3岁以下婴幼儿托位数", "个", "2.1", "4.5"),
    ("医疗卫生机构床位使用率", "%", "85", "控制在正常范围内"), ("严重精神障碍患者规范管理率", "%", "88", "90以上"),
]


class Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.start = total, 0, time.perf_counter()

    def step(self, label: str, n: int = 1) -> None:
        self.done = min(self.total, self.done + n)
        width = 30
        filled = int(width * self.done / self.total)
        elapsed = time.perf_counter() - self.start
        sys.stderr.write(f"\r  [{'#' * filled}{'.' * (width - filled)}] {self.done * 100 // self.total:3d}% "
                         f"{elapsed:5.0f} s  {label:<24}")
        sys.stderr.flush()
        if self.done == self.total:
            sys.stderr.write("\n")


def generate(session: Session, seed: int = 20261122, provinces: int = 1) -> dict[str, int]:
    """Insert the province (``provinces`` of them under a root region when more than one); returns how many rows
    of each kind were made."""
    rng = random.Random(seed)
    conn = session.connection()
    now = timeutil.now()
    bar = Progress(11)
    sizes: dict[str, int] = {}

    def put(name: str, model: Any, rows: list[dict[str, Any]]) -> None:
        table = getattr(model, "__table__", model)
        for i in range(0, len(rows), BATCH):
            conn.execute(insert(table), rows[i:i + BATCH])
        sizes[name] = len(rows)
        bar.step(name)

    regions, dept_of_region = _regions(provinces), {}
    put("regions", Region, regions)
    departments = []
    for r in regions:
        ids = []
        for d in range(DEPARTMENTS_PER_REGION):
            departments.append({"id": len(departments) + 1, "region_id": r["id"], "name": f"{r['name']}责任单位{d + 1}",
                                "kind": DepartmentKind.DIVISION.value, "is_active": True, "sort_order": d})
            ids.append(len(departments))
        dept_of_region[r["id"]] = ids
    put("departments", Department, departments)
    users = _users(rng, regions, departments, dept_of_region, now, USERS * provinces)
    put("users", User, users)
    heads = {u["department_id"]: u["id"] for u in users if u["role"] == Role.DEPT_HEAD.value}

    plans = _plans(regions, now, provinces)
    put("plans", Plan, plans)
    tasks, co, milestones = _tasks(rng, plans, dept_of_region, now)
    put("tasks", Task, tasks)
    put("co-departments", task_co_departments, co)
    put("milestones", Milestone, milestones)
    put("progress reports", ProgressReport, _reports(rng, tasks, heads, now, REPORTS * provinces))
    indicators, values = _indicators(rng, plans, dept_of_region, heads, now)
    put("indicators", Indicator, indicators)
    put("indicator values", IndicatorValue, values)
    cases, steps, sequences = _cases(rng, tasks, plans, regions, heads, now, dept_of_region, CASES * provinces)
    put("supervision cases", SupervisionCase, cases)
    conn.execute(insert(CaseNumberSequence.__table__), sequences)
    put("case steps", CaseStep, steps)

    if session.get_bind().dialect.name == "postgresql":
        for table in ("regions", "departments", "users", "plans", "tasks", "milestones", "progress_reports",
                      "indicators", "indicator_values", "supervision_cases", "case_steps"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    session.commit()
    analyze(session.get_bind())  # as after any bulk load
    return sizes


TABLES = {"regions": "regions", "departments": "departments", "users": "users", "plans": "plans", "tasks": "tasks",
          "co-departments": "task_co_departments", "milestones": "milestones", "progress reports": "progress_reports",
          "indicators": "indicators", "indicator values": "indicator_values",
          "supervision cases": "supervision_cases", "case steps": "case_steps"}


def sizes(session: Session) -> dict[str, int]:
    """How many rows of each kind an earlier ``generate`` made (a database kept to be measured again)."""
    return {name: session.scalar(text(f"SELECT count(*) FROM {table}")) or 0 for name, table in TABLES.items()}


def analyze(bind: Any) -> None:
    """Fresh planner statistics (``bind``: an engine or a session factory)."""
    engine = bind.kw["bind"] if hasattr(bind, "kw") else bind
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))


# ---------------------------------------------------------------------------------------------------
# The parts
# ---------------------------------------------------------------------------------------------------


def _regions(provinces: int = 1) -> list[dict[str, Any]]:
    """One province (ids from 1), or ``provinces`` of them under the root region 全国 (id 1)."""
    if provinces == 1:
        return _province([], "33", "浙江省", None)
    regions = [{"id": 1, "code": "000000", "name": "全国", "level": RegionLevel.PROVINCE.value, "parent_id": None}]
    for p in range(provinces):
        _province(regions, f"{p + 11:02d}", f"第{p + 1}省", 1)
    return regions


def _province(regions: list[dict[str, Any]], code: str, name: str, parent: int | None) -> list[dict[str, Any]]:
    """A province of 11 cities and 90 counties appended to ``regions``; the cities and counties are named after
    it when it is one of several."""
    province_id = len(regions) + 1
    regions.append({"id": province_id, "code": f"{code}0000", "name": name, "level": RegionLevel.PROVINCE.value,
                    "parent_id": parent})
    prefix = "" if parent is None else name
    for c in range(11):
        city_id = len(regions) + 1
        regions.append({"id": city_id, "code": f"{code}{c + 1:02d}00", "name": f"{prefix}第{c + 1}市",
                        "level": RegionLevel.CITY.value, "parent_id": province_id})
        for k in range(90 // 11 + (1 if c < 90 % 11 else 0)):
            regions.append({"id": len(regions) + 1, "code": f"{code}{c + 1:02d}{k + 1:02d}",
                            "name": f"{prefix}第{c + 1}市第{k + 1}县", "level": RegionLevel.COUNTY.value,
                            "parent_id": city_id})
    return regions


def _users(rng: random.Random, regions: list[dict[str, Any]], departments: list[dict[str, Any]],
           dept_of_region: dict[int, list[int]], now: datetime, total: int) -> list[dict[str, Any]]:
    users: list[dict[str, Any]] = []

    def add(username: str, name: str, role: Role, department_id: int) -> None:
        users.append({"id": len(users) + 1, "username": username, "name": name, "role": role.value,
                      "department_id": department_id})

    for r in regions:
        first = dept_of_region[r["id"]][0]
        add(f"sup{r['id']}", "督查员", Role.SUPERVISOR, first)
        add(f"plan{r['id']}", "规划处", Role.PLANNER, first)
        add(f"lead{r['id']}", "委领导", Role.LEADER, first)
        add(f"eval{r['id']}", "考核组", Role.EVALUATOR, first)
    for dept in departments:
        add(f"head{dept['id']}", "负责人", Role.DEPT_HEAD, dept["id"])
    while len(users) < total:
        add(f"staff{len(users) + 1}", "填报员", Role.DEPT_STAFF, rng.choice(departments)["id"])
    hashed = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    for u in users:
        u.update(password_hash=hashed, is_active=True, created_at=now, updated_at=now,
                 email=f"{u['username']}@example.org")
    return users


def _plans(regions: list[dict[str, Any]], now: datetime, provinces: int = 1) -> list[dict[str, Any]]:
    """PLANS plans in each province: the province's, its cities' and the first counties', each below the plan of
    the region above."""
    plans: list[dict[str, Any]] = []
    root = set() if provinces == 1 else {1}  # 全国 has no plan
    for province in [r for r in regions if r["level"] == RegionLevel.PROVINCE.value and r["id"] not in root]:
        cities = {r["id"] for r in regions if r["parent_id"] == province["id"]}
        counties = [r for r in regions if r["parent_id"] in cities]
        chosen = [province, *(r for r in regions if r["id"] in cities)]
        chosen += counties[:PLANS - len(chosen)]
        parent_of_region: dict[int, int] = {}
        for r in chosen:
            plan_id = len(plans) + 1
            if r["level"] != RegionLevel.COUNTY.value:
                parent_of_region[r["id"]] = plan_id
            plans.append({"id": plan_id, "code": f"bench-{plan_id}",
                          "title": f"{r['name']}卫生健康事业发展“十四五”规划", "short_name": f"{r['name']}规划",
                          "level": PlanLevel(r["level"]).value, "region_id": r["id"], "start_year": 2021,
                          "end_year": 2025, "parent_id": parent_of_region.get(r["parent_id"]),
                          "stage": (PlanStage.ARCHIVED if plan_id % 20 == 0 else PlanStage.EXECUTING).value,
                          "investment_unit": "wan", "version_id": 1, "created_at": now, "updated_at": now})
    return plans


def _tasks(rng: random.Random, plans: list[dict[str, Any]], dept_of_region: dict[int, list[int]],
           now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Each plan a tree: chapters > key tasks > measures > annual tasks (about 1 : 2 : 6 below a chapter)."""
    tasks: list[dict[str, Any]] = []
    co: list[dict[str, Any]] = []
    milestones: list[dict[str, Any]] = []
    rest = (TASKS - PROVINCE_TASKS) // (PLANS - 1)
    for plan in plans:
        size = PROVINCE_TASKS if plan["level"] == PlanLevel.PROVINCE.value else rest
        depts = dept_of_region[plan["region_id"]]
        below = size - CHAPTERS_PER_PLAN
        n_key = max(CHAPTERS_PER_PLAN, below // 9)
        n_measure = max(n_key, below * 2 // 9)
        n_annual = below - n_key - n_measure

        def add(parent: int | None, level: TaskLevel, code: str, deadline: date | None, start: date | None,
                year: int | None = None, plan: dict[str, Any] = plan, depts: list[int] = depts) -> int:
            tid = len(tasks) + 1
            row = {"id": tid, "plan_id": plan["id"], "parent_id": parent, "level": level.value, "code": code,
                   "title": f"{level.label}{code}", "description": None, "kind": "task", "lead_department_id": None,
                   "responsible_person": None, "start_date": start, "deadline": deadline, "year": year,
                   "status": TaskStatus.NOT_STARTED.value, "progress": 0, "completed_on": None, "status_note": None,
                   "weight": 1, "upstream_task_id": None, "sort_order": tid, "version_id": 1, "created_at": now,
                   "updated_at": now}
            tasks.append(row)
            if level != TaskLevel.CHAPTER:
                _work(rng, row, depts, co, milestones, now)
            return tid

        chapters = [add(None, TaskLevel.CHAPTER, f"{c + 1}", None, None) for c in range(CHAPTERS_PER_PLAN)]
        keys = [add(chapters[k % CHAPTERS_PER_PLAN], TaskLevel.KEY_TASK, f"{k % CHAPTERS_PER_PLAN + 1}.{k + 1}",
                    date(2025, 12, 31), date(2021, 1, 1)) for k in range(n_key)]
        measures = []
        for m in range(n_measure):
            deadline = date(2021, 6, 30) + timedelta(days=rng.randrange(365 * 5))
            parent = keys[m % n_key]
            measures.append(add(parent, TaskLevel.MEASURE, f"{tasks[parent - 1]['code']}.{m + 1}", deadline,
                                deadline - timedelta(days=rng.randrange(180, 720))))
        for a in range(n_annual):
            year = 2021 + a % 6
            deadline = date(year, 12, 31) - timedelta(days=rng.randrange(0, 300))
            parent = measures[a % n_measure]
            add(parent, TaskLevel.ANNUAL, f"{tasks[parent - 1]['code']}.{a + 1}", deadline,
                date(year, 1, 1), year=year)
    return tasks, co, milestones


def _work(rng: random.Random, row: dict[str, Any], depts: list[int], co: list[dict[str, Any]],
          milestones: list[dict[str, Any]], now: datetime) -> None:
    """Lead and co-operating departments, status and progress, and the task's milestones."""
    deadline: date = row["deadline"]
    start: date = row["start_date"]
    lead = rng.choice(depts)
    row["lead_department_id"] = lead
    for d in rng.sample([d for d in depts if d != lead], rng.choice((0, 1, 1, 2))):
        co.append({"task_id": row["id"], "department_id": d})
    roll = rng.random()
    if deadline < TODAY:
        status = TaskStatus.DONE if roll < 0.62 else (TaskStatus.SUSPENDED if roll > 0.98 else TaskStatus.IN_PROGRESS)
    else:
        status = TaskStatus.DONE if roll < 0.15 else (TaskStatus.IN_PROGRESS if roll < 0.8 else TaskStatus.NOT_STARTED)
    row["status"] = status.value
    row["progress"] = {TaskStatus.DONE: 100, TaskStatus.NOT_STARTED: 0}.get(status, rng.randrange(5, 95))
    if status == TaskStatus.DONE:
        # most finish on time, a fifth of them late
        late = timedelta(days=rng.randrange(1, 60)) if rng.random() < 0.2 else -timedelta(days=rng.randrange(0, 40))
        row["completed_on"] = min(max(start, deadline + late), TODAY)
    row["status_note"] = "暂缓实施" if status == TaskStatus.SUSPENDED else None
    for m in range(4 + (1 if row["id"] % 7 == 0 else 0)):
        due = start + timedelta(days=rng.randrange(max(1, (deadline - start).days + 1)))
        done = status == TaskStatus.DONE or (due < TODAY and rng.random() < 0.9)
        milestones.append({"id": len(milestones) + 1, "task_id": row["id"], "title": f"节点{m + 1}", "node": None,
                           "due_date": due, "completed_on": min(due, TODAY) if done else None,
                           "evidence": "已完成，材料已归档" if done else None,
                           "status": (MilestoneStatus.DONE if done else MilestoneStatus.PENDING).value,
                           "version_id": 1, "created_at": now, "updated_at": now})


def _quarters(start: date, end: date) -> Iterable[tuple[int, int]]:
    year, q = start.year, (start.month - 1) // 3 + 1
    while (year, q) <= (end.year, (end.month - 1) // 3 + 1):
        yield year, q
        year, q = (year + 1, 1) if q == 4 else (year, q + 1)


def _reports(rng: random.Random, tasks: list[dict[str, Any]], heads: dict[int, int],
             now: datetime, total: int) -> list[dict[str, Any]]:
    """Quarterly reports by the lead department, the latest ones of each task first, up to ``total``."""
    work = [t for t in tasks if t["level"] != TaskLevel.CHAPTER.value and t["status"] != TaskStatus.NOT_STARTED.value]
    per_task = total // len(work) + 1
    reports: list[dict[str, Any]] = []
    for t in work:
        if len(reports) >= total:
            break
        last = min(t["completed_on"] or TODAY, TODAY, t["deadline"])
        quarters = list(_quarters(t["start_date"], last))[-per_task:]
        for n, (year, q) in enumerate(quarters):
            if len(reports) >= total:
                break
            latest = n == len(quarters) - 1
            state = (rng.choice((ReportState.SUBMITTED, ReportState.DRAFT, ReportState.RETURNED, ReportState.CONFIRMED))
                     if latest else ReportState.CONFIRMED)
            at = datetime(year, q * 3, 25, 2, tzinfo=UTC)
            by = heads[t["lead_department_id"]]
            reports.append({
                "id": len(reports) + 1, "task_id": t["id"], "department_id": t["lead_department_id"],
                "period": ReportPeriod.QUARTER.value, "period_year": year, "period_no": q,
                "progress": t["progress"] * (n + 1) // len(quarters),
                "achievements": f"{year}年第{q}季度按计划推进，完成阶段性工作。", "problems": "部分配套资金尚未到位。",
                "next_steps": "加快推进，确保按期完成。", "state": state.value,
                "return_reason": "请补充量化数据。" if state == ReportState.RETURNED else None,
                "created_by_id": by, "submitted_by_id": None if state == ReportState.DRAFT else by,
                "submitted_at": None if state == ReportState.DRAFT else at,
                "reviewed_by_id": None, "reviewed_at": at + timedelta(days=3)
                if state in (ReportState.CONFIRMED, ReportState.RETURNED) else None,
                "version_id": 1, "created_at": now, "updated_at": now})
    return reports


def _indicators(rng: random.Random, plans: list[dict[str, Any]], dept_of_region: dict[int, list[int]],
                heads: dict[int, int], now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    indicators: list[dict[str, Any]] = []
    values: list[dict[str, Any]] = []
    categories = ("健康水平", "服务体系", "服务效能", "保障水平", "创新发展")
    for plan in plans:
        for n, (name, unit, baseline, target) in enumerate(INDICATOR_SHAPES[:INDICATORS_PER_PLAN]):
            rule = parse_target(target, name, unit=unit or None, baseline=baseline)
            lead = rng.choice(dept_of_region[plan["region_id"]])
            iid = len(indicators) + 1
            base = Decimal(baseline.split(":")[-1])
            indicators.append({
                "id": iid, "plan_id": plan["id"], "number": n + 1, "category": categories[n % 5], "name": name,
                "unit": unit or None, "baseline_text": baseline, "baseline_value": base, "baseline_year": 2020,
                "target_text": target, "target_year": 2025, "target_rule": rule.to_json(),
                "direction": rule.direction.value,
                "nature": (IndicatorNature.BINDING if n % 4 == 0 else IndicatorNature.EXPECTED).value,
                "lead_department_id": lead, "definition": None, "data_source": "卫生健康统计年鉴", "version_id": 1,
                "created_at": now, "updated_at": now})
            goal = rule.figure if rule.figure is not None else base
            for year in range(2021, 2026):
                share = Decimal(year - 2020) / 5
                value = (base + (goal - base) * share * Decimal(rng.uniform(0.7, 1.15))).quantize(Decimal("0.01"))
                written = f"1:{value}" if rule.op == "ratio" else str(value)
                confirmed = year < 2025 or rng.random() < 0.7
                values.append({
                    "id": len(values) + 1, "indicator_id": iid, "year": year, "value_text": written, "value": value,
                    "source": "统计年报", "note": None,
                    "state": (ValueState.CONFIRMED if confirmed else ValueState.ENTERED).value,
                    "entered_by_id": heads[lead], "confirmed_by_id": None,
                    "confirmed_at": datetime(year + 1, 2, 1, tzinfo=UTC) if confirmed else None,
                    "judgement": None, "judgement_note": None, "judged_by_id": None, "judged_at": None,
                    "version_id": 1, "created_at": now, "updated_at": now})
    return indicators, values


# The path of a case through the loop, as far as each state has come.
PATHS = {
    CaseState.ISSUED: [CaseAction.FILE, CaseAction.ISSUE],
    CaseState.ACKNOWLEDGED: [CaseAction.FILE, CaseAction.ISSUE, CaseAction.ACKNOWLEDGE],
    CaseState.RECTIFYING: [CaseAction.FILE, CaseAction.ISSUE, CaseAction.ACKNOWLEDGE, CaseAction.PLAN],
    CaseState.SUBMITTED: [CaseAction.FILE, CaseAction.ISSUE, CaseAction.ACKNOWLEDGE, CaseAction.PLAN,
                          CaseAction.SUBMIT],
    CaseState.CLOSED: [CaseAction.FILE, CaseAction.ISSUE, CaseAction.ACKNOWLEDGE, CaseAction.PLAN,
                       CaseAction.SUBMIT, CaseAction.CLOSE],
}
TO_STATE = {CaseAction.FILE: CaseState.FILED, CaseAction.ISSUE: CaseState.ISSUED,
            CaseAction.ACKNOWLEDGE: CaseState.ACKNOWLEDGED, CaseAction.PLAN: CaseState.RECTIFYING,
            CaseAction.SUBMIT: CaseState.SUBMITTED, CaseAction.CLOSE: CaseState.CLOSED}


def _cases(rng: random.Random, tasks: list[dict[str, Any]], plans: list[dict[str, Any]],
           regions: list[dict[str, Any]], heads: dict[int, int], now: datetime,
           dept_of_region: dict[int, list[int]],
           total: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Cases on tasks that were (or are) late, one per task, in every state; numbered by the region's supervision
    office per year without gaps."""
    region_of_plan = {p["id"]: p["region_id"] for p in plans}
    supervisor_of_region = {r["id"]: 4 * i + 1 for i, r in enumerate(regions)}  # sup<region> come first, in order
    late = [t for t in tasks if t["level"] != TaskLevel.CHAPTER.value and t["deadline"] < TODAY
            and (t["completed_on"] is None or t["completed_on"] > t["deadline"])]
    chosen = rng.sample(late, min(total, len(late)))
    states = [CaseState.CLOSED] * 6 + [CaseState.ISSUED, CaseState.ACKNOWLEDGED, CaseState.RECTIFYING,
                                       CaseState.SUBMITTED]
    seq: dict[tuple[int, int], int] = {}  # (office, year) -> last number: each office counts on its own
    cases: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    for t in sorted(chosen, key=lambda t: (t["deadline"], t["id"])):
        state = rng.choice(states) if t["status"] != TaskStatus.DONE.value else CaseState.CLOSED
        issued = datetime.combine(min(t["deadline"] + timedelta(days=rng.randrange(7, 60)), TODAY - timedelta(days=3)),
                                  datetime.min.time(), UTC)
        year = issued.year
        office = dept_of_region[region_of_plan[t["plan_id"]]][0]  # the supervisor's department
        seq[(office, year)] = seq.get((office, year), 0) + 1
        supervisor = supervisor_of_region[region_of_plan[t["plan_id"]]]
        head = heads[t["lead_department_id"]]
        cid = len(cases) + 1
        closed = state == CaseState.CLOSED
        at = [issued - timedelta(days=1) + timedelta(days=3 * i) for i in range(len(PATHS[state]))]
        cases.append({
            "id": cid, "number_year": year, "number_seq": seq[(office, year)], "office_id": office,
            "number_prefix": None, "source": CaseSource.ALERT.value,
            "state": state.value, "task_id": t["id"], "alert_id": None, "department_id": t["lead_department_id"],
            "title": f"关于{t['title']}逾期的督办", "problem": "任务已超过截止日期，进展滞后。",
            "requirements": "请于限期内报送整改方案并按期整改到位。", "instruction": None,
            "response_deadline": issued.date() + timedelta(days=14), "created_by_id": supervisor,
            "issued_by_id": supervisor, "issued_at": issued,
            "acknowledged_at": at[2] if len(at) > 2 else None, "submitted_at": at[4] if len(at) > 4 else None,
            "closed_by_id": supervisor if closed else None, "closed_at": at[-1] if closed else None,
            "outcome": rng.choice(list(CaseOutcome)).value if closed else None,
            "rating": rng.randint(2, 5) if closed else None, "return_count": 0, "version_id": 1,
            "created_at": at[0], "updated_at": at[-1]})
        previous = None
        for action, when in zip(PATHS[state], at, strict=True):
            actor = head if action in (CaseAction.ACKNOWLEDGE, CaseAction.PLAN, CaseAction.SUBMIT) else supervisor
            steps.append({"id": len(steps) + 1, "case_id": cid, "action": action.value,
                          "from_state": previous.value if previous else None, "to_state": TO_STATE[action].value,
                          "actor_id": actor, "comment": None, "created_at": when})
            previous = TO_STATE[action]
    return cases, steps, [{"office_id": o, "year": y, "last_seq": n} for (o, y), n in sorted(seq.items())]
