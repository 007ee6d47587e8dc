"""The overdue list as an Excel workbook (openpyxl write-only: rows stream, memory stays flat)."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from ..timeutil import format_datetime
from .services import ExportRow

DATE_FORMAT = 'yyyy"年"m"月"d"日"'
HEADER_ROW = 3

# (header, width in Chinese characters)
COLUMNS: list[tuple[str, int]] = [
    ("序号", 3), ("预警等级", 4), ("类型", 3), ("规划", 9), ("地区", 5), ("任务编号", 5), ("任务名称", 22),
    ("节点", 10), ("牵头单位", 10), ("责任人", 4), ("截止日期", 8), ("逾期天数", 4), ("任务状态", 4),
    ("进度", 3), ("预警日期", 8),
]

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_text(value: Any) -> str:
    """Text that a spreadsheet will not run as a formula (OWASP CSV/formula injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def display_width(text: str) -> int:
    """Columns a text takes in Excel: CJK and full-width characters count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def row_values(index: int, row: ExportRow) -> list[Any]:
    """One exported row: text, real dates and numbers (the same values the page shows)."""
    return [
        index, row.level.label, row.target.label, row.plan, row.region, row.code, row.title, row.milestone,
        row.department, row.responsible, row.deadline, row.days_overdue, row.status.label, row.progress,
        row.raised_on,
    ]  # None leaves the cell empty


def overdue_workbook(rows: Iterable[ExportRow], filters_text: list[str], exported_at: datetime,
                     scope_text: str) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("逾期清单")
    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    for i, (header, chars) in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(chars * 2, display_width(header)) + 2

    title = WriteOnlyCell(ws, value=safe_text(f"逾期清单（{scope_text}）"))
    title.font = Font(bold=True, size=14)
    ws.append([title])
    info = WriteOnlyCell(ws, value=safe_text(
        "筛选条件：" + ("；".join(filters_text) or "全部") + f"　导出时间：{format_datetime(exported_at)}"))
    info.font = Font(color="555555")
    ws.append([info])

    thin = Side(style="thin", color="BBBBBB")
    header_fill = PatternFill("solid", fgColor="F3F4F6")
    headers = []
    for header, _ in COLUMNS:
        cell = WriteOnlyCell(ws, value=header)
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.border = Border(bottom=thin)
        cell.alignment = Alignment(horizontal="center", vertical="center")
        headers.append(cell)
    ws.append(headers)

    date_columns = {i for i, (header, _) in enumerate(COLUMNS) if header.endswith("日期")}
    count = 0
    for count, row in enumerate(rows, start=1):
        values: list[Any] = []
        for i, value in enumerate(row_values(count, row)):
            if i in date_columns and isinstance(value, date):
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = DATE_FORMAT
                values.append(cell)
            elif isinstance(value, str):
                values.append(safe_text(value))  # never starts with "=": stored as text
            else:
                values.append(value)
        ws.append(values)
    last_column = get_column_letter(len(COLUMNS))
    ws.auto_filter.ref = f"A{HEADER_ROW}:{last_column}{HEADER_ROW + max(count, 1)}"
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"

    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def overdue_csv(rows: Iterable[ExportRow], filters_text: list[str], exported_at: datetime,
                scope_text: str) -> bytes:
    """The same list as CSV (UTF-8 with a BOM, so Excel opens it with the Chinese intact)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_text(f"逾期清单（{scope_text}）"),
                     safe_text("筛选条件：" + ("；".join(filters_text) or "全部")),
                     f"导出时间：{format_datetime(exported_at)}"])
    writer.writerow([header for header, _ in COLUMNS])
    for count, row in enumerate(rows, start=1):
        writer.writerow([value.isoformat() if isinstance(value, date) else
                         safe_text(value) if isinstance(value, str) else value
                         for value in row_values(count, row)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
