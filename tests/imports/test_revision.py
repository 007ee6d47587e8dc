"""A revised plan document uploaded over a draft the planner has been correcting: corrections kept where
the document did not change, conflicts flagged where it did, added and removed items listed."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.audit import AuditEntry
from tracker.errors import DomainError
from tracker.imports import services
from tracker.imports.draft import Draft, ItemInput
from tracker.imports.models import ImportDocument, ImportState
from tracker.imports.revision import merge, remember_extraction

from .conftest import client_for, user
from .docgen import build_docx
from .test_documents import dept, document_id, upload

V1 = """某市卫生健康事业发展“十五五”规划
（2026—2030年）

一、总体要求
（一）指导思想
坚持人民至上、生命至上，推进健康某市建设。
二、主要任务
（一）强化公共卫生体系
1．完善疾病预防控制体系。建设市疾控中心实验室，提升检测能力。
2．提升应急处置能力。建设紧急医学救援基地。
3．加强慢性病综合防控。推进慢病示范区建设。
（二）优化医疗服务体系
4．推进紧密型县域医共体建设。完善医共体运行机制。
5．发展中医药事业。建设中医药传承创新中心。
三、保障措施
（一）加强组织领导
各级党委政府要把卫生健康工作摆上重要位置。
"""

# The revision: 1 gets a new text, 2 is gone, 4 gets a new title, a new task 5 comes before 中医药.
V2 = (V1.replace("建设市疾控中心实验室，提升检测能力。", "建设市疾控中心生物安全三级实验室，提升检测能力。")
      .replace("2．提升应急处置能力。建设紧急医学救援基地。\n", "")
      .replace("3．加强慢性病", "2．加强慢性病")
      .replace("4．推进紧密型县域医共体建设。", "3．推进紧密型县域医共体高质量建设。")
      .replace("5．发展中医药事业。", "4．建设智慧医疗平台。推进互联网医院建设。\n5．发展中医药事业。"))

OTHER = """某县老龄事业发展规划
（2026—2030年）

一、养老服务
1．建设居家养老服务中心。
2．发展老年教育。
二、老年健康
3．推进医养结合。
"""


def item_of(draft: Draft | dict, title: str):  # type: ignore[no-untyped-def]
    draft = draft if isinstance(draft, Draft) else Draft.from_json(draft)
    return next(i for i in draft.items if i.title == title)


def correct(db: Session, actor, document: ImportDocument, which: str, **changes) -> None:  # type: ignore[no-untyped-def]
    item = item_of(document.draft, which)
    data = ItemInput(type=item.type, code=item.code, title=item.title, description=item.description, kind=item.kind,
                     parent=item.parent, lead=item.lead, co=list(item.co))
    for k, v in changes.items():
        setattr(data, k, v)
    services.update_item(db, actor, document, item.id, data, document.draft.get("rev", 0))


@pytest.fixture
def first(demo: Flask, db: Session):  # type: ignore[no-untyped-def]
    """The first version uploaded and corrected by the provincial planner, the way the pages do it."""
    planner = user(db, "zj_planner")
    document = services.upload_document(db, planner, "十五五规划（征求意见稿）.docx", build_docx(V1)).document
    correct(db, planner, document, "加强慢性病综合防控", title="加强慢性病和重大疾病综合防控")
    correct(db, planner, document, "完善疾病预防控制体系", title="完善现代疾病预防控制体系")
    correct(db, planner, document, "发展中医药事业", lead=dept(db, "中医药管理处").id)
    db.commit()
    return planner, document


def test_a_revision_keeps_the_corrections_and_lists_the_differences(first, db: Session) -> None:  # type: ignore[no-untyped-def]
    planner, old = first
    before = dict(old.draft)
    document = services.upload_revision(db, planner, old, "十五五规划（送审稿）.docx", build_docx(V2))
    db.commit()
    draft = Draft.from_json(document.draft)
    summary = draft.extra["revision"]
    assert summary["previous_id"] == old.id
    # unchanged in the document, corrected by the planner: the correction stays, with the same id
    kept = item_of(draft, "加强慢性病和重大疾病综合防控")
    assert kept.id == item_of(before, "加强慢性病和重大疾病综合防控").id and kept.checked
    assert kept.code == "1.2"  # renumbered by the document (the planner did not change the code)
    assert "change" not in kept.extra
    tcm = item_of(draft, "发展中医药事业")
    assert tcm.lead == dept(db, "中医药管理处").id and tcm.checked and "change" not in tcm.extra
    # changed in the document and corrected by the planner: the correction stays, flagged with both texts
    conflict = item_of(draft, "完善现代疾病预防控制体系")
    assert conflict.extra["change"] == "conflict"
    row = next(c for c in summary["changed"] if c["id"] == conflict.id)
    assert row["conflict"] and row["fields"]["description"][1:] == [
        "建设市疾控中心实验室，提升检测能力。", "建设市疾控中心生物安全三级实验室，提升检测能力。"]
    # changed in the document, not corrected: the new text
    changed = item_of(draft, "推进紧密型县域医共体高质量建设")
    assert changed.extra["change"] == "changed"
    assert changed.id == item_of(before, "推进紧密型县域医共体建设").id
    # added and removed
    added = item_of(draft, "建设智慧医疗平台")
    assert added.extra["change"] == "added"
    assert [a["id"] for a in summary["added"]] == [added.id]
    assert added.id not in {i["id"] for i in before["items"]}
    assert [r["label"] for r in summary["removed"]] == ["工作举措 1.2 提升应急处置能力"]
    assert not any(i.title == "提升应急处置能力" for i in draft.items)
    # the old draft is replaced, and both steps are audited
    db.refresh(old)
    assert old.state == ImportState.DISCARDED and old.draft["items"] == before["items"]
    actions = set(db.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "import_documents",
                                                             AuditEntry.object_id.in_([old.id, document.id]))))
    assert {"replace", "revise"} <= actions

    # the planner decides the conflict and keeps the removed item after all
    services.decide_revision(db, planner, document, conflict.id, True, document.draft["rev"])
    removed = summary["removed"][0]["id"]
    services.keep_removed(db, planner, document, removed, document.draft["rev"])
    db.commit()
    draft = Draft.from_json(document.draft)
    assert item_of(draft, "完善现代疾病预防控制体系").description == "建设市疾控中心生物安全三级实验室，提升检测能力。"
    back = item_of(draft, "提升应急处置能力")
    assert back.unsure and back.extra["change"] == "kept" and back.parent == kept.parent
    assert draft.extra["revision"]["removed"][0]["kept"] == back.id


def test_a_second_revision_compares_with_the_first(first, db: Session) -> None:  # type: ignore[no-untyped-def]
    planner, old = first
    data = build_docx(V2)
    second = services.upload_revision(db, planner, old, "送审稿.docx", data)
    services.decide_revision(db, planner, second, item_of(second.draft, "完善现代疾病预防控制体系").id, False,
                             second.draft["rev"])
    with pytest.raises(DomainError, match="内容完全相同"):
        services.upload_revision(db, planner, second, "送审稿（副本）.docx", data)
    v3 = V2.replace("摆上重要位置。", "摆上重要位置，纳入考核。")
    third = services.upload_revision(db, planner, second, "印发稿.docx", build_docx(v3))
    draft = Draft.from_json(third.draft)
    summary = draft.extra["revision"]
    assert summary["added"] == [] and summary["removed"] == []
    assert [(c["label"], c["conflict"]) for c in summary["changed"]] == [("节 （一） 加强组织领导", False)]
    assert item_of(draft, "完善现代疾病预防控制体系").checked
    assert item_of(draft, "加强慢性病和重大疾病综合防控").checked


def test_bad_revisions_are_refused_and_the_draft_stays(first, db: Session) -> None:  # type: ignore[no-untyped-def]
    planner, old = first
    stored = dict(old.draft)
    for name, data, message in (
        ("其他规划.docx", build_docx(OTHER), "不是《某市卫生健康事业发展“十五五”规划》的修订版"),
        ("坏文件.docx", b"PK\x03\x04 not a zip", "已损坏"),
        ("空白.txt", b"", "上传"),
    ):
        with pytest.raises(DomainError) as refused:
            services.upload_revision(db, planner, old, name, data)
        assert refused.value.field == "file" and (message in refused.value.message or name == "空白.txt"), \
            refused.value.message
        db.rollback()
        db.refresh(old)
        assert old.state == ImportState.DRAFT and old.draft == stored
    count = db.scalar(select(ImportDocument.id).order_by(ImportDocument.id.desc()).limit(1))
    assert count == old.id  # no draft of a refused file was kept


def test_an_upload_is_offered_as_the_new_version_of_the_open_draft(first, db: Session) -> None:  # type: ignore[no-untyped-def]
    planner, old = first
    fresh = services.upload_document(db, planner, "送审稿.docx", build_docx(V2)).document
    assert services.revision_bases(db, fresh) == [old]
    other = services.upload_document(db, planner, "老龄.docx", build_docx(OTHER)).document
    assert services.revision_bases(db, other) == []
    summary = services.replace_draft(db, planner, fresh, old)
    assert len(summary["added"]) == 1 and len(summary["removed"]) == 1
    assert item_of(fresh.draft, "加强慢性病和重大疾病综合防控").checked
    assert old.state == ImportState.DISCARDED
    assert services.revision_bases(db, fresh) == []
    with pytest.raises(DomainError):
        services.replace_draft(db, planner, other, fresh)


def test_the_pages_offer_and_show_the_revision(first, demo: Flask, db: Session) -> None:  # type: ignore[no-untyped-def]
    planner, old = first
    client = client_for(demo, "zj_planner")
    page = client.get(f"/imports/{old.id}").get_data(as_text=True)
    assert "上传修订版" in page
    refused = upload(client, "坏.docx", b"PK\x03\x04 broken", f"/imports/{old.id}/revise")
    assert refused.status_code == 422 and "已损坏" in refused.get_data(as_text=True)
    response = upload(client, "送审稿.docx", build_docx(V2), f"/imports/{old.id}/revise")
    assert response.status_code == 302
    new_id = int(response.headers["Location"].split("/imports/")[1].split("#")[0])
    html = client.get(f"/imports/{new_id}").get_data(as_text=True)
    assert "与上一版相比" in html and "建设智慧医疗平台" in html and "提升应急处置能力" in html
    assert "采用新版原文" in html and "仍然保留" in html
    assert "尚未决定采用哪一版" in client.get(f"/imports/{new_id}/confirm").get_data(as_text=True)
    assert f"新版本（导入 {new_id}）" in client.get(f"/imports/{old.id}").get_data(as_text=True)
    db.rollback()
    draft = db.get(ImportDocument, new_id).draft  # type: ignore[union-attr]
    entry = draft["revision"]["removed"][0]["id"]
    kept = client.post(f"/imports/{new_id}/revision/{entry}/restore", data={"rev": draft["rev"]})
    assert kept.status_code == 302
    assert "已保留" in client.get(f"/imports/{new_id}").get_data(as_text=True)
    # a fresh upload of the same plan is offered as its new version
    fresh = upload(client, "印发稿.docx", build_docx(V2.replace("推进慢病示范区建设。", "推进慢病综合防控示范区建设。")))
    fresh_id = document_id(fresh)
    html = client.get(f"/imports/{fresh_id}").get_data(as_text=True)
    assert "作为新版本替换草稿《送审稿.docx》" in html
    replaced = client.post(f"/imports/{fresh_id}/replace/{new_id}", data={"rev": 0})
    assert replaced.status_code == 302
    html = client.get(f"/imports/{fresh_id}").get_data(as_text=True)
    assert "与上一版相比" in html and "推进慢病综合防控示范区建设" in html


def test_merge_of_indicators_and_projects() -> None:
    old = Draft.from_json({"indicators": [
        {"id": "i1", "number": 1, "name": "人均预期寿命", "target": "80以上", "unit": "岁"},
        {"id": "i2", "number": 2, "name": "婴儿死亡率", "target": "5以下", "unit": "‰"},
        {"id": "i3", "number": 3, "name": "孕产妇死亡率", "target": "10以下"}],
        "projects": [{"id": "p1", "name": "市人民医院新院区", "total": "10"}], "next_id": 10})
    remember_extraction(old)
    old.indicators[0].nature, old.indicators[0].checked = "binding", True  # the planner's choice
    old.indicators[1].target = "4.5以下"  # a correction
    new = Draft.from_json({"indicators": [
        {"id": "i1", "number": 1, "name": "人均预期寿命", "target": "80以上", "unit": "岁"},
        {"id": "i2", "number": 2, "name": "婴儿死亡率", "target": "4以下", "unit": "‰"},
        {"id": "i3", "number": 3, "name": "每千人口执业医师数", "target": "3.5"}],
        "projects": [{"id": "p1", "name": "市人民医院新院区建设", "total": "12"},
                     {"id": "p2", "name": "市疾控中心迁建", "total": "3"}]})
    remember_extraction(new)
    merged, summary = merge(old, new, previous_id=1, previous_filename="v1.docx")
    by_name = {i.name: i for i in merged.indicators}
    assert by_name["人均预期寿命"].nature == "binding" and by_name["人均预期寿命"].id == "i1"
    assert by_name["婴儿死亡率"].target == "4.5以下" and by_name["婴儿死亡率"].extra["change"] == "conflict"
    assert by_name["每千人口执业医师数"].extra["change"] == "added"
    assert [r["label"] for r in summary["removed"]] == ["3. 孕产妇死亡率"]
    projects = {p.name: p for p in merged.projects}
    assert projects["市人民医院新院区建设"].id == "p1" and projects["市人民医院新院区建设"].total == "12"
    assert projects["市疾控中心迁建"].extra["change"] == "added"


def test_a_revision_of_a_confirmed_plan_shows_what_would_change(first, db: Session) -> None:  # type: ignore[no-untyped-def]
    from tracker.imports.confirm import ConfirmInput, confirm, plan_differences
    from tracker.tasks.models import Task

    planner, old = first
    lead = dept(db, "规划发展与信息化处").id
    plan = confirm(db, planner, old, ConfirmInput(title="某市卫生健康事业发展“十五五”规划", short_name="某市十五五",
                                                  start_year=2026, end_year=2030, default_lead_id=lead)).plan
    db.commit()
    fresh = services.upload_document(db, planner, "印发稿.docx", build_docx(V2)).document
    assert services.revision_bases(db, fresh) == [old]
    summary = services.replace_draft(db, planner, fresh, old)
    db.commit()
    assert old.state == ImportState.CONFIRMED and fresh.plan_id == plan.id  # confirming offers "更新原规划"
    assert len(summary["added"]) == 1 and [r["label"] for r in summary["removed"]] == ["工作举措 1.2 提升应急处置能力"]
    assert item_of(fresh.draft, "加强慢性病和重大疾病综合防控").checked
    found = plan_differences(db, fresh)
    assert found is not None
    assert [i.title for i in found.new] == ["建设智慧医疗平台"]
    assert [(i.title, t.title) for i, t in found.retitled] == [("推进紧密型县域医共体高质量建设", "推进紧密型县域医共体建设")]
    assert ("1.2", "1.3") in [(i.code, t.code) for i, t in found.renumbered]
    assert [t.title for t in found.missing] == ["提升应急处置能力"]
    # applying it by code would pair the wrong tasks: refused, nothing changed (applying is optional)
    with pytest.raises(DomainError, match="调整了 .* 项任务的编号"):
        confirm(db, planner, fresh, ConfirmInput(title=plan.title, short_name=plan.short_name, start_year=2026,
                                                 end_year=2030, default_lead_id=lead, update=True))
    db.rollback()
    assert "建设智慧医疗平台" not in set(db.scalars(select(Task.title).where(Task.plan_id == plan.id)))


# ------------------------------------------------------------------------------------------- the planner's deletions


def test_what_the_planner_deleted_stays_deleted_and_can_be_restored(first, db: Session) -> None:  # type: ignore[no-untyped-def]
    planner, old = first
    tcm = item_of(old.draft, "发展中医药事业")
    services.delete_item(db, planner, old, tcm.id, with_children=False, rev=old.draft["rev"])
    gone = item_of(old.draft, "推进紧密型县域医共体建设")  # a key task with its measures
    services.delete_item(db, planner, old, gone.parent, with_children=True, rev=old.draft["rev"])
    db.commit()
    assert [r["entry"]["title"] for r in old.draft["deleted"]] == [
        "发展中医药事业", "优化医疗服务体系", "推进紧密型县域医共体建设"]

    document = services.upload_revision(db, planner, old, "十五五规划（送审稿）.docx", build_docx(V2))
    db.commit()
    draft = Draft.from_json(document.draft)
    summary = draft.extra["revision"]
    titles = {i.title for i in draft.items}
    # still in the new document, still deleted: not 新增, listed for the planner
    assert not titles & {"发展中医药事业", "优化医疗服务体系", "推进紧密型县域医共体高质量建设"}
    assert [r["label"].split(" ", 2)[2] for r in summary["deleted"]] == [
        "优化医疗服务体系", "推进紧密型县域医共体高质量建设", "发展中医药事业"]
    assert [a["label"].split(" ", 2)[2] for a in summary["added"]] == ["建设智慧医疗平台"]
    # (the measure the document added under the deleted key task is new: it stays, moved up and doubted)
    smart = item_of(draft, "建设智慧医疗平台")
    assert smart.type == "key_task" and smart.unsure
    # remembered again, so a third version keeps them deleted too
    assert {r["entry"]["title"] for r in draft.extra["deleted"]} == {
        "发展中医药事业", "优化医疗服务体系", "推进紧密型县域医共体高质量建设"}

    key = next(r for r in summary["deleted"] if r["label"].endswith("优化医疗服务体系"))
    name, restored = services.keep_removed(db, planner, document, key["id"], document.draft["rev"])
    assert restored and name.endswith("优化医疗服务体系")
    measure = next(r for r in summary["deleted"] if r["label"].endswith("高质量建设"))
    services.keep_removed(db, planner, document, measure["id"], document.draft["rev"])
    db.commit()
    draft = Draft.from_json(document.draft)
    back = item_of(draft, "推进紧密型县域医共体高质量建设")  # in the new document's text, under its key task
    assert back.extra["change"] == "restored" and back.unsure and back.type == "measure"
    assert item_of(draft, "优化医疗服务体系").id == back.parent
    assert {r["entry"]["title"] for r in draft.extra["deleted"]} == {"发展中医药事业"}
    assert {r["kept"] for r in draft.extra["revision"]["deleted"] if r.get("kept")} == {back.id, back.parent}
    with pytest.raises(DomainError):
        services.keep_removed(db, planner, document, measure["id"], document.draft["rev"])


def test_the_draft_page_lists_deletions_with_a_restore_button(first, demo: Flask, db: Session) -> None:  # type: ignore[no-untyped-def]
    planner, old = first
    tcm = item_of(old.draft, "发展中医药事业")
    services.delete_item(db, planner, old, tcm.id, with_children=False, rev=old.draft["rev"])
    document = services.upload_revision(db, planner, old, "送审稿.docx", build_docx(V2))
    db.commit()
    client = client_for(demo, "zj_planner")
    page = client.get(f"/imports/{document.id}").get_data(as_text=True)
    assert "已删除（你删除的，新版仍有）（1）" in page and "发展中医药事业" in page
    row = document.draft["revision"]["deleted"][0]
    response = client.post(f"/imports/{document.id}/revision/{row['id']}/restore",
                           data={"rev": document.draft["rev"]})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已恢复工作举措" in page and "（已恢复）" in page


def test_the_edit_form_of_a_flagged_item_shows_both_texts(first, demo: Flask, db: Session) -> None:  # type: ignore[no-untyped-def]
    planner, old = first
    document = services.upload_revision(db, planner, old, "送审稿.docx", build_docx(V2))
    db.commit()
    flagged = item_of(document.draft, "完善现代疾病预防控制体系")
    client = client_for(demo, "zj_planner")
    url = f"/imports/{document.id}/items/{flagged.id}"
    page = client.get(url).get_data(as_text=True)
    assert "新版文档也修改了您改过的这个条目" in page
    assert "<del>建设市疾控中心实验室，提升检测能力。</del>" in page
    assert "<ins>建设市疾控中心生物安全三级实验室，提升检测能力。</ins>" in page
    assert "采用新版原文" in page and "保留我的修改" in page
    # the other items' forms show nothing of the kind
    assert "新版文档也修改了" not in client.get(
        f"/imports/{document.id}/items/{item_of(document.draft, '发展中医药事业').id}").get_data(as_text=True)
    response = client.post(f"/imports/{document.id}/revision/{flagged.id}/accept",
                           data={"rev": document.draft["rev"], "back": "item"})
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    page = client.get(url).get_data(as_text=True)
    assert "已采用新版原文" in page and "新版文档也修改了" not in page
    db.refresh(document)
    decided = item_of(document.draft, "完善现代疾病预防控制体系")  # the planner's title stays, the new text is taken
    assert decided.description == "建设市疾控中心生物安全三级实验室，提升检测能力。"
