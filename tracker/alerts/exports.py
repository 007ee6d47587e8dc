"""The overdue list as an Excel workbook or as CSV: every cell is made by the database (labels, formula-safe
text, days overdue), rows stream from the query into the file, memory stays flat whatever the list's length.
On PostgreSQL the CSV is the database's own (``COPY … TO STDOUT``): no row passes through Python."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, Select, case, cast, func, literal, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from ..db import LabeledEnum
from ..planning.models import Plan
from ..regions.models import Department, Region
from ..spreadsheets import FORMULA_STARTS, Column, csv_bytes, table_workbook
from ..tasks.models import Milestone, Task, TaskStatus
from ..timeutil import format_datetime
from .models import Alert, AlertLevel, AlertTarget
from .services import days_between

COLUMNS: list[Column] = [
    Column("序号", 3), Column("预警等级", 4), Column("类型", 3), Column("规划", 9), Column("地区", 5),
    Column("任务编号", 5), Column("任务名称", 22), Column("节点", 10), Column("牵头单位", 10), Column("责任人", 4),
    Column("截止日期", 8), Column("逾期天数", 4), Column("任务状态", 4), Column("进度", 3), Column("预警日期", 8),
]
HEADERS = [column.header for column in COLUMNS]


def _label(column: Any, labels: type[LabeledEnum]) -> Any:
    """A stored enum value as its label, in SQL."""
    return case({member.value: member.label for member in labels}, value=column)


def _text(column: Any) -> Any:
    """Text as :func:`~tracker.spreadsheets.safe_text` writes it, in SQL: a leading = + - @ or control
    character quoted, so that no spreadsheet reads the cell as a formula."""
    return case((func.substr(column, 1, 1).in_(FORMULA_STARTS), literal("'") + column), else_=column)


def export_cells(session: Session, today: date) -> list[Any]:
    """The exported columns after 序号, as the page shows them: text, real dates and numbers (an empty
    milestone, department or person stays empty)."""
    return [
        _label(Alert.level, AlertLevel), _label(Alert.target, AlertTarget), _text(Plan.short_name),
        _text(Region.name), _text(Task.code), _text(Task.title), _text(Milestone.title), _text(Department.name),
        _text(Task.responsible_person), Alert.due_date,
        case((Alert.due_date.is_(None), 0), else_=cast(days_between(session, Alert.due_date, today), Integer)),
        _label(Task.status, TaskStatus), Task.progress, Alert.raised_on,
    ]


def _heading(filters_text: list[str]) -> str:
    return "筛选条件：" + ("；".join(filters_text) or "全部")


def overdue_workbook(session: Session, statement: Select[Any], filters_text: list[str], exported_at: datetime,
                     scope_text: str) -> bytes:
    return table_workbook("逾期清单", f"逾期清单（{scope_text}）",
                          f"{_heading(filters_text)}　导出时间：{format_datetime(exported_at)}", COLUMNS,
                          session.execute(statement.execution_options(yield_per=2000)))


def overdue_csv(session: Session, statement: Select[Any], filters_text: list[str], exported_at: datetime,
                scope_text: str) -> bytes:
    """The same list as CSV (UTF-8 with a BOM, so Excel opens it with the Chinese intact)."""
    heading = [[f"逾期清单（{scope_text}）", _heading(filters_text), f"导出时间：{format_datetime(exported_at)}"],
               HEADERS]
    if session.get_bind().dialect.name != "postgresql":
        return csv_bytes([*heading, *session.execute(statement.execution_options(yield_per=2000))])
    top = io.StringIO()
    csv.writer(top, lineterminator="\n").writerows(heading)  # (as COPY ends its lines)
    sql = statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    session.execute(text("SET LOCAL datestyle = 'ISO, YMD'"))  # dates as 2025-12-31, as the csv module writes them
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
        body = b"".join(copy)
    return ("\ufeff" + top.getvalue()).encode("utf-8") + body
