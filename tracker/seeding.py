"""Load the demo data in seeds/ (YAML, see seeds/SCHEMA.md).

Records are matched by natural keys and created only when missing, so loading twice changes nothing.
Any problem raises SeedError naming the file, the record and the field; the caller's transaction is
then rolled back, so nothing is half-loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from .auth.models import Role, User
from .db import LabeledEnum
from .indicators.models import Indicator, IndicatorNature, IndicatorValue, ValueState
from .indicators.targets import parse_target, parse_value
from .planning.models import InvestmentUnit, Plan, PlanLevel, PlanStage, PlanStageEvent
from .projects.models import (
    FundingSource,
    KeyProject,
    ProjectFunding,
    ProjectInvestment,
    ProjectKind,
    ProjectStatus,
)
from .regions.models import Department, DepartmentKind, Region, RegionLevel
from .tasks.models import (
    PROJECT_KINDS,
    Milestone,
    MilestoneStatus,
    ProgressReport,
    ProjectNode,
    ReportPeriod,
    ReportState,
    Task,
    TaskKind,
    TaskLevel,
    TaskStatus,
    period_end,
)
from .tasks.services import roll_up_all
from .timeutil import LOCAL_TZ, now


class SeedError(Exception):
    def __init__(self, file: str, record: str, field_name: str, problem: str) -> None:
        super().__init__(f"{file} · {record} · {field_name}：{problem}")
        self.file, self.record, self.field, self.problem = file, record, field_name, problem


@dataclass
class _Ctx:
    session: Session
    file: str = ""
    record: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    pending_upstream: list[tuple[str, Task, str]] = field(default_factory=list)
    departments: dict[tuple[int, str], Department] = field(default_factory=dict)

    def error(self, field_name: str, problem: str) -> SeedError:
        return SeedError(self.file, self.record, field_name, problem)

    def created(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    # field readers --------------------------------------------------------------------------
    def req(self, data: dict[str, Any], key: str) -> Any:
        value = data.get(key)
        if value is None or value == "":
            raise self.error(key, "必填")
        return value

    def text(self, data: dict[str, Any], key: str, *, required: bool = False, max_len: int = 10000) -> str | None:
        value = self.req(data, key) if required else data.get(key)
        if value is None:
            return None
        value = str(value).strip()
        if len(value) > max_len:
            raise self.error(key, f"超过{max_len}字")
        return value or None

    def enum(self, data: dict[str, Any], key: str, cls: type[LabeledEnum], *, required: bool = True,
             default: LabeledEnum | None = None) -> Any:
        value = data.get(key)
        if value is None:
            if required and default is None:
                raise self.error(key, "必填")
            return default
        try:
            return cls.from_label(str(value))
        except ValueError:
            allowed = "、".join(m.label for m in cls)
            raise self.error(key, f"“{value}”不是有效值（可选：{allowed}）") from None

    def date(self, data: dict[str, Any], key: str, *, required: bool = False) -> date | None:
        value = self.req(data, key) if required else data.get(key)
        if value is None:
            return None
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise self.error(key, f"“{value}”不是 YYYY-MM-DD 格式的日期") from None

    def int(self, data: dict[str, Any], key: str, *, required: bool = False, lo: int | None = None,
            hi: int | None = None, default: int | None = None) -> int | None:
        value = self.req(data, key) if required else data.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise self.error(key, f"“{value}”不是整数")
        try:
            number = int(value)
        except ValueError:
            raise self.error(key, f"“{value}”不是整数") from None
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            raise self.error(key, f"{number} 超出范围 {lo}–{hi}")
        return number

    def amount(self, data: dict[str, Any], key: str, unit: InvestmentUnit) -> tuple[Decimal | None, bool]:
        """An investment amount in the plan's unit → (万元, to-be-decided)."""
        value = data.get(key)
        if value is None:
            return None, False
        if str(value).strip() == "待定":
            return None, True
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            raise self.error(key, f"“{value}”不是金额（数字或“待定”）") from None
        if amount < 0:
            raise self.error(key, "金额不能为负")
        return (amount * 10000 if unit == InvestmentUnit.YI else amount), False


class _SeedLoader(yaml.SafeLoader):
    """Safe YAML that leaves dates as text, so a bad date is reported with its record and field."""


_SeedLoader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


# The seeds record the plans as they stood on this day: nothing in them happened later (the 十四五 is in its last
# year; its final evaluation and the 2025 monitoring values are still to come).
RECORDED_ON = date(2025, 11, 22)

# When a seeded fact was recorded, counted from the day it is about: a report is submitted 5 days after its
# period ends and reviewed 10 days after; a year's monitoring value or investment is confirmed 60 days after it.
SUBMITTED_AFTER, REVIEWED_AFTER, CONFIRMED_AFTER = 5, 10, 60


def _happened(day: date, days_after: int = 0) -> datetime:
    """When a seeded fact of ``day`` was recorded (10:00 that day, ``days_after`` later), never after now: a
    2021 report was submitted in 2021, not on the day the demo was built."""
    return min(datetime.combine(day + timedelta(days=days_after), time(10, 0), LOCAL_TZ), now())


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SeedLoader)  # noqa: S506 (safe loader)
    except yaml.YAMLError as exc:
        raise SeedError(path.name, "（文件）", "YAML", str(exc).replace("\n", " ")) from None
    except UnicodeDecodeError:
        raise SeedError(path.name, "（文件）", "编码", "不是 UTF-8 文本") from None
    if not isinstance(data, dict):
        raise SeedError(path.name, "（文件）", "结构", "顶层应为映射")
    return data


def _items(ctx: _Ctx, data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = data.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ctx.error(key, "应为映射的列表")
    return items


def load_seeds(session: Session, root: Path) -> dict[str, int]:
    with session.no_autoflush:
        counts = _load_all(_Ctx(session), root)
    roll_up_all(session)  # the seeds give the leaves' progress; every parent is their weighted roll-up
    counts.update(_load_evaluations(session, root))
    return counts


def _load_all(ctx: _Ctx, root: Path) -> dict[str, int]:
    session = ctx.session
    for name in ("regions.yaml", "departments.yaml", "users.yaml"):
        path = root / name
        if not path.exists():
            raise SeedError(name, "（文件）", "（文件）", "缺少文件")
        ctx.file = name
        data = _read(path)
        {"regions.yaml": _load_regions, "departments.yaml": _load_departments, "users.yaml": _load_users}[name](
            ctx, data
        )
    for path in sorted((root / "plans").glob("*.yaml")):
        ctx.file = f"plans/{path.name}"
        _load_plan(ctx, _read(path))
    for file, task, ref in ctx.pending_upstream:
        ctx.file, ctx.record = file, f"任务 {task.code}"
        task.upstream = _resolve_task_ref(ctx, ref)
    try:
        session.flush()
    except IntegrityError as exc:
        raise SeedError(ctx.file, ctx.record, "（约束）", str(exc.orig)) from None
    return ctx.counts


def _load_regions(ctx: _Ctx, data: dict[str, Any]) -> None:
    for item in _items(ctx, data, "regions"):
        ctx.record = f"地区 {item.get('code')}"
        code = str(ctx.req(item, "code"))
        if ctx.session.scalar(select(Region.id).where(Region.code == code)):
            continue
        parent = None
        if item.get("parent"):
            parent = ctx.session.scalar(select(Region).where(Region.code == str(item["parent"])))
            if parent is None:
                raise ctx.error("parent", f"上级区划 {item['parent']} 不存在（须先列出）")
        ctx.session.add(Region(code=code, name=ctx.text(item, "name", required=True, max_len=40),
                               level=ctx.enum(item, "level", RegionLevel), parent=parent))
        ctx.session.flush()
        ctx.created("地区")


def _region(ctx: _Ctx, item: dict[str, Any], key: str = "region") -> Region:
    code = str(ctx.req(item, key))
    region = ctx.session.scalar(select(Region).where(Region.code == code))
    if region is None:
        raise ctx.error(key, f"区划 {code} 不存在")
    return region


def _department(ctx: _Ctx, region: Region, name: Any, key: str) -> Department:
    if not name:
        raise ctx.error(key, "必填")
    if not ctx.departments:
        ctx.departments = {(d.region_id, d.name): d for d in ctx.session.scalars(select(Department))}
    dept = ctx.departments.get((region.id, str(name)))
    if dept is None:
        raise ctx.error(key, f"{region.name}没有部门“{name}”")
    return dept


def _load_departments(ctx: _Ctx, data: dict[str, Any]) -> None:
    for order, item in enumerate(_items(ctx, data, "departments")):
        ctx.record = f"部门 {item.get('name')}"
        region = _region(ctx, item)
        name = ctx.text(item, "name", required=True, max_len=60)
        exists = ctx.session.scalar(
            select(Department.id).where(Department.region_id == region.id, Department.name == name)
        )
        if exists:
            continue
        ctx.session.add(Department(region=region, name=name, kind=ctx.enum(item, "kind", DepartmentKind),
                                   doc_prefix=ctx.text(item, "doc_prefix", max_len=20), sort_order=order))
        ctx.session.flush()
        ctx.created("部门")


def _load_users(ctx: _Ctx, data: dict[str, Any]) -> None:
    for item in _items(ctx, data, "users"):
        ctx.record = f"用户 {item.get('username')}"
        username = ctx.text(item, "username", required=True, max_len=40)
        if ctx.session.scalar(select(User.id).where(User.username == username)):
            continue
        region = _region(ctx, item)
        dept = _department(ctx, region, item.get("department"), "department")
        password = str(ctx.req(item, "password"))  # each hash its own salt: equal passwords look unequal
        ctx.session.add(User(username=username, name=ctx.text(item, "name", required=True, max_len=40),
                             role=ctx.enum(item, "role", Role), department=dept,
                             password_hash=generate_password_hash(password),
                             email=ctx.text(item, "email"), password_changed_at=now()))
        ctx.created("用户")
    ctx.session.flush()


def _load_plan(ctx: _Ctx, data: dict[str, Any]) -> None:
    ctx.record = f"规划 {data.get('key')}"
    code = ctx.text(data, "key", required=True, max_len=40)
    assert code is not None
    if ctx.session.scalar(select(Plan.id).where(Plan.code == code)):
        return
    region = _region(ctx, data)
    period = data.get("period")
    if not (isinstance(period, list) and len(period) == 2 and all(isinstance(y, int) for y in period)):
        raise ctx.error("period", "应为 [起始年, 结束年]")
    if period[1] < period[0]:
        raise ctx.error("period", "结束年早于起始年")
    parent = None
    if data.get("parent"):
        parent = ctx.session.scalar(select(Plan).where(Plan.code == str(data["parent"])))
        if parent is None:
            raise ctx.error("parent", f"上位规划 {data['parent']} 不存在（须在之前的文件中）")
    unit = ctx.enum(data, "investment_unit", InvestmentUnit, default=InvestmentUnit.WAN)
    plan = Plan(
        code=code, title=ctx.text(data, "title", required=True, max_len=200),
        short_name=ctx.text(data, "short_name", required=True, max_len=60),
        level=ctx.enum(data, "level", PlanLevel), region=region, start_year=period[0], end_year=period[1],
        parent=parent, issuing_body=ctx.text(data, "issuing_body", max_len=200),
        doc_number=ctx.text(data, "doc_number", max_len=80), stage=ctx.enum(data, "stage", PlanStage),
        investment_unit=unit, description=ctx.text(data, "description"),
    )
    ctx.session.add(plan)
    for i, ev in enumerate(_items(ctx, data, "stages")):
        ctx.record = f"规划 {code} 阶段 {i + 1}"
        plan.stage_events.append(PlanStageEvent(stage=ctx.enum(ev, "stage", PlanStage),
                                                on_date=ctx.date(ev, "date", required=True),
                                                note=ctx.text(ev, "note")))
    ctx.session.flush()
    ctx.created("规划")

    indicators: dict[int, Indicator] = {}
    for item in _items(ctx, data, "indicators"):
        ctx.record = f"规划 {code} 指标 {item.get('number')}"
        ind = _load_indicator(ctx, plan, item)
        if ind.number in indicators:
            raise ctx.error("number", f"序号 {ind.number} 重复")
        indicators[ind.number] = ind

    codes: dict[str, Task] = {}
    for order, item in enumerate(_items(ctx, data, "tasks")):
        _load_task(ctx, plan, None, item, order, codes, indicators, unit)
    ctx.session.flush()


def _load_indicator(ctx: _Ctx, plan: Plan, item: dict[str, Any]) -> Indicator:
    name = ctx.text(item, "name", required=True, max_len=120)
    target = ctx.text(item, "target", required=True, max_len=60)
    assert target is not None
    rule = parse_target(target, name)
    baseline = ctx.text(item, "baseline", max_len=60)
    lead = _department(ctx, plan.region, item["lead"], "lead") if item.get("lead") else None
    ind = Indicator(
        plan=plan, number=ctx.int(item, "number", required=True, lo=1, hi=999),
        category=ctx.text(item, "category", max_len=40), name=name, unit=ctx.text(item, "unit", max_len=30),
        baseline_text=baseline, baseline_value=parse_value(baseline) if baseline else None,
        baseline_year=ctx.int(item, "baseline_year", lo=1990, hi=2100), target_text=target,
        target_year=ctx.int(item, "target_year", lo=1990, hi=2100), target_rule=rule.to_json(),
        direction=rule.direction, nature=ctx.enum(item, "nature", IndicatorNature), lead_department=lead,
        definition=ctx.text(item, "definition"), data_source=ctx.text(item, "data_source", max_len=200),
    )
    values = item.get("values") or {}
    if not isinstance(values, dict):
        raise ctx.error("values", "应为 年份: 数值 的映射")
    for year, value in sorted(values.items(), key=lambda kv: int(kv[0])):
        if value is None or str(value).strip() == "":
            continue
        text = str(value).strip()
        ind.values.append(IndicatorValue(year=int(year), value_text=text, value=parse_value(text),
                                         source="规划文本", state=ValueState.CONFIRMED,
                                         confirmed_at=_happened(date(int(year), 12, 31), CONFIRMED_AFTER)))
    ctx.session.add(ind)
    ctx.created("指标")
    return ind


def _load_task(ctx: _Ctx, plan: Plan, parent: Task | None, item: dict[str, Any], order: int,
               codes: dict[str, Task], indicators: dict[int, Indicator], unit: InvestmentUnit) -> None:
    code = ctx.text(item, "code", required=True, max_len=40)
    assert code is not None
    ctx.record = f"规划 {plan.code} 任务 {code}"
    if code in codes:
        raise ctx.error("code", f"编号 {code} 在本规划中重复")
    level = ctx.enum(item, "level", TaskLevel)
    status = ctx.enum(item, "status", TaskStatus, default=TaskStatus.NOT_STARTED)
    progress = ctx.int(item, "progress", lo=0, hi=100, default=100 if status == TaskStatus.DONE else 0)
    completed_on = ctx.date(item, "completed_on")
    if (status == TaskStatus.DONE) != (completed_on is not None):
        raise ctx.error("completed_on", "状态为“已完成”时必须填写完成日期，其他状态不得填写")
    start, deadline = ctx.date(item, "start"), ctx.date(item, "deadline")
    lead = None
    if level != TaskLevel.CHAPTER:
        lead = _department(ctx, plan.region, item.get("lead"), "lead")
        if deadline is None:
            raise ctx.error("deadline", "必填")
    if start and deadline and deadline < start:
        raise ctx.error("deadline", "截止日期早于开始日期")
    year = ctx.int(item, "year", lo=1990, hi=2100)
    if level == TaskLevel.ANNUAL and year is None:
        raise ctx.error("year", "年度任务须填写年度")
    task = Task(
        plan=plan, parent=parent, level=level, code=code, title=ctx.text(item, "title", required=True, max_len=300),
        description=ctx.text(item, "description"), kind=ctx.enum(item, "kind", TaskKind, default=TaskKind.TASK),
        lead_department=lead, responsible_person=ctx.text(item, "responsible", max_len=60), start_date=start,
        deadline=deadline, year=year, status=status, progress=progress, completed_on=completed_on,
        weight=ctx.int(item, "weight", lo=1, hi=100, default=1), sort_order=order,
    )
    co = item.get("co") or []
    if not isinstance(co, list):
        raise ctx.error("co", "应为部门名称列表")
    task.co_departments = [_department(ctx, plan.region, name, "co") for name in dict.fromkeys(co)]
    for number in item.get("indicators") or []:
        if number not in indicators:
            raise ctx.error("indicators", f"本规划没有序号为 {number} 的指标")
        task.indicators.append(indicators[number])
    ctx.session.add(task)
    codes[code] = task
    ctx.created("任务")
    if item.get("upstream"):
        ctx.pending_upstream.append((ctx.file, task, str(item["upstream"])))

    for m in _items(ctx, item, "milestones"):
        ctx.record = f"规划 {plan.code} 任务 {code} 节点 {m.get('title')}"
        due = ctx.date(m, "due", required=True)
        assert due is not None
        if deadline and due > deadline:
            raise ctx.error("due", f"节点日期晚于任务截止日期 {deadline}")
        m_status = ctx.enum(m, "status", MilestoneStatus, default=MilestoneStatus.PENDING)
        m_done = ctx.date(m, "completed_on")
        if (m_status == MilestoneStatus.DONE) != (m_done is not None):
            raise ctx.error("completed_on", "状态为“已完成”时必须填写完成日期，其他状态不得填写")
        title = ctx.text(m, "title", required=True, max_len=200)
        node = next((n for n in ProjectNode if n.label == title), None)
        task.milestones.append(Milestone(title=title, node=node, due_date=due, completed_on=m_done,
                                         evidence=ctx.text(m, "evidence"), status=m_status))
        ctx.created("节点")

    for r in _items(ctx, item, "reports"):
        if False in r and "no" not in r:  # YAML 1.1 reads an unquoted `no:` key as false
            r = {**r, "no": r[False]}
        ctx.record = f"规划 {plan.code} 任务 {code} 填报 {r.get('year')}-{r.get('period')}-{r.get('no')}"
        state = ctx.enum(r, "state", ReportState, default=ReportState.DRAFT)
        dept = _department(ctx, plan.region, r.get("department") or (lead.name if lead else None), "department")
        if lead and dept != lead and dept not in task.co_departments:
            raise ctx.error("department", f"“{dept.name}”不是该任务的牵头或配合单位")
        period, year, number = (ctx.enum(r, "period", ReportPeriod), ctx.int(r, "year", required=True),
                                ctx.int(r, "no", required=True, lo=1, hi=12))
        assert year is not None and number is not None
        if number > len(period.numbers):
            raise ctx.error("no", f"{period.label}报只有 {len(period.numbers)} 期")
        submitted = _happened(period_end(period, year, number), SUBMITTED_AFTER)
        reviewed = max(submitted, _happened(period_end(period, year, number), REVIEWED_AFTER))
        report = ProgressReport(
            department=dept, period=period, period_year=year, period_no=number,
            progress=ctx.int(r, "progress", lo=0, hi=100, default=0),
            achievements=ctx.text(r, "done"), problems=ctx.text(r, "problems"), next_steps=ctx.text(r, "next"),
            state=state, return_reason=ctx.text(r, "return_reason"),
            submitted_at=None if state == ReportState.DRAFT else submitted,
            reviewed_at=reviewed if state in (ReportState.CONFIRMED, ReportState.RETURNED) else None,
        )
        if state == ReportState.RETURNED and not report.return_reason:
            raise ctx.error("return_reason", "已退回的填报须写明退回原因")
        task.reports.append(report)
        ctx.created("进展填报")

    if item.get("project") is not None:
        ctx.record = f"规划 {plan.code} 任务 {code} 项目"
        if task.kind not in PROJECT_KINDS:
            raise ctx.error("project", "只有“重大工程”“重大项目”可以有项目信息")
        p = item["project"]
        if not isinstance(p, dict):
            raise ctx.error("project", "应为映射")
        total, total_tbd = ctx.amount(p, "total_investment", unit)
        period_amount, period_tbd = ctx.amount(p, "period_investment", unit)
        items = p.get("items") or []
        if not isinstance(items, list):
            raise ctx.error("items", "应为字符串列表")
        region = plan.region
        if p.get("region") is not None:
            region = _region(ctx, p)
            if region.id != plan.region.id and region.parent_id != plan.region.id and (
                    region.parent is None or region.parent.parent_id != plan.region.id):
                raise ctx.error("region", f"建设地点须为{plan.region.name}或其下辖地区")
        project = KeyProject(
            region=region, kind=ctx.enum(p, "kind", ProjectKind, default=ProjectKind.OTHER),
            status=ctx.enum(p, "status", ProjectStatus, default=ProjectStatus.BUILDING),
            content=ctx.text(p, "content"), items=[str(i) for i in items], total_investment=total,
            total_tbd=total_tbd, period_investment=period_amount, period_tbd=period_tbd,
            start_year=ctx.int(p, "start_year", lo=1990, hi=2100), end_year=ctx.int(p, "end_year", lo=1990, hi=2100),
        )
        funding = p.get("funding") or {}
        if not isinstance(funding, dict):
            raise ctx.error("funding", "应为 资金来源: 金额 的映射")
        for label in funding:
            ctx.record = f"规划 {plan.code} 任务 {code} 项目 资金来源 {label}"
            source = ctx.enum({"funding": label}, "funding", FundingSource)
            amount, amount_tbd = ctx.amount(funding, label, unit)
            if amount is None and not amount_tbd:
                raise ctx.error("funding", f"“{label}”应为金额或“待定”")
            project.funding.append(ProjectFunding(source=source, amount=amount))
        years: set[int] = set()
        for inv in _items(ctx, p, "investments"):
            ctx.record = f"规划 {plan.code} 任务 {code} 项目 投资 {inv.get('year')}"
            year = ctx.int(inv, "year", required=True, lo=1990, hi=2100)
            assert year is not None
            if year in years:
                raise ctx.error("year", f"{year}年重复")
            years.add(year)
            planned, _ = ctx.amount(inv, "planned", unit)
            completed, _ = ctx.amount(inv, "completed", unit)
            inv_state = ctx.enum(inv, "state", ReportState, default=ReportState.CONFIRMED)
            if inv_state != ReportState.DRAFT and completed is None:
                raise ctx.error("completed", f"状态为“{inv_state.label}”的年度须填写完成投资")
            reason = ctx.text(inv, "return_reason")
            if inv_state == ReportState.RETURNED and not reason:
                raise ctx.error("return_reason", "已退回的年度须写明退回原因")
            project.investments.append(ProjectInvestment(
                year=year, planned=planned, completed=completed, note=ctx.text(inv, "note"), state=inv_state,
                return_reason=reason if inv_state == ReportState.RETURNED else None,
                confirmed_at=_happened(date(year, 12, 31), CONFIRMED_AFTER) if inv_state == ReportState.CONFIRMED else None,
            ))
        entered = sum((i.completed for i in project.investments if i.completed is not None), Decimal(0))
        if total is not None and entered > total:
            raise ctx.error("investments", "各年度完成投资合计超过总投资")
        task.project = project
        ctx.created("重大项目")

    for child_order, child in enumerate(_items(ctx, item, "children")):
        _load_task(ctx, plan, task, child, child_order, codes, indicators, unit)


def _resolve_task_ref(ctx: _Ctx, ref: str) -> Task:
    plan_code, _, task_code = ref.partition(":")
    task = ctx.session.scalar(
        select(Task).join(Plan).where(Plan.code == plan_code, Task.code == task_code)
    )
    if task is None:
        raise ctx.error("upstream", f"找不到上位任务 {ref}")
    return task


def _load_evaluations(session: Session, root: Path) -> dict[str, int]:
    """Understand the seeded plans' targets with their units and baselines, judge their monitoring values,
    and compute the evaluations listed in evaluations.yaml (computed, never typed; locked where asked)."""
    from .errors import DomainError
    from .evaluations.models import Evaluation, EvaluationKind
    from .evaluations.services import DEFAULT_THRESHOLDS, DEFAULT_WEIGHTS, Settings, lock, run_evaluation
    from .indicators.services import rejudge_plan, understand_again

    counts: dict[str, int] = {}
    codes = [str(_read(path).get("key")) for path in sorted((root / "plans").glob("*.yaml"))]
    for plan in session.scalars(select(Plan).where(Plan.code.in_(codes))):
        for indicator in plan.indicators:
            understand_again(indicator)
        judged = rejudge_plan(session, plan)
        if judged:
            counts["指标评判"] = counts.get("指标评判", 0) + judged
    path = root / "evaluations.yaml"
    if not path.exists():
        return counts
    ctx = _Ctx(session, file="evaluations.yaml")
    for n, item in enumerate(_items(ctx, _read(path), "evaluations"), start=1):
        ctx.record = f"评估 {n}（{item.get('plan')} {item.get('kind')} {item.get('year')}）"
        plan = session.scalar(select(Plan).where(Plan.code == str(ctx.req(item, "plan"))))
        if plan is None:
            raise ctx.error("plan", f"规划 {item['plan']} 不存在")
        kind = ctx.enum(item, "kind", EvaluationKind)
        year = ctx.int(item, "year", required=True, lo=1990, hi=2100)
        exists_already = session.scalar(select(Evaluation.id).where(
            Evaluation.plan_id == plan.id, Evaluation.kind == kind, Evaluation.year == year).limit(1))
        if exists_already:
            continue
        weights, thresholds = item.get("weights") or {}, item.get("thresholds") or {}
        if not isinstance(weights, dict) or not isinstance(thresholds, dict):
            raise ctx.error("weights", "应为映射")
        settings = Settings({**DEFAULT_WEIGHTS, **weights}, {**DEFAULT_THRESHOLDS, **thresholds})
        try:
            evaluation = run_evaluation(session, None, plan, kind, year, settings)
            if item.get("lock"):
                lock(session, None, evaluation)
        except DomainError as exc:
            raise ctx.error(exc.field or "（计算）", exc.message) from None
        ctx.created("考核评估")
    counts.update(ctx.counts)
    return counts
