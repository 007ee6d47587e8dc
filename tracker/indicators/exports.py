"""The Excel template for one year's monitoring values of a plan, and reading it back.

The template lists the indicators the person may fill in, with any value already stored; a hidden sheet
names the plan and the year so that a file filled in for another plan or year is refused. Reading checks
the file and every row, and names the row in each message; the caller saves nothing when any row is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ..attachments.services import check_unpacked_size
from ..errors import DomainError
from ..imports.ooxml import open_workbook
from ..planning.models import Plan
from ..spreadsheets import HEADER_ROW, Book, Style, unsafe_text
from ..text import clean
from ..timeutil import format_datetime
from .services import YearRow

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2000
UNREADABLE = "文件无法打开：不是有效的 Excel（.xlsx）文件。"
SHEET = "监测值填报"
META_SHEET = "_meta"

# (header, width in Chinese characters, filled in by the department)
COLUMNS: list[tuple[str, int, bool]] = [
    ("序号", 3, False), ("类别", 6, False), ("指标名称", 18, False), ("单位", 4, False), ("目标值", 6, False),
    ("属性", 4, False), ("监测值", 7, True), ("数据来源", 12, True), ("备注", 16, True),
]
VALUE_COLUMN = 7  # 1-based: 监测值
# What the department fills in: yellow, typed text stays text (110以下, 1:1.15), open under sheet protection.
EDITABLE = Style(fill="FFFBEB", number_format="@", unlocked=True)
LOOK = {i: EDITABLE for i, (_, _, editable) in enumerate(COLUMNS, start=1) if editable}


def template_workbook(plan: Plan, year: int, rows: Sequence[YearRow], exported_at: datetime) -> bytes:
    book = Book()
    ws = book.sheet(SHEET)
    ws.table(f"{plan.title} {year}年主要指标监测值填报表",
             f"请在“监测值”“数据来源”“备注”三列填写，其他列请勿修改。监测值按数字填写，如 79.47、"
             f"110以下、1:1.15；定性指标可填文字。导出时间：{format_datetime(exported_at)}",
             [header for header, _, _ in COLUMNS], [chars for _, chars, _ in COLUMNS])
    for row in rows:
        ind, value = row.indicator, row.value
        ws.append([
            ind.number, ind.category or "", ind.name, ind.unit or "", ind.target_text, ind.nature.label,
            value.value_text if value else "", value.source if value and value.source else "",
            value.note if value and value.note else "",
        ], styles=LOOK)

    meta = book.sheet(META_SHEET, hidden=True)
    meta.append(["plan", plan.code])
    meta.append(["year", year])
    return book.bytes()


@dataclass
class UploadRow:
    row: int  # the spreadsheet's row number
    number: int
    value_text: str | None
    source: str | None
    note: str | None

    @property
    def key(self) -> str:
        return f"第{self.row}行"


class UploadRefused(DomainError):
    """The file or some of its rows cannot be used; ``errors`` names each row."""

    status_code = 422

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message, field="file")
        self.errors = errors or []


def _cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = format(Decimal(repr(value)).normalize(), "f")
        return text
    if isinstance(value, datetime):
        return value.date().isoformat()
    text = unsafe_text(clean(str(value)).strip())
    return text or None


def read_upload(filename: str, data: bytes, plan: Plan, year: int) -> list[UploadRow]:
    """The rows of a filled-in template. Raises UploadRefused naming every row that is wrong."""
    if not filename.lower().endswith(".xlsx"):
        raise UploadRefused("请上传从本页下载的 Excel 模板（.xlsx 文件）。")
    if not data:
        raise UploadRefused("上传的文件是空的。")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadRefused(f"文件超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB。")
    try:
        check_unpacked_size(filename, data)
    except DomainError as exc:
        raise UploadRefused(exc.message) from None
    try:
        wb = open_workbook(data, unreadable=UNREADABLE)
    except DomainError as exc:
        raise UploadRefused(exc.message) from None
    try:
        if SHEET not in wb.sheetnames:
            raise UploadRefused(f"文件中没有“{SHEET}”工作表，请使用本页下载的模板。")
        if META_SHEET in wb.sheetnames:
            meta = {str(r[0]): r[1] for r in wb[META_SHEET].iter_rows(min_row=1, max_row=5, values_only=True)
                    if r and r[0] is not None}
            if str(meta.get("plan")) != plan.code or str(meta.get("year")) != str(year):
                raise UploadRefused(f"该模板属于其他规划或年度（{meta.get('plan')}，{meta.get('year')}年），"
                                    f"请下载{plan.short_name}{year}年的模板填写。")
        ws = wb[SHEET]
        header = next(ws.iter_rows(min_row=HEADER_ROW, max_row=HEADER_ROW, values_only=True), ())
        expected = [h for h, _, _ in COLUMNS]
        if [str(h).strip() if h is not None else "" for h in header[:len(expected)]] != expected:
            raise UploadRefused(f"第{HEADER_ROW}行的表头应为：" + "、".join(expected) + "。请使用本页下载的模板。")
        rows: list[UploadRow] = []
        errors: list[str] = []
        seen: dict[int, int] = {}
        for n, cells in enumerate(ws.iter_rows(min_row=HEADER_ROW + 1, values_only=True), start=HEADER_ROW + 1):
            if n > HEADER_ROW + MAX_ROWS:
                raise UploadRefused(f"数据超过 {MAX_ROWS} 行。")
            cells = tuple(cells) + (None,) * (len(COLUMNS) - len(cells))
            if all(c is None or str(c).strip() == "" for c in cells[:len(COLUMNS)]):
                continue
            raw_number = cells[0]
            try:
                if isinstance(raw_number, bool):
                    raise ValueError
                number = int(Decimal(str(raw_number).strip()))
                if Decimal(str(raw_number).strip()) != number:
                    raise ValueError
            except (InvalidOperation, ValueError, TypeError):
                errors.append(f"第{n}行：序号“{_cell_text(raw_number) or '（空）'}”不是整数。")
                continue
            if number in seen:
                errors.append(f"第{n}行：序号 {number} 与第{seen[number]}行重复。")
                continue
            seen[number] = n
            rows.append(UploadRow(n, number, _cell_text(cells[VALUE_COLUMN - 1]), _cell_text(cells[VALUE_COLUMN]),
                                  _cell_text(cells[VALUE_COLUMN + 1])))
        if errors:
            raise UploadRefused(f"有 {len(errors)} 行有误，全部未保存。", errors)
        if not rows:
            raise UploadRefused("模板中没有任何指标行。")
        return rows
    except SyntaxError:  # (a sheet's XML broken: see open_workbook)
        raise UploadRefused(UNREADABLE) from None
    finally:
        wb.close()
