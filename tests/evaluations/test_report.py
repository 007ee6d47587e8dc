"""The evaluation report as a formal document: the plan's full title, 表1 with 基期值 / 属性 / 进度值, only
confirmed values judged, 存在问题 and 下一步工作建议 drawn from the figures (or the evaluators' own), the 落款."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from docx import Document
from flask import Flask
from sqlalchemy.orm import Session

from tracker import documents
from tracker.evaluations.models import EvaluationKind
from tracker.evaluations.report import evaluation_report
from tracker.evaluations.services import run_evaluation
from tracker.indicators.models import IndicatorNature, IndicatorValue, ValueState

from ..conftest import login
from ..test_documents import check_layout, check_pdf, needs_pdf_tools
from .test_exports import _download, _evaluated
from .world import World, indicator

EXPORTED = datetime(2026, 12, 6, 2, tzinfo=UTC)
TITLE = "测试卫生健康规划2025年年度监测报告"


def _document(data: bytes):  # type: ignore[no-untyped-def]
    return Document(io.BytesIO(data))


def _texts(document) -> list[str]:  # type: ignore[no-untyped-def]
    return [p.text for p in document.paragraphs]


def test_the_report_is_a_formal_document(app: Flask, world: World, session: Session) -> None:
    evaluation = _evaluated(world, session)
    data = evaluation_report(session, evaluation, EXPORTED)
    document = check_layout(data, TITLE, "浙江省卫生健康委员会", "2026年12月6日")
    texts = _texts(document)
    headings = [t for t in texts if t[:2] in {f"{n}、" for n in "一二三四五六七八"}]
    assert headings == ["一、总体情况", "二、指标完成情况", "三、重点任务和部门考核结果", "四、督办情况", "五、重大项目投资（万元）",
                        "六、存在问题", "七、下一步工作建议"]
    assert [t for t in texts if t.startswith("表")] == [
        "表1　主要指标完成情况（2025年）", "表2　指标进度评估（目标一致法）", "表3　部门考核结果", "表4　督办情况",
        "表5　重大项目投资完成情况（万元）"]
    assert texts[1:3] == ["（考核期：2025年1月1日至2025年12月31日　第1版）", "（草稿，未锁定，数据可能变化）"]
    overview = next(t for t in texts if t.startswith("测试"))
    assert overview.startswith("测试卫生健康规划2025年年度监测")  # the full title, not 测试规划


def test_table_1_has_baseline_nature_and_progress(app: Flask, world: World, session: Session) -> None:
    binding = indicator(session, world.plan, world.departments["甲处"], 6, "每千人口执业医师数", "4",
                        {2025: "3.5"}, nature=IndicatorNature.BINDING)
    binding.baseline_text, binding.baseline_value, binding.baseline_year = "3", 3, 2020
    session.commit()
    evaluation = _evaluated(world, session)
    table = _document(evaluation_report(session, evaluation, EXPORTED)).tables[0]
    assert [c.text for c in table.rows[0].cells] == ["类别", "指标", "单位", "基期值", "目标值", "属性", "当年值",
                                                     "进度值", "评判"]
    rows = {r.cells[1].text: [c.text for c in r.cells] for r in table.rows[1:]}
    # from 3 in 2020 to 4 in 2025: the path reaches 4 in 2025, so 3.5 is behind it
    assert rows["6. 每千人口执业医师数"] == ["健康水平", "6. 每千人口执业医师数", "%", "3", "4",
                                      "约束性", "3.5", "4", "未达成"]
    assert rows["1. 居民健康素养水平"][3:6] == ["—", "40", "预期性"]


def test_only_confirmed_values_are_judged(app: Flask, world: World, session: Session) -> None:
    ind = world.indicators["c_missing"]
    ind.values.append(IndicatorValue(year=2025, value_text="7.1", value=7.1, state=ValueState.RETURNED,
                                     return_reason="口径有误", returned_at=EXPORTED))
    session.commit()
    evaluation = run_evaluation(session, world.evaluator, world.plan, EvaluationKind.ANNUAL, 2025,
                                proceed_unconfirmed=True)
    session.commit()
    document = _document(evaluation_report(session, evaluation, EXPORTED))
    row = next(r for r in document.tables[0].rows if r.cells[1].text.endswith("每千人床位数"))
    assert [c.text for c in row.cells][-3:-2] == ["7.1"] and row.cells[-1].text == "已退回"
    texts = _texts(document)
    assert any("未确认的监测值1个，不予评判、不计分：每千人床位数7.1（已退回，退回原因：口径有误）。" in t for t in texts)
    assert any("有1个监测值未经确认" in t for t in texts)


def test_problems_and_suggestions_come_from_the_figures(app: Flask, world: World, session: Session) -> None:
    evaluation = _evaluated(world, session)
    texts = _texts(_document(evaluation_report(session, evaluation, EXPORTED)))
    problems = texts[texts.index("六、存在问题") + 1:texts.index("七、下一步工作建议")]
    assert problems[0].startswith("（一）部分预期性、指导性指标未达到目标或进度要求。孕产妇死亡率（目标值7以下，2025年7.6，未达成）")
    assert any("到期未完成任务较多的单位：" in p and "甲处（" in p for p in problems)
    suggestions = texts[texts.index("七、下一步工作建议") + 1:]
    assert suggestions[0].startswith("（一）聚焦滞后指标加力攻坚。") and "孕产妇死亡率" in suggestions[0]


def test_evaluators_text_replaces_the_drafted_one(app: Flask, world: World, session: Session) -> None:
    evaluation = _evaluated(world, session)
    texts = _texts(_document(evaluation_report(session, evaluation, EXPORTED, problems=["基层人才短缺。。"],
                                               suggestions=["加强人才队伍建设"])))
    assert texts[texts.index("六、存在问题") + 1] == "（一）基层人才短缺。"
    assert texts[texts.index("七、下一步工作建议") + 1] == "（一）加强人才队伍建设。"


def test_pdf_route_without_libreoffice(app: Flask, world: World, session: Session,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    evaluation = _evaluated(world, session)
    monkeypatch.setattr(documents, "libreoffice", lambda: None)
    client = app.test_client()
    login(client, world.leader.username)
    page = client.get(f"/evaluations/{evaluation.id}").get_data(as_text=True)
    assert "report.docx" in page and "report.pdf" not in page
    response = client.get(f"/evaluations/{evaluation.id}/report.pdf")
    assert response.status_code == 404 and "没有安装 LibreOffice" in response.get_data(as_text=True)


@needs_pdf_tools[0]
@needs_pdf_tools[1]
def test_pdf_route(app: Flask, world: World, session: Session, tmp_path: Path) -> None:
    evaluation = _evaluated(world, session)
    client = app.test_client()
    login(client, world.leader.username)
    assert f"/evaluations/{evaluation.id}/report.pdf" in client.get(f"/evaluations/{evaluation.id}").get_data(
        as_text=True)
    response = _download(app, world.leader.username, f"/evaluations/{evaluation.id}/report.pdf")
    assert response.mimetype == "application/pdf"
    check_pdf(response.data, tmp_path, TITLE)


def test_the_evaluators_words_go_into_the_report_and_stay_with_the_version(app: Flask, world: World,
                                                                          session: Session) -> None:
    from tracker.evaluations.services import lock, write_conclusions

    evaluation = _evaluated(world, session)
    write_conclusions(session, world.evaluator, evaluation, {
        "overview": "全年规划实施总体平稳。", "problems": "基层人才短缺。\n\n  信息化进度慢。  ",
        "suggestions": "加大人才引进力度。"})
    assert evaluation.problems == "基层人才短缺。\n信息化进度慢。"
    texts = _texts(_document(evaluation_report(session, evaluation, EXPORTED)))
    assert "全年规划实施总体平稳。" in texts
    assert any(t.endswith("基层人才短缺。") for t in texts) and any(t.endswith("信息化进度慢。") for t in texts)
    assert any(t.endswith("加大人才引进力度。") for t in texts)
    lock(session, world.evaluator, evaluation, confirmed=True)
    import pytest

    from tracker.errors import DomainError

    with pytest.raises(DomainError):
        write_conclusions(session, world.evaluator, evaluation, {"overview": "改写"})
