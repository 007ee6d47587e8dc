"""The 督办单 as a Word document (python-docx), in the layout offices print and file."""

from __future__ import annotations

from io import BytesIO

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from ..timeutil import format_date, to_local
from .models import SupervisionCase

FONT = "SimSun"
LABEL_WIDTH = Pt(100)
VALUE_WIDTH = Pt(350)
HEADING_FONT = "SimHei"


def _run(paragraph, text: str, *, size: float = 12, bold: bool = False, font: str = FONT):  # type: ignore[no-untyped-def]
    run = paragraph.add_run(text)
    run.font.size = Pt(size)
    run.bold = bold
    run.font.name = font
    run._element.rPr.rFonts.set(qn("w:eastAsia"), font)  # CJK text needs the East Asian font slot
    return run


def notice_fields(case: SupervisionCase) -> list[tuple[str, str]]:
    task = case.task
    return [
        ("督办单编号", case.number_label),
        ("责任单位", case.department.full_name),
        ("督办事项", f"{task.plan.short_name} {task.code} {task.title}" if task else case.title),
        ("督办来源", case.source.label),
        ("发现的问题", case.problem),
        ("领导批示", case.instruction or ""),
        ("整改要求", case.requirements or ""),
        ("答复期限", format_date(case.response_deadline)),
        ("签发人", case.issued_by.name if case.issued_by else ""),
        ("签发日期", format_date(to_local(case.issued_at).date()) if case.issued_at else ""),
    ]


def notice_docx(case: SupervisionCase, issuer_body: str) -> bytes:
    document = Document()
    section = document.sections[0]
    section.left_margin = section.right_margin = Pt(72)
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(title, "督 办 单", size=22, bold=True, font=HEADING_FONT)
    number = document.add_paragraph()
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(number, f"{issuer_body}　{case.number_label}", size=12)

    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    table.autofit = False
    for label, value in notice_fields(case):
        if not value:
            continue
        cells = table.add_row().cells
        _run(cells[0].paragraphs[0], label, bold=True)
        _run(cells[1].paragraphs[0], value)
        cells[0].width, cells[1].width = LABEL_WIDTH, VALUE_WIDTH
    table.columns[0].width, table.columns[1].width = LABEL_WIDTH, VALUE_WIDTH  # the grid LibreOffice reads

    document.add_paragraph()
    note = document.add_paragraph()
    _run(note, f"请{case.department.name}于答复期限前，在规划执行督查系统中签收本督办单，"
               "报送整改方案和整改情况；逾期未答复的，将按规定予以约谈或通报。", size=11)
    sign = document.add_paragraph()
    sign.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _run(sign, f"{issuer_body}\n{format_date(to_local(case.issued_at).date()) if case.issued_at else ''}")
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()
