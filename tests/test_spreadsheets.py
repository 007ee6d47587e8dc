"""The one spreadsheet and download module: formula-safe text both ways, the width of Chinese text, the
header, title and print setup every export shares, CSV for Excel, and the download response."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import load_workbook
from werkzeug.http import parse_options_header

from tracker.spreadsheets import (
    BOLD,
    CSV_MIMETYPE,
    DATE_FORMAT,
    DOCX_MIMETYPE,
    FORMULA_STARTS,
    HEADER_ROW,
    XLSX_MIMETYPE,
    Book,
    Column,
    Style,
    ascii_filename,
    chars_width,
    csv_bytes,
    display_width,
    download,
    safe_text,
    table_workbook,
    unsafe_text,
)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r", "\n"])
def test_every_formula_start_is_written_as_text_and_read_back(start: str) -> None:
    text = f"{start}SUM(A1:A9) 不是公式"
    assert safe_text(text) == "'" + text
    assert unsafe_text(safe_text(text)) == text


def test_formula_starts_are_exactly_these() -> None:
    assert FORMULA_STARTS == ("=", "+", "-", "@", "\t", "\r", "\n")


def test_safe_text_leaves_everything_else_alone() -> None:
    # (from the overdue list, the project register, the indicator template and the task list, where the
    # copies of this function lived)
    assert safe_text("-1") == "'-1" and safe_text("普通文字") == "普通文字" and safe_text(None) == ""
    assert safe_text("-3") == "'-3" and safe_text("普通") == "普通" and safe_text(None) == ""
    assert safe_text("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert safe_text("+1") == "'+1" and safe_text("中文") == "中文"
    assert safe_text("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")" and unsafe_text("'=1+1") == "=1+1"
    assert safe_text(3) == "3" and safe_text("") == "" and safe_text("'引号") == "'引号"
    assert safe_text(" =1") == " =1"  # only the first character counts, as in Excel
    assert safe_text("＝1+1") == "＝1+1"  # a full-width equals sign is text to Excel (no copy guarded it)


def test_unsafe_text_removes_only_the_guarding_apostrophe() -> None:
    assert unsafe_text("'引号开头") == "'引号开头"
    assert unsafe_text("'") == "'" and unsafe_text("") == "" and unsafe_text("普通") == "普通"
    assert unsafe_text("''=1") == "''=1"  # written from "'=1", which needed no guard


def test_display_width_counts_wide_characters_twice() -> None:
    assert display_width("") == 0
    assert display_width("abc 123") == 7
    assert display_width("任务名称") == 8
    assert display_width("2025年") == 6
    assert display_width("ＡＢ（）") == 8  # full-width Latin and brackets
    assert display_width("ｱｲ") == 2  # half-width katakana


def _widths(sheet, letters: str) -> list[int]:  # type: ignore[no-untyped-def]
    """Widths as Excel's column dialog shows them (the file adds the cell padding: 22 is 22.71)."""
    return [int(sheet.column_dimensions[c].width) for c in letters]


def test_a_column_is_as_wide_as_asked_and_as_its_header_and_never_narrower() -> None:
    book = Book()
    ws = book.sheet("表")
    assert chars_width(3) == 8
    ws.widen(1, 5)
    ws.widen(2, 4, "指标滞后或未达成")
    assert ws.widths == {1: 5, 2: 18}
    ws.widen(2, 30)
    ws.widen(2, 10, "短")
    assert ws.widths[2] == 30
    ws.append(["甲"])
    assert _widths(_read(book)["表"], "AB") == [5, 30]


def _read(book: Book):  # type: ignore[no-untyped-def]
    return load_workbook(io.BytesIO(book.bytes()))


def test_columns_fit_their_longest_value_within_bounds() -> None:
    book = Book()
    ws = book.sheet("表")
    ws.append(["标题"])
    ws.append(["编号", "项目名称", "说明"])
    ws.append(["1", "建设内容" * 3, "x" * 200])
    last = ws.append([None, "短", None])
    ws.fit(2, last)
    sheet = _read(book)["表"]
    assert _widths(sheet, "ABC") == [8, 26, 60]  # the minimum; 12 Chinese characters and a margin; the maximum


def test_a_book_writes_what_the_exports_ask_for() -> None:
    book = Book()
    ws = book.sheet("汇总")
    assert ws.table("=标题", "说明", ["名称", "金额", "日期"], [10, 4, 6], freeze="B") == HEADER_ROW
    ws.append(["甲", Decimal("1.5"), date(2026, 11, 22)], styles={2: Style(number_format="#,##0.00##", horizontal="right")})
    ws.skip()
    totals = ws.append(["合计", 3, None], BOLD | Style(top=True))
    ws.height(HEADER_ROW, 32)
    ws.merge(totals - 2, 1, totals - 1, 1)
    ws.width(3, 30)
    ws.filter(HEADER_ROW, totals, 3)
    meta = book.sheet("_meta", hidden=True)
    meta.append(["plan", "zj-14"])
    meta.append(["year", 2026], styles={2: Style(fill="FFFBEB", number_format="@", unlocked=True)})
    wb = _read(book)
    assert wb.sheetnames == ["汇总", "_meta"] and wb["_meta"].sheet_state == "hidden"
    sheet = wb["汇总"]
    assert [sheet.cell(r, 1).value for r in (1, 2, 3, 4)] == ["'=标题", "说明", "名称", "甲"]
    assert sheet["A1"].font.b and sheet["A1"].font.sz == 14 and sheet["A2"].font.color.rgb == "FF555555"
    assert sheet["C3"].fill.fgColor.rgb == "FFF3F4F6" and sheet["C3"].border.bottom.color.rgb == "FFBBBBBB"
    amount = sheet["B4"]
    assert amount.value == 1.5 and amount.number_format == "#,##0.00##" and amount.alignment.horizontal == "right"
    assert sheet["C4"].value == datetime(2026, 11, 22) and sheet["C4"].number_format == DATE_FORMAT
    assert sheet["A5"].value is None and sheet["A6"].value == "合计"
    for cell in sheet[6]:  # every cell of the totals row, the empty one too
        assert cell.font.b and cell.border.top.style == "thin"
    assert sheet.row_dimensions[HEADER_ROW].height == pytest.approx(32, abs=0.5)  # (to the pixel: 32.25)
    assert [str(r) for r in sheet.merged_cells.ranges] == ["A4:A5"]
    assert sheet.freeze_panes == "B4" and sheet.auto_filter.ref == "A3:C6" and sheet.print_title_rows == "$3:$3"
    assert _widths(sheet, "ABC") == [22, 10, 30]
    assert sheet.oddFooter.center.text == "第 &P 页，共 &N 页" and sheet.page_setup.orientation == "landscape"
    year = wb["_meta"]["B2"]
    assert year.value == 2026 and year.number_format == "@" and year.protection.locked is False
    assert year.fill.fgColor.rgb == "FFFFFBEB" and wb["_meta"]["B1"].protection.locked is True
    assert wb["_meta"].freeze_panes is None and wb["_meta"].page_setup.orientation is None


def test_a_header_can_restyle_some_columns_and_cells_take_a_list() -> None:
    book = Book()
    ws = book.sheet("表")
    ws.table("标题", "", ["层级", "状态（只读）"], [4, 4], styles={2: Style(color="888888")})
    ws.validate(1, HEADER_ROW + 1, 20, ["章", "重点任务"], "请从下拉列表中选择")
    lists = book.sheet("单位")
    lists.append(["甲单位"])
    ws.validate(2, HEADER_ROW + 1, 20, "='单位'!$A$1:$A$1", "请选择本地区的单位")
    sheet = _read(book)["表"]
    assert sheet["A3"].font.color.rgb != "FF888888" and sheet["B3"].font.color.rgb == "FF888888" and sheet["B3"].font.b
    assert sheet["A2"].value is None  # no note: its row stays empty
    level, unit = sheet.data_validations.dataValidation
    assert (level.type, level.formula1, str(level.sqref), level.allow_blank) == ("list", '"章,重点任务"', "A4:A20", True)
    assert unit.formula1 == "'单位'!$A$1:$A$1" and unit.error == "请选择本地区的单位" and unit.showErrorMessage


def test_merged_cells_keep_the_first_value_and_its_look() -> None:
    book = Book()
    ws = book.sheet("表")
    ws.append(["经济", 1], styles={1: Style(vertical="center", wrap=True)})
    ws.append(["经济", 2])
    ws.merge(1, 1, 2, 1)
    sheet = _read(book)["表"]
    assert sheet["A1"].value == "经济" and sheet["A1"].alignment.vertical == "center" and sheet["A2"].value is None
    assert [str(r) for r in sheet.merged_cells.ranges] == ["A1:A2"]


TABLE = [Column("序号", 3), Column("名称", 10), Column("截止日期", 8), Column("金额", 6, "#,##0.00"),
         Column("时间", 8, "yyyy-mm-dd hh:mm")]


def _table(rows: list[list[object]], freeze: str = "A", note: str = "说明"):  # type: ignore[no-untyped-def]
    data = table_workbook("清单", "=标题", note, TABLE, iter(rows), freeze=freeze)
    return load_workbook(io.BytesIO(data))


def test_a_long_table_is_laid_out_as_a_table_is() -> None:
    wb = _table([[1, "甲", date(2026, 11, 22), Decimal("1234.5"), datetime(2026, 11, 22, 1, 30, tzinfo=UTC)],
                 [2, None, None, 7, None]])
    sheet = wb["清单"]
    assert [sheet.cell(r, 1).value for r in (1, 2, 3, 4, 5)] == ["'=标题", "说明", "序号", 1, 2]
    assert sheet["A1"].font.b and sheet["A1"].font.sz == 14 and sheet["A2"].font.color.rgb.endswith("555555")
    for cell in sheet[HEADER_ROW]:
        assert cell.font.b and cell.fill.fgColor.rgb.endswith("F3F4F6") and cell.border.bottom.style == "thin"
        assert cell.alignment.horizontal == "center" and cell.alignment.wrap_text
    assert [c.value for c in sheet[HEADER_ROW]] == [c.header for c in TABLE]
    assert sheet["C4"].value == datetime(2026, 11, 22) and sheet["C4"].number_format == DATE_FORMAT
    assert sheet["D4"].value == 1234.5 and sheet["D4"].number_format == "#,##0.00"
    assert sheet["E4"].value == datetime(2026, 11, 22, 9, 30)  # Asia/Shanghai
    assert sheet["E4"].number_format == "yyyy-mm-dd hh:mm"
    assert sheet["B5"].value is None and sheet["D5"].value == 7
    assert sheet.freeze_panes == "A4" and sheet.auto_filter.ref == "A3:E5" and sheet.print_title_rows == "$3:$3"
    assert _widths(sheet, "ABCDE") == [8, 22, 18, 14, 18]
    setup = sheet.page_setup
    assert setup.orientation == "landscape" and setup.paperSize == 9
    assert setup.fitToWidth in (None, 1) and setup.fitToHeight == 0  # (1 is the default: left out) and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_options.horizontalCentered and sheet.oddFooter.center.text == "第 &P 页，共 &N 页"


def _as_excel_reads(text: str) -> str:
    """A cell's text as Excel and LibreOffice read it: each _xHHHH_ is the character HHHH (openpyxl decodes
    them only in shared strings, and a streamed sheet writes its text in the cells)."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_a_long_table_keeps_its_text_as_text(start: str) -> None:
    text = f"{start}SUM(A1) 不是公式"
    sheet = _table([[1, text], [2, "_x0041_ 原样 <b>&amp;"], [3, "控制\x01字符"]])["清单"]
    assert _as_excel_reads(sheet["B4"].value) == "'" + text and sheet["B4"].data_type == "s"
    # a literal _x0041_ is written _x005F_x0041_, and a character XML cannot hold as _x0001_
    assert _as_excel_reads(sheet["B5"].value) == "_x0041_ 原样 <b>&amp;"
    assert _as_excel_reads(sheet["B6"].value) == "控制\x01字符"


def test_an_empty_long_table_is_still_a_workbook_frozen_where_asked() -> None:
    sheet = _table([], freeze="C", note="")["清单"]
    assert sheet.max_row == HEADER_ROW and sheet["A2"].value is None
    assert sheet.freeze_panes == "C4" and sheet.auto_filter.ref == "A3:E4"


def test_a_long_table_reads_back_row_for_row() -> None:
    """Thousands of rows (the rows are written a thousand at a time): every value back in its cell, the
    sheet's dimension and filter over all of them, spaces at either end of a text kept."""
    rows = [[i, f" 第{i}项 " if i % 7 == 0 else f"第{i}项", date(2026, 1, 1) + timedelta(days=i % 400),
             Decimal(i) / 4, None] for i in range(1, 2502)]
    sheet = _table(rows)["清单"]
    assert sheet.calculate_dimension() == f"A1:E{HEADER_ROW + len(rows)}"
    assert sheet.auto_filter.ref == f"A3:E{HEADER_ROW + len(rows)}"
    back = [[c.value for c in row] for row in sheet.iter_rows(min_row=HEADER_ROW + 1)]
    assert back == [[i, text, datetime.combine(day, datetime.min.time()), float(amount), None]
                    for i, text, day, amount, _ in rows]
    assert sheet["C4"].number_format == DATE_FORMAT and sheet["D4"].number_format == "#,##0.00"


def test_csv_opens_in_excel_with_the_chinese_intact_and_no_formula() -> None:
    data = csv_bytes([["标题", "=1+1"], ["日期", date(2026, 11, 22), None, 3]])
    assert data.startswith("\ufeff".encode())
    assert data.decode("utf-8-sig") == "标题,'=1+1\r\n日期,2026-11-22,,3\r\n"


def test_a_download_named_in_chinese() -> None:
    response = download(b"xlsx", "逾期清单_20261122.xlsx", XLSX_MIMETYPE)
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=20261122.xlsx; "
        "filename*=UTF-8''%E9%80%BE%E6%9C%9F%E6%B8%85%E5%8D%95_20261122.xlsx")
    assert parse_options_header(response.headers["Content-Disposition"]) == (
        "attachment", {"filename": "逾期清单_20261122.xlsx"})
    assert response.headers["Content-Type"] == XLSX_MIMETYPE
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Length"] == "4" and response.get_data() == b"xlsx"


def test_a_download_keeps_the_ascii_name_it_is_given() -> None:
    response = download(b"docx", "督办单2026-3.docx", DOCX_MIMETYPE, "notice.docx")
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=notice.docx; filename*=UTF-8''%E7%9D%A3%E5%8A%9E%E5%8D%952026-3.docx")
    assert response.headers["Content-Type"] == DOCX_MIMETYPE


def test_ascii_names() -> None:
    assert download(b"", "report 1.pdf", "application/pdf").headers["Content-Disposition"] == (
        'attachment; filename="report 1.pdf"')
    assert ascii_filename("佐证.pdf") == "download.pdf"
    assert ascii_filename("Café (final).xlsx") == "Cafe-final.xlsx"
    assert ascii_filename("温州卫健十四五-任务分解表-20261122.xlsx") == "20261122.xlsx"
    assert ascii_filename("说明") == "download"
    header = download(b"", "a\r\nX-Injected: 1.txt", "text/plain").headers["Content-Disposition"]
    assert "\n" not in header and "%0D%0A" in header


@pytest.mark.parametrize("mimetype", [CSV_MIMETYPE, "text/csv; charset=utf-8", "text/csv;charset=gbk"])
def test_text_says_its_charset_exactly_once(mimetype: str) -> None:
    assert download(b"a,b", "逾期清单.csv", mimetype).headers["Content-Type"] == "text/csv; charset=utf-8"


def test_a_stored_file_is_streamed_with_the_same_headers(tmp_path: Path) -> None:
    path = tmp_path / "stored"
    path.write_bytes(b"%PDF-1.4 evidence")
    app = Flask(__name__)
    with app.test_request_context():
        response = download(path, "佐证.pdf", "application/pdf")
        response.direct_passthrough = False
        assert response.get_data() == b"%PDF-1.4 evidence"
        response.close()
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=download.pdf; filename*=UTF-8''%E4%BD%90%E8%AF%81.pdf")
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    with app.test_request_context(headers={"Range": "bytes=0-3"}):
        partial = download(path, "佐证.pdf", "application/pdf")
        partial.direct_passthrough = False
        assert partial.status_code == 206 and partial.get_data() == b"%PDF"
        partial.close()
