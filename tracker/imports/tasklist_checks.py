"""The rules an uploaded task list (任务分解表) is checked by, one function a rule.

Every row is checked against the plan — department names in the plan's region, dates, levels, years,
weights, indicator numbers, upstream codes, milestones within the deadline — and then the rows together as a
tree: parents exist, fit the level by planning's rule, form no loop, and are not terminated. Every problem is
kept with its row and column, so that the planner sees them all at once; :mod:`.tasklist` refuses the file
while any is left.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..errors import DomainError
from ..indicators.models import Indicator
from ..planning.models import Plan
from ..planning.services import LEVEL_PARENTS
from ..regions.models import Department
from ..spreadsheets import unsafe_text
from ..tasks.models import Task, TaskKind, TaskLevel, TaskStatus
from ..text import clean

SEPARATORS = re.compile(r"[、,，;；/／\n]+")
LEVELS = {lv.label: lv for lv in TaskLevel}
KINDS = {k.label: k for k in TaskKind}


@dataclass
class Problem:
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"第{self.row}行")
        if self.column:
            where.append(self.column)
        return ("，".join(where) + "：" if where else "") + self.message


class TaskListInvalid(DomainError):
    """The workbook has problems; ``problems`` lists every one (nothing was saved)."""

    status_code = 422

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"任务分解表有 {len(problems)} 处问题，未导入任何内容。请修改后重新上传。", field="file")
        self.problems = problems


@dataclass
class Row:
    """One checked row of an uploaded task list."""

    number: int  # the Excel row
    code: str
    parent: str | None
    level: TaskLevel
    title: str
    description: str | None
    kind: TaskKind
    lead_id: int | None
    co_ids: list[int]
    responsible: str | None
    start: date | None
    deadline: date | None
    year: int | None
    weight: int
    indicator_ids: list[int]
    upstream_id: int | None

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "level": self.level.value, "kind": self.kind.value,
                "start": self.start.isoformat() if self.start else None,
                "deadline": self.deadline.isoformat() if self.deadline else None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Row:
        return cls(**{**data, "level": TaskLevel(data["level"]), "kind": TaskKind(data["kind"]),
                      "start": date.fromisoformat(data["start"]) if data["start"] else None,
                      "deadline": date.fromisoformat(data["deadline"]) if data["deadline"] else None})


def cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = clean(unsafe_text(str(value))).strip()
    return text or None


def parse_date(value: Any) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if m := re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text):
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    raise ValueError(text)



# ------------------------------------------------------------------------------------------- checking

# What the messages say where a row's parent does not fit its level (the rule itself is planning's).
PLACEMENT = {
    TaskLevel.CHAPTER: "章只能在顶层，上级编号应留空",
    TaskLevel.KEY_TASK: "重点任务的上级须为章或留空",
    TaskLevel.MEASURE: "工作举措的上级须为重点任务",
    TaskLevel.ANNUAL: "年度任务的上级须为重点任务或工作举措",
}


class _Against:
    """What the rows are checked against: the plan, its region's departments, its indicators and tasks, the
    tasks of the plan above; and the problems found so far."""

    def __init__(self, session: Session, plan: Plan, raw: list[tuple[int, dict[str, Any]]],
                 labels: dict[str, str]) -> None:
        self.plan = plan
        self.labels = labels
        self.problems: list[Problem] = []
        self.departments = {d.name: d for d in session.scalars(select(Department)
                                                               .where(Department.region_id == plan.region_id))}
        self.indicators = {i.number: i for i in session.scalars(select(Indicator).where(Indicator.plan_id == plan.id))}
        self.existing = {t.code: t for t in session.scalars(select(Task).where(Task.plan_id == plan.id)
                                                            .options(selectinload(Task.milestones)))}
        self.upstream_tasks = {t.code: t for t in session.scalars(select(Task).where(Task.plan_id == plan.parent_id))} \
            if plan.parent_id else {}
        self.codes = Counter(cell_text(v.get("code")) for _n, v in raw)
        self.first_row: dict[str, int] = {}  # where a code used on several rows is first

    def problem(self, row: int, key: str | None, message: str) -> None:
        self.problems.append(Problem(row, self.labels.get(key or ""), message))

    def already(self, row: int, key: str) -> bool:
        return problems_at(self.problems, row, self.labels.get(key))


class _Checking:
    """One row while it is checked: its cells as text, the values read so far, whether it is still good."""

    def __init__(self, against: _Against, number: int, values: dict[str, Any]) -> None:
        self.against = against
        self.number = number
        self.values = values
        self.text = {k: cell_text(v) for k, v in values.items()}
        self.ok = True
        self.code = self.text.get("code")
        self.level: TaskLevel | None = None
        self.title: str | None = None
        self.kind: TaskKind | None = None
        self.lead: Department | None = None
        self.co_ids: list[int] = []
        self.responsible: str | None = None
        self.dates: dict[str, date | None] = {}
        self.year: int | None = None
        self.weight = 1
        self.indicator_ids: list[int] = []
        self.upstream_id: int | None = None

    def problem(self, key: str | None, message: str) -> None:
        self.against.problem(self.number, key, message)
        self.ok = False

    @property
    def current(self) -> Task | None:
        """The plan's task of this row's code (None: a new task)."""
        return self.against.existing.get(self.code or "")

    def row(self) -> Row | None:
        if not (self.ok and self.code and self.level is not None and self.title and self.kind is not None):
            return None
        return Row(self.number, self.code, self.text.get("parent"), self.level, self.title, self.text.get("description"),
                   self.kind, self.lead.id if self.lead else None, self.co_ids, self.responsible, self.dates["start"],
                   self.dates["deadline"], self.year, self.weight, self.indicator_ids, self.upstream_id)


def _code(r: _Checking) -> None:
    against, code = r.against, r.code
    if not code:
        r.problem("code", "编号不能为空")
    elif len(code) > 40:
        r.problem("code", "编号不能超过40个字符")
    elif against.codes[code] > 1:
        if code in against.first_row:
            r.problem("code", f"编号“{code}”与第{against.first_row[code]}行重复")
        else:
            against.first_row[code] = r.number


def _level(r: _Checking) -> None:
    r.level = LEVELS.get(r.text.get("level") or "")
    if r.level is None:
        r.problem("level", f"层级“{r.text.get('level') or '（空）'}”无效，应为 章 / 重点任务 / 工作举措 / 年度任务")


def _title(r: _Checking) -> None:
    title = r.text.get("title")
    if not title:
        r.problem("title", "任务名称不能为空")
    elif len(title) > 300:
        r.problem("title", "任务名称不能超过300字")
    else:
        r.title = title


def _kind(r: _Checking) -> None:
    r.kind = KINDS.get(r.text.get("kind") or TaskKind.TASK.label)
    if r.kind is None:
        r.problem("kind", f"类型“{r.text['kind']}”无效，应为 " + " / ".join(KINDS))


def _lead(r: _Checking) -> None:
    if r.text.get("lead"):
        r.lead = r.against.departments.get(r.text["lead"])
        if r.lead is None:
            r.problem("lead", f"{r.against.plan.region.name}没有单位“{r.text['lead']}”（名称须与系统中一致）")
    elif r.level is not None and r.level != TaskLevel.CHAPTER:
        r.problem("lead", "牵头单位不能为空（章以外的任务有且只有一个牵头单位）")


def _co(r: _Checking) -> None:
    for name in SEPARATORS.split(r.text.get("co") or ""):
        name = name.strip()
        if not name:
            continue
        dept = r.against.departments.get(name)
        if dept is None:
            r.problem("co", f"{r.against.plan.region.name}没有单位“{name}”")
        elif dept is not r.lead and dept.id not in r.co_ids:
            r.co_ids.append(dept.id)


def _responsible(r: _Checking) -> None:
    r.responsible = r.text.get("responsible")
    if r.responsible and len(r.responsible) > 60:
        r.problem("responsible", "责任人不能超过60字")


def _dates(r: _Checking) -> None:
    for key in ("start", "deadline"):
        try:
            r.dates[key] = parse_date(r.values.get(key))
        except ValueError:
            r.problem(key, f"“{r.text.get(key)}”不是日期（应为 2025-12-31 这样的格式）")
            r.dates[key] = None
    if r.level is not None and r.level not in (TaskLevel.CHAPTER, TaskLevel.ANNUAL) and r.dates["deadline"] is None \
            and not r.against.already(r.number, "deadline"):
        r.problem("deadline", "截止日期不能为空")
    if r.dates["start"] and r.dates["deadline"] and r.dates["deadline"] < r.dates["start"]:
        r.problem("deadline", "截止日期不能早于开始日期")


def _year(r: _Checking) -> None:
    """An annual task has a year within the plan's period (or the one it has); it dates the task when the
    row gives no dates. Other levels have no year."""
    if r.text.get("year"):
        if not re.fullmatch(r"\d{4}", r.text["year"]):
            r.problem("year", f"年度“{r.text['year']}”应为四位数字年份")
        else:
            r.year = int(r.text["year"])
    plan = r.against.plan
    if r.level == TaskLevel.ANNUAL:
        current = r.current
        if r.year is None and not r.against.already(r.number, "year"):
            r.problem("year", "年度任务须填写年度")
        elif r.year is not None and not plan.start_year <= r.year <= plan.end_year and \
                not (current is not None and current.year == r.year):
            r.problem("year", f"年度须在规划期（{plan.period_label}）内")
        if r.year is not None:
            r.dates["start"] = r.dates["start"] or date(r.year, 1, 1)
            r.dates["deadline"] = r.dates["deadline"] or date(r.year, 12, 31)
    elif r.year is not None:
        r.problem("year", "只有年度任务填写年度")


def _weight(r: _Checking) -> None:
    if r.text.get("weight"):
        if not re.fullmatch(r"\d{1,3}", r.text["weight"]) or not 1 <= int(r.text["weight"]) <= 100:
            r.problem("weight", "权重须为1到100之间的整数")
        else:
            r.weight = int(r.text["weight"])


def _indicators(r: _Checking) -> None:
    indicators = r.against.indicators
    for part in SEPARATORS.split(r.text.get("indicators") or ""):
        part = part.strip()
        if not part:
            continue
        if not part.isdecimal() or int(part) not in indicators:
            r.problem("indicators", f"本规划没有序号为“{part}”的指标")
        elif indicators[int(part)].id not in r.indicator_ids:
            r.indicator_ids.append(indicators[int(part)].id)


def _upstream(r: _Checking) -> None:
    code = r.text.get("upstream")
    if not code:
        return
    if r.against.plan.parent_id is None:
        r.problem("upstream", "本规划没有上位规划，不能填写上位任务编号")
    elif code not in r.against.upstream_tasks:
        r.problem("upstream", f"上位规划中没有编号为“{code}”的任务")
    else:
        r.upstream_id = r.against.upstream_tasks[code].id


def _milestones(r: _Checking) -> None:
    """A task's milestones stay within its (new) deadline."""
    current, deadline = r.current, r.dates["deadline"]
    if current is not None and deadline is not None:
        late = next((m for m in current.milestones if m.due_date > deadline), None)
        if late is not None:
            r.problem("deadline", f"该任务的节点“{late.title}”计划于 {late.due_date.isoformat()}，晚于新的截止日期")


# Each rule of a row, in the order its problems are listed (a later rule may use what an earlier one read).
ROW_CHECKS: tuple[Callable[[_Checking], None], ...] = (
    _code, _level, _title, _kind, _lead, _co, _responsible, _dates, _year, _weight, _indicators, _upstream,
    _milestones,
)


def _parents(against: _Against, rows: list[Row], all_codes: set[str | None]) -> None:
    """Each row's parent exists (in the file or the plan), is not terminated, and fits the row's level by
    planning's rule (:data:`tracker.planning.services.LEVEL_PARENTS`)."""
    by_code = {r.code: r for r in rows}
    for row in rows:
        if row.parent is None:
            parent_level = None
        elif row.parent == row.code:
            against.problem(row.number, "parent", "上级编号不能是本行自己的编号")
            continue
        elif row.parent in by_code:
            parent_level = by_code[row.parent].level
        elif row.parent in all_codes:
            continue  # that row has its own problem
        elif row.parent in against.existing:
            parent_level = against.existing[row.parent].level
            if against.existing[row.parent].status == TaskStatus.TERMINATED:
                against.problem(row.number, "parent", f"上级任务“{row.parent}”已终止，不能在其下安排任务")
                continue
        else:
            against.problem(row.number, "parent", f"上级编号“{row.parent}”在表中和本规划中都不存在")
            continue
        if parent_level not in LEVEL_PARENTS[row.level]:
            against.problem(row.number, "parent", PLACEMENT[row.level])


def _no_loops(against: _Against, rows: list[Row]) -> None:
    by_code = {r.code: r for r in rows}
    for row in rows:
        seen = {row.code}
        parent = row.parent
        while parent is not None and parent in by_code:
            if parent in seen:
                against.problem(row.number, "parent", "上级编号形成了循环")
                break
            seen.add(parent)
            parent = by_code[parent].parent


def check_rows(session: Session, plan: Plan, raw: list[tuple[int, dict[str, Any]]],
               labels: dict[str, str]) -> tuple[list[Row], list[Problem]]:
    """Every row checked against the plan (each rule of :data:`ROW_CHECKS`, then the tree: parents exist and
    fit the level, no loops, nothing under a terminated task); all problems, not just the first, by row."""
    against = _Against(session, plan, raw, labels)
    rows: list[Row] = []
    for number, values in raw:
        checking = _Checking(against, number, values)
        for check in ROW_CHECKS:
            check(checking)
        if (row := checking.row()) is not None:
            rows.append(row)
    _parents(against, rows, {cell_text(v.get("code")) for _n, v in raw})
    _no_loops(against, rows)
    against.problems.sort(key=lambda p: (p.row or 0, p.column or ""))
    return rows, against.problems


def problems_at(problems: list[Problem], row: int, column: str | None) -> bool:
    return any(p.row == row and p.column == column for p in problems)
