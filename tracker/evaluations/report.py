"""The printable evaluation report (.docx): the generated summary and the same tables as the workbook."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from sqlalchemy.orm import Session

from ..supervision.models import CaseOutcome
from ..templating import money
from ..timeutil import format_date, format_datetime
from .exports import title_of
from .models import Evaluation
from .queries import (
    case_outcomes,
    evaluation_window,
    indicator_rows,
    percent,
    rank_label,
    scores_of,
    tied_ranks,
)
from .services import GRADE_KEYS, GRADE_LABELS, WEIGHT_KEYS, WEIGHT_LABELS, Settings

BODY_FONT = "宋体"
HEADING_FONT = "黑体"
LATIN_FONT = "Times New Roman"


def _fonts(style_or_run: Any, east_asia: str, size: float | None = None, bold: bool | None = None) -> None:
    font = style_or_run.font
    font.name = LATIN_FONT
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    rpr = style_or_run.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    rfonts.set(qn("w:eastAsia"), east_asia)
    rfonts.set(qn("w:ascii"), LATIN_FONT)
    rfonts.set(qn("w:hAnsi"), LATIN_FONT)


def _table(doc: Any, headers: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float],
           right: frozenset[int] = frozenset()) -> None:
    """A grid table with fixed column widths (cm); columns in ``right`` hold figures and align right."""
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for i, text in enumerate(headers):
        cell = table.rows[0].cells[i]
        cell.text = ""
        run = cell.paragraphs[0].add_run(text)
        _fonts(run, HEADING_FONT, 9, True)
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    for values in rows:
        cells = table.add_row().cells
        for i, value in enumerate(values):
            cells[i].text = ""
            run = cells[i].paragraphs[0].add_run("" if value is None else str(value))
            _fonts(run, BODY_FONT, 9)
            if i in right:
                cells[i].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for i, width in enumerate(widths):
        table.columns[i].width = Cm(width)  # the grid LibreOffice and Word lay out by
        for cell in table.columns[i].cells:
            cell.width = Cm(width)


def _heading(doc: Any, text: str) -> None:
    p = doc.add_paragraph()
    run = p.add_run(text)
    _fonts(run, HEADING_FONT, 14, True)
    p.paragraph_format.space_before = Pt(12)
    p.paragraph_format.space_after = Pt(6)


def _paragraph(doc: Any, text: str, size: float = 11, colour: RGBColor | None = None) -> None:
    p = doc.add_paragraph()
    run = p.add_run(text)
    _fonts(run, BODY_FONT, size)
    if colour is not None:
        run.font.color.rgb = colour
    p.paragraph_format.first_line_indent = Pt(size * 2)
    p.paragraph_format.line_spacing = 1.4


def evaluation_report(session: Session, evaluation: Evaluation, exported_at: datetime) -> bytes:
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.0))
    section.top_margin = section.bottom_margin = Cm(1.8)
    _fonts(doc.styles["Normal"], BODY_FONT, 11)

    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _fonts(title.add_run(title_of(evaluation) + "报告"), HEADING_FONT, 18, True)
    window = evaluation_window(evaluation)
    state = (f"已于{format_datetime(evaluation.locked_at)}锁定" if evaluation.locked_at
             else "草稿（未锁定，数据可能变化）")
    meta = doc.add_paragraph()
    meta.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _fonts(meta.add_run(f"考核期：{window.label}　第{evaluation.version}版　{state}"), BODY_FONT, 10)

    _heading(doc, "一、总体情况")
    _paragraph(doc, evaluation.summary or "")
    settings = Settings.of(evaluation)
    _paragraph(doc, "评分方法：得分 = 100 × Σ（权重 × 比率）÷ Σ 权重，只计入该单位有数据的比率。权重："
               + "，".join(f"{WEIGHT_LABELS[k]}{settings.weights[k]}" for k in WEIGHT_KEYS)
               + "。等次：" + "，".join(f"{GRADE_LABELS[k]}不低于{settings.thresholds[k]}分" for k in GRADE_KEYS)
               + "，其余为不合格。", size=10)

    scores = scores_of(session, evaluation)
    tied = tied_ranks(scores)
    _heading(doc, "二、部门考核结果")
    _table(doc, ["排名", "责任单位", "到期任务", "已完成", "按期完成", "完成率", "按期完成率", "指标达成/进度/滞后",
                 "督办立案/销号/退回", "计算得分", "调整后得分", "等次"],
           [[rank_label(s.rank, tied), s.department.name, s.tasks_due, s.tasks_done, s.tasks_done_on_time,
             percent(s.completion_rate), percent(s.on_time_rate),
             f"{s.indicators_achieved}/{s.indicators_on_track}/{s.indicators_lagging}",
             f"{s.cases_opened}/{s.cases_closed}/{s.cases_returned}",
             str(s.score) if s.rank is not None else "—", str(s.adjusted_score) if s.adjusted_score is not None else "",
             s.grade.label if s.grade else "不参与评分"] for s in scores],
           [1.2, 4.8, 1.6, 1.5, 1.6, 1.8, 2.0, 2.8, 2.8, 1.8, 1.9, 1.8], frozenset(range(0, 11)) - {1})
    adjusted = [s for s in scores if s.adjusted_score is not None]
    if adjusted:
        _paragraph(doc, "得分调整说明：" + "；".join(
            f"{s.department.name}由{s.score}分调整为{s.adjusted_score}分，理由：{s.adjust_reason}" for s in adjusted) + "。",
            size=10)

    results = indicator_rows(session, evaluation)
    _heading(doc, f"三、主要指标完成情况（{evaluation.year}年）")
    _table(doc, ["类别", "序号", "指标", "单位", "目标值", "完成情况", "评判"],
           [[r.indicator.category or "", r.indicator.number, r.indicator.name, r.indicator.unit or "",
             r.indicator.target_text, r.value_text or "—", r.review_label or r.judgement.label]
            for r in results],
           [3.0, 1.2, 9.0, 2.2, 3.0, 3.0, 2.2], frozenset({1}))
    unconfirmed = [r for r in results if r.review_label]
    if unconfirmed:
        _paragraph(doc, f"未确认的监测值{len(unconfirmed)}个，不予评判、不计分：" + "；".join(
            f"{r.indicator.name}{r.value_text or ''}（{r.review_label}"
            + (f"，退回原因：{r.return_reason}" if r.return_reason else "") + "）" for r in unconfirmed) + "。", size=10)

    _heading(doc, "四、督办情况")
    with_cases = [s for s in scores if s.cases_opened]
    if with_cases:
        outcomes = case_outcomes(session, evaluation)
        _table(doc, ["责任单位", "立案", "销号", "退回", *[o.label for o in CaseOutcome]],
               [[s.department.name, s.cases_opened, s.cases_closed, s.cases_returned,
                 *[outcomes.get(s.department_id, {}).get(o.value, 0) for o in CaseOutcome]] for s in with_cases],
               [5.0, 1.6, 1.6, 1.6, 2.2, 2.2, 2.6, 1.6], frozenset(range(1, 8)))
    else:
        _paragraph(doc, "考核期内没有立案的督办件。")

    planned = [s for s in scores if s.investment_planned is not None]
    if planned:
        unit = evaluation.plan.investment_unit.label
        _heading(doc, f"五、重大项目投资（{unit}）")
        _table(doc, ["责任单位", "计划投资", "完成投资（已确认）", "完成率"],
               [[s.department.name, money(s.investment_planned, unit), money(s.investment_completed, unit),
                 percent(s.investment_rate)] for s in planned], [6.0, 4.0, 4.0, 3.0], frozenset({1, 2, 3}))

    foot = doc.add_paragraph()
    foot.paragraph_format.space_before = Pt(12)
    foot.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _fonts(foot.add_run(f"规划执行督查系统生成　{format_date(exported_at)}"), BODY_FONT, 9)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
