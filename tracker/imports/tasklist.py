"""The task list (任务分解表) round trip: the workbook's layout, its template and export, and the import.

One workbook layout serves all three: the template is the export of a plan with no rows. An uploaded
workbook is read and every row checked (the rules are in :mod:`.tasklist_checks`); every problem is
listed with its row and column, and nothing is saved while any row is wrong. A valid upload is kept as an
ImportDocument (kind ``tasklist``) and shown as the changes it would make: rows matched to tasks by code
are updated or created, and for each task of the plan missing from the file the planner chooses to keep
it, close it (已终止) or delete it (only where nothing depends on it). Exporting a plan and importing the
file unchanged changes nothing.

Text cells that a spreadsheet would run as formulas are written with a leading apostrophe (as the other
exports do) and read back without it.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .. import audit
from ..attachments.services import check_upload
from ..auth.models import User
from ..errors import DomainError, InvalidTransition
from ..indicators.models import Indicator
from ..permissions import can_import_task_list, require
from ..planning import services as planning
from ..planning.models import Plan
from ..planning.queries import flatten, task_tree
from ..planning.tree import close_task, delete_task, deletion_blockers
from ..regions.models import Department
from ..spreadsheets import HEADER_ROW, Book, Style
from ..tasks.models import Task, TaskKind, TaskLevel, TaskStatus
from ..tasks.services import roll_up_plan
from ..timeutil import format_datetime, now
from .models import ImportDocument, ImportKind, ImportState
from .ooxml import open_workbook
from .tasklist_checks import Problem, Row, TaskListInvalid, check_rows

__all__ = ["HEADER_ROW", "Problem", "Row", "TaskListInvalid", "check_rows"]  # (what the pages and tests use)

SHEET = "任务分解表"
UNREADABLE = "文件无法作为 Excel（.xlsx）工作簿读取，可能已损坏。"
MAX_ROWS = 5000


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: int  # in Chinese characters
    note: str = ""
    read_only: bool = False


COLUMNS = [
    Column("code", "编号", 8, "必填，本规划内唯一，如 一、1、1.1、1.1.1"),
    Column("parent", "上级编号", 8, "章和顶层重点任务留空"),
    Column("level", "层级", 8, "章 / 重点任务 / 工作举措 / 年度任务"),
    Column("title", "任务名称", 32, "必填"),
    Column("description", "任务描述", 40),
    Column("kind", "类型", 8, "任务 / 重大工程 / 重大项目 / 重大改革 / 重大政策 / 民生实事，空为任务"),
    Column("lead", "牵头单位", 14, "章以外必填，须为本地区的单位名称"),
    Column("co", "配合单位", 24, "多个用顿号“、”分隔"),
    Column("responsible", "责任人", 8),
    Column("start", "开始日期", 10, "如 2025-01-01"),
    Column("deadline", "截止日期", 10, "章以外必填"),
    Column("year", "年度", 6, "年度任务必填"),
    Column("weight", "权重", 5, "1–100，空为 1"),
    Column("indicators", "关联指标", 10, "本规划指标的序号，多个用顿号分隔"),
    Column("upstream", "上位任务编号", 10, "上位规划中所落实任务的编号"),
    Column("status", "状态（只读）", 8, "导入时不读取", read_only=True),
    Column("progress", "进度（只读）", 6, "导入时不读取", read_only=True),
]
BY_KEY = {c.key: c for c in COLUMNS}
READ_ONLY = Style(color="888888")  # the header of a column an import does not read
CELL_STYLES = {i: Style(wrap=True, vertical="top") if c.key in ("title", "description")
               else Style(number_format="yyyy-mm-dd") if c.key in ("start", "deadline") else Style()
               for i, c in enumerate(COLUMNS, start=1)}  # (dates read as they are typed in)
REQUIRED_HEADERS = ("code", "level", "title")


# ------------------------------------------------------------------------------------------- writing


def _departments(session: Session, plan: Plan) -> list[Department]:
    return list(session.scalars(select(Department).where(Department.region_id == plan.region_id,
                                                         Department.is_active)
                                .order_by(Department.sort_order, Department.id)))


def _indicators(session: Session, plan: Plan) -> list[Indicator]:
    return list(session.scalars(select(Indicator).where(Indicator.plan_id == plan.id).order_by(Indicator.number)))


def task_row(task: Task) -> dict[str, Any]:
    """A task as the row the workbook shows (and an import compares against)."""
    return {
        "code": task.code, "parent": task.parent.code if task.parent else None, "level": task.level.label,
        "title": task.title, "description": task.description, "kind": task.kind.label,
        "lead": task.lead_department.name if task.lead_department else None,
        "co": "、".join(d.name for d in task.co_departments) or None, "responsible": task.responsible_person,
        "start": task.start_date, "deadline": task.deadline, "year": task.year, "weight": task.weight,
        "indicators": "、".join(str(i.number) for i in task.indicators) or None,
        "upstream": task.upstream.code if task.upstream else None, "status": task.status.label,
        "progress": task.progress,
    }


def workbook(session: Session, plan: Plan, *, with_tasks: bool) -> bytes:
    """The plan's task list (or, without tasks, the empty template) as an .xlsx file."""
    tasks = []
    if with_tasks:
        ids = [n.task.id for n in flatten(task_tree(session, plan))]
        loaded = {t.id: t for t in session.scalars(
            select(Task).where(Task.plan_id == plan.id).options(
                selectinload(Task.parent), selectinload(Task.lead_department), selectinload(Task.co_departments),
                selectinload(Task.indicators), selectinload(Task.upstream)))}
        tasks = [loaded[i] for i in ids]
    departments = _departments(session, plan)
    indicators = _indicators(session, plan)

    book = Book()
    ws = book.sheet(SHEET)
    ws.table(
        f"《{plan.title}》任务分解表" + ("" if with_tasks else "（模板）"),
        f"{plan.region.name} · {plan.period_label} · 导出时间 {format_datetime(now())}。按编号与系统中的任务对应："
        "改了的行更新，新编号新建；表中没有的任务在导入时选择保留、终止或删除。带“（只读）”的列导入时不读取。",
        [column.header for column in COLUMNS], [column.width for column in COLUMNS],
        styles={i: READ_ONLY for i, column in enumerate(COLUMNS, start=1) if column.read_only})
    for task in tasks:
        row = task_row(task)
        ws.append([row[column.key] for column in COLUMNS], styles=CELL_STYLES)
    last = max(HEADER_ROW + len(tasks) + 200, HEADER_ROW + 500)
    ws.validate(_index("level"), HEADER_ROW + 1, last, [lv.label for lv in TaskLevel], "请从下拉列表中选择")
    ws.validate(_index("kind"), HEADER_ROW + 1, last, [k.label for k in TaskKind], "请从下拉列表中选择")

    lists = book.sheet("本地区单位")
    lists.append(["单位名称（牵头单位、配合单位须与此一致）"])
    for dept in departments:
        lists.append([dept.name])
    lists.width(1, 40)
    if departments:
        ws.validate(_index("lead"), HEADER_ROW + 1, last, f"='本地区单位'!$A$2:$A${len(departments) + 1}",
                    "请选择本地区的单位")

    sheet = book.sheet("本规划指标")
    sheet.append(["序号", "指标名称", "目标值"])
    for indicator in indicators:
        sheet.append([indicator.number, indicator.name, indicator.target_text])
    sheet.width(2, 40)

    notes = book.sheet("填写说明")
    notes.append(["列", "说明"])
    for column in COLUMNS:
        notes.append([column.header, column.note])
    notes.width(1, 16)
    notes.width(2, 70)
    return book.bytes()


def _index(key: str) -> int:
    return next(i for i, c in enumerate(COLUMNS, start=1) if c.key == key)


# ------------------------------------------------------------------------------------------- reading


def read_rows(data: bytes) -> tuple[list[tuple[int, dict[str, Any]]], dict[str, str]]:
    """The data rows of the workbook (Excel row number, values by column key) and each key's column label."""
    wb = open_workbook(data, unreadable=UNREADABLE)
    try:
        ws = wb[SHEET] if SHEET in wb.sheetnames else wb.worksheets[0]
        rows = list(ws.iter_rows(values_only=True, max_row=MAX_ROWS + 20))
    except SyntaxError as exc:  # (a sheet's XML broken: see open_workbook)
        raise DomainError(UNREADABLE, field="file") from exc
    finally:
        wb.close()
    header_at, columns = None, {}
    for i, row in enumerate(rows[:10]):
        found = {}
        for c, value in enumerate(row):
            text = re.sub(r"[\s*＊]", "", str(value or ""))
            for column in COLUMNS:
                if text == column.header or text == column.header.split("（")[0]:
                    found.setdefault(column.key, c)
        if all(k in found for k in REQUIRED_HEADERS):
            header_at, columns = i, found
            break
    if header_at is None:
        raise TaskListInvalid([Problem(None, None, "找不到表头：第一个工作表的前 10 行中须有“编号”“层级”“任务名称”等列。"
                                                   "请使用系统导出的模板。")])
    labels = {k: f"{get_column_letter(c + 1)}列（{BY_KEY[k].header}）" for k, c in columns.items()}
    out = []
    for offset, row in enumerate(rows[header_at + 1:], start=header_at + 2):
        values = {k: (row[c] if c < len(row) else None) for k, c in columns.items()}
        if all(v is None or (isinstance(v, str) and not v.strip()) for k, v in values.items()
               if not BY_KEY[k].read_only):
            continue
        out.append((offset, values))
    if len(out) > MAX_ROWS:
        raise TaskListInvalid([Problem(None, None, f"行数超过 {MAX_ROWS} 行，请分批导入。")])
    return out, labels



# ------------------------------------------------------------------------------------------- the changes


@dataclass
class Change:
    row: Row
    task: Task | None
    fields: list[str] = field(default_factory=list)  # labels of the changed fields


@dataclass
class Missing:
    task: Task
    can_delete: bool
    can_close: bool
    why_not_delete: str | None


@dataclass
class TaskListChanges:
    created: list[Change] = field(default_factory=list)
    updated: list[Change] = field(default_factory=list)
    unchanged: int = 0
    missing: list[Missing] = field(default_factory=list)
    reordered: bool = False

    @property
    def nothing(self) -> bool:
        return not (self.created or self.updated or self.missing or self.reordered)


FIELD_LABELS = {"parent": "上级", "level": "层级", "title": "任务名称", "description": "任务描述", "kind": "类型",
                "lead": "牵头单位", "co": "配合单位", "responsible": "责任人", "start": "开始日期", "deadline": "截止日期",
                "year": "年度", "weight": "权重", "indicators": "关联指标", "upstream": "上位任务"}


def _differences(row: Row, task: Task) -> list[str]:
    def norm(text: str | None) -> str | None:
        return (text or "").strip() or None

    checks = {
        "parent": row.parent != (task.parent.code if task.parent else None),
        "level": row.level != task.level,
        "title": row.title != task.title,
        "description": norm(row.description) != norm(task.description),
        "kind": row.kind != task.kind,
        "lead": row.lead_id != task.lead_department_id,
        "co": set(row.co_ids) != {d.id for d in task.co_departments},
        "responsible": norm(row.responsible) != norm(task.responsible_person),
        "start": row.start != task.start_date,
        "deadline": row.deadline != task.deadline,
        "year": row.year != task.year,
        "weight": row.weight != task.weight,
        "indicators": set(row.indicator_ids) != {i.id for i in task.indicators},
        "upstream": row.upstream_id != task.upstream_task_id,
    }
    return [FIELD_LABELS[k] for k, changed in checks.items() if changed]


def changes(session: Session, plan: Plan, rows: list[Row]) -> TaskListChanges:
    tasks = list(session.scalars(select(Task).where(Task.plan_id == plan.id).options(
        selectinload(Task.parent), selectinload(Task.co_departments), selectinload(Task.indicators))))
    by_code = {t.code: t for t in tasks}
    result = TaskListChanges()
    for row in rows:
        task = by_code.get(row.code)
        if task is None:
            result.created.append(Change(row, None))
            continue
        fields = _differences(row, task)
        if fields:
            result.updated.append(Change(row, task, fields))
        else:
            result.unchanged += 1
    in_file = {r.code for r in rows}
    missing = [t for t in tasks if t.code not in in_file]
    missing_ids = {t.id for t in missing}
    for task in sorted(missing, key=lambda t: (t.sort_order, t.id)):
        reasons = deletion_blockers(session, task)
        children = [t for t in tasks if t.parent_id == task.id]
        if children and all(c.id in missing_ids for c in children):
            reasons = [r for r in reasons if "下级任务" not in r]
        result.missing.append(Missing(task, can_delete=not reasons, can_close=task.status not in (
            TaskStatus.DONE, TaskStatus.TERMINATED), why_not_delete="、".join(reasons) or None))
    result.reordered = _new_order(tasks, rows) is not None
    return result


def _new_order(tasks: list[Task], rows: list[Row]) -> dict[str, int] | None:
    """The sort order the file asks for, where it differs from the current one (None: the same order).

    Within each parent the rows' order is compared with the tasks' current order; rows new to that parent
    at the end of it need nothing (they are appended anyway)."""
    by_code = {t.code: t for t in tasks}
    groups: dict[str | None, list[str]] = {}
    for row in rows:
        groups.setdefault(row.parent, []).append(row.code)
    wanted: dict[str, int] = {}
    for parent, codes in groups.items():
        here = [c for c in codes if c in by_code and (by_code[c].parent.code if by_code[c].parent else None) == parent]
        current = [t.code for t in sorted((by_code[c] for c in here), key=lambda t: (t.sort_order, t.id))]
        if current == here and codes[:len(here)] == here:
            continue
        for i, code in enumerate(codes):
            wanted[code] = i
    return wanted or None


# ------------------------------------------------------------------------------------------- staging and applying


def check_workbook(filename: str, data: bytes) -> None:
    if not filename.lower().endswith(".xlsx"):
        raise DomainError("请上传 Excel 工作簿（.xlsx）。如果是 .xls 文件，请在 Excel 中另存为 .xlsx。", field="file")
    try:
        check_upload(filename, data)
    except DomainError as exc:
        raise DomainError(exc.message, field="file") from None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if "xl/workbook.xml" not in archive.namelist():
                raise DomainError(f"文件“{filename}”不是 Excel 工作簿（可能是改了扩展名的其他文件），已拒绝。", field="file")
    except zipfile.BadZipFile:
        raise DomainError(f"文件“{filename}”已损坏，无法作为 Excel 工作簿读取。", field="file") from None


def stage(session: Session, actor: User, plan: Plan, filename: str, data: bytes) -> ImportDocument:
    """Check an uploaded task list; keep it (as an ImportDocument) for the planner to review and apply."""
    require(can_import_task_list(actor, plan), "只有本地区的规划处可以导入该规划的任务分解表。")
    check_workbook(filename, data)
    raw, labels = read_rows(data)
    if not raw:
        raise TaskListInvalid([Problem(None, None, "表中没有任务行。")])
    rows, problems = check_rows(session, plan, raw, labels)
    if problems:
        raise TaskListInvalid(problems)
    document = ImportDocument(
        sha256=hashlib.sha256(data).hexdigest(), filename=filename[:200], region_id=plan.region_id, plan_id=plan.id,
        kind=ImportKind.TASKLIST, state=ImportState.DRAFT, draft={"rows": [r.to_json() for r in rows], "labels": labels},
        created_by_id=actor.id, created_at=now())
    session.add(document)
    session.flush()
    audit.record(session, actor, document, "upload", summary=f"上传任务分解表《{filename}》（{len(rows)} 行）")
    session.flush()
    return document


def staged_rows(document: ImportDocument) -> list[Row]:
    return [Row.from_json(r) for r in document.draft.get("rows", [])]


KEEP, CLOSE, DELETE = "keep", "close", "delete"


@dataclass
class Applied:
    created: int = 0
    updated: int = 0
    closed: int = 0
    deleted: int = 0
    kept: int = 0


def apply(session: Session, actor: User, document: ImportDocument, choices: dict[int, str],
          reason: str | None = None) -> Applied:
    """Apply a staged task list: create and update by code, and for tasks missing from the file do what
    the planner chose (keep, close as 已终止, delete). All or nothing."""
    plan = document.plan
    if plan is None or document.kind != ImportKind.TASKLIST:
        raise DomainError("该导入不是任务分解表。")
    require(can_import_task_list(actor, plan), "只有本地区的规划处可以导入该规划的任务分解表。")
    if document.state != ImportState.DRAFT:
        raise InvalidTransition(f"该任务分解表{document.state.label}，不能再次导入。")
    rows = staged_rows(document)
    # The plan may have changed since the upload: check the rows again against it.
    raw = [(r.number, _raw(session, r)) for r in rows]
    rows, problems = check_rows(session, plan, raw, document.draft.get("labels", {}))
    if problems:
        raise TaskListInvalid(problems)
    diff = changes(session, plan, rows)
    result = Applied()
    by_code = {t.code: t for t in session.scalars(select(Task).where(Task.plan_id == plan.id))}

    def data_of(row: Row) -> planning.TaskData:
        return planning.TaskData(
            level=row.level, code=row.code, title=row.title, description=row.description, kind=row.kind,
            lead_department_id=row.lead_id, co_department_ids=row.co_ids, responsible_person=row.responsible,
            start_date=row.start, deadline=row.deadline, year=row.year, weight=row.weight,
            upstream_task_id=row.upstream_id, indicator_ids=row.indicator_ids)

    pending = {c.row.code: c for c in diff.created + diff.updated}
    done: set[str] = set()

    def ensure(code: str) -> None:
        """Parents first: a row is applied after the row of its parent."""
        if code in done or code not in pending:
            return
        done.add(code)
        change = pending[code]
        if change.row.parent:
            ensure(change.row.parent)
        try:
            _apply_row(session, actor, plan, change, by_code, data_of(change.row))
        except DomainError as exc:
            raise TaskListInvalid([Problem(change.row.number, None, exc.message)]) from None
        if change.task is None:
            result.created += 1
        else:
            result.updated += 1

    for row in rows:
        ensure(row.code)

    wanted = _new_order(list(session.scalars(select(Task).where(Task.plan_id == plan.id))), rows)
    if wanted:
        for code, order in wanted.items():
            by_code[code].sort_order = order

    reason = (reason or "").strip() or f"任务分解表《{document.filename}》中已没有该任务"
    missing = {m.task.id: m for m in diff.missing}
    # deepest first, so a parent is deleted after its children
    ordered = sorted(missing.values(), key=lambda m: -_depth(m.task))
    for item in ordered:
        choice = choices.get(item.task.id, KEEP)
        if choice == DELETE:
            if not item.can_delete:
                raise DomainError(f"任务 {item.task.code}“{item.task.title[:20]}”{item.why_not_delete}，不能删除；"
                                  "可以选择终止。")
            delete_task(session, actor, item.task, item.task.version_id)
            result.deleted += 1
        elif choice == CLOSE and item.can_close and item.task.status != TaskStatus.TERMINATED:
            close_task(session, actor, item.task, reason, item.task.version_id)
            result.closed += 1
        else:
            result.kept += 1
    if result.created or result.updated or result.deleted or result.closed or wanted:
        roll_up_plan(session, plan.id)
    document.state = ImportState.CONFIRMED
    document.confirmed_at = now()
    audit.record(session, actor, document, "confirm", {"state": ["待确认", "已导入"]},
                 f"导入任务分解表：新建 {result.created}，更新 {result.updated}，终止 {result.closed}，"
                 f"删除 {result.deleted}，保留 {result.kept}")
    if result.created or result.updated or result.deleted or result.closed:
        audit.record(session, actor, plan, "import_tasklist", {},
                     f"导入任务分解表《{document.filename}》：新建 {result.created} 项，更新 {result.updated} 项，"
                     f"终止 {result.closed} 项，删除 {result.deleted} 项")
    session.flush()
    return result


def _depth(task: Task) -> int:
    depth, node = 0, task.parent
    while node is not None:
        depth, node = depth + 1, node.parent
    return depth


def _raw(session: Session, row: Row) -> dict[str, Any]:
    """A staged row as workbook values again (for checking it against the plan as it is now)."""
    def name(dept_id: int | None) -> str | None:
        dept = session.get(Department, dept_id) if dept_id else None
        return dept.name if dept else None

    def number(indicator_id: int) -> str:
        indicator = session.get(Indicator, indicator_id)
        return str(indicator.number) if indicator else "?"

    upstream = session.get(Task, row.upstream_id) if row.upstream_id else None
    return {
        "code": row.code, "parent": row.parent, "level": row.level.label, "title": row.title,
        "description": row.description, "kind": row.kind.label, "lead": name(row.lead_id),
        "co": "、".join(filter(None, (name(d) for d in row.co_ids))) or None, "responsible": row.responsible,
        "start": row.start, "deadline": row.deadline, "year": row.year, "weight": row.weight,
        "indicators": "、".join(number(i) for i in row.indicator_ids) or None,
        "upstream": upstream.code if upstream else None,
    }


def _apply_row(session: Session, actor: User, plan: Plan, change: Change, by_code: dict[str, Task],
               data: planning.TaskData) -> None:
    row = change.row
    parent = by_code.get(row.parent) if row.parent else None
    if change.task is None:
        by_code[row.code] = planning.create_task(session, actor, plan, parent.id if parent else None, data)
        return
    task = change.task
    if (task.parent_id or None) != (parent.id if parent else None):
        before = {"parent": f"{task.parent.code} {task.parent.title}" if task.parent else "（顶层）"}
        task.parent = parent
        task.sort_order = planning.next_sort_order(session, plan, parent)
        audit.record(session, actor, task, "move",
                     audit.diff(before, {"parent": f"{parent.code} {parent.title}" if parent else "（顶层）"}),
                     "导入任务分解表时移动任务")
        session.flush()
    planning.update_task(session, actor, task, data, task.version_id)
