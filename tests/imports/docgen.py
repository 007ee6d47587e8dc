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

from tracker.imports.extract import cn_numeral

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


# ------------------------------------------------------------------------------------------- large documents
# (for the limits tests and tests/bench/import_extract.py)

REPEATED_LINE = "1. 推进疾控体系建设工作。"


def repeated_text(n: int, line: str = REPEATED_LINE) -> bytes:
    """A .txt of ``n`` identical lines (by default one numbered heading: the worst case for item codes)."""
    return "\n".join([line] * n).encode()


def raw_docx(body_xml: str) -> bytes:
    """A .docx whose body is the given WordprocessingML (python-docx's own template around it): a document of
    tens of thousands of paragraphs is written as text, not built paragraph by paragraph."""
    import zipfile

    template = io.BytesIO()
    Document().save(template)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(template.getvalue())) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "word/document.xml":
                xml = data.decode()
                start = xml.index("<w:body>") + len("<w:body>")
                end = xml.index("<w:sectPr")
                data = (xml[:start] + body_xml + xml[end:]).encode()
            target.writestr(info.filename, data)
    return out.getvalue()


def paragraph_xml(text: str) -> str:
    from xml.sax.saxutils import escape

    return f"<w:p><w:r><w:t xml:space=\"preserve\">{escape(text)}</w:t></w:r></w:p>"


def repeated_docx(n: int, line: str = REPEATED_LINE) -> bytes:
    """A .docx of ``n`` identical paragraphs (76,000 of them add some 20 KB to the file)."""
    return raw_docx(paragraph_xml(line) * n)


NESTED_MARKERS = ("第{cn}章 ", "{cn}、", "（{cn}）", "{n}．", "（{n}）")
NESTED_TITLES = ("推进健康浙江建设", "强化公共卫生体系", "完善疾病预防控制网络", "提升县域医疗服务能力",
                 "加强重点人群健康服务")


def nested_plan_lines(n: int) -> list[str]:
    """About ``n`` lines of a realistic plan: chapters (第X章) of key tasks (一、) of measures (（一）) with
    items (1．) and sub-items (（1）) below, each heading followed by a body paragraph with a target ("到2025年，
    …达到…"), a 专栏 after every key task and an indicator table in each chapter (the tab-indented cells of
    a table saved as text)."""
    lines = ["浙江省卫生健康事业发展“十四五”规划", "浙江省卫生健康委员会", ""]
    fan_out = (0, 4, 3, 2, 2)  # children per heading at each level below the chapter (0: chapters go on)
    box = 0

    def heading(level: int, k: int) -> None:
        nonlocal box
        title = NESTED_TITLES[(k + level) % len(NESTED_TITLES)]
        lines.append(f"{NESTED_MARKERS[level].format(cn=cn_numeral(k), n=k)}{title}。坚持预防为主，推进医防融合。")
        lines.append(f"到2025年，全省{title}覆盖率达到{80 + k % 20}%以上，服务能力明显提升。")
        if level == 0:
            lines.extend(["表1 主要指标", "", "\t序号", "\t指标名称", "\t2020年", "\t2025年目标", "\t属性", ""])
            for row in range(1, 4):
                lines.extend([f"\t{row}", f"\t第{k}章指标{row}", "\t78", f"\t{80 + row}", "\t预期性", ""])
        for child in range(1, fan_out[level + 1] + 1 if level + 1 < len(fan_out) else 1):
            if len(lines) >= n:
                return
            heading(level + 1, child)
        if level == 1:
            box += 1
            lines.extend([f"专栏{box} 重点工程", f"疾控能力提升工程{box}：建设省级疾控中心。",
                          f"卫生应急体系建设项目{box}：建设紧急医学救援基地。", ""])

    chapter = 0
    while len(lines) < n:
        chapter += 1
        heading(0, chapter)
    return lines[:max(n, 3)]


def nested_plan_text(n: int) -> bytes:
    return "\n".join(nested_plan_lines(n)).encode()
