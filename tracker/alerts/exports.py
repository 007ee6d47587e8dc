"""The overdue list as an Excel workbook (openpyxl write-only: rows stream, memory stays flat) or as CSV."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from itertools import chain
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter

from ..spreadsheets import DATE_FORMAT, HEADER_ROW, csv_bytes, safe_text, start_table, workbook_bytes
from ..timeutil import format_datetime
from .overdue import ExportRow

# (header, width in Chinese characters)
COLUMNS: list[tuple[str, int]] = [
    ("序号", 3), ("预警等级", 4), ("类型", 3), ("规划", 9), ("地区", 5), ("任务编号", 5), ("任务名称", 22),
    ("节点", 10), ("牵头单位", 10), ("责任人", 4), ("截止日期", 8), ("逾期天数", 4), ("任务状态", 4),
    ("进度", 3), ("预警日期", 8),
]


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
    start_table(ws, f"逾期清单（{scope_text}）",
                "筛选条件：" + ("；".join(filters_text) or "全部") + f"　导出时间：{format_datetime(exported_at)}",
                [header for header, _ in COLUMNS], [chars for _, chars in COLUMNS])

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
    return workbook_bytes(wb)


def overdue_csv(rows: Iterable[ExportRow], filters_text: list[str], exported_at: datetime,
                scope_text: str) -> bytes:
    """The same list as CSV (UTF-8 with a BOM, so Excel opens it with the Chinese intact)."""
    heading = [f"逾期清单（{scope_text}）", "筛选条件：" + ("；".join(filters_text) or "全部"),
               f"导出时间：{format_datetime(exported_at)}"]
    return csv_bytes(chain([heading, [header for header, _ in COLUMNS]],
                           (row_values(count, row) for count, row in enumerate(rows, start=1))))
