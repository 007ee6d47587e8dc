"""督办台账: the case list exactly as filtered, every case with its course, as a workbook set up to print.

One row a case: its number, matter, department and source; the dates of each step of the loop (立案, 下发,
签收, 提交复核, 销号) and the answer date; how late the answer was (or is, for a case still awaiting it);
returns, 催办, 约谈 and 通报 counted; the outcome and rating; and the course written out step by step.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy.orm import Session, selectinload

from ..auth.models import User
from ..regions.models import Department, Region
from ..spreadsheets import Book, Style
from ..timeutil import format_date, format_datetime, to_local
from .models import CaseAction, CaseState, SupervisionCase
from .services import AWAITING_DEPARTMENT, COLOUR_LABELS, CaseFilters, case_list

# The dates of 立案 and 签收 and the task the case is about are in the course and the matter's second line.
HEADERS = ["督办编号", "督办事项", "责任单位", "来源", "状态", "下发日期", "答复期限", "提交复核日期", "销号日期", "超期天数",
           "退回", "催办", "约谈", "通报", "办理结果", "评价（星）", "办理过程"]
WIDTHS = [7, 12, 6, 4, 3, 5, 5, 5, 5, 2, 2, 2, 2, 2, 4, 2, 24]
SHORT_DATE = "yyyy-mm-dd"  # ten narrow characters: the ledger has many date columns to fit on A4
DATE_COLUMNS = range(6, 10)
WRAPPED = Style(wrap=True, vertical="top")  # the matter and the course, over several lines
LOOK = {**{column: Style(number_format=SHORT_DATE) for column in DATE_COLUMNS}, 2: WRAPPED, len(HEADERS): WRAPPED}


def _day(moment: datetime | None) -> date | None:
    return to_local(moment).date() if moment is not None else None


def days_late(case: SupervisionCase, day: date) -> int | None:
    """How many days after its answer date the case was submitted for review, or, still awaiting the
    department, is today; None when it was answered in time or has no answer date."""
    if case.response_deadline is None or case.state == CaseState.FILED:
        return None
    end = day if case.state in AWAITING_DEPARTMENT else (_day(case.submitted_at) or day)
    late = (end - case.response_deadline).days
    return late if late > 0 else None


def course(case: SupervisionCase) -> str:
    """The steps in order: "2026年12月1日 下发督办单（张三）：…"."""
    lines = []
    for step in case.steps:
        who = step.actor.name if step.actor else "系统"
        text = f"{format_datetime(step.created_at)} {step.action.label}（{who}）"
        if step.comment:
            text += f"：{step.comment}"
        lines.append(text)
    return "\n".join(lines)


def describe(filters: CaseFilters, departments: Iterable[Department], region: Region | None = None) -> str:
    """The filters in words; ``region`` is the filtered region (None: none, or one that does not exist)."""
    parts = []
    if filters.state:
        parts.append(f"状态：{filters.state.label}")
    if filters.source:
        parts.append(f"来源：{filters.source.label}")
    if filters.colour:
        parts.append(f"颜色：{COLOUR_LABELS[filters.colour]}")
    if filters.region_id:
        parts.append(f"地区：{region.name if region else '（无）'}")
    if filters.department_id:
        name = next((d.name for d in departments if d.id == filters.department_id), "（无）")
        parts.append(f"责任单位：{name}")
    if filters.year:
        parts.append(f"年度：{filters.year}")
    return "筛选条件：" + ("；".join(parts) if parts else "全部")


def ledger_workbook(session: Session, user: User, filters: CaseFilters, day: date, departments: Iterable[Department],
                    exported_at: datetime, scope: str) -> bytes:
    stmt = case_list(session, user, filters, day).options(selectinload(SupervisionCase.steps))
    cases = list(session.scalars(stmt))
    book = Book()
    ws = book.sheet("督办台账")
    ws.table(f"{scope}督办台账", f"{describe(filters, departments, session.get(Region, filters.region_id) if filters.region_id else None)}。截至{format_date(day)}，共{len(cases)}件；"
             f"导出时间：{format_datetime(exported_at)}。", HEADERS, WIDTHS, freeze="C")
    for case in cases:
        actions = Counter(step.action for step in case.steps)
        matter = case.title + (f"\n（任务 {case.task.code} {case.task.title}）" if case.task is not None else "")
        ws.append([case.number_label, matter, case.department.name, case.source.label, case.state.label,
                   _day(case.issued_at), case.response_deadline, _day(case.submitted_at), _day(case.closed_at),
                   days_late(case, day), case.return_count, actions[CaseAction.REMIND], actions[CaseAction.INTERVIEW],
                   actions[CaseAction.CIRCULATE], case.outcome.label if case.outcome else "", case.rating,
                   course(case)], styles=LOOK)
    return book.bytes()
