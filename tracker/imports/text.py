"""Plain-text and Markdown plan documents as blocks.

Text exported from Word keeps tables flattened one cell per line: a cell is a line that starts with a tab,
a row ends at a blank line, and a line without the tab right after a cell continues that cell (a cell with
several lines). Markdown adds ``#`` headings, ``-`` list items and ``|`` pipe tables.
"""

from __future__ import annotations

import re

from ..errors import DomainError
from .extract import Block, Paragraph, Table

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_BULLET = re.compile(r"^\s*(?:[-*+•·▪●]|\d{1,2}[)])\s+(.*)$")
_PIPE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_PIPE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030 — what Chinese offices save text in."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    elif b"\x00" in data:
        raise DomainError("文件含有二进制内容，不是文本文件。", field="file")
    else:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise DomainError("文件不是可以识别的文本（应为 UTF-8 或 GBK 编码）。", field="file")
    if _CONTROL.search(text):
        raise DomainError("文件含有二进制内容，不是文本文件。", field="file")
    return text


def read_text(data: bytes) -> list[Block]:
    return parse_lines(decode(data).splitlines())


def parse_lines(lines: list[str]) -> list[Block]:
    blocks: list[Block] = []
    rows: list[list[str]] | None = None  # the table being read
    row: list[str] | None = None  # its current row
    pipe: list[list[str]] | None = None
    tsv: Table | None = None

    def end_table() -> None:
        nonlocal rows, row
        if row is not None and rows is not None:
            rows.append(row)
        if rows:
            blocks.append(Table(rows))
        rows = row = None

    for raw in lines:
        line = raw.rstrip("\r\n")
        if line.startswith("\t"):
            if pipe is not None:
                blocks.append(Table(pipe))
                pipe = None
            if rows is None:
                rows = []
            if row is None:
                row = []
            row.append(line[1:].strip())
            continue
        if not line.strip():
            if row is not None and rows is not None:
                rows.append(row)
                row = None
            elif rows is None and pipe is None:
                blocks.append(Paragraph(""))
            if pipe is not None:
                blocks.append(Table(pipe))
                pipe = None
            continue
        if row is not None:
            row[-1] = f"{row[-1]}\n{line.strip()}" if row[-1] else line.strip()
            continue
        end_table()
        if _PIPE_ROW.match(line):
            if _PIPE_RULE.match(line):
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            pipe = (pipe or []) + [cells]
            continue
        if pipe is not None:
            blocks.append(Table(pipe))
            pipe = None
        if line.strip().count("\t") >= 2:
            # A row of tab-separated cells on one line; consecutive rows of the same width are one table.
            cells = [c.strip() for c in line.strip().split("\t")]
            if tsv is not None and blocks and blocks[-1] is tsv and len(tsv.rows[-1]) == len(cells):
                tsv.rows.append(cells)
            else:
                tsv = Table([cells])
                blocks.append(tsv)
            continue
        if m := _MD_HEADING.match(line):
            blocks.append(Paragraph(m.group(2), heading=len(m.group(1))))
        elif m := _MD_BULLET.match(line):
            blocks.append(Paragraph(m.group(1), bullet=True))
        else:
            blocks.append(Paragraph(line))
    end_table()
    if pipe is not None:
        blocks.append(Table(pipe))
    return blocks
