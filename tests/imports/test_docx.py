"""Word documents: paragraphs and real tables in order, merged cells, and Word's automatic numbering."""

from __future__ import annotations

import io

import pytest
from docx import Document
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

from tracker.errors import DomainError
from tracker.imports import docx as reader
from tracker.imports.docx import convert_to_docx, format_number, read_docx
from tracker.imports.extract import Paragraph, Table
from tracker.office import libreoffice

from .conftest import docx_draft
from .docgen import _add_numbering, _number, build_docx
from .test_extract import assert_provincial_plan


def test_the_provincial_plan_as_a_word_document(provincial_text: str) -> None:
    data = build_docx(provincial_text)
    blocks = read_docx(data)
    tables = [b for b in blocks if isinstance(b, Table)]
    assert len(tables) == 2 + 17  # 表1, 表2 and a one-cell table per 专栏
    table_2 = tables[1]
    # the category cell merged down the rows repeats its text, as the cell above continues
    assert [r[0] for r in table_2.rows[1:6]] == ["健康水平指标"] * 5
    headings = [b for b in blocks if isinstance(b, Paragraph) and b.heading == 1]
    assert len(headings) == 11
    assert_provincial_plan(docx_draft(data))


def test_the_provincial_plan_with_automatic_numbering(provincial_text: str) -> None:
    data = build_docx(provincial_text, numbering=True)
    document = Document(io.BytesIO(data))
    texts = [p.text for p in document.paragraphs]
    # python-docx does not see the numbers Word shows
    assert "发展背景" in texts and "一、发展背景" not in texts
    assert "强化公共卫生安全防控体系建设。" in "".join(texts) and not any(t.startswith("1．") for t in texts)
    blocks = read_docx(data)
    shown = [b.text for b in blocks if isinstance(b, Paragraph)]
    assert "一、发展背景" in shown and "（二）面临形势" in shown and "十一、加强规划实施保障" in shown
    assert any(t.startswith("33．强化多元参与") for t in shown)
    assert_provincial_plan(docx_draft(data))


def test_numbering_with_several_levels_restarts_below_a_higher_level() -> None:
    document = Document()
    _add_numbering(document)
    for text, level in [("背景", 0), ("基础", 1), ("形势", 1), ("任务", 0), ("甲", 1)]:
        _number(document.add_paragraph(text), "900", level)
    out = io.BytesIO()
    document.save(out)
    assert [b.text for b in read_docx(out.getvalue())] == ["一、背景", "（一）基础", "（二）形势", "二、任务", "（一）甲"]


def test_numbering_from_the_paragraph_style() -> None:
    document = Document()
    _add_numbering(document)
    style = document.styles["Heading 1"]
    style.element.get_or_add_pPr().append(
        parse_xml(f'<w:numPr {nsdecls("w")}><w:ilvl w:val="0"/><w:numId w:val="900"/></w:numPr>'))
    document.add_paragraph("总体要求", style="Heading 1")
    document.add_paragraph("主要任务", style="Heading 1")
    document.add_paragraph("正文")
    out = io.BytesIO()
    document.save(out)
    blocks = read_docx(out.getvalue())
    assert [(b.text, b.heading) for b in blocks] == [("一、总体要求", 1), ("二、主要任务", 1), ("正文", None)]


@pytest.mark.parametrize(("fmt", "n", "shown"), [
    ("decimal", 12, "12"), ("chineseCounting", 11, "十一"), ("chineseCountingThousand", 23, "二十三"),
    ("chineseCounting", 105, "一百零五"), ("ideographTraditional", 2, "乙"), ("decimalEnclosedCircle", 3, "③"),
    ("decimalEnclosedCircleChinese", 20, "⑳"), ("decimalEnclosedParen", 2, "⑵"), ("decimalFullWidth", 7, "７"),
    ("lowerLetter", 28, "bb"), ("upperRoman", 14, "XIV"), ("ideographDigital", 2021, "二〇二一"), ("bullet", 1, ""),
])
def test_number_formats(fmt: str, n: int, shown: str) -> None:
    assert format_number(n, fmt) == shown


def test_merged_cells() -> None:
    document = Document()
    document.add_paragraph("表1 指标")
    table = document.add_table(rows=4, cols=3)
    for r, row in enumerate([["类别", "指标", "目标"], ["健康水平", "预期寿命", "80"], ["", "婴儿死亡率", "5以下"],
                             ["合计", "", ""]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    table.cell(1, 0).merge(table.cell(2, 0))
    table.cell(3, 0).merge(table.cell(3, 2))  # a row spanning the width
    out = io.BytesIO()
    document.save(out)
    rows = next(b for b in read_docx(out.getvalue()) if isinstance(b, Table)).rows
    assert rows[1][0] == rows[2][0] == "健康水平"
    assert rows[3] == ["合计", "", ""]


def test_damaged_or_foreign_files_are_refused() -> None:
    with pytest.raises(DomainError, match="无法作为 Word"):
        read_docx(b"PK\x03\x04 not really a zip")


def test_legacy_files_need_libreoffice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "libreoffice", lambda: None)
    with pytest.raises(DomainError, match="没有安装 LibreOffice") as exc:
        convert_to_docx(b"\xd0\xcf\x11\xe0", "wps")
    assert ".wps" in exc.value.message and "另存为" in exc.value.message


@pytest.mark.libreoffice
@pytest.mark.skipif(libreoffice() is None, reason="LibreOffice is not installed")
def test_a_legacy_doc_file_is_converted_and_read(provincial_text: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess

    source = tmp_path / "plan.docx"
    source.write_bytes(build_docx(provincial_text, numbering=True))
    subprocess.run([libreoffice(), f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",  # noqa: S603
                    "--convert-to", "doc", "--outdir", str(tmp_path), str(source)], check=True, capture_output=True,
                   timeout=180)
    legacy = (tmp_path / "plan.doc").read_bytes()
    assert legacy.startswith(b"\xd0\xcf\x11\xe0")
    assert_provincial_plan(docx_draft(convert_to_docx(legacy, "doc")))


def test_a_box_in_a_word_text_box() -> None:
    """专栏 are often drawn as text boxes: their text is read as the box, not as part of the anchor paragraph."""
    document = Document()
    document.add_paragraph("一、建设强大公共卫生体系")
    anchor = document.add_paragraph("1．强化疾控体系。完善疾控机构。")
    box = parse_xml(
        '<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        'xmlns:v="urn:schemas-microsoft-com:vml"><w:pict><v:shape><v:textbox><w:txbxContent>'
        "<w:p><w:r><w:t>专栏1  公共卫生重大工程</w:t></w:r></w:p>"
        "<w:p><w:r><w:t>疾控机构标准化工程。内容。</w:t></w:r></w:p>"
        "<w:p><w:r><w:t>传染病救治能力提升工程。</w:t></w:r></w:p>"
        "</w:txbxContent></v:textbox></v:shape></w:pict></w:r>")
    anchor._p.append(box)
    document.add_paragraph("2．完善救治体系。")
    out = io.BytesIO()
    document.save(out)
    blocks = read_docx(out.getvalue())
    assert blocks[1].text == "1．强化疾控体系。完善疾控机构。"
    draft = docx_draft(out.getvalue())
    box_item = next(i for i in draft["items"] if i["type"] == "box")
    assert box_item["title"] == "公共卫生重大工程"
    assert box_item["box_items"] == ["疾控机构标准化工程", "传染病救治能力提升工程"]
    assert [i["title"] for i in draft["items"] if i["type"] == "key_task"] == ["强化疾控体系", "完善救治体系"]
