"""The evaluation workbook and the printable report hold the computed numbers, and open in LibreOffice."""

from __future__ import annotations

import io
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import timeutil
from tracker.evaluations.models import Evaluation, EvaluationKind
from tracker.evaluations.queries import scores_of
from tracker.evaluations.services import adjust_score, run_evaluation, score_fingerprint
from tracker.planning.models import Plan

from ..conftest import login
from ..indicators.test_targets import TABLE_1
from . import final_2025
from .world import World

SHEETS = ["汇总", "部门考核", "任务完成情况", "指标完成情况", "督办情况"]


def _evaluated(world: World, session: Session) -> Evaluation:
    evaluation = run_evaluation(session, world.evaluator, world.plan, EvaluationKind.ANNUAL, 2025)
    session.commit()
    a = next(s for s in scores_of(session, evaluation) if s.department.name == "甲处")
    adjust_score(session, world.evaluator, a, Decimal("75.5"), "=承担专项任务", score_fingerprint(a))
    session.commit()
    session.expire_all()
    return evaluation


def _download(app: Flask, username: str, url: str) -> Any:
    client = app.test_client()
    login(client, username)
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    return response


def _table(ws: Any, header_text: str) -> tuple[list[str], list[list[Any]]]:
    """The header row that starts with ``header_text`` and the rows below it (up to a blank row)."""
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r and r[0] == header_text)
    body = []
    for r in rows[start + 1:]:
        if not r or all(v is None for v in r):
            break
        body.append(list(r))
    return list(rows[start]), body


def test_workbook_holds_the_computed_numbers(app: Flask, world: World, session: Session) -> None:
    evaluation = _evaluated(world, session)
    response = _download(app, world.evaluator.username, f"/evaluations/{evaluation.id}/export.xlsx")
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == SHEETS

    header, rows = _table(wb["部门考核"], "排名")
    by_name = {r[1]: dict(zip(header, r, strict=False)) for r in rows}
    for s in scores_of(session, evaluation):
        row = by_name[s.department.name]
        assert row["排名"] == s.rank
        assert (row["到期任务"], row["已完成"], row["按期完成"], row["逾期未完成"]) == (
            s.tasks_due, s.tasks_done, s.tasks_done_on_time, s.tasks_overdue)
        for column, value in (("完成率", s.completion_rate), ("按期完成率", s.on_time_rate),
                              ("计划投资（万元）", s.investment_planned), ("计算得分", s.score if s.rank else None),
                              ("调整后得分", s.adjusted_score)):
            assert (row[column] is None and value is None) or Decimal(str(row[column])) == value, column
        assert row["等次"] == (s.grade.label if s.grade else "不参与评分")
    assert by_name["甲处"]["调整理由"] == "'=承担专项任务"  # never a formula
    assert by_name["甲处"]["最终得分"] == 75.5 and by_name["丙处"]["排名"] == 1
    row_a = next(r for r in range(1, 20) if wb["部门考核"].cell(r, 2).value == "甲处")
    assert wb["部门考核"].cell(row_a, 7).number_format == "0.0%" and wb["部门考核"].cell(row_a, 7).value == 0.5

    summary = {r[0]: r[1] for r in wb["汇总"].iter_rows(values_only=True) if r and r[0]}
    assert (summary["到期任务"], summary["已完成"], summary["按期完成"], summary["逾期未完成"]) == (6, 3, 2, 3)
    assert (summary["主要指标"], summary["已达成"], summary["滞后或未达成"], summary["待评判"]) == (5, 2, 1, 2)
    assert (summary["督办立案"], summary["督办销号"], summary["督办退回"]) == (2, 1, 1)
    assert summary["状态"] == "草稿" and summary["考核期"] == "2025年1月1日至2025年12月31日"
    assert "到期任务6项" in summary["评估摘要"]

    _, tasks = _table(wb["任务完成情况"], "序号")
    assert len(tasks) == 6
    assert sorted(r[7] for r in tasks) == ["按期完成", "按期完成", "未完成", "未完成", "未完成", "逾期完成"]

    header, indicators = _table(wb["指标完成情况"], "类别")
    assert header[:7] == ["类别", "序号", "指标", "单位", "目标值", "完成情况", "评判"]
    assert [(r[1], r[5], r[6]) for r in indicators] == [
        (1, "41.5", "已达成"), (2, "7.6", "未达成"), (3, "96", "已达成"), (4, "较上年提高", "待评判"),
        (5, "—", "待评判")]

    _, departments = _table(wb["督办情况"], "责任单位")
    assert departments == [["乙处", 2, 1, 1, 1, 0, 0, 0, None]]
    _, cases = _table(wb["督办情况"], "督办编号")
    assert {c[1] for c in cases} == {"督办乙处任务", "督办事项"}


def test_table_1_in_the_workbook(demo: Flask, session: Session) -> None:
    evaluation = session.scalars(select(Evaluation).join(Plan).where(Plan.code == "zj-13")).one()
    wb = load_workbook(io.BytesIO(_download(demo, "zj_leader", f"/evaluations/{evaluation.id}/export.xlsx").data))
    ws = wb["指标完成情况"]
    _, rows = _table(ws, "类别")
    assert [(r[1], r[2], r[4], r[5], r[6]) for r in rows] == [
        (number, name, target, value, judgement.label) for number, name, target, value, judgement in TABLE_1]
    assert {str(m) for m in ws.merged_cells.ranges} == {"A3:A6", "A7:A10", "A11:A14", "A15:A18"}
    assert rows[0][0] == "健康素质"


def test_report_has_the_summary_and_tables(app: Flask, world: World, session: Session) -> None:
    evaluation = _evaluated(world, session)
    response = _download(app, world.leader.username, f"/evaluations/{evaluation.id}/report.docx")
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    doc = Document(io.BytesIO(response.data))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "测试卫生健康规划2025年年度监测报告" in text
    assert evaluation.summary and evaluation.summary.replace("测试规划", "测试卫生健康规划", 1) in text  # the full title
    assert "甲处由44.44分调整为75.50分，理由：=承担专项任务" in text
    indicators, paths, departments, supervision, investment = doc.tables
    # 目标一致法: the measurable indicators with their expected pace, latest confirmed value and light
    assert [c.text for c in paths.rows[0].cells] == ["指标", "属性", "目标值", "进度值", "最新确认值", "目标年预测值", "评估"]
    assert {c.text for row in paths.rows[1:] for c in row.cells[-1:]} <= {
        "提前完成", "符合进度", "基本符合", "滞后", "严重滞后"}
    assert "按目标一致法" in text
    assert [c.text for c in departments.rows[0].cells][:3] == ["排名", "责任单位", "到期任务"]
    assert [c.text for c in departments.rows[1].cells][:2] == ["1", "丙处"]
    assert [c.text for c in indicators.rows[2].cells][-3:] == ["7.6", "7", "未达成"]  # 当年值, 进度值, 评判
    assert [c.text for c in supervision.rows[1].cells][:4] == ["乙处", "2", "1", "1"]
    assert [c.text for c in investment.rows[0].cells] == ["责任单位", "计划投资", "完成投资（已确认）", "完成率"]
    assert [c.text for c in investment.rows[1].cells] == ["丁处", "100", "80", "80.0%"]


@pytest.mark.libreoffice
@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice (soffice) not installed")
def test_report_and_workbook_convert_to_pdf(demo: Flask, session: Session, tmp_path: Path) -> None:
    with timeutil.frozen(final_2025.EVALUATED):  # the 2025 final evaluation is made after the demo's day
        evaluation = final_2025.final_evaluation(session)
        (tmp_path / "report.docx").write_bytes(
            _download(demo, "zj_leader", f"/evaluations/{evaluation.id}/report.docx").data)
        (tmp_path / "workbook.xlsx").write_bytes(
            _download(demo, "zj_leader", f"/evaluations/{evaluation.id}/export.xlsx").data)
    for name in ("report.docx", "workbook.xlsx"):
        subprocess.run(
            ["soffice", f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless", "--convert-to", "pdf",
             "--outdir", str(tmp_path), str(tmp_path / name)],
            check=True, capture_output=True, timeout=180,
        )
    pdf = tmp_path / "report.pdf"
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")
    assert (tmp_path / "workbook.pdf").read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                              text=True).stdout
        assert "浙江省卫生健康事业发展“十四五”规划2025年总结评估报告" in "".join(text.split())
        assert "部门考核结果" in text and "主要指标完成情况" in text and "人均预期寿命" in text
