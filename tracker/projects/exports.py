"""The project register of a plan as an Excel workbook: the page's columns, then the funding sources and
the yearly planned and confirmed completed investment, with a totals row. Amounts are exact numbers in
the plan's unit; 待定 is written as text and left out of the totals, with the same note as the page."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from ..plans.models import Plan
from ..timeutil import format_datetime
from . import amounts
from .models import FundingSource, KeyProject
from .services import Summary, figures

HEADER_ROW = 3
AMOUNT_FORMAT = "#,##0.00##"
RATE_FORMAT = "0.0%"

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_text(value: Any) -> str:
    """Text a spreadsheet will show as text and never run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def display_width(text: str) -> int:
    """Columns a text takes in Excel: CJK and full-width characters count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def years_text(project: KeyProject) -> str:
    """建设年限 as the page shows it."""
    if project.start_year and project.end_year:
        return f"{project.start_year}—{project.end_year}"
    return str(project.start_year or project.end_year or "")


def page_columns(unit: str) -> list[str]:
    """The columns the register page shows, in its order."""
    return ["编号", "项目名称", "建设性质", "项目状态", "责任单位", "建设地点", "建设年限", f"总投资（{unit}）",
            f"期内计划投资（{unit}）", f"累计完成投资（{unit}）", "完成率"]


def register_workbook(plan: Plan, projects: Sequence[KeyProject], summary: Summary, years: list[int],
                      filters_text: list[str], exported_at: datetime) -> bytes:
    unit = plan.investment_unit
    ul = unit.label

    def amount(wan: Decimal | None, tbd: bool = False) -> Any:
        if tbd:
            return amounts.TBD
        return None if wan is None else amounts.from_wan(wan, unit)

    headers = page_columns(ul) + [f"待确认完成投资（{ul}）"]
    headers += [f"{s.label}（{ul}）" for s in FundingSource]
    for y in years:
        headers += [f"{y}年计划（{ul}）", f"{y}年完成（{ul}）"]
    headers += ["配合单位", "建设内容"]

    wb = Workbook()
    ws = wb.active
    ws.title = "重大项目库"
    ws.append([safe_text(f"{plan.short_name}重大项目库（金额单位：{ul}）")])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([safe_text("规划：" + plan.title + "　筛选条件：" + ("；".join(filters_text) or "全部")
                         + f"　导出时间：{format_datetime(exported_at)}")])
    ws["A2"].font = Font(color="555555")
    ws.append(headers)

    thin = Side(style="thin", color="BBBBBB")
    for cell in ws[HEADER_ROW]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="F3F4F6")
        cell.border = Border(bottom=thin)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)

    for p in projects:
        f = figures(p)
        task = p.task
        funding = {fu.source: fu for fu in p.funding}
        by_year = {i.year: i for i in p.investments}
        rate = f.rate_total
        row: list[Any] = [
            safe_text(task.code), safe_text(task.title), p.kind.label, p.status.label,
            safe_text(task.lead_department.name if task.lead_department else ""),
            safe_text(p.region.name if p.region else ""), years_text(p),
            amount(p.total_investment, p.total_tbd), amount(p.period_investment, p.period_tbd),
            amount(f.confirmed), None if rate is None else rate / 100, amount(f.pending),
        ]
        for source in FundingSource:
            fu = funding.get(source)
            row.append(None if fu is None else amount(fu.amount, fu.amount is None))
        for y in years:
            inv = by_year.get(y)
            row.append(amount(inv.planned) if inv else None)
            row.append(amount(inv.completed) if inv and inv.state.value == "confirmed" else None)
        row += [safe_text("、".join(d.name for d in task.co_departments)), safe_text(p.content or "")]
        ws.append(row)

    totals: list[Any] = ["合计", f"{summary.count}个项目", None, None, None, None, None, amount(summary.total),
                         amount(summary.period), amount(summary.confirmed),
                         None if summary.rate_total is None else summary.rate_total / 100, amount(summary.pending)]
    sources = {s.source: s for s in summary.sources}
    for source in FundingSource:
        totals.append(amount(sources[source].amount) if source in sources else None)
    year_totals = {y.year: y for y in summary.years}
    for y in years:
        t = year_totals.get(y)
        totals += [amount(t.planned) if t else None, amount(t.confirmed) if t else None]
    ws.append(totals)
    last = ws.max_row
    for cell in ws[last]:
        cell.font = Font(bold=True)
        cell.border = Border(top=thin)
    if summary.note:
        ws.append([safe_text(f"注：{summary.note}。累计完成投资和年度完成投资为规划处已确认的数额。")])
    else:
        ws.append([safe_text("注：累计完成投资和年度完成投资为规划处已确认的数额。")])

    amount_columns = {i for i, h in enumerate(headers, start=1) if f"（{ul}）" in h}
    rate_column = headers.index("完成率") + 1
    for row_cells in ws.iter_rows(min_row=HEADER_ROW + 1, max_row=last):
        for cell in row_cells:
            if cell.column in amount_columns and isinstance(cell.value, Decimal):
                cell.number_format = AMOUNT_FORMAT
                cell.alignment = Alignment(horizontal="right")
            elif cell.column == rate_column and isinstance(cell.value, Decimal):
                cell.number_format = RATE_FORMAT
            elif cell.column in amount_columns and cell.value == amounts.TBD:
                cell.alignment = Alignment(horizontal="right")

    for i, header in enumerate(headers, start=1):
        letter = get_column_letter(i)
        longest = max([display_width(header) // 2 + 2] + [
            display_width(str(c.value)) for (c,) in ws.iter_rows(min_row=HEADER_ROW + 1, max_row=last,
                                                                  min_col=i, max_col=i) if c.value is not None])
        ws.column_dimensions[letter].width = min(max(longest + 2, 8), 60)
    ws.column_dimensions["B"].width = max(ws.column_dimensions["B"].width, 36)
    ws.row_dimensions[HEADER_ROW].height = 32
    ws.freeze_panes = f"C{HEADER_ROW + 1}"
    ws.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(headers))}{last - 1}"

    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
