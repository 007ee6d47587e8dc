"""The importer on the corpus of fictional plan documents (and the seeds): scores, details, PDF and --json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tracker.errors import DomainError
from tracker.imports import prose
from tracker.imports.extract import Paragraph, extract
from tracker.imports.pdf import NO_TEXT, read_pdf
from tracker.imports.services import read_document

from ..conftest import client_for
from . import score
from .corpus.documents import DOCUMENTS, CorpusDocument
from .corpus.render import libreoffice, to_docx, to_pdf

# What the importer reaches on the corpus today (recall and precision, %): a change that reads the corpus
# worse fails here. The goal is 95/95 for key tasks and measures and 100/100 for table rows.
THRESHOLDS = {"key_tasks": (100, 100), "measures": (100, 100), "indicators": (100, 100), "reviews": (100, 100),
              "projects": (100, 100)}

needs_office = pytest.mark.skipif(libreoffice() is None, reason="LibreOffice is not installed")


def _no_pdf() -> list[CorpusDocument]:
    return [d for d in DOCUMENTS if not d.fmt.startswith("pdf")]


@pytest.fixture(scope="module")
def results() -> list[score.Result]:
    files = score.build(_no_pdf())
    out = [score.score_document(d.name, d.fmt, d.filename, files[d.name], d.expected) for d in _no_pdf()]
    for name, path, expected in score.seed_documents():
        out.append(score.score_document(name, "txt", path.name, path.read_bytes(), expected))
    return out


@pytest.fixture(scope="module")
def pdf_results(tmp_path_factory: pytest.TempPathFactory) -> list[score.Result]:
    documents = [d for d in DOCUMENTS if d.fmt.startswith("pdf")]
    files = score.build(documents, tmp_path_factory.mktemp("pdf"))
    return [score.score_document(d.name, d.fmt, d.filename, files[d.name], d.expected) for d in documents]


def _check_thresholds(results: list[score.Result]) -> None:
    total = score.totals(results)
    low = {k: (round(s.recall), round(s.precision)) for k, s in total.items()
           if s.recall < THRESHOLDS[k][0] or s.precision < THRESHOLDS[k][1]}
    misses = [f"{r.name} {k}: missing {s.missing} extra {s.extra}" for r in results for k, s in r.scores.items()
              if s.missing or s.extra]
    assert not low, f"below the thresholds: {low}\n{score.table(results)}\n" + "\n".join(misses)


def test_the_corpus_scores_at_the_thresholds(results: list[score.Result]) -> None:
    assert len([r for r in results if not r.name.startswith("seed")]) >= 7
    _check_thresholds(results)


@pytest.mark.libreoffice
@needs_office
def test_the_pdf_corpus_scores_at_the_thresholds(pdf_results: list[score.Result]) -> None:
    _check_thresholds(pdf_results)


def _facts(result: score.Result, doc: CorpusDocument) -> list[str]:
    draft = result.draft
    entries: dict[str, dict[str, dict[str, Any]]] = {
        "item": {i["title"]: i for i in draft["items"]},
        "indicator": {i["name"]: i for i in draft["indicators"]},
        "review": {r["name"]: r for t in draft["reviews"] for r in t["rows"]},
        "project": {p["name"]: p for p in draft["projects"]},
    }
    wrong = []
    for kind, title, field, value in doc.facts:
        entry = entries[kind].get(title)
        got = None if entry is None else entry.get(field)
        if got != value:
            wrong.append(f"{doc.name}: {kind} {title} {field} = {got!r}, expected {value!r}")
    return wrong


def test_deadlines_departments_categories_and_columns(results: list[score.Result]) -> None:
    by_name = {d.name: d for d in DOCUMENTS}
    wrong = [w for r in results if r.name in by_name for w in _facts(r, by_name[r.name])]
    assert not wrong, "\n".join(wrong)


@pytest.mark.libreoffice
@needs_office
def test_pdf_details(pdf_results: list[score.Result]) -> None:
    by_name = {d.name: d for d in DOCUMENTS}
    wrong = [w for r in pdf_results for w in _facts(r, by_name[r.name])]
    assert not wrong, "\n".join(wrong)


def test_narrative_chapters_hold_no_tasks(results: list[score.Result]) -> None:
    draft = next(r.draft for r in results if r.name == "qingshan_county_plan")
    by_title = {i["title"]: i for i in draft["items"]}
    for title in ("发展成就", "面临形势", "指导思想", "发展目标", "加强组织领导", "强化投入保障"):
        assert by_title[title]["type"] == "section" and by_title[title]["narrative"], title
    assert by_title["保障措施"]["type"] == "chapter" and by_title["保障措施"]["narrative"]
    assert not by_title["健全公共卫生体系"]["narrative"]


def test_sum_rows_and_status_tables(results: list[score.Result]) -> None:
    qingshan = next(r.draft for r in results if r.name == "qingshan_county_plan")
    assert [p["name"] for p in qingshan["projects"]] == ["县人民医院医技综合楼", "县中医院康复中心", "乡镇卫生院提升工程"]
    projects = next(t for t in qingshan["tables"] if t["kind"] == "projects")
    assert any("合计" in n for n in projects["notes"])
    fengqiao = next(r.draft for r in results if r.name == "fengqiao_talent_plan")
    assert len(fengqiao["indicators"]) == 4  # the 合计 row is not an indicator


def test_prose_rules() -> None:
    assert prose.deadline("2027年底前完成") == "2027-12-31"
    assert prose.deadline("到2029年，建成") == "2029-12-31"
    assert prose.deadline("2026年6月底前出台") == "2026-06-30"
    assert prose.deadline("2026年上半年完成") == "2026-06-30"
    assert prose.deadline("2025年，全县共有") is None and prose.deadline("2026年3月，召开会议") is None
    found = prose.departments("推进。（牵头单位：县卫生健康局；配合单位：县财政局、县医保局）")
    assert found is not None and (found.lead, found.co) == ("县卫生健康局", ["县财政局", "县医保局"])
    found = prose.departments("责任单位：市卫生健康委、市中医院。")
    assert found is not None and (found.lead, found.co) == ("市卫生健康委", ["市中医院"])
    assert prose.departments("加强部门协作。") is None
    lead, points = prose.ordinal_points("要抓好三项工作。一是加强队伍建设，招录人才。二是完善制度；三是强化保障。")
    assert lead == "要抓好三项工作。" and [p.title for p in points] == ["加强队伍建设", "完善制度", "强化保障"]
    assert prose.ordinal_points("一是加强队伍建设。")[1] == []  # a single point is no list
    assert prose.is_narrative("保障措施") and prose.is_narrative("指导思想、基本原则和发展目标")
    assert not prose.is_narrative("加强规划实施保障") and not prose.is_narrative("强化公共卫生体系")


# ------------------------------------------------------------------------------------------- PDF


def _empty_pdf() -> bytes:
    """A valid one-page PDF with nothing on the page: what a scan looks like to a text reader."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
               b"<< /Length 0 >>\nstream\n\nendstream"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_a_pdf_without_text_is_refused_with_a_clear_message() -> None:
    with pytest.raises(DomainError) as caught:
        read_pdf(_empty_pdf())
    assert caught.value.message == NO_TEXT and "扫描件" in NO_TEXT
    with pytest.raises(DomainError, match="扫描件"):
        read_document("规划.pdf", _empty_pdf())


LONG = """
长河县卫生健康事业发展规划
长河县卫生健康局
一、推进公共卫生体系建设
（一）加强疾病预防控制
1．推进疾控中心建设。{long}
2．加强监测预警。2027年底前建成监测平台。
[表] 表1 长河县卫生健康主要指标
类别 | 序号 | 指标 | 单位 | 2025年 | 2030年 | 属性
{rows}
"""


@pytest.mark.libreoffice
@needs_office
def test_pdf_paragraphs_and_tables_across_pages(tmp_path: Path) -> None:
    long = "".join(f"第{n}项工作要求各单位按照职责分工抓好落实并定期报送进展情况，" for n in range(1, 60)) + "确保取得实效。"
    rows = "\n".join(f"{'资源' if n == 1 else '^'} | {n} | 指标{n}号 | 人 | {n}.0 | {n + 1}.0 | 预期性"
                     for n in range(1, 41))
    markup = LONG.format(long=long, rows=rows)
    pdf = to_pdf({"long": to_docx(markup, "direct")}, tmp_path)["long"]
    draft = extract(read_pdf(pdf))
    measure = next(i for i in draft["items"] if i["title"] == "推进疾控中心建设")
    assert "第1项" in measure["description"] and measure["description"].endswith("确保取得实效。")  # one paragraph
    assert [i["name"] for i in draft["indicators"]] == [f"指标{n}号" for n in range(1, 41)]  # header not repeated
    assert {i["category"] for i in draft["indicators"]} == {"资源"}  # merged down the pages
    assert draft["items"][-1]["deadline"] == "2027-12-31"


@pytest.mark.libreoffice
@needs_office
def test_a_two_column_pdf_is_read_column_by_column(tmp_path: Path) -> None:
    doc = next(d for d in DOCUMENTS if d.fmt == "pdf:columns")
    pdf = to_pdf({"columns": to_docx(doc.markup, "columns")}, tmp_path)["columns"]
    texts = [b.text for b in read_pdf(pdf) if isinstance(b, Paragraph)]
    # every paragraph whole, in the document's order: down the left column, then the right, then the next page
    expected = [line.strip() for line in doc.markup.strip().splitlines() if line.strip()]
    assert texts == expected


def _word(x0: float, x1: float, top: float) -> dict[str, float]:
    return {"x0": x0, "x1": x1, "top": top, "bottom": top + 16}


def test_the_gutter_is_found_only_between_two_columns() -> None:
    from tracker.imports.pdf import _gutter, _regions

    two = [_word(90, 282, 100 + 22 * n) for n in range(10)] + [_word(317, 509, 100 + 22 * n) for n in range(10)]
    title = [_word(90, 511, 60)]
    gutter = _gutter(title + two)
    assert gutter is not None and 282 <= gutter[0] < gutter[1] <= 317
    regions = _regions((0, 0, 612, 792), title + two, [], gutter)
    assert [column for _box, column in regions] == [0, 1, None, 0, 1]  # (empty) above the title, the title, below
    one = [_word(90, 509, 100 + 22 * n) for n in range(20)]
    assert _gutter(one) is None  # lines across the page
    short = [_word(90, 200 + n, 100 + 22 * n) for n in range(20)]
    assert _gutter(short) is None  # short lines on the left: nothing on the other side
    ragged = one + [_word(90, 250, 600), _word(400, 509, 600)]
    assert _gutter(ragged) is None  # one line with a gap is no column


# ------------------------------------------------------------------------------------------- --json


def test_import_plan_dry_run_json(app: Flask, tmp_path: Path) -> None:
    doc = next(d for d in DOCUMENTS if d.name == "qingshan_county_plan")
    path = tmp_path / doc.filename
    path.write_bytes(to_docx(doc.markup, doc.fmt))
    result = app.test_cli_runner().invoke(args=["import-plan", str(path), "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["plan"]["title"] == "青山县“十五五”卫生健康事业发展规划"
    item = next(i for i in data["items"] if i["title"] == "推进县疾控中心标准化建设")
    assert (item["type"], item["code"], item["parent_code"], item["deadline"]) == ("measure", "3.1.1", "3.1",
                                                                                  "2027-12-31")
    assert (item["lead_text"], item["co_text"], item["unsure"]) == ("县卫生健康局", ["县发展改革局"], False)
    indicator = data["indicators"][0]
    assert {"category", "number", "name", "unit", "baseline", "baseline_year", "target", "target_year",
            "nature"} <= set(indicator)
    project = data["projects"][1]
    assert (project["name"], project["nature"], project["start_year"], project["end_year"], project["period"],
            project["owner"]) == ("县中医院康复中心", "改扩建", 2027, 2029, "12000", "县中医院")
    assert data["reviews"][0]["rows"][1]["actual"] == "5.2"
    assert data["counts"]["重点任务"] == 5
    result = app.test_cli_runner().invoke(args=["import-plan", str(path), "--json"])
    assert result.exit_code == 1 and "--dry-run" in result.output


# ------------------------------------------------------------------------------------------- upload and confirm

NAMED = """浙江省公共卫生能力提升行动方案（2026—2028年）
一、重点任务
（一）强化疾病预防控制
1．推进疾控机构标准化建设。2027年底前全部达标。（牵头单位：疾控处；配合单位：医政医管处）
2．加强监测预警。（责任单位：省林业局）
3．提升实验室检测能力。
"""


def test_uploaded_departments_and_deadlines_reach_the_plan(demo: Flask, db) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from tracker.planning.models import Plan
    from tracker.tasks.models import Task

    from .test_documents import dept, document_id, latest, upload

    planner = client_for(demo, "zj_planner")
    doc_id = document_id(upload(planner, "公共卫生行动方案.txt", NAMED.encode()))
    items = {i["title"]: i for i in latest(db).draft["items"]}
    first = items["推进疾控机构标准化建设"]
    assert (first["lead"], first["co"], first["unsure"]) == (dept(db, "疾控处").id, [dept(db, "医政医管处").id], False)
    second = items["加强监测预警"]
    assert second["lead"] is None and second["unsure"] and "省林业局" in second["reason"]
    response = planner.post(f"/imports/{doc_id}/confirm", data={
        "mode": "new", "title": "浙江省公共卫生能力提升行动方案", "short_name": "公卫能力提升", "start_year": "2026",
        "end_year": "2028", "investment_unit": "yi", "stage": "issued",
        "default_lead_id": dept(db, "规划发展与信息化处").id})
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    db.rollback()
    plan = db.scalars(select(Plan).where(Plan.short_name == "公卫能力提升")).one()
    tasks = {t.title: t for t in db.scalars(select(Task).where(Task.plan_id == plan.id))}
    standard = tasks["推进疾控机构标准化建设"]
    assert standard.deadline.isoformat() == "2027-12-31" and standard.lead_department.name == "疾控处"
    assert [d.name for d in standard.co_departments] == ["医政医管处"]
    assert tasks["提升实验室检测能力"].deadline.isoformat() == "2028-12-31"  # the plan's end


def test_a_unit_alone_in_a_row_is_not_a_category() -> None:
    from .conftest import text_draft

    draft = text_draft("\n".join([
        "某县卫生健康发展规划（2026—2030年）",
        "| 序号 | 指标 | 单位 | 2025年 | 2030年 | 属性 |",
        "| --- | --- | --- | --- | --- | --- |",
        "| 1 | 每千人口医疗卫生机构床位数 | 张 | 5.1 | 6.0 | 预期性 |",
        "|  |  | 张 |  |  |  |",
        "| 2 | 每千人口注册护士数 | 人 | 3.3 | 4.0 | 预期性 |",
        "| 合计 |  |  |  |  |  |",
    ]))
    assert [(i["name"], i["category"]) for i in draft["indicators"]] == [
        ("每千人口医疗卫生机构床位数", None), ("每千人口注册护士数", None)]
