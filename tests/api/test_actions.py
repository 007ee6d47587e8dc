"""Writes through the API besides a task's status: every case action, the review of reports and indicator
values — each with If-Match, answered with the record and its new ETag, refused as problem+json by the same
rules as the pages; and search."""

from __future__ import annotations

from sqlalchemy import select

from tracker.audit import AuditEntry
from tracker.auth.models import User
from tracker.indicators.models import IndicatorValue, ValueState
from tracker.indicators.services import ValueInput, save_value
from tracker.planning.models import Plan
from tracker.supervision.models import CaseState, SupervisionCase
from tracker.tasks.models import ProgressReport, ReportState


def _etag(api, path: str) -> str:  # type: ignore[no-untyped-def]
    response = api.get(path)
    assert response.status_code == 200, response.get_json()
    return response.headers["ETag"]


def test_a_case_goes_round_the_loop_through_the_api(demo, db, world, api_as) -> None:  # type: ignore[no-untyped-def]
    head, office = api_as("zj_head_jk"), api_as("zj_supervisor")
    path = f"/cases/{world['case']}"
    # the case is 已下发: the office may not close it, the head signs for it
    refused = office("POST", path + "/actions/close", json={"outcome": "on_time", "rating": 4},
                     headers={"If-Match": _etag(office, path)})
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    assert head("POST", path + "/actions/acknowledge", json={}).status_code == 428
    stale = head("POST", path + "/actions/acknowledge", json={}, headers={"If-Match": '"v1"'})
    assert stale.status_code == 412 and stale.headers["ETag"] == _etag(head, path)
    assert office("POST", path + "/actions/acknowledge", json={},
                  headers={"If-Match": _etag(office, path)}).status_code == 403  # the department's step
    steps = [("acknowledge", head, {}), ("plan", head, {"comment": "整改方案：每周调度"}),
             ("submit", head, {"comment": "已完成整改"}), ("return", office, {"comment": "缺少验收记录"}),
             ("submit", head, {"comment": "已补充验收记录"}),
             ("close", office, {"comment": "同意销号", "outcome": "on_time", "rating": 5})]
    for action, api, body in steps:
        etag = _etag(api, path)
        answer = api("POST", f"{path}/actions/{action}", json=body, headers={"If-Match": etag})
        assert answer.status_code == 200, (action, answer.get_json())
        assert answer.headers["ETag"] != etag
    final = answer.get_json()
    assert final["state"] == "closed" and final["return_count"] == 1 and final["steps"][-1]["action"] == "close"
    db.rollback()
    case = db.get(SupervisionCase, world["case"])
    assert case.state == CaseState.CLOSED and case.rating == 5
    # the words a return needs, and a rating out of range, are the schema's and the service's messages
    bad = office("POST", path + "/actions/remind", json={"rating": 9}, headers={"If-Match": _etag(office, path)})
    assert bad.status_code == 422 and "rating" in bad.get_json()["errors"]


def test_reports_are_submitted_and_reviewed_through_the_api(demo, db, world, api_as) -> None:  # type: ignore[no-untyped-def]
    head, planner = api_as("zj_head_jk"), api_as("zj_planner")
    path = f"/reports/{world['report']}"
    assert planner("POST", path + "/actions/confirm", json={},
                   headers={"If-Match": _etag(planner, path)}).status_code == 409  # still a draft
    submitted = head("POST", path + "/actions/submit", json={}, headers={"If-Match": _etag(head, path)})
    assert submitted.status_code == 200 and submitted.get_json()["state"] == "submitted"
    no_reason = planner("POST", path + "/actions/return", json={}, headers={"If-Match": _etag(planner, path)})
    assert no_reason.status_code == 422 and "退回须写明原因" in no_reason.get_json()["detail"]
    returned = planner("POST", path + "/actions/return", json={"reason": "数据口径不一致"},
                       headers={"If-Match": _etag(planner, path)})
    assert returned.status_code == 200 and returned.get_json()["return_reason"] == "数据口径不一致"
    db.rollback()
    report = db.get(ProgressReport, world["report"])
    assert report.state == ReportState.RETURNED
    # the write is in the audit log with the token's name
    entry = db.scalars(select(AuditEntry).where(AuditEntry.object_type == "progress_reports",
                                                AuditEntry.object_id == report.id)
                       .order_by(AuditEntry.id.desc())).first()
    assert entry is not None and "测试" in (entry.summary or "")


def test_indicator_values_are_confirmed_through_the_api(demo, db, world, api_as) -> None:  # type: ignore[no-untyped-def]
    planner = db.scalars(select(User).where(User.username == "zj_planner")).one()
    plan = db.scalars(select(Plan).where(Plan.code == "zj-14")).one()
    have = set(db.execute(select(IndicatorValue.indicator_id, IndicatorValue.year)).all())
    indicator, year = next((i, y) for y in (2022, 2023, 2024) for i in plan.indicators
                           if i.unit and i.target_rule and (i.id, y) not in have)
    value = save_value(db, planner, indicator, year, ValueInput(value_text="12.5"))
    db.commit()
    path = f"/indicator-values/{value.id}"
    api = api_as("zj_planner")
    shown = api.get(path).get_json()
    assert shown["value"] == "12.5000" or shown["value"].startswith("12.5"), shown
    assert shown["state"] == "entered"
    assert api_as("hz_planner").get(path).status_code in (200, 403)
    assert api_as("wz_supervisor").get("/indicator-values/999999").status_code == 404
    confirmed = api("POST", path + "/actions/confirm", json={}, headers={"If-Match": _etag(api, path)})
    assert confirmed.status_code == 200 and confirmed.get_json()["state"] == "confirmed"
    db.rollback()
    assert db.scalar(select(IndicatorValue.state).where(IndicatorValue.id == value.id)) == ValueState.CONFIRMED
    assert api_as("zj_head_jk")("POST", path + "/actions/return", json={"reason": "x"},
                                headers={"If-Match": _etag(api, path)}).status_code in (403, 409)


def test_search_through_the_api_keeps_to_scope(demo, world, api_as) -> None:  # type: ignore[no-untyped-def]
    answer = api_as("zj_supervisor").get("/search?q=疾控&kind=tasks&limit=5")
    assert answer.status_code == 200
    groups = answer.get_json()["groups"]
    assert [g["kind"] for g in groups] == ["tasks"] and groups[0]["hits"]
    assert all(h["link"].startswith("/tasks/") for h in groups[0]["hits"])
    # 杭州's planner sees no Wenzhou task
    wz = api_as("hz_planner").get("/search?q=温州&kind=tasks").get_json()["groups"][0]["hits"]
    assert all("温州" not in h["context"] for h in wz)
    assert api_as(None).get("/search?q=疾控").status_code == 401
    assert api_as("zj_supervisor").get("/search?q=x&kind=nothing").status_code == 422


def test_a_report_is_written_and_a_value_entered_through_the_api(demo, db, world, api_as) -> None:  # type: ignore[no-untyped-def]
    head, planner = api_as("zj_head_jk"), api_as("zj_planner")
    body = {"period": "month", "period_year": 2025, "period_no": 7, "progress": 60, "achievements": "完成7月任务"}
    created = head("POST", f"/tasks/{world['task']}/reports", json=body)
    assert created.status_code == 201, created.get_json()
    report = created.get_json()
    assert report["state"] == "draft" and created.headers["Location"].endswith(f"/reports/{report['id']}")
    again = head("POST", f"/tasks/{world['task']}/reports", json=body)  # the same period twice: refused
    assert again.status_code == 422 and "period_no" in again.get_json()["errors"]
    several = head("POST", f"/tasks/{world['task']}/reports",
                   json={**body, "period": "half", "period_no": 3, "period_year": 2099})
    assert set(several.get_json()["errors"]) == {"period_no", "period_year"}  # every broken rule at once
    assert api_as("zj_head_yz")("POST", f"/tasks/{world['task']}/reports", json=body).status_code == 403
    # a value already there is changed only with its ETag; a numeric indicator takes a number
    plan = db.scalars(select(Plan).where(Plan.code == "zj-14")).one()
    indicator = next(i for i in plan.indicators if i.name == "人均预期寿命")
    stored = db.scalars(select(IndicatorValue).where(IndicatorValue.indicator_id == indicator.id,
                                                     IndicatorValue.year == 2024)).one()
    path = f"/indicators/{indicator.id}/values/2024"
    assert planner("PUT", path, json={"value_text": "80.1"}).status_code == 428
    etag = _etag(planner, f"/indicator-values/{stored.id}")
    refused = planner("PUT", path, json={"value_text": "约80"}, headers={"If-Match": etag})
    assert refused.status_code == 422 and refused.get_json()["errors"]
    changed = planner("PUT", path, json={"value_text": "80.1", "source": "统计年鉴"}, headers={"If-Match": etag})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["value_text"] == "80.1" and changed.get_json()["state"] == "entered"
    assert planner("PUT", path, json={"value_text": "80.2"}, headers={"If-Match": etag}).status_code == 412


def test_a_milestone_is_completed_through_the_api(demo, db, world, api_as) -> None:  # type: ignore[no-untyped-def]
    head = api_as("zj_head_jk")
    path = f"/milestones/{world['milestone']}"
    body = {"completed_on": "2025-11-20", "evidence": "已通过验收，验收报告见附件"}
    assert head("POST", path + "/complete", json=body).status_code == 428
    assert api_as("zj_head_yz")("POST", path + "/complete", json=body,
                                headers={"If-Match": _etag(head, path)}).status_code == 403
    done = head("POST", path + "/complete", json=body, headers={"If-Match": _etag(head, path)})
    assert done.status_code == 200 and done.get_json()["status"] == "done"
    twice = head("POST", path + "/complete", json=body, headers={"If-Match": _etag(head, path)})
    assert twice.status_code == 409
    # the evidence's files, as multipart: checked as on the page (a picture must decode)
    import io

    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (30, 20), (200, 30, 30)).save(picture, "PNG")
    sent = head("POST", path + "/files", data={"files": [(io.BytesIO(picture.getvalue()), "现场照片.png"),
                                                          (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "验收报告.pdf")]},
                content_type="multipart/form-data")
    assert sent.status_code == 201, sent.get_json()
    assert [f["filename"] for f in sent.get_json()["items"]] == ["现场照片.png", "验收报告.pdf"]
    broken = head("POST", path + "/files", data={"files": [(io.BytesIO(b"\x89PNG\r\n\x1a\nbroken"), "坏图.png")]},
                  content_type="multipart/form-data")
    assert broken.status_code == 422 and "已损坏" in broken.get_json()["detail"]
    assert head("POST", path + "/files", data={}, content_type="multipart/form-data").status_code == 422
    assert api_as("zj_head_yz")("POST", path + "/files", data={"files": [(io.BytesIO(b"%PDF-1.4"), "a.pdf")]},
                                content_type="multipart/form-data").status_code == 403


def test_projects_and_evaluations_read_through_the_api(demo, db, world, api_as) -> None:  # type: ignore[no-untyped-def]
    from tracker.evaluations.models import Evaluation

    plan = db.scalars(select(Plan).where(Plan.code == "zj-14")).one()
    items = api_as("zj_planner").get(f"/plans/{plan.id}/projects").get_json()["items"]
    assert items and all(isinstance(p["total_investment"], (str, type(None))) for p in items)
    amounts = [i["planned"] for p in items for i in p["investments"] if i["planned"] is not None]
    assert amounts and all(isinstance(a, str) and "." in a for a in amounts)  # decimal strings, never floats
    evaluation = db.scalars(select(Evaluation).where(Evaluation.plan_id == plan.id).order_by(Evaluation.id)).first()
    evaluator = api_as("zj_evaluator")
    shown = evaluator.get(f"/evaluations/{evaluation.id}").get_json()
    assert shown["year"] == evaluation.year and shown["scores"] and isinstance(shown["scores"][0]["score"], str)
    workbook = evaluator.get(f"/evaluations/{evaluation.id}/workbook.xlsx")
    assert workbook.status_code == 200 and workbook.data[:2] == b"PK"
    assert "attachment" in workbook.headers["Content-Disposition"]
    report = evaluator.get(f"/evaluations/{evaluation.id}/report.docx")
    assert report.status_code == 200 and report.data[:2] == b"PK"
    assert api_as("zj_head_jk").get(f"/evaluations/{evaluation.id}").status_code == 403
    assert api_as("wz_supervisor").get(f"/evaluations/{evaluation.id}").status_code == 403
    assert evaluator.get("/evaluations/999999").status_code == 404


def test_a_years_investment_goes_round_the_review_through_the_api(demo, db, world, api_as) -> None:  # type: ignore[no-untyped-def]
    from tracker.projects.models import KeyProject, ProjectInvestment
    from tracker.tasks.models import Task

    plan = db.scalars(select(Plan).where(Plan.code == "zj-14")).one()
    head, planner = api_as("zj_head_zy"), api_as("zj_planner")
    # a year of one of 中医药管理处's projects with nothing entered yet, or only a draft (up to the seeds' year)
    project, year = next(
        (p, y) for p in db.scalars(select(KeyProject).join(Task).where(Task.plan_id == plan.id).order_by(KeyProject.id))
        if p.task.lead_department.name == "中医药管理处"
        for y in range(max(p.start_year or 2021, 2021), 2026)
        if y not in {i.year for i in p.investments if i.state != ReportState.DRAFT})
    stored = {i.year: i for i in project.investments}
    path = f"/projects/{project.id}/investments/{year}"
    headers = {"If-Match": f'"v{stored[year].version_id}"'} if year in stored else {}
    assert api_as("zj_head_jk")("PUT", path, json={"completed": "10"}, headers=headers).status_code == 403
    assert head("PUT", path, json={"completed": "-5"}, headers=headers).status_code == 422
    saved = head("PUT", path, json={"completed": "120.5", "note": "一季度到位资金"}, headers=headers)
    assert saved.status_code == 200, saved.get_json()
    row = saved.get_json()
    assert row["completed"].startswith("120.5") and row["state"] == "draft"
    action = f"/project-investments/{row['id']}/actions"
    submitted = head("POST", action + "/submit", json={}, headers={"If-Match": saved.headers["ETag"]})
    assert submitted.status_code == 200 and submitted.get_json()["state"] == "submitted"
    confirmed = planner("POST", action + "/confirm", json={}, headers={"If-Match": submitted.headers["ETag"]})
    assert confirmed.status_code == 200 and confirmed.get_json()["state"] == "confirmed"
    db.rollback()
    assert db.scalar(select(ProjectInvestment.state).where(ProjectInvestment.id == row["id"])) == ReportState.CONFIRMED
