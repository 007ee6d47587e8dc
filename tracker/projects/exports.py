"""The project register of a plan as an Excel workbook: the page's columns, then the funding sources and
the yearly planned and confirmed completed investment, with a totals row. Amounts are exact numbers in
the plan's unit; 待定 is written as text and left out of the totals, with the same note as the page."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..planning.models import Plan
from ..spreadsheets import BOLD, HEADER_ROW, Book, Style
from ..timeutil import format_datetime
from . import amounts
from .figures import Summary, figures
from .models import FundingSource, KeyProject

AMOUNT_FORMAT = "#,##0.00##"
RATE_FORMAT = "0.0%"
AMOUNT = Style(number_format=AMOUNT_FORMAT, horizontal="right")
RATE = Style(number_format=RATE_FORMAT)
RIGHT = Style(horizontal="right")  # 待定 in an amount column
TOTALS = BOLD | Style(top=True)


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

    book = Book()
    ws = book.sheet("重大项目库")
    ws.table(f"{plan.short_name}重大项目库（金额单位：{ul}）",
             "规划：" + plan.title + "　筛选条件：" + ("；".join(filters_text) or "全部")
             + f"　导出时间：{format_datetime(exported_at)}", headers, freeze="C")
    amount_columns = {i for i, h in enumerate(headers, start=1) if f"（{ul}）" in h}
    rate_column = headers.index("完成率") + 1

    def styles(row: list[Any]) -> dict[int, Style]:
        """Amounts and the rate in their formats, right-aligned like 待定."""
        looks: dict[int, Style] = {}
        for column, value in enumerate(row, start=1):
            if column in amount_columns and isinstance(value, Decimal):
                looks[column] = AMOUNT
            elif column == rate_column and isinstance(value, Decimal):
                looks[column] = RATE
            elif column in amount_columns and value == amounts.TBD:
                looks[column] = RIGHT
        return looks

    for p in projects:
        f = figures(p)
        task = p.task
        funding = {fu.source: fu for fu in p.funding}
        by_year = {i.year: i for i in p.investments}
        rate = f.rate_total
        row: list[Any] = [
            task.code, task.title, p.kind.label, p.status.label,
            task.lead_department.name if task.lead_department else "", p.region.name if p.region else "",
            years_text(p), amount(p.total_investment, p.total_tbd), amount(p.period_investment, p.period_tbd),
            amount(f.confirmed), None if rate is None else rate / 100, amount(f.pending),
        ]
        for source in FundingSource:
            fu = funding.get(source)
            row.append(None if fu is None else amount(fu.amount, fu.amount is None))
        for y in years:
            inv = by_year.get(y)
            row.append(amount(inv.planned) if inv else None)
            row.append(amount(inv.completed) if inv and inv.state.value == "confirmed" else None)
        row += ["、".join(d.name for d in task.co_departments), p.content or ""]
        ws.append(row, styles=styles(row))

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
    totals += [None] * (len(headers) - len(totals))
    last = ws.append(totals, TOTALS, styles(totals))
    if summary.note:
        ws.append([f"注：{summary.note}。累计完成投资和年度完成投资为规划处已确认的数额。"])
    else:
        ws.append(["注：累计完成投资和年度完成投资为规划处已确认的数额。"])

    ws.fit(HEADER_ROW, last)
    ws.widen(2, 36)
    ws.height(HEADER_ROW, 32)
    ws.filter(HEADER_ROW, last - 1, len(headers))
    return book.bytes()
