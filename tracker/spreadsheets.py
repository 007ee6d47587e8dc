"""Spreadsheets and downloads: what every export shares, in one place (as Indico's
indico/util/spreadsheets.py).

- Formula-safe text: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a line break is written
  with a leading apostrophe, so that Excel and LibreOffice show it as text and never run it (OWASP CSV/formula
  injection); :func:`unsafe_text` reads such a cell back.
- Widths: Chinese and other full-width characters take two columns (:func:`display_width`); a column is at
  least as wide as asked and as its header (:func:`widen`), or as wide as its longest value
  (:func:`fit_columns`).
- The look: the title and note rows above a table (:func:`append_title`), the header row
  (:func:`append_header`), print setup — A4 landscape, one page wide, the header row repeated on every page
  (:func:`print_setup`); and :func:`start_table`, which begins a sheet with all of them.
- Output: a workbook as bytes (:func:`workbook_bytes`), CSV that Excel opens with the Chinese intact
  (:func:`csv_bytes`), the MIME types, and :func:`download` — the one response every file this system sends
  goes out with: an attachment named in Chinese (RFC 6266/5987, with an ASCII fallback), never cached.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Response, send_file
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

Sheet = Worksheet | WriteOnlyWorksheet

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CSV_MIMETYPE = "text/csv"  # sent as "text/csv; charset=utf-8": Werkzeug adds the charset to text/* types
DATE_FORMAT = 'yyyy"年"m"月"d"日"'
HEADER_ROW = 3  # a table's header row: under its title and note (see start_table)

# ------------------------------------------------------------------------------------------- text

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_text(value: Any) -> str:
    """``value`` as text that a spreadsheet shows as text and never runs as a formula ("" for None)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def unsafe_text(text: str) -> str:
    """What :func:`safe_text` wrote, read back: the apostrophe goes only where it guarded a formula start."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def display_width(text: str) -> int:
    """Columns a text takes in Excel: CJK and full-width characters count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


# ------------------------------------------------------------------------------------------- widths


def chars_width(chars: float) -> float:
    """The column width that shows ``chars`` Chinese characters, with a margin."""
    return chars * 2 + 2


def widen(ws: Sheet, column: int, width: float, header: str = "") -> None:
    """Make ``column`` (1-based) at least ``width`` wide and wide enough for ``header``; never narrower than
    it was set before (two tables on one sheet share their columns)."""
    letter = get_column_letter(column)
    current = (ws.column_dimensions[letter].width or 0) if letter in ws.column_dimensions else 0
    ws.column_dimensions[letter].width = max(current, width, display_width(header) + 2)


def fit_columns(ws: Worksheet, header_row: int, last_row: int, minimum: float = 8,
                maximum: float = 60) -> None:
    """Each column as wide as its longest value from below ``header_row`` to ``last_row`` (and half its
    header, which wraps onto two lines), within ``minimum`` and ``maximum``."""
    for (header,) in ws.iter_cols(min_row=header_row, max_row=header_row):
        column = header.column
        longest = max([display_width(str(header.value or "")) // 2 + 2] + [
            display_width(str(c.value)) for (c,) in ws.iter_rows(min_row=header_row + 1, max_row=last_row,
                                                                  min_col=column, max_col=column)
            if c.value is not None])
        ws.column_dimensions[get_column_letter(column)].width = min(max(longest + 2, minimum), maximum)


# ------------------------------------------------------------------------------------------- the look

THIN = Side(style="thin", color="BBBBBB")
TITLE_FONT = Font(bold=True, size=14)
NOTE_FONT = Font(color="555555")
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="F3F4F6")
HEADER_BORDER = Border(bottom=THIN)
HEADER_ALIGNMENT = Alignment(horizontal="center", vertical="center", wrap_text=True)


def append_title(ws: Sheet, title: str, note: str | None = None) -> None:
    """The title row (large, bold) and, when given, a grey note row under it; both formula-safe."""
    cell = WriteOnlyCell(ws, value=safe_text(title))
    cell.font = TITLE_FONT
    ws.append([cell])
    if note:
        cell = WriteOnlyCell(ws, value=safe_text(note))
        cell.font = NOTE_FONT
        ws.append([cell])


def style_header(cell: Cell) -> Cell:
    """A header cell: bold, grey, a thin line under it, centred, wrapping."""
    cell.font = HEADER_FONT
    cell.fill = HEADER_FILL
    cell.border = HEADER_BORDER
    cell.alignment = HEADER_ALIGNMENT
    return cell


def append_header(ws: Sheet, headers: Sequence[str]) -> list[Cell]:
    """A header row at the end of ``ws``; returns its cells (a normal sheet's can still be restyled)."""
    cells = [style_header(WriteOnlyCell(ws, value=header)) for header in headers]
    ws.append(cells)
    return cells


def print_setup(ws: Sheet, header_row: int | None = None) -> None:
    """Print on A4 landscape with every column on one page width, centred; ``header_row`` on every page.
    A write-only sheet writes its properties with its first row: call this before."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    if header_row is not None:
        ws.print_title_rows = f"{header_row}:{header_row}"


def start_table(ws: Sheet, title: str, note: str, headers: Sequence[str],
                chars: Sequence[float] | None = None, freeze: str = "A") -> list[Cell]:
    """Begin a sheet as every export does: the title, the note, the header row at :data:`HEADER_ROW` with the
    panes frozen under it (and left of column ``freeze``), each column wide enough for its ``chars`` Chinese
    characters and its header, and the print setup. Call it first: a write-only sheet writes its properties
    with its first row. Returns the header cells."""
    print_setup(ws, HEADER_ROW)
    ws.freeze_panes = f"{freeze}{HEADER_ROW + 1}"
    for i, header in enumerate(headers, start=1):
        widen(ws, i, chars_width(chars[i - 1]) if chars else 0, header)
    append_title(ws, title, note)
    return append_header(ws, headers)


# ------------------------------------------------------------------------------------------- output


def workbook_bytes(wb: Workbook) -> bytes:
    """The .xlsx file of ``wb``."""
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: Iterable[Iterable[Any]]) -> bytes:
    """Rows as CSV in UTF-8 with a BOM (so that Excel opens the Chinese intact): text formula-safe, dates as
    ISO dates, None empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([value.isoformat() if isinstance(value, date) else
                         safe_text(value) if isinstance(value, str) else value for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


_ATTR_CHARS = "!#$&+-.^_`|~"  # RFC 5987 attr-char besides letters and digits: left as they are


def ascii_filename(filename: str) -> str:
    """An ASCII name for clients that cannot read ``filename*``: the name itself when it is plain ASCII, else
    its letters and digits (accents dropped) and its extension — 逾期清单_20261122.xlsx → 20261122.xlsx."""
    if filename.isascii() and filename.isprintable():
        return filename

    def ascii_of(text: str) -> str:
        return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")

    stem, dot, extension = filename.rpartition(".")
    if not dot:
        stem, extension = filename, ""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", ascii_of(stem)).strip("-_. ") or "download"
    extension = re.sub(r"[^A-Za-z0-9]+", "", ascii_of(extension))
    return f"{stem}.{extension}" if extension else stem


def content_disposition(filename: str, fallback: str | None = None) -> dict[str, str]:
    """The parameters of ``Content-Disposition: attachment``: ``filename`` (ASCII) and, where the real name
    differs from it, ``filename*=UTF-8''…`` with the name percent-encoded."""
    fallback = ascii_filename(fallback or filename)
    names = {"filename": fallback}
    if filename != fallback:
        names["filename*"] = "UTF-8''" + quote(filename, safe=_ATTR_CHARS)
    return names


def download(content: bytes | Path, filename: str, mimetype: str, fallback: str | None = None) -> Response:
    """A file to save as ``filename``: the bytes of a generated file, or a stored file streamed from disk
    (which answers range requests). ``mimetype`` loses any parameters so that Werkzeug adds "; charset=utf-8"
    to text types exactly once; ``fallback`` is the ASCII name for old clients (derived when not given).
    Never cached: an export holds what its reader may see, as it stood at that moment."""
    kind = mimetype.partition(";")[0].strip()
    if isinstance(content, Path):
        response = send_file(content, mimetype=kind)
    else:
        response = Response(content, mimetype=kind)
    response.headers.set("Content-Disposition", "attachment", **content_disposition(filename, fallback))
    response.headers["Cache-Control"] = "no-store"
    return response
