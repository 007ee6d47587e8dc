"""Tasks through the API: the list's filters and cursor, ETag and If-Match on the one write, the audit entry."""

from __future__ import annotations

from sqlalchemy import func, select

from tracker.audit import AuditEntry
from tracker.planning.models import Plan
from tracker.tasks.models import Task, TaskStatus


def _walk(api, query: str) -> list[int]:  # type: ignore[no-untyped-def]
    ids: list[int] = []
    cursor = None
    while True:
        response = api.get(f"/tasks?{query}" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        ids += [t["id"] for t in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return ids


def test_cursor_pages_cover_the_list_once_and_stay_put(demo, db, world, api_as) -> None:  # type: ignore[no-untyped-def]
    api = api_as("hz_planner")
    plan = db.scalars(select(Plan).where(Plan.code == "zj-14")).one()
    expected = list(db.scalars(select(Task.id).where(Task.plan_id == plan.id).order_by(Task.id)))
    assert _walk(api, f"plan={plan.id}&limit=37") == expected
    # a change between two pages moves nothing: the second page starts after the first page's last id
    first = api.get(f"/tasks?plan={plan.id}&limit=10").get_json()
    head = api_as("zj_head_jk")
    etag = head.get(f"/tasks/{world['task']}").headers["ETag"]
    assert head("PATCH", f"/tasks/{world['task']}", json={"progress": 77}, headers={"If-Match": etag}).status_code == 200
    second = api.get(f"/tasks?plan={plan.id}&limit=10&cursor={first['next_cursor']}").get_json()
    assert [t["id"] for t in first["items"] + second["items"]] == expected[:20]


def test_filters_and_scope(demo, db, world, api_as) -> None:  # type: ignore[no-untyped-def]
    outsider = api_as("hz_planner")
    # 杭州 sees the province's plans (above it), never 温州's (a sibling)
    assert outsider.get(f"/tasks?plan={world['city_plan']}").get_json()["items"] == []
    assert any(t["id"] == world["city_task"] for t in api_as("wz_supervisor").get(
        f"/tasks?plan={world['city_plan']}&limit=200").get_json()["items"])
    head = api_as("zj_head_jk")
    overdue = _walk(head, f"plan={world['plan']}&overdue=true&limit=200")
    assert overdue and all(head.get(f"/tasks/{i}").get_json()["status"] in ("overdue", "not_started", "in_progress")
                           for i in overdue[:5])
    done = head.get(f"/tasks?plan={world['plan']}&status=done&limit=5").get_json()["items"]
    assert done and {t["status"] for t in done} == {"done"}
    department = head.get(f"/tasks?department={world['department']}&limit=5").get_json()["items"]
    assert {t["lead_department"]["id"] for t in department} == {world["department"]}
    # unknown query arguments are ignored, as the pages ignore them; bad values of known ones are not
    bad = head.get("/tasks?status=finished&limit=0&cursor=nonsense&colour=red")
    assert bad.status_code == 422
    assert set(bad.get_json(force=True)["errors"]) == {"status", "limit"}
    assert head.get("/tasks?cursor=nonsense").get_json(force=True)["errors"] == {"cursor": [
        "游标无效或已失效，请从第一页重新读取。"]}


def test_etag_and_if_match(demo, db, world, api_as) -> None:  # type: ignore[no-untyped-def]
    api = api_as("zj_head_jk")
    path = f"/tasks/{world['task']}"
    got = api.get(path)
    etag = got.headers["ETag"]
    assert etag == f'"v{got.get_json()["version"]}"'
    assert api.get(path, headers={"If-None-Match": etag}).status_code == 304
    # no If-Match: 428
    missing = api("PATCH", path, json={"progress": 65})
    assert missing.status_code == 428 and missing.mimetype == "application/problem+json"
    assert api("PATCH", path, json={"progress": 65}, headers={"If-Match": "*"}).status_code == 428
    # the current version: saved, with the new ETag
    saved = api("PATCH", path, json={"status": "in_progress", "progress": 65, "note": "推进中"},
                headers={"If-Match": etag})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    body = saved.get_json()
    assert body["progress"] == 65 and body["status_note"] == "推进中"
    assert saved.headers["ETag"] == f'"v{body["version"]}"' != etag
    # the old version again: 412, naming the current one and what changed since
    stale = api("PATCH", path, json={"progress": 10}, headers={"If-Match": etag})
    assert stale.status_code == 412
    problem = stale.get_json(force=True)
    assert problem["current_version"] == body["version"] and stale.headers["ETag"] == saved.headers["ETag"]
    assert any("进度" in line and "65" in line for line in problem["changes"]), problem["changes"]
    db.rollback()
    task = db.get(Task, world["task"])
    assert task.progress == 65
    # audited as the user, naming the token
    entry = db.scalars(select(AuditEntry).where(AuditEntry.object_type == "tasks", AuditEntry.object_id == task.id,
                                                AuditEntry.action == "update_status")).one()
    assert entry.actor.username == "zj_head_jk" and "经 API 令牌“测试”" in entry.summary


def test_the_services_rules_answer_as_problems(demo, db, world, api_as) -> None:  # type: ignore[no-untyped-def]
    api = api_as("zj_head_jk")
    path = f"/tasks/{world['task']}"
    etag = api.get(path).headers["ETag"]
    overdue_by_hand = api("PATCH", path, json={"status": "overdue"}, headers={"If-Match": etag})
    assert overdue_by_hand.status_code == 422
    assert list(overdue_by_hand.get_json(force=True)["errors"]) == ["status"]
    suspended = api("PATCH", path, json={"status": "suspended", "note": ""}, headers={"If-Match": etag})
    assert suspended.status_code == 422 and "note" in suspended.get_json(force=True)["errors"]
    out_of_range = api("PATCH", path, json={"progress": 101, "colour": 1}, headers={"If-Match": etag})
    assert out_of_range.status_code == 422
    assert set(out_of_range.get_json(force=True)["errors"]) == {"progress", "colour"}
    assert api("PATCH", path, json={}, headers={"If-Match": etag}).status_code == 422
    not_json = api("PATCH", path, data="{", content_type="application/json", headers={"If-Match": etag})
    assert not_json.status_code in (400, 422) and not_json.mimetype == "application/problem+json"
    # a parent's progress rolls up from its children
    parent = f"/tasks/{world['parent_task']}"
    rolled = api_as("zj_planner")
    parent_etag = rolled.get(parent).headers["ETag"]
    refused = rolled("PATCH", parent, json={"progress": 3}, headers={"If-Match": parent_etag})
    assert refused.status_code == 422 and "汇总" in refused.get_json(force=True)["detail"]
    db.rollback()
    assert db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.summary.like("%API 令牌%"))) == 0
    assert db.get(Task, world["task"]).status != TaskStatus.SUSPENDED


def test_who_may_update_a_task(demo, db, world, api_as) -> None:  # type: ignore[no-untyped-def]
    for username, code in [("zj_staff_jk", 403), ("zj_supervisor", 403), ("hz_planner", 403), ("zj_head_yz", 403),
                           ("zj_planner", 200)]:
        api = api_as(username)
        etag = api.get(f"/tasks/{world['task']}").headers["ETag"]
        response = api("PATCH", f"/tasks/{world['task']}", json={"progress": 66}, headers={"If-Match": etag})
        assert response.status_code == code, username
    assert api_as("hz_planner")("PATCH", f"/tasks/{world['city_task']}", json={"progress": 1},
                                headers={"If-Match": '"v1"'}).status_code == 403
    assert api_as("zj_planner")("PATCH", "/tasks/999999", json={"progress": 1},
                                headers={"If-Match": '"v1"'}).status_code == 404


def test_the_api_needs_no_csrf_token(demo, world, api_as) -> None:  # type: ignore[no-untyped-def]
    """Pages' forms carry a CSRF token; the API is called with a bearer token instead (the session is unused)."""
    demo.config["WTF_CSRF_ENABLED"] = True
    api = api_as("zj_head_jk")
    etag = api.get(f"/tasks/{world['task']}").headers["ETag"]
    assert api("PATCH", f"/tasks/{world['task']}", json={"progress": 61}, headers={"If-Match": etag}).status_code == 200
    assert api("POST", f"/notifications/{world['notification']}/read").status_code == 200


def test_the_workspaces_filters(demo, db, world, api_as) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from tracker.auth.models import User

    api = api_as("zj_head_jk")
    dept = db.scalars(select(User).where(User.username == "zj_head_jk")).one().department_id

    def ids(query: str) -> set[int]:
        return set(_walk(api, query))

    co = ids("role=co")
    assert co and all(dept in {d.id for d in db.get(Task, i).co_departments} for i in co)
    led = ids("role=lead")
    assert led and all(db.get(Task, i).lead_department_id == dept for i in led)
    today = date(2025, 11, 22)
    for i in ids("due=soon"):
        task = db.get(Task, i)
        assert today <= task.deadline <= date(2025, 12, 7) and task.status.value not in ("done", "terminated")
    assert all(db.get(Task, i).deadline < today for i in ids("role=lead&due=overdue"))
    for i in ids("year=2025"):
        task = db.get(Task, i)
        assert task.year == 2025 or (task.year is None and task.deadline.year == 2025)
    assert api.get("/tasks?due=later").status_code == 422
