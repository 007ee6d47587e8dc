"""The corpus's markup built into the files a planner uploads.

Markup, line by line:

* the first line is the title, a short line after it ending in 局/委/政府 the issuing body;
* headings and paragraphs are written as the document shows them ("一、发展基础", "（一）…", "1．…");
* ``[表] caption`` starts a table (caption may be empty); each following line is a row, cells separated by
  `` | ``; a cell ``^`` is merged with the cell above (a merged cell in Word; blank in text and in PDF);
  the table ends at a blank line;
* ``[专栏] 专栏1 title`` starts a box, its items on the following lines up to a blank line.

Formats: ``styled`` (Heading 1/2 styles for 一、/（一）, numbers typed), ``direct`` (Normal style only, the
heading look given by run fonts and sizes, as many offices do), ``numbered`` (一、, （一） and 1． shown by
Word's automatic numbering, the numbers not in the text; measures restart under each parent), ``columns``
(as ``styled``, everything after the title and issuer in a two-column section, as published booklets set
their annexes), ``txt``
(tables flattened a cell per tab-indented line, as Word saves text) and ``pdf:<format>`` (the Word file
converted by LibreOffice).
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from docx import Document
from docx.enum.section import WD_SECTION
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Pt

CN = "一二三四五六七八九十"
CHAPTER = re.compile(rf"^(?:([{CN}]{{1,3}})、|第[{CN}]{{1,3}}章\s*)(.+)$")
SECTION = re.compile(rf"^（([{CN}]{{1,3}})）(.+)$")
ITEM = re.compile(r"^(\d{1,2})．(.+)$")


@dataclass
class Part:
    kind: str  # title | issuer | chapter | section | item | para | table | box
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)
    items: list[str] = field(default_factory=list)


def parse(markup: str) -> list[Part]:
    parts: list[Part] = []
    lines = markup.strip("\n").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        if not line:
            continue
        if not parts:
            parts.append(Part("title", line))
            continue
        if len(parts) == 1 and re.search(r"(局|委员会|委|政府|办公室)$", line) and len(line) <= 30:
            parts.append(Part("issuer", line))
            continue
        if line.startswith(("[表]", "[专栏]")):
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i].strip())
                i += 1
            if line.startswith("[表]"):
                caption = line[3:].strip()
                if caption:
                    parts.append(Part("para", caption))
                parts.append(Part("table", rows=[[c.strip() for c in r.split("|")] for r in block]))
            else:
                parts.append(Part("box", line[4:].strip(), items=block))
            continue
        if CHAPTER.match(line):
            parts.append(Part("chapter", line))
        elif SECTION.match(line):
            parts.append(Part("section", line))
        elif ITEM.match(line):
            parts.append(Part("item", line))
        else:
            parts.append(Part("para", line))
    return parts


# ------------------------------------------------------------------------------------------- text


def to_text(markup: str) -> bytes:
    out: list[str] = []
    for part in parse(markup):
        if part.kind == "table":
            for row in part.rows:
                out.extend("\t" + ("" if c == "^" else c) for c in row)
                out.append("")
        elif part.kind == "box":
            out.append("\t" + part.text)
            out.extend(part.items)
            out.append("")
        else:
            out.append(part.text)
    return ("\n".join(out) + "\n").encode("utf-8")


# ------------------------------------------------------------------------------------------- Word

_ABSTRACT = f"""
<w:abstractNum {nsdecls('w')} w:abstractNumId="80">
  <w:multiLevelType w:val="multilevel"/>
  <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="%1、"/></w:lvl>
  <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="（%2）"/></w:lvl>
</w:abstractNum>
"""
_ABSTRACT_ITEMS = f"""
<w:abstractNum {nsdecls('w')} w:abstractNumId="81">
  <w:multiLevelType w:val="singleLevel"/>
  <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1．"/></w:lvl>
</w:abstractNum>
"""


class _Numbers:
    """Word numbering definitions added to a document: one outline list, a new item list per parent."""

    def __init__(self, document) -> None:  # type: ignore[no-untyped-def]
        self.root = document.part.numbering_part.element
        first_num = self.root.find(qn("w:num"))
        for xml in (_ABSTRACT, _ABSTRACT_ITEMS):
            element = parse_xml(xml)
            if first_num is not None:
                first_num.addprevious(element)
            else:
                self.root.append(element)
        self.next_id = 800
        self.outline = self._num("80")
        self.items: str | None = None

    def _num(self, abstract: str, restart: bool = False) -> str:
        self.next_id += 1
        override = ('<w:lvlOverride w:ilvl="0"><w:startOverride w:val="1"/></w:lvlOverride>' if restart else "")
        self.root.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="{self.next_id}"><w:abstractNumId '
                                   f'w:val="{abstract}"/>{override}</w:num>'))
        return str(self.next_id)

    def apply(self, paragraph, num_id: str, ilvl: int) -> None:  # type: ignore[no-untyped-def]
        ppr = paragraph._p.get_or_add_pPr()
        ppr.append(parse_xml(f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/>'
                             "</w:numPr>"))

    def item(self, paragraph) -> None:  # type: ignore[no-untyped-def]
        if self.items is None:
            self.items = self._num("81", restart=True)
        self.apply(paragraph, self.items, 0)

    def heading(self, paragraph, ilvl: int) -> None:  # type: ignore[no-untyped-def]
        self.items = None  # measures restart under the next parent
        self.apply(paragraph, self.outline, ilvl)


def _run(paragraph, text: str, *, font: str, size: float, bold: bool = False) -> None:  # type: ignore[no-untyped-def]
    run = paragraph.add_run(text)
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = font
    rpr = run._r.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = parse_xml(f"<w:rFonts {nsdecls('w')}/>")
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), font)


_LOOK = {"chapter": ("黑体", 16, True), "section": ("楷体_GB2312", 16, True), "title": ("方正小标宋简体", 22, False),
         "item": ("仿宋_GB2312", 16, False), "para": ("仿宋_GB2312", 16, False), "issuer": ("仿宋_GB2312", 16, False)}


def _table(document, rows: list[list[str]]) -> None:  # type: ignore[no-untyped-def]
    width = max(len(r) for r in rows)
    table = document.add_table(rows=len(rows), cols=width)
    table.style = "Table Grid"
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value != "^":
                table.cell(r, c).paragraphs[0].text = value
    for c in range(width):
        r = 1
        while r < len(rows):
            if c < len(rows[r]) and rows[r][c] == "^":
                start = r - 1
                while r < len(rows) and c < len(rows[r]) and rows[r][c] == "^":
                    r += 1
                table.cell(start, c).merge(table.cell(r - 1, c))
            else:
                r += 1


def _two_columns(document) -> None:  # type: ignore[no-untyped-def]
    """What follows goes in a new section of two columns (a continuous section break: same page)."""
    section = document.add_section(WD_SECTION.CONTINUOUS)
    cols = section._sectPr.find(qn("w:cols"))
    if cols is None:
        cols = parse_xml(f"<w:cols {nsdecls('w')}/>")
        section._sectPr.append(cols)
    cols.set(qn("w:num"), "2")
    cols.set(qn("w:space"), "425")


def to_docx(markup: str, fmt: str) -> bytes:
    document = Document()
    numbers = _Numbers(document) if fmt == "numbered" else None
    for part in parse(markup):
        if fmt == "columns" and part.kind not in ("title", "issuer") and len(document.sections) == 1:
            _two_columns(document)
        if part.kind == "table":
            _table(document, part.rows)
            continue
        if part.kind == "box":
            table = document.add_table(rows=1, cols=1)
            table.style = "Table Grid"
            cell = table.cell(0, 0)
            cell.paragraphs[0].text = part.text
            for line in part.items:
                cell.add_paragraph(line)
            continue
        text = part.text
        if part.kind == "title":
            paragraph = document.add_paragraph(style="Title" if fmt != "direct" else None)
        elif part.kind in ("chapter", "section") and fmt != "direct":
            paragraph = document.add_paragraph(style="Heading 1" if part.kind == "chapter" else "Heading 2")
        else:
            paragraph = document.add_paragraph()
        if numbers is not None:
            if part.kind == "chapter" and (m := CHAPTER.match(text)) and m.group(1):
                text = m.group(2)
                numbers.heading(paragraph, 0)
            elif part.kind == "section" and (m := SECTION.match(text)):
                text = m.group(2)
                numbers.heading(paragraph, 1)
            elif part.kind == "item" and (m := ITEM.match(text)):
                text = m.group(2)
                numbers.item(paragraph)
        if fmt == "direct" or part.kind in ("para", "item", "issuer"):
            font, size, bold = _LOOK[part.kind]
            _run(paragraph, text, font=font, size=size, bold=bold)
        else:
            paragraph.add_run(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# ------------------------------------------------------------------------------------------- PDF


def libreoffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(files: dict[str, bytes], workdir: Path) -> dict[str, bytes]:
    """Word files converted to PDF by LibreOffice, all in one run (name → PDF bytes)."""
    office = libreoffice()
    assert office, "LibreOffice is not installed"
    workdir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in files.items():
        path = workdir / f"{name}.docx"
        path.write_bytes(data)
        paths.append(str(path))
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([office, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                        "--outdir", str(workdir), *paths], check=True, capture_output=True, timeout=300)
    return {name: (workdir / f"{name}.pdf").read_bytes() for name in files}
