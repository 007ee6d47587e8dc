"""The one spreadsheet and download module: formula-safe text both ways, the width of Chinese text, the
header, title and print setup every export shares, CSV for Excel, and the download response."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import Workbook, load_workbook
from werkzeug.http import parse_options_header

from tracker.spreadsheets import (
    CSV_MIMETYPE,
    DOCX_MIMETYPE,
    FORMULA_STARTS,
    HEADER_ROW,
    XLSX_MIMETYPE,
    append_header,
    append_title,
    ascii_filename,
    chars_width,
    csv_bytes,
    display_width,
    download,
    fit_columns,
    print_setup,
    safe_text,
    start_table,
    unsafe_text,
    widen,
    workbook_bytes,
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


def test_a_column_is_as_wide_as_asked_and_as_its_header_and_never_narrower() -> None:
    ws = Workbook().active
    assert chars_width(3) == 8
    widen(ws, 1, 5)
    assert ws.column_dimensions["A"].width == 5  # not openpyxl's default of 13
    widen(ws, 2, 4, "指标滞后或未达成")
    assert ws.column_dimensions["B"].width == 18
    widen(ws, 2, 30)
    widen(ws, 2, 10, "短")
    assert ws.column_dimensions["B"].width == 30


def test_columns_fit_their_longest_value_within_bounds() -> None:
    ws = Workbook().active
    ws.append(["标题"])
    ws.append(["编号", "项目名称", "说明"])
    ws.append(["1", "建设内容" * 3, "x" * 200])
    ws.append([None, "短", None])
    fit_columns(ws, 2, ws.max_row)
    assert ws.column_dimensions["A"].width == 8  # the minimum
    assert ws.column_dimensions["B"].width == 26  # 12 Chinese characters and a margin
    assert ws.column_dimensions["C"].width == 60  # the maximum


@pytest.mark.parametrize("write_only", [False, True])
def test_title_header_and_print_setup_read_back(write_only: bool) -> None:
    wb = Workbook(write_only=write_only)
    ws = wb.create_sheet("表") if write_only else wb.active
    print_setup(ws, 3)
    append_title(ws, "=标题", "说明")
    append_header(ws, ["序号", "名称"])
    ws.append([1, "甲"])
    sheet = load_workbook(io.BytesIO(workbook_bytes(wb))).worksheets[-1]
    title, note = sheet["A1"], sheet["A2"]
    assert title.value == "'=标题" and title.font.b and title.font.sz == 14
    assert note.value == "说明" and note.font.color.rgb.endswith("555555")
    for cell in sheet[3]:
        assert cell.font.b and cell.fill.fgColor.rgb.endswith("F3F4F6") and cell.border.bottom.style == "thin"
        assert cell.alignment.horizontal == "center" and cell.alignment.wrap_text
    setup = sheet.page_setup
    assert setup.orientation == "landscape" and setup.paperSize == 9  # A4
    assert setup.fitToWidth == 1 and setup.fitToHeight == 0 and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_options.horizontalCentered and sheet.print_title_rows == "$3:$3"
    assert sheet.oddFooter.center.text == "第 &P 页，共 &N 页"  # page numbers at the foot


@pytest.mark.parametrize("write_only", [False, True])
def test_a_table_starts_with_title_note_and_header_on_row_3(write_only: bool) -> None:
    wb = Workbook(write_only=write_only)
    ws = wb.create_sheet("表") if write_only else wb.active
    start_table(ws, "标题", "说明", ["序号", "任务名称", "指标滞后或未达成"], [3, 22, 4], freeze="B")
    ws.append([1, "甲", None])
    sheet = load_workbook(io.BytesIO(workbook_bytes(wb))).worksheets[-1]
    assert [sheet.cell(r, 1).value for r in (1, 2, 3, 4)] == ["标题", "说明", "序号", 1]
    assert HEADER_ROW == 3 and sheet.freeze_panes == "B4" and sheet.print_title_rows == "$3:$3"
    assert sheet.cell(3, 3).fill.fgColor.rgb.endswith("F3F4F6")
    assert sheet.page_setup.orientation == "landscape"
    assert [sheet.column_dimensions[c].width for c in "ABC"] == [8, 46, 18]  # 3 and 22 characters; the header


def test_a_note_is_left_out_when_empty() -> None:
    ws = Workbook().active
    append_title(ws, "标题", "")
    assert ws.max_row == 1


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
