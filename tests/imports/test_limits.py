"""What one plan document may ask of the server: extraction is linear in the document's size, documents over
the caps of tracker/imports/limits.py are refused next to the upload field (nothing kept), reading stops at
a deadline (a clock the tests inject), and Office files declaring a DTD are refused by both Excel imports."""

from __future__ import annotations

import io
import re
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.audit import AuditEntry
from tracker.errors import DomainError
from tracker.imports import docx as reader
from tracker.imports import limits, tasklist
from tracker.imports.docx import read_docx
from tracker.imports.draft import Draft
from tracker.imports.extract import Paragraph, Table, cn_numeral, extract
from tracker.imports.limits import Budget
from tracker.imports.models import ImportDocument
from tracker.imports.ooxml import DTD_REFUSED
from tracker.imports.services import draft_of
from tracker.imports.text import parse_lines, read_text
from tracker.indicators.exports import SHEET as VALUES_SHEET
from tracker.indicators.models import Indicator, IndicatorValue

from .conftest import client_for, plan_by_code, seed
from .docgen import (
    REPEATED_LINE,
    paragraph_xml,
    raw_docx,
    repeated_docx,
    repeated_text,
)
from .test_documents import upload
from .test_tasklist import export, send


def codes_of(draft: dict[str, Any]) -> list[str]:
    return [i["code"] for i in draft["items"] if i["type"] != "section"]


def field_errors(html: str, field: str = "file") -> list[str]:
    """The messages shown in the form row of the named field."""
    for chunk in html.split('<div class="form-row')[1:]:
        if f'name="{field}"' in chunk:
            return re.findall(r'<div class="field-error" role="alert">([^<]*)', chunk)
    raise AssertionError(f"no field {field} on the page")


# ------------------------------------------------------------------------------------------- linear work


def test_twenty_thousand_identical_lines_get_unique_codes() -> None:
    """A code repeated 20,000 times took the next free suffix by trying 2, 3, … again for each repeat."""
    budget = Budget.unlimited()
    draft = extract(parse_lines([REPEATED_LINE] * 20_000, budget), budget)
    codes = codes_of(draft)
    assert len(codes) == 20_000 and len(set(codes)) == 20_000
    assert codes[:3] == ["1", "1-2", "1-3"] and codes[-1] == "1-20000"
    assert draft["items"][1]["reason"].endswith("编号“1”重复，已改为“1-2”")


def test_a_word_document_of_identical_paragraphs_gets_unique_codes() -> None:
    blocks = read_docx(repeated_docx(20_000), Budget.unlimited())
    assert len(blocks) == 20_000
    codes = codes_of(extract(blocks, Budget.unlimited()))
    assert len(codes) == 20_000 and len(set(codes)) == 20_000


def test_codes_repeated_under_many_parents_stay_unique() -> None:
    """Chapters of the same number, each with the same key task: codes like 一, 一-2 and 1.1, 1.1-2, …"""
    lines = []
    for _ in range(3_000):
        lines += ["第一章 公共卫生", "一、强化公共卫生体系建设。"]
    budget = Budget.unlimited()
    draft = extract(parse_lines(lines, budget), budget)
    codes = codes_of(draft)
    assert len(codes) == 6_000 and len(set(codes)) == 6_000
    assert codes[:6] == ["一", "1.1", "一-2", "一-2.1", "一-3", "一-3.1"]


# A paragraph that makes a pattern backtrack for each way of splitting a long run, or scan to the end of the
# text from each of its characters, took minutes; each is read once now.
RUN = 50_000
PATHOLOGICAL = {
    "heading marks then line breaks": [f"（一）{chr(10) * RUN}a{chr(10)}b", f"(1){chr(10) * RUN}a{chr(10)}b"],
    "box, note and page marks then line breaks": [f"专栏1{chr(10) * RUN}a{chr(10)}b", f"注{chr(10) * RUN}a",
                                                   f"第1页{chr(10) * RUN}a"],
    "a definition in an appendix": ["附件：名词解释", f"一、{chr(10) * RUN}a{chr(10)}b", "二、指标：解释"],
    "bookmark markers never closed": ["[bookmark:" * RUN, "{#" * RUN, "[]{#" * RUN],
    "a title of opening marks": ["关于《浙江省卫生健康规划", "《" * RUN],
    "a title of opening marks after a closing one": ["关于《规划", "》" + "《" * RUN],
    "markdown with runs of spaces and hashes": [f"# a{' ' * RUN}x", f"## b{'#' * RUN}y", f"| a{' ' * RUN}x |"],
}


@pytest.mark.parametrize("lines", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_long_runs_in_one_paragraph_are_read_once(lines: list[str]) -> None:
    budget = Budget.unlimited()
    assert extract(parse_lines(lines, budget), budget)["version"] == 1


def test_a_definition_is_read_as_before() -> None:
    draft = extract(parse_lines(["\t序号", "\t指标", "\t2025年目标", "", "\t1", "\t健康素养水平", "\t32%", "",
                                 "附件：名词解释", "一、 健康素养水平 ：指具备基本健康素养的人数占比。"]))
    assert draft["indicators"][0]["definition"] == "指具备基本健康素养的人数占比。"


def test_tables_of_many_header_lines_or_narrow_rows_are_read_in_linear_time() -> None:
    """A very wide header followed by thousands of lines that read like its continuation (目标 under 2020年),
    a first row whose long cell ends in a figure, and rows much narrower than a very wide header."""
    header = "\t序号\n\t指标\n\t2025年目标\n"
    wide = header + "\t\n" * 20_000 + "\t属性\n\n"
    continued = wide + "\t\n\t\n\t目标\n\n" * 5_000 + "\t1\n\t床位数\n\t6\n\n"
    long_cell = header + "\n\t\n\t\n\t" + "目标" * RUN + "1\n\n" + "\t1\n\t医师数\n\t4\n\n"
    narrow = wide + "".join(f"\t{n}\n\t指标{n}\n\t{80 + n % 10}\n\n" for n in range(1, 5_001))
    budget = Budget.unlimited()
    draft = extract(read_text("\n正文。\n".join([continued, long_cell, narrow]).encode(), budget), budget)
    assert [t["rows"] for t in draft["tables"] if t["kind"] == "indicators"] == [1, 1, 5_000]


def test_a_long_chain_of_word_styles_is_followed_once() -> None:
    """Each paragraph's heading level comes from its style's basedOn chain, worked out once per style."""
    styles = "".join(f'<w:style w:type="paragraph" w:styleId="s{n}"><w:name w:val="s{n}"/>'
                     f'<w:basedOn w:val="{"Heading2" if n == 0 else f"s{n - 1}"}"/></w:style>'
                     for n in range(3_000))
    data = raw_docx("".join(f'<w:p><w:pPr><w:pStyle w:val="s2999"/></w:pPr><w:r><w:t>推进建设{n}</w:t></w:r>'
                            "</w:p>" for n in range(3_000)))
    with_styles = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(with_styles, "w") as target:
        for info in source.infolist():
            part = source.read(info.filename)
            if info.filename == "word/styles.xml":
                part = part.replace(b"</w:styles>", styles.encode() + b"</w:styles>")
            target.writestr(info.filename, part)
    blocks = read_docx(with_styles.getvalue())
    assert len(blocks) == 3_000 and {b.heading for b in blocks if isinstance(b, Paragraph)} == {2}


# ------------------------------------------------------------------------------------------- caps


Stored = Callable[[], tuple[int, int]]


@pytest.fixture
def stored(db: Session) -> Iterator[Stored]:
    """How many imports and audit entries the database holds (a refused upload adds neither)."""

    def counts() -> tuple[int, int]:
        db.rollback()
        return (db.scalar(select(func.count()).select_from(ImportDocument)) or 0,
                db.scalar(select(func.count()).select_from(AuditEntry)) or 0)

    yield counts


def _cells_docx(span: int) -> bytes:
    cell = f'<w:tc><w:tcPr><w:gridSpan w:val="{span}"/></w:tcPr><w:p/></w:tc>'
    return raw_docx(f"<w:tbl><w:tr>{cell}</w:tr></w:tbl>")


def _merged_down_docx(text: str, rows: int) -> bytes:
    restart = '<w:tc><w:tcPr><w:vMerge w:val="restart"/></w:tcPr>' + paragraph_xml(text) + "</w:tc>"
    merged = '<w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc>'
    return raw_docx("<w:tbl>" + f"<w:tr>{restart}</w:tr>" + f"<w:tr>{merged}</w:tr>" * rows + "</w:tbl>")


def _targets(n: int) -> bytes:
    """One paragraph stating ``n`` targets (each a candidate of the draft)."""
    return "，".join(f"指标{i}达到{i}%" for i in range(n)).encode()


OVER_THE_CAPS: dict[str, tuple[str, Callable[[], bytes], str]] = {
    "paragraphs": ("规划.txt", lambda: "正文段落。\n".encode() * (limits.MAX_PARAGRAPHS + 1),
                   f"文档段落过多（超过{limits.MAX_PARAGRAPHS}段）"),
    "table cells": ("规划.md", lambda: ("|" + "指标|" * (limits.MAX_CELLS + 1)).encode(),
                    f"表格单元格过多（超过{limits.MAX_CELLS}个）"),
    "draft entries": ("规划.txt", lambda: _targets(limits.MAX_ITEMS + 1), f"过多（超过{limits.MAX_ITEMS}条）"),
    "characters": ("规划.txt", lambda: ("字" * (limits.MAX_CHARS + 1)).encode(),
                   f"文字过多（超过{limits.MAX_CHARS}字）"),
    "Word paragraphs": ("规划.docx", lambda: repeated_docx(limits.MAX_PARAGRAPHS + 1),
                        f"文档段落过多（超过{limits.MAX_PARAGRAPHS}段）"),
    "Word cells (one cell spanning them)": ("规划.docx", lambda: _cells_docx(10**9),
                                            f"表格单元格过多（超过{limits.MAX_CELLS}个）"),
    "Word cell merged down (each row reads it again)": (
        "规划.docx", lambda: _merged_down_docx("字" * 100_000, 10), f"文字过多（超过{limits.MAX_CHARS}字）"),
    "Word XML elements": ("规划.docx", lambda: raw_docx("<w:p/>" * (limits.MAX_XML_ELEMENTS + 1)),
                          f"超过{limits.MAX_XML_ELEMENTS}个XML元素"),
}


@pytest.mark.parametrize("case", OVER_THE_CAPS.values(), ids=OVER_THE_CAPS.keys())
def test_a_document_over_a_cap_is_refused(case: tuple[str, Callable[[], bytes], str]) -> None:
    name, make, message = case
    with pytest.raises(DomainError) as refused:
        draft_of(name, make())
    assert message in refused.value.message and "请拆分后上传" in refused.value.message
    assert refused.value.field == "file"


def test_documents_at_the_caps_are_read() -> None:
    assert len(read_text("正文段落。\n".encode() * limits.MAX_PARAGRAPHS)) == limits.MAX_PARAGRAPHS
    assert len(draft_of("规划.txt", repeated_text(limits.MAX_PARAGRAPHS)).items) == limits.MAX_PARAGRAPHS
    assert len(draft_of("规划.txt", _targets(limits.MAX_ITEMS)).candidates) == limits.MAX_ITEMS
    assert read_docx(_cells_docx(limits.MAX_CELLS))[0].rows[0][0] == ""  # type: ignore[union-attr]


def test_the_upload_page_refuses_a_document_over_each_cap(demo: Flask, stored: Stored) -> None:
    planner = client_for(demo, "zj_planner")
    before = stored()
    for name, make, message in (OVER_THE_CAPS["paragraphs"], OVER_THE_CAPS["draft entries"],
                                OVER_THE_CAPS["Word paragraphs"], OVER_THE_CAPS["Word XML elements"]):
        response = upload(planner, name, make())
        assert response.status_code == 422
        errors = field_errors(response.get_data(as_text=True))
        assert len(errors) == 1 and message in errors[0], errors
    assert stored() == before


# ------------------------------------------------------------------------------------------- the time limit


class FakeClock:
    """A clock that moves one second each time it is read."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1
        return self.now


def test_reading_stops_at_the_deadline() -> None:
    data = seed("003").read_bytes()
    with pytest.raises(DomainError) as refused:
        draft_of("规划.txt", data, Budget(30, clock=FakeClock()))
    assert refused.value.message.startswith("文档过于复杂，解析超过30秒，已停止。")
    assert refused.value.field == "file"
    # a clock that stands still never reaches the deadline; no deadline at all never refuses
    assert draft_of("规划.txt", data, Budget(30, clock=lambda: 0.0)).items
    assert draft_of("规划.txt", data, Budget(None, clock=FakeClock())).items


def test_the_deadline_covers_reading_a_word_file() -> None:
    with pytest.raises(DomainError, match="解析超过5秒"):
        read_docx(repeated_docx(100), Budget(5, clock=FakeClock()))


def test_the_upload_page_refuses_a_document_past_the_time_limit(demo: Flask, stored: Stored) -> None:
    demo.config[limits.TIME_LIMIT_CONFIG] = 0
    planner = client_for(demo, "zj_planner")
    before = stored()
    response = upload(planner, "规划.txt", seed("003").read_bytes())
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True)) == [
        "文档过于复杂，解析超过0秒，已停止。请删除不必要的内容或拆分后重新上传。"]
    assert stored() == before


def test_a_conversion_past_its_time_limit_is_stopped_with_its_children(monkeypatch: pytest.MonkeyPatch,
                                                                        tmp_path: Path) -> None:
    """LibreOffice starts soffice.bin as a child: a conversion that does not end is killed as a group."""
    pid_file = tmp_path / "child.pid"
    fake = tmp_path / "soffice"
    fake.write_text(f"#!/bin/sh\nsleep 60 &\necho $! > {pid_file}\nwait\n")
    fake.chmod(0o755)
    monkeypatch.setattr(reader, "libreoffice", lambda: str(fake))
    monkeypatch.setattr(reader, "CONVERT_TIMEOUT", 3)  # ample for the script to start its child, even under load
    with pytest.raises(DomainError, match="转换超时"):
        reader.convert_to_docx(b"\xd0\xcf\x11\xe0", "doc")
    child = int(pid_file.read_text())
    status = Path(f"/proc/{child}/status")

    def gone() -> bool:  # killed (and perhaps not yet reaped by init)
        try:
            return "zombie" in status.read_text()
        except FileNotFoundError:
            return True

    for _ in range(200):  # the kill is delivered asynchronously: wait for it, at most 10 s
        if gone():
            break
        time.sleep(0.05)
    assert gone()


# ------------------------------------------------------------------------------------------- DTDs in .xlsx

ENTITIES = ('<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
            '<!ENTITY e SYSTEM "file:///etc/passwd">]>')


def with_dtd(data: bytes, part: str) -> bytes:
    """The workbook with a DOCTYPE declaring entities (billion laughs, an external one) in one part, and the
    entities used in its first value."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == part:
                xml = content.decode()
                at = xml.index("?>") + 2 if xml.startswith("<?xml") else 0
                xml = xml[:at] + ENTITIES + xml[at:]
                xml = re.sub(r"(<(?:t|v)(?: [^>]*)?>)", r"\1&d;&e;", xml, count=1)
                content = xml.encode()
            target.writestr(info, content)
    return out.getvalue()


PARTS = ["xl/worksheets/sheet1.xml", "xl/workbook.xml"]


def test_a_task_list_with_a_dtd_is_refused(demo: Flask, db: Session, stored: Stored) -> None:
    planner = client_for(demo, "zj_planner")
    plan = plan_by_code(db, "zj-14").id
    buffer = io.BytesIO()
    export(planner, plan).save(buffer)
    before = stored()
    for part in PARTS:
        response = send(planner, plan, with_dtd(buffer.getvalue(), part))
        assert response.status_code == 422, part
        assert field_errors(response.get_data(as_text=True)) == [DTD_REFUSED], part
    assert stored() == before


def test_an_indicator_value_workbook_with_a_dtd_is_refused(demo: Flask, db: Session, stored: Stored) -> None:
    planner = client_for(demo, "zj_planner")
    plan = plan_by_code(db, "zj-14").id
    template = planner.get(f"/indicators/plans/{plan}/template.xlsx?year=2020")
    assert template.status_code == 200
    wb = load_workbook(io.BytesIO(template.data))
    ws = wb[VALUES_SHEET]
    ws.cell(4, 7, "33.5")  # the first indicator's value, which must not be saved
    buffer = io.BytesIO()
    wb.save(buffer)
    sheet = next(n for n in zipfile.ZipFile(buffer).namelist() if n.startswith("xl/worksheets/"))
    values = db.scalar(select(func.count()).select_from(IndicatorValue).join(Indicator)
                       .where(Indicator.plan_id == plan))
    before = stored()
    for part in (sheet, "xl/workbook.xml"):
        response = upload(planner, "values.xlsx", with_dtd(buffer.getvalue(), part),
                          url=f"/indicators/plans/{plan}/upload?year=2020")
        assert response.status_code == 422, part
        assert DTD_REFUSED in response.get_data(as_text=True), part  # (this form shows refusals above it)
    assert stored() == before
    assert db.scalar(select(func.count()).select_from(IndicatorValue).join(Indicator)
                     .where(Indicator.plan_id == plan)) == values


def test_a_broken_sheet_is_refused_not_a_server_error(demo: Flask, db: Session) -> None:
    planner = client_for(demo, "zj_planner")
    plan = plan_by_code(db, "zj-14").id
    buffer = io.BytesIO()
    export(planner, plan).save(buffer)
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            target.writestr(info, content[:len(content) // 2] if info.filename == PARTS[0] else content)
    response = send(planner, plan, out.getvalue())
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True)) == [tasklist.UNREADABLE]


# ------------------------------------------------------------------------------------------- property

MARKERS = ("第{cn}章 ", "{cn}、", "（{cn}）", "{n}．", "（{n}）", "{n}.", "{n}、", "({n})", "①", "{n}.{n} ", "专栏{n} ")
TITLES = ("推进疾控体系建设工作。", "强化公共卫生应急能力", "现实基础", "到2025年，全省健康素养水平达到32%以上。", "")
NUMBERS = st.sampled_from([1, 1, 1, 2, 3, 12])


def _small_budget() -> Budget:
    """The caps the property runs against: small, so that both sides of each are reached."""
    return Budget(None, paragraphs=400, cells=300, chars=40_000, items=250)


def _line(marker: int, n: int, title: str) -> str:
    return MARKERS[marker].format(cn=cn_numeral(n), n=n) + title


line = st.builds(_line, st.integers(0, len(MARKERS) - 1), NUMBERS, st.sampled_from(TITLES))
# 第X章 / 一、 / （一） / 1． / （1） in order, as deep as drawn: nested as far as the markers go
ladder = st.lists(st.tuples(st.integers(1, 5), NUMBERS, st.sampled_from(TITLES)), min_size=1, max_size=6).map(
    lambda steps: [_line(level, n, title) for depth, n, title in steps for level in range(depth)])
mixed = st.lists(st.one_of(line, st.just(""), st.just("\t1"), st.just("\t指标")), min_size=1, max_size=12)
# a few lines repeated: the repetitive documents that made codes quadratic
documents = st.tuples(st.one_of(ladder, ladder, mixed), st.integers(1, 60))  # (mostly nested)


def _check(draft: dict[str, Any], budget: Budget) -> None:
    items = draft["items"]
    ids = {i["id"] for i in items}
    assert len(ids) == len(items)
    codes = codes_of(draft)
    assert len(codes) == len(set(codes))
    assert all(i["parent"] is None or i["parent"] in ids for i in items)
    assert len(Draft.from_json(draft).tree()) == len(items)
    entries = (len(items) + len(draft["indicators"]) + len(draft["projects"]) + len(draft["candidates"])
               + len(draft["tables"]) + sum(len(t["rows"]) for t in draft["reviews"]))
    assert entries <= budget.items <= _small_budget().max_items
    assert budget.paragraphs <= 400 and budget.cells <= 300 and budget.chars <= 40_000


def _read_or_refused(read: Callable[[Budget], list[Paragraph | Table]]) -> None:
    budget = _small_budget()
    try:
        draft = extract(read(budget), budget)
    except DomainError as refused:
        assert refused.field == "file" and re.search(r"超过\d+(段|个|字|条)", refused.message), refused.message
        return
    _check(draft, budget)


PROPERTY = settings(derandomize=True, database=None, deadline=None, max_examples=40,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@PROPERTY
@given(documents)
def test_repetitive_nested_text_is_extracted_within_the_caps(doc: tuple[list[str], int]) -> None:
    lines, repeat = doc
    _read_or_refused(lambda budget: read_text("\n".join(lines * repeat).encode(), budget))


@PROPERTY
@given(documents, st.booleans())
def test_repetitive_nested_word_documents_are_extracted_within_the_caps(doc: tuple[list[str], int],
                                                                        styled: bool) -> None:
    lines, repeat = doc
    word = Document()
    for text in lines * repeat:
        if text.startswith("\t"):
            word.add_table(rows=1, cols=2).rows[0].cells[0].text = text[1:]
        elif styled and text.startswith(("第", "一", "（一")):
            word.add_paragraph(text, style="Heading 1" if text.startswith("第") else "Heading 2")
        else:
            word.add_paragraph(text)
    out = io.BytesIO()
    word.save(out)
    _read_or_refused(lambda budget: read_docx(out.getvalue(), budget))


def test_the_generated_documents_reach_both_sides_of_the_caps() -> None:
    """(The property's documents are not all refused: a nested document well inside the caps is read.)"""
    lines = [_line(level, 1, "推进疾控体系建设。") for level in range(5)]
    budget = _small_budget()
    draft = extract(read_text("\n".join(lines * 10).encode(), budget), budget)
    _check(draft, budget)
    assert max(depth for depth, _item in Draft.from_json(draft).tree()) >= 2
    with pytest.raises(DomainError, match="超过400段"):
        read_text("\n".join(lines * 100).encode(), _small_budget())

