"""The formal-document builder: GB/T 9704 page, fonts, numbered headings and tables, page numbers, 落款,
punctuation — and the conversion to PDF."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt

from tracker import documents
from tracker.documents import (
    OfficialDocument,
    PdfUnavailable,
    chinese_number,
    docx_to_pdf,
    pdf_available,
    sentence,
    tidy,
)

TITLE = "关于规划实施情况的报告"


def _built() -> bytes:
    doc = OfficialDocument(TITLE, subtitle="（2026年）")
    doc.heading("总体情况")
    doc.paragraph("规划实施总体顺利，予以调整。。")
    doc.heading("主要指标", 2)
    doc.table("主要指标完成情况", ["指标", "目标值"], [["人均预期寿命", "80以上"]] * 3, [100, 56])
    doc.heading("部门情况", 2)
    doc.table("部门考核结果", ["单位", "得分"], [["甲处", "90"]], [100, 125], landscape=True)
    doc.heading("存在问题")
    doc.items(["进度滞后。部分任务未完成；。", "数据未确认"])
    doc.signature("浙江省卫生健康委员会", date(2026, 12, 6))
    return doc.save()


def _paragraphs(document: Any) -> list[str]:
    return [p.text for p in document.paragraphs]


def mm(*lengths: Any) -> tuple[float, ...]:
    """Lengths in millimetres (Word stores them in twentieths of a point)."""
    return tuple(round(length.mm, 1) for length in lengths)


def east_asian_font(run: Any) -> str | None:
    rfonts = run._r.rPr.find(qn("w:rFonts"))
    return None if rfonts is None else rfonts.get(qn("w:eastAsia"))


def check_layout(data: bytes, title: str, issuer: str, day: str) -> Any:
    """What every formal document shares: A4, the GB/T 9704 margins and line pitch, the title's font, the
    page-number field in the footers, the 落款 at the end and no doubled full stop. Returns the document."""
    document = Document(io.BytesIO(data))
    first = document.sections[0]
    assert mm(first.page_width, first.page_height) == (210, 297)
    assert mm(first.top_margin, first.bottom_margin, first.left_margin, first.right_margin) == (37, 35, 28, 26)
    grid = first._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:linePitch")) == "579"  # 28.95 pt
    normal = document.styles["Normal"]
    assert normal.font.size == Pt(16) and normal.paragraph_format.line_spacing == Pt(28.95)
    assert normal.element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "仿宋_GB2312"
    heading = document.paragraphs[0]
    assert heading.text == title
    assert heading.runs[0].font.size == Pt(22) and east_asian_font(heading.runs[0]) == "方正小标宋简体"
    for footer in (first.footer, first.even_page_footer):
        xml = footer._element.xml
        assert "PAGE" in xml and "— " in xml and " —" in xml and "宋体" in xml
    texts = [t for t in _paragraphs(document) if t.strip()]
    assert texts[-2:] == [issuer, day]
    everything = "\n".join(_paragraphs(document) + [c.text for t in document.tables for r in t.rows for c in r.cells])
    assert "。。" not in everything and "系统生成" not in everything
    return document


def test_the_page_fonts_footer_and_signature() -> None:
    document = check_layout(_built(), TITLE, "浙江省卫生健康委员会", "2026年12月6日")
    assert document.settings.odd_and_even_pages_header_footer
    texts = _paragraphs(document)
    assert "一、总体情况" in texts and "（一）主要指标" in texts and "（二）部门情况" in texts and "二、存在问题" in texts
    assert "规划实施总体顺利，予以调整。" in texts
    assert "（一）进度滞后。部分任务未完成。" in texts and "（二）数据未确认。" in texts
    body = next(p for p in document.paragraphs if p.text.startswith("规划实施"))
    assert body.paragraph_format.first_line_indent == Pt(32)
    head = next(p for p in document.paragraphs if p.text == "一、总体情况")
    assert east_asian_font(head.runs[0]) == "黑体"
    sub = next(p for p in document.paragraphs if p.text == "（一）主要指标")
    assert east_asian_font(sub.runs[0]) == "楷体_GB2312"


def test_tables_are_numbered_with_titles_above_and_repeating_headers() -> None:
    document = Document(io.BytesIO(_built()))
    captions = [p.text for p in document.paragraphs if p.text.startswith("表")]
    assert captions == ["表1　主要指标完成情况", "表2　部门考核结果"]
    body = document.element.body
    for table in document.tables:
        before = table._tbl.getprevious()
        assert before.tag == qn("w:p") and "".join(before.itertext()).startswith("表")
        assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
        cell_run = table.rows[1].cells[0].paragraphs[0].runs[0]
        assert cell_run.font.size <= Pt(14) and east_asian_font(cell_run) == "仿宋_GB2312"
    assert body is not None


def test_a_wide_table_gets_a_landscape_section_of_its_own() -> None:
    sections = Document(io.BytesIO(_built())).sections
    assert [(s.page_width > s.page_height) for s in sections] == [False, True, False]
    for s in sections:
        assert sorted(mm(s.page_width, s.page_height)) == [210, 297]


def test_the_signature_centres_the_issuer_over_the_date() -> None:
    document = Document(io.BytesIO(_built()))
    issuer, day = [p for p in document.paragraphs if p.text][-2:]
    assert day.paragraph_format.right_indent == Pt(64)  # four characters in from the right margin
    # 10 characters over 6.5 (the digits are half wide): the issuer's centre is the date's
    assert issuer.paragraph_format.right_indent == Pt(16 * 2.25)


@pytest.mark.parametrize(("text", "expected"), [
    ("予以调整。。", "予以调整。"), ("完成，。", "完成。"), ("一是；；二是", "一是；二是"), ("好。，再", "好。再"),
    ("“十四五”规划。", "“十四五”规划。"), ("是否？", "是否？"),
])
def test_punctuation_is_checked(text: str, expected: str) -> None:
    assert tidy(text) == expected


def test_sentences_end_once() -> None:
    assert sentence("进度滞后") == "进度滞后。"
    assert sentence("进度滞后。") == sentence("进度滞后；") == "进度滞后。"
    assert sentence("是否？") == "是否？"


def test_chinese_numbers() -> None:
    assert [chinese_number(n) for n in (1, 9, 10, 11, 20, 23)] == ["一", "九", "十", "十一", "二十", "二十三"]


def test_without_libreoffice_pdf_is_refused_with_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "libreoffice", lambda: None)
    assert not pdf_available()
    with pytest.raises(PdfUnavailable) as refused:
        docx_to_pdf(_built())
    assert refused.value.status_code == 404 and "LibreOffice" in refused.value.message


def test_a_conversion_that_hangs_is_stopped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\nsleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setattr(documents, "libreoffice", lambda: str(fake))
    with pytest.raises(documents.PdfFailed, match="超时"):
        docx_to_pdf(_built(), timeout=0.5)


def png_size(path: Path) -> tuple[int, int]:
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    return width, height


def check_pdf(pdf: bytes, tmp_path: Path, title: str) -> None:
    """The PDF's first page rendered at 50 dpi is A4 (413 × 585 px) and its text has the title."""
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "check.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile", str(path),
                    str(tmp_path / "page1")], check=True, timeout=60)
    width, height = png_size(tmp_path / "page1.png")
    assert abs(width - 210 / 25.4 * 50) <= 1 and abs(height - 297 / 25.4 * 50) <= 1
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(path), "-"], check=True, capture_output=True,
                          text=True, timeout=60).stdout
    assert title in "".join(text.split())


needs_pdf_tools = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(not pdf_available() or not shutil.which("pdftoppm") or not shutil.which("pdftotext"),
                       reason="LibreOffice or poppler-utils is not installed"),
]


@needs_pdf_tools[0]
@needs_pdf_tools[1]
def test_converts_to_an_a4_pdf_with_the_title(tmp_path: Path) -> None:
    check_pdf(docx_to_pdf(_built()), tmp_path, TITLE)
