"""Plain-text and Markdown plan documents as blocks.

Text exported from Word keeps tables flattened one cell per line: a cell is a line that starts with a tab,
a row ends at a blank line, and a line without the tab right after a cell continues that cell (a cell with
several lines). Markdown adds ``#`` headings, ``-`` list items and ``|`` pipe tables.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import DomainError
from .blocks import Block, Paragraph, Table
from .limits import Budget

# (the closing #s of a heading are stripped by hand: a pattern for them backtracks on long runs of spaces)
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_MD_BULLET = re.compile(r"^\s*(?:[-*+•·▪●]|\d{1,2}[)])\s+(.*)$")
_PIPE_ROW = re.compile(r"^\s*\|.*\|\s*$")
# possessive: each run of spaces or dashes is taken once, never split again on a line that fails
_PIPE_RULE = re.compile(r"^\s*+\|?\s*+:?-{2,}+:?\s*+(?:\|\s*+:?-{2,}+:?\s*+)*+\|?\s*+$")
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


def read_text(data: bytes, budget: Budget | None = None) -> list[Block]:
    return parse_lines(decode(data).splitlines(), budget)


def parse_lines(lines: list[str], budget: Budget | None = None) -> list[Block]:
    """The blocks of a text, line by line (each line once: a cell continued over lines is joined at its end)."""
    budget = budget or Budget()
    blocks: list[Block] = []
    rows: list[list[str]] | None = None  # the table being read
    row: list[list[str]] | None = None  # its current row: each cell as its lines
    pipe: list[list[str]] | None = None
    tsv: Table | None = None

    def paragraph(text: str, **kwargs: Any) -> None:
        budget.paragraph(len(text))
        blocks.append(Paragraph(text, **kwargs))

    def cells(texts: list[str]) -> list[str]:
        for text in texts:
            budget.cell(len(text))
        return texts

    def end_row() -> None:
        nonlocal row
        if row is not None and rows is not None:
            rows.append(["\n".join(parts) for parts in row])
        row = None

    def end_table() -> None:
        nonlocal rows
        end_row()
        if rows:
            blocks.append(Table(rows))
        rows = None

    def end_pipe() -> None:
        nonlocal pipe
        if pipe is not None:
            blocks.append(Table(pipe))
        pipe = None

    for raw in lines:
        budget.tick()
        line = raw.rstrip("\r\n")
        if line.startswith("\t"):
            end_pipe()
            if rows is None:
                rows = []
            if row is None:
                row = []
            first = line[1:].strip()
            budget.cell(len(first))
            row.append([first] if first else [])
            continue
        if not line.strip():
            if row is not None and rows is not None:
                end_row()
            elif rows is None and pipe is None:
                paragraph("")
            end_pipe()
            continue
        if row is not None:
            budget.text(len(line))
            row[-1].append(line.strip())
            continue
        end_table()
        if _PIPE_ROW.match(line):
            if _PIPE_RULE.match(line):
                continue
            if pipe is None:
                pipe = []
            pipe.append(cells([c.strip() for c in line.strip().strip("|").split("|")]))
            continue
        end_pipe()
        if line.strip().count("\t") >= 2:
            # A row of tab-separated cells on one line; consecutive rows of the same width are one table.
            tsv_cells = cells([c.strip() for c in line.strip().split("\t")])
            if tsv is not None and blocks and blocks[-1] is tsv and len(tsv.rows[-1]) == len(tsv_cells):
                tsv.rows.append(tsv_cells)
            else:
                tsv = Table([tsv_cells])
                blocks.append(tsv)
            continue
        if m := _MD_HEADING.match(line):
            paragraph(m.group(2).rstrip().rstrip("#").rstrip(), heading=len(m.group(1)))
        elif m := _MD_BULLET.match(line):
            paragraph(m.group(1), bullet=True)
        else:
            paragraph(line)
    end_table()
    end_pipe()
    return blocks
