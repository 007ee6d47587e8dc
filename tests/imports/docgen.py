"""Word documents for the import tests, built with python-docx from the seed texts.

Chapters (一、) take the Heading 1 style and sections (（一）) Heading 2; key tasks are plain paragraphs;
the flattened tables of the text (a tab-indented line per cell, a blank line after each row) become real
tables — an indicator table's blank category cells are merged into the cell above, as Word users do —
and each 专栏 a one-cell table. With ``numbering=True`` the chapter, section and key-task numbers are not
typed: Word's automatic numbering (numPr) shows them, so python-docx does not see them in the text.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable

from docx import Document
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn

CN = "一二三四五六七八九十"
CHAPTER = re.compile(rf"^([{CN}]{{1,3}})、(.+)$")
SECTION = re.compile(rf"^（([{CN}]{{1,3}})）(.+)$")
KEY_TASK = re.compile(r"^(\d{1,2})．(.+)$")

NUMBERING_XML = f"""
<w:abstractNum {nsdecls('w')} w:abstractNumId="90">
  <w:multiLevelType w:val="multilevel"/>
  <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="%1、"/></w:lvl>
  <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="（%2）"/></w:lvl>
</w:abstractNum>
"""
NUMBERING_XML_2 = f"""
<w:abstractNum {nsdecls('w')} w:abstractNumId="91">
  <w:multiLevelType w:val="singleLevel"/>
  <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1．"/></w:lvl>
</w:abstractNum>
"""
OUTLINE_NUM, KEY_NUM = "900", "901"


def _add_numbering(document) -> None:  # type: ignore[no-untyped-def]
    root = document.part.numbering_part.element
    first_num = root.find(qn("w:num"))
    for xml in (NUMBERING_XML, NUMBERING_XML_2):
        element = parse_xml(xml)
        if first_num is not None:
            first_num.addprevious(element)
        else:
            root.append(element)
    for num_id, abstract in ((OUTLINE_NUM, "90"), (KEY_NUM, "91")):
        root.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="{num_id}"><w:abstractNumId w:val="{abstract}"/>'
                              "</w:num>"))


def _number(paragraph, num_id: str, ilvl: int) -> None:  # type: ignore[no-untyped-def]
    ppr = paragraph._p.get_or_add_pPr()
    ppr.append(parse_xml(f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/></w:numPr>'))


def _groups(lines: list[str]) -> Iterable[tuple[str, object]]:
    """('para', text) and ('table', rows) from the flattened text format."""
    rows: list[list[str]] = []
    row: list[str] | None = None
    for raw in lines:
        if raw.startswith("\t"):
            if row is None:
                row = []
            row.append(raw[1:].strip())
            continue
        if not raw.strip():
            if row is not None:
                rows.append(row)
                row = None
            continue
        if row is not None:
            row[-1] += "\n" + raw.strip()
            continue
        if rows:
            yield "table", rows
            rows = []
        yield "para", raw.strip()
    if row is not None:
        rows.append(row)
    if rows:
        yield "table", rows


def _box_table(document, text: str) -> None:  # type: ignore[no-untyped-def]
    table = document.add_table(rows=1, cols=1)
    table.style = "Table Grid"
    cell = table.cell(0, 0)
    lines = text.split("\n")
    cell.paragraphs[0].text = lines[0]
    for line in lines[1:]:
        cell.add_paragraph(line)


def _data_table(document, rows: list[list[str]], *, merge_categories: bool) -> None:  # type: ignore[no-untyped-def]
    width = max(len(r) for r in rows)
    table = document.add_table(rows=len(rows), cols=width)
    table.style = "Table Grid"
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            cell = table.cell(r, c)
            parts = value.split("\n")
            cell.paragraphs[0].text = parts[0]
            for part in parts[1:]:
                cell.add_paragraph(part)
    if merge_categories:
        start = 1
        for r in range(2, len(rows) + 1):
            if r == len(rows) or rows[r][0]:
                if r - 1 > start:
                    table.cell(start, 0).merge(table.cell(r - 1, 0))
                start = r


def build_docx(text: str, *, numbering: bool = False, merge_categories: bool = True) -> bytes:
    document = Document()
    if numbering:
        _add_numbering(document)
    lines = text.splitlines()
    first = True
    in_appendix = False
    for kind, value in _groups(lines):
        if kind == "table":
            rows = value  # type: ignore[assignment]
            if all(len(r) == 1 for r in rows):
                for r in rows:
                    _box_table(document, r[0])
            else:
                _data_table(document, rows, merge_categories=merge_categories)
            continue
        line = str(value)
        if first:
            document.add_paragraph(line, style="Title")
            first = False
            continue
        if line.startswith("附"):
            in_appendix = True
        if not in_appendix and (m := CHAPTER.match(line)):
            p = document.add_paragraph(m.group(2) if numbering else line, style="Heading 1")
            if numbering:
                _number(p, OUTLINE_NUM, 0)
        elif not in_appendix and (m := SECTION.match(line)):
            p = document.add_paragraph(m.group(2) if numbering else line, style="Heading 2")
            if numbering:
                _number(p, OUTLINE_NUM, 1)
        elif not in_appendix and (m := KEY_TASK.match(line)):
            p = document.add_paragraph(m.group(2) if numbering else line)
            if numbering:
                _number(p, KEY_NUM, 0)
        else:
            document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
