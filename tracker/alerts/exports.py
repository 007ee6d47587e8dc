"""The overdue list as an Excel workbook or as CSV: rows stream from the query into the file, memory stays
flat whatever the list's length."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from itertools import chain
from typing import Any

from ..spreadsheets import Column, csv_bytes, table_workbook
from ..timeutil import format_datetime
from .overdue import ExportRow

COLUMNS: list[Column] = [
    Column("序号", 3), Column("预警等级", 4), Column("类型", 3), Column("规划", 9), Column("地区", 5),
    Column("任务编号", 5), Column("任务名称", 22), Column("节点", 10), Column("牵头单位", 10), Column("责任人", 4),
    Column("截止日期", 8), Column("逾期天数", 4), Column("任务状态", 4), Column("进度", 3), Column("预警日期", 8),
]
HEADERS = [column.header for column in COLUMNS]


def row_values(index: int, row: ExportRow) -> list[Any]:
    """One exported row: text, real dates and numbers (the same values the page shows)."""
    return [
        index, row.level.label, row.target.label, row.plan, row.region, row.code, row.title, row.milestone,
        row.department, row.responsible, row.deadline, row.days_overdue, row.status.label, row.progress,
        row.raised_on,
    ]  # None leaves the cell empty


def _heading(filters_text: list[str]) -> str:
    return "筛选条件：" + ("；".join(filters_text) or "全部")


def overdue_workbook(rows: Iterable[ExportRow], filters_text: list[str], exported_at: datetime,
                     scope_text: str) -> bytes:
    return table_workbook("逾期清单", f"逾期清单（{scope_text}）",
                          f"{_heading(filters_text)}　导出时间：{format_datetime(exported_at)}", COLUMNS,
                          (row_values(count, row) for count, row in enumerate(rows, start=1)))


def overdue_csv(rows: Iterable[ExportRow], filters_text: list[str], exported_at: datetime,
                scope_text: str) -> bytes:
    """The same list as CSV (UTF-8 with a BOM, so Excel opens it with the Chinese intact)."""
    heading = [f"逾期清单（{scope_text}）", _heading(filters_text), f"导出时间：{format_datetime(exported_at)}"]
    return csv_bytes(chain([heading, HEADERS], (row_values(count, row) for count, row in enumerate(rows, start=1))))
