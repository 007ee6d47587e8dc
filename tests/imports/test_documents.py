"""Uploading plan documents, working on the draft and confirming it into a plan."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tracker.audit import AuditEntry
from tracker.imports.models import ImportDocument, ImportKind, ImportState, KeywordRule
from tracker.indicators.models import Indicator, IndicatorNature
from tracker.planning.models import Plan, PlanStage
from tracker.projects.models import KeyProject
from tracker.regions.models import Department
from tracker.tasks.models import Task, TaskKind, TaskLevel

from .conftest import client_for, seed
from .docgen import build_docx


def upload(client, name: str, data: bytes, url: str = "/imports"):  # type: ignore[no-untyped-def]
    # The body is encoded in memory: the test client's own temporary file for large bodies is never closed.
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), name)})
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def document_id(response) -> int:  # type: ignore[no-untyped-def]
    match = re.search(r"/imports/(\d+)$", response.headers["Location"])
    assert match, response.headers.get("Location")
    return int(match.group(1))


def latest(db: Session) -> ImportDocument:
    db.rollback()
    return db.scalars(select(ImportDocument).order_by(ImportDocument.id.desc())).first()  # type: ignore[return-value]


def dept(db: Session, name: str, region: str = "330000") -> Department:
    return db.scalars(select(Department).join(Department.region).where(Department.name == name,
                                                                       Department.region.has(code=region))).one()


def item(document: ImportDocument, title: str) -> dict:
    return next(i for i in document.draft["items"] if i["title"] == title)


@pytest.fixture
def planner(demo: Flask):  # type: ignore[no-untyped-def]
    return client_for(demo, "zj_planner")


@pytest.fixture
def provincial_docx(provincial_text: str) -> bytes:
    return build_docx(provincial_text)


def test_upload_preview_and_confirm_the_provincial_plan(planner, db: Session, provincial_docx: bytes) -> None:
    response = upload(planner, "浙江省卫生健康事业发展十四五规划.docx", provincial_docx)
    assert response.status_code == 302
    doc_id = document_id(response)
    page = planner.get(f"/imports/{doc_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "强化公共卫生安全防控体系建设" in html and "专栏17" in html and "待核对" in html
    assert "人均预期寿命" in html and "“十三五”规划主要指标完成情况" in html

    document = latest(db)
    assert document.state == ImportState.DRAFT and document.kind == ImportKind.DOCUMENT
    # fix a doubted item: the background chapter becomes a checked chapter
    chapter = item(document, "发展背景")
    assert chapter["unsure"]
    response = planner.post(f"/imports/{doc_id}/items/{chapter['id']}", data={
        "rev": document.draft["rev"], "type": "chapter", "code": "一", "title": "发展背景（不含任务）",
        "description": "", "kind": "task", "parent": "", "lead": ""})
    assert response.status_code == 302
    document = latest(db)
    fixed = item(document, "发展背景（不含任务）")
    assert not fixed["unsure"] and fixed["checked"]

    # departments by keyword rules
    for keyword, name in [("中医", "中医药管理处"), ("公共卫生", "疾控处"), ("医疗", "医政医管处"), ("人才", "人事处")]:
        response = planner.post(f"/imports/{doc_id}/rules", data={"keyword": keyword, "department_id": dept(db, name).id})
        assert response.status_code == 302
    response = planner.post(f"/imports/{doc_id}/assign", data={"rev": latest(db).draft["rev"]})
    assert response.status_code == 302
    document = latest(db)
    assert item(document, "健全中医医疗服务体系")["lead"] == dept(db, "中医药管理处").id
    assert item(document, "强化公共卫生安全防控体系建设")["lead"] == dept(db, "疾控处").id
    # "强化突发公共卫生事件医疗救治能力建设": 公共卫生 first in the title leads, 医疗 co-operates
    both = item(document, "强化突发公共卫生事件医疗救治能力建设")
    assert both["lead"] == dept(db, "疾控处").id and both["co"] == [dept(db, "医政医管处").id]

    # confirm without a default lead while some tasks have none: refused next to the field, nothing created
    plans_before = db.scalar(select(func.count()).select_from(Plan))
    form = {"mode": "new", "title": "浙江省卫生健康事业发展“十四五”规划（导入）", "short_name": "省卫健十四五导入",
            "start_year": "2021", "end_year": "2025", "parent_id": "", "investment_unit": "yi", "stage": "issued",
            "stage_date": "2021-05-08", "default_lead_id": ""}
    response = planner.post(f"/imports/{doc_id}/confirm", data=form)
    assert response.status_code == 422
    assert "还没有牵头单位" in response.get_data(as_text=True)
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Plan)) == plans_before

    form["default_lead_id"] = str(dept(db, "规划发展与信息化处").id)
    # 表2 does not say which indicators are 约束性: the planner chooses (here: all 预期性, as the seed has them)
    assert planner.post(f"/imports/{doc_id}/natures", data={"rev": latest(db).draft["rev"],
                                                           "nature": "expected"}).status_code == 302
    response = planner.post(f"/imports/{doc_id}/confirm", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.rollback()
    plan = db.scalars(select(Plan).where(Plan.short_name == "省卫健十四五导入")).one()
    assert response.headers["Location"].endswith(f"/plans/{plan.id}")
    tasks = list(db.scalars(select(Task).where(Task.plan_id == plan.id)))
    by_level = {lv: [t for t in tasks if t.level == lv] for lv in TaskLevel}
    assert len(by_level[TaskLevel.CHAPTER]) == 11
    assert len(by_level[TaskLevel.KEY_TASK]) == 33
    assert len(by_level[TaskLevel.MEASURE]) == 17  # the 专栏, under the key task they follow
    box = next(t for t in tasks if t.code == "专栏1")
    assert box.parent.code == "4" and box.kind == TaskKind.PROJECT
    assert box.project is not None and len(box.project.items) == 5
    reform = next(t for t in tasks if t.code == "专栏2")
    assert reform.kind == TaskKind.REFORM and reform.project is None
    key = next(t for t in tasks if t.code == "1")
    assert key.parent.code == "三" and key.lead_department.name == "疾控处"
    assert key.deadline.isoformat() == "2025-12-31" and key.start_date.isoformat() == "2021-01-01"
    indicators = list(db.scalars(select(Indicator).where(Indicator.plan_id == plan.id).order_by(Indicator.number)))
    assert len(indicators) == 20
    assert indicators[0].baseline_text == "79.47" and indicators[0].target_text == "80以上"
    assert indicators[0].definition.startswith("一般指")
    assert all(i.nature == IndicatorNature.EXPECTED for i in indicators)
    assert plan.stage == PlanStage.ISSUED
    document = latest(db)
    assert document.state == ImportState.CONFIRMED and document.plan_id == plan.id
    assert db.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.object_type == "tasks", AuditEntry.object_id.in_([t.id for t in tasks]))) == len(tasks)

    # the same file again: recognised, offered as an update of that plan
    response = upload(planner, "再次上传.docx", provincial_docx)
    again = document_id(response)
    assert again != doc_id
    page = planner.get(f"/imports/{again}").get_data(as_text=True)
    assert "更新原规划" in page
    document = latest(db)
    assert document.plan_id == plan.id
    response = planner.post(f"/imports/{again}/confirm", data={**form, "mode": "update"})
    assert response.status_code == 302
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Plan).where(Plan.short_name == "省卫健十四五导入")) == 1
    assert db.scalar(select(func.count()).select_from(Task).where(Task.plan_id == plan.id)) == len(tasks)
    # the first chapter was renamed in the first draft; the document's own title comes back as an update
    assert db.scalar(select(Task.title).where(Task.plan_id == plan.id, Task.code == "一")) == "发展背景"


def test_an_open_draft_is_reopened_not_duplicated(planner, db: Session) -> None:
    data = seed("001").read_bytes()
    first = document_id(upload(planner, "乐清说明.txt", data))
    response = upload(planner, "乐清说明-副本.txt", data)
    assert document_id(response) == first
    assert db.scalar(select(func.count()).select_from(ImportDocument)) == 1
    with planner.session_transaction() as flask_session:
        messages = [m for _c, m in flask_session.get("_flashes", [])]
    assert any("已上传过" in m for m in messages)


def test_edit_delete_merge_and_move(planner, db: Session) -> None:
    doc_id = document_id(upload(planner, "温州说明.txt", seed("000").read_bytes()))
    document = latest(db)
    rev = document.draft["rev"]
    first, second = (i for i in document.draft["items"] if i["type"] == "key_task" and i["code"] in ("1", "2"))
    # merge the second key task into the first
    assert planner.post(f"/imports/{doc_id}/items/{second['id']}/merge", data={"rev": rev}).status_code == 302
    document = latest(db)
    merged = item(document, first["title"])
    assert second["title"] in merged["description"]
    assert not any(i["id"] == second["id"] for i in document.draft["items"])
    # a stale form is refused (409) and changes nothing
    response = planner.post(f"/imports/{doc_id}/items/{first['id']}/merge", data={"rev": rev})
    assert response.status_code == 409
    # move a key task under another chapter
    chapter_three = item(document, "其他事项")
    response = planner.post(f"/imports/{doc_id}/items/{first['id']}", data={
        "rev": document.draft["rev"], "type": "key_task", "code": "1", "title": merged["title"],
        "description": merged["description"], "kind": "task", "parent": chapter_three["id"], "lead": ""})
    assert response.status_code == 302
    document = latest(db)
    assert item(document, merged["title"])["parent"] == chapter_three["id"]
    # a measure cannot sit under a chapter: refused next to the field
    response = planner.post(f"/imports/{doc_id}/items/{first['id']}", data={
        "rev": document.draft["rev"], "type": "measure", "code": "1", "title": merged["title"], "kind": "task",
        "parent": chapter_three["id"], "lead": ""})
    assert response.status_code == 422
    assert "工作举措须位于重点任务之下" in response.get_data(as_text=True)
    # a code already used is refused
    response = planner.post(f"/imports/{doc_id}/items/{first['id']}", data={
        "rev": document.draft["rev"], "type": "key_task", "code": "3", "title": "x", "kind": "task", "parent": ""})
    assert response.status_code == 422 and "已被" in response.get_data(as_text=True)
    # delete the section "主要任务": its key tasks move up to the chapter
    section = item(document, "主要任务")
    response = planner.post(f"/imports/{doc_id}/items/{section['id']}/delete", data={"rev": document.draft["rev"]})
    assert response.status_code == 302
    document = latest(db)
    chapter_two = item(document, "主要内容")
    assert item(document, "打造具有区域辐射力的医疗高地")["parent"] == chapter_two["id"]
    # delete a chapter with everything under it
    response = planner.post(f"/imports/{doc_id}/items/{chapter_two['id']}/delete",
                            data={"rev": document.draft["rev"], "with_children": "y"})
    assert response.status_code == 302
    assert not any(i["type"] == "key_task" and i["parent"] == chapter_two["id"] for i in latest(db).draft["items"])


def test_indicators_candidates_and_bulk_assignment(planner, db: Session) -> None:
    doc_id = document_id(upload(planner, "温州说明.txt", seed("000").read_bytes()))
    document = latest(db)
    candidate = next(c for c in document.draft["candidates"] if c["name"] == "传染病收治能力")
    assert planner.post(f"/imports/{doc_id}/candidates/{candidate['id']}/promote",
                        data={"rev": document.draft["rev"]}).status_code == 302
    document = latest(db)
    indicator = document.draft["indicators"][0]
    assert (indicator["name"], indicator["target"], indicator["target_year"], indicator["unsure"]) == (
        "传染病收治能力", "1.5床/万人", 2025, True)
    response = planner.post(f"/imports/{doc_id}/indicators/{indicator['id']}", data={
        "rev": document.draft["rev"], "number": "1", "category": "服务体系", "name": "传染病收治能力", "unit": "床/万人",
        "target": "", "nature": "binding"})
    assert response.status_code == 422 and "请填写目标值" in response.get_data(as_text=True)
    response = planner.post(f"/imports/{doc_id}/indicators/{indicator['id']}", data={
        "rev": document.draft["rev"], "number": "1", "category": "服务体系", "name": "传染病收治能力", "unit": "床/万人",
        "target": "1.5", "target_year": "2025", "nature": "binding"})
    assert response.status_code == 302
    indicator = latest(db).draft["indicators"][0]
    assert indicator["nature"] == "binding" and not indicator["unsure"]
    # bulk: the chosen key tasks get one lead
    document = latest(db)
    chosen = [i["id"] for i in document.draft["items"] if i["type"] == "key_task"][:3]
    response = planner.post(f"/imports/{doc_id}/bulk", data={"rev": document.draft["rev"], "items": chosen,
                                                             "lead": dept(db, "疾控处").id})
    assert response.status_code == 302
    document = latest(db)
    assert [i["lead"] for i in document.draft["items"] if i["id"] in chosen] == [dept(db, "疾控处").id] * 3
    response = planner.post(f"/imports/{doc_id}/bulk", data={"rev": document.draft["rev"], "lead": dept(db, "疾控处").id})
    assert response.status_code == 422 and "请先勾选" in response.get_data(as_text=True)
    # a rule needs a department of the region
    other = dept(db, "疾控处", region="330300")
    response = planner.post(f"/imports/{doc_id}/rules", data={"keyword": "疾控", "department_id": other.id})
    assert response.status_code == 422 and "不属于本地区" in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(KeywordRule)) == 0


def test_a_document_with_projects_becomes_key_projects(planner, db: Session) -> None:
    text = "\n".join([
        "浙江省医疗卫生服务体系“十四五”规划", "一、建设强大公共卫生体系", "1．强化疾控体系。内容。",
        "附表  重大项目表（单位：亿元）",
        "| 序号 | 项目名称 | 建设内容 | 总投资 | “十四五”期间投资 | 建设单位 | 建设年限 |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        "| 1 | 省疾控中心迁建 | 新建业务用房 | 12.5 | 10 | 省疾病预防控制中心 | 2021-2024 |",
        "| 2 | 省急救指挥中心 | 改扩建 | 待定 | 3 | 某单位 | 2022-2025 |",
    ])
    doc_id = document_id(upload(planner, "项目.md", text.encode()))
    response = planner.post(f"/imports/{doc_id}/confirm", data={
        "mode": "new", "title": "浙江省医疗卫生服务体系“十四五”规划", "short_name": "医疗服务体系", "start_year": "2021",
        "end_year": "2025", "investment_unit": "yi", "stage": "issued", "default_lead_id": dept(db, "规划发展与信息化处").id})
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    db.rollback()
    plan = db.scalars(select(Plan).where(Plan.short_name == "医疗服务体系")).one()
    projects = list(db.scalars(select(KeyProject).join(Task).where(Task.plan_id == plan.id).order_by(Task.code)))
    assert [(p.task.title, p.total_investment, p.total_tbd, p.period_investment, p.task.lead_department.name)
            for p in projects] == [("省疾控中心迁建", 125000, False, 100000, "省疾病预防控制中心"),
                                   ("省急救指挥中心", None, True, 30000, "规划发展与信息化处")]
    assert projects[0].task.kind == TaskKind.PROJECT and projects[0].start_year == 2021


def test_discard(planner, db: Session) -> None:
    doc_id = document_id(upload(planner, "乐清.txt", seed("001").read_bytes()))
    assert planner.post(f"/imports/{doc_id}/discard", data={"rev": 0}).status_code == 302
    assert latest(db).state == ImportState.DISCARDED
    response = planner.post(f"/imports/{doc_id}/items/t1/delete", data={"rev": 0})
    assert response.status_code == 409 and "已放弃" in response.get_data(as_text=True)


def test_a_county_confirms_its_annual_action_plan(demo: Flask, db: Session) -> None:
    county = client_for(demo, "wl_planner")
    doc_id = document_id(upload(county, "温岭2021十大行动.txt", seed("002").read_bytes()))
    page = county.get(f"/imports/{doc_id}/confirm").get_data(as_text=True)
    start_field = re.search(r'<input[^>]*name="start_year"[^>]*>', page)
    assert start_field and 'value="2021"' in start_field.group(0)  # the annual plan's year, from its opening lines
    lead = dept(db, "规划财务科", region="331081")
    province = db.scalar(select(Plan.id).where(Plan.code == "zj-14"))
    rev = db.get(ImportDocument, doc_id).draft["rev"]
    assert county.post(f"/imports/{doc_id}/natures", data={"rev": rev, "nature": "expected"}).status_code == 302
    form = {"mode": "new", "title": "温岭市卫生健康2021年“十大行动”计划", "short_name": "温岭十大行动（导入）",
            "start_year": "2021", "end_year": "2021", "parent_id": str(province), "investment_unit": "wan",
            "stage": "issued", "default_lead_id": str(lead.id)}
    response = county.post(f"/imports/{doc_id}/confirm", data=form)  # the demo has this plan already
    assert response.status_code == 422 and "本地区已有同名规划" in response.get_data(as_text=True)
    response = county.post(f"/imports/{doc_id}/confirm", data=form | {"title": "温岭市卫生健康2021年“十大行动”计划（导入稿）"})
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    db.rollback()
    plan = db.scalars(select(Plan).where(Plan.short_name == "温岭十大行动（导入）")).one()
    assert plan.parent_id == province and plan.level.value == "county"
    tasks = list(db.scalars(select(Task).where(Task.plan_id == plan.id).order_by(Task.sort_order)))
    assert [t.code for t in tasks] == [str(n) for n in range(1, 11)]
    assert all(t.level == TaskLevel.KEY_TASK and t.parent_id is None and t.deadline.year == 2021 for t in tasks)
    indicators = list(db.scalars(select(Indicator).where(Indicator.plan_id == plan.id)))
    assert len(indicators) == 23 and all(i.target_year == 2021 for i in indicators)
    assert {i.target_rule["op"] for i in indicators} >= {"reach", "ge", "trend", "qualitative"}


# ------------------------------------------------------------------------------------------- the draft page's preview

PREVIEW = """某省卫生健康事业发展规划（2026—2030年）
一、发展基础
（一）主要成就
卫生健康事业取得长足进步。
（二）面临形势
人口老龄化加深。
二、主要任务
（一）强化疾病预防控制
1．推进疾控机构标准化建设。2027年底前全部达标。（牵头单位：疾控处；配合单位：医政处、省林业局）
2．加强监测预警。建立多点触发监测网络。
三、保障措施
（一）加强组织领导
各级要把卫生健康工作摆上重要位置。
"""


def test_the_draft_page_folds_narrative_chapters_and_shows_deadlines_and_departments(demo: Flask, db) -> None:  # type: ignore[no-untyped-def]
    planner = client_for(demo, "zj_planner")
    doc_id = document_id(upload(planner, "规划.txt", PREVIEW.encode()))
    items = {i["title"]: i for i in latest(db).draft["items"]}
    page = planner.get(f"/imports/{doc_id}").get_data(as_text=True)
    # narrative chapters: one row each, folded, with the switch; what lies under them is no row of its own
    assert page.count("叙述性章节（不生成任务）") == 2
    assert f'id="narrative-{items["发展基础"]["id"]}"' in page and f'id="item-{items["主要成就"]["id"]}"' not in page
    assert "主要成就" in page and "转为任务" in page
    # deadlines read from the text, else the plan's end; departments matched, close, unknown
    assert "期限：2027年12月31日" in page and "规划期末（原文未写明）" in page
    assert "牵头：疾控处<small class=\"muted\">（已匹配）" in page
    assert "配合：医政处<small class=\"danger\">（近似匹配“医政医管处”，请确认）" in page
    assert "配合：省林业局<small class=\"danger\">（未匹配到本地区部门，请选择）" in page
    measure = items["推进疾控机构标准化建设"]
    assert measure["unsure"] and "近似匹配" in measure["reason"] and dept(db, "医政医管处").id in measure["co"]

    # the switch: the narrative chapter's headings become key tasks
    rev = latest(db).draft["rev"]
    response = planner.post(f"/imports/{doc_id}/items/{items['保障措施']['id']}/tasks", data={"rev": rev})
    assert response.status_code == 302
    db.rollback()
    after = {i["title"]: i for i in latest(db).draft["items"]}
    assert after["加强组织领导"]["type"] == "key_task" and after["加强组织领导"]["unsure"]
    assert not after["保障措施"]["narrative"]
    page = planner.get(f"/imports/{doc_id}").get_data(as_text=True)
    assert page.count("叙述性章节（不生成任务）") == 1 and f'id="item-{after["加强组织领导"]["id"]}"' in page
    refused = planner.post(f"/imports/{doc_id}/items/{items['保障措施']['id']}/tasks",
                           data={"rev": latest(db).draft["rev"]})
    assert refused.status_code == 302
    assert "不是叙述性章节" in planner.get(refused.headers["Location"]).get_data(as_text=True)


def test_the_project_tables_nature_reaches_the_register(planner, db: Session) -> None:
    from tracker.imports.confirm import project_kind
    from tracker.projects.models import ProjectKind

    assert [project_kind(n) for n in ("新建", "改扩建", "改建", "整体迁建", "异地新建", "信息化", "续建", None)] == [
        ProjectKind.NEW, ProjectKind.EXPANSION, ProjectKind.EXPANSION, ProjectKind.RELOCATION, ProjectKind.RELOCATION,
        ProjectKind.DIGITAL, ProjectKind.OTHER, ProjectKind.OTHER]
    text = "\n".join([
        "某省医疗卫生服务体系规划（2026—2030年）", "一、建设强大公共卫生体系", "1．强化疾控体系。内容。",
        "附表  重大项目表（单位：万元）",
        "| 序号 | 项目名称 | 建设性质 | 建设内容 | 总投资 | 期内投资 | 建设单位 |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        "| 1 | 省疾控中心迁建 | 迁建 | 业务用房 | 125000 | 100000 | 省疾病预防控制中心 |",
        "| 2 | 省人民医院医技楼 | 新建 | 医技楼 | 80000 | 80000 | 省人民医院 |",
        "| 3 | 省中医院康复楼 | 改扩建 | 康复楼 | 30000 | 30000 | 省中医院 |",
        "| 4 | 省妇保院门诊楼 | 续建 | 门诊楼 | 20000 | 12000 | 省妇保院 |",
    ])
    doc_id = document_id(upload(planner, "项目.md", text.encode()))
    page = planner.get(f"/imports/{doc_id}").get_data(as_text=True)
    assert "建设性质：改扩建" in page
    response = planner.post(f"/imports/{doc_id}/confirm", data={
        "mode": "new", "title": "某省医疗卫生服务体系规划", "short_name": "服务体系规划", "start_year": "2026",
        "end_year": "2030", "investment_unit": "wan", "stage": "issued", "default_lead_id": dept(db, "规划发展与信息化处").id})
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    db.rollback()
    plan = db.scalars(select(Plan).where(Plan.short_name == "服务体系规划")).one()
    projects = {p.task.title: p for p in db.scalars(select(KeyProject).join(Task).where(Task.plan_id == plan.id))}
    assert {t: p.kind for t, p in projects.items()} == {
        "省疾控中心迁建": ProjectKind.RELOCATION, "省人民医院医技楼": ProjectKind.NEW, "省中医院康复楼": ProjectKind.EXPANSION,
        "省妇保院门诊楼": ProjectKind.OTHER}
    assert "建设性质：续建" in (projects["省妇保院门诊楼"].task.description or "")  # no kind for it: kept as text
    assert "建设性质：新建" not in (projects["省人民医院医技楼"].task.description or "")
    entry = db.scalars(select(AuditEntry).where(AuditEntry.object_type == "key_projects",
                                                AuditEntry.object_id == projects["省中医院康复楼"].id)).first()
    assert entry is not None and entry.changes["kind"] == [None, "改扩建"]
