"""The read endpoints answer what the pages show, in the same scope; the inbox's one write is audited."""

from __future__ import annotations

from sqlalchemy import select

from tracker.alerts.services import scan
from tracker.audit import AuditEntry
from tracker.db import unit_of_work
from tracker.notifications.models import Notification


def test_me(demo, api_as) -> None:  # type: ignore[no-untyped-def]
    body = api_as("wz_supervisor").get("/me").get_json()
    assert body["username"] == "wz_supervisor" and body["role"] == "supervisor" and body["role_label"] == "督查室"
    assert body["region"]["name"] == "温州市" and body["token"]["name"] == "测试"
    assert body["token"]["expires_at"].endswith("+00:00")  # ISO 8601


def test_plans_in_scope(demo, world, api_as) -> None:  # type: ignore[no-untyped-def]
    outsider = api_as("hz_planner").get("/plans").get_json()["items"]
    city = api_as("wz_supervisor").get("/plans").get_json()["items"]
    assert world["plan"] in {p["id"] for p in outsider} and world["city_plan"] not in {p["id"] for p in outsider}
    assert {world["plan"], world["city_plan"]} <= {p["id"] for p in city}
    plan = api_as("zj_head_jk").get(f"/plans/{world['plan']}")
    body = plan.get_json()
    assert plan.headers["ETag"] == f'"v{body["version"]}"' and body["task_counts"]["total"] > 0
    assert body["level"] == "province" and body["level_label"] == "省"
    assert api_as("zj_head_jk").get("/plans?level=county").get_json()["items"] == [] or all(
        p["level"] == "county" for p in api_as("zj_head_jk").get("/plans?level=county").get_json()["items"])
    assert api_as("zj_head_jk").get("/plans?level=nation").status_code == 422


def test_the_overdue_list_counts_and_pages(demo, api_as) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(demo.extensions["tracker.sessions"]) as session:
        scan(session)
    api = api_as("zj_supervisor")
    first = api.get("/alerts/overdue?limit=5").get_json()
    counts = first["counts"]
    assert counts["total"] == sum(counts["by_level"].values()) > 5
    rows, cursor = list(first["items"]), first["next_cursor"]
    while cursor:
        page = api.get(f"/alerts/overdue?limit=50&cursor={cursor}").get_json()
        rows += page["items"]
        cursor = page["next_cursor"]
    assert len(rows) == counts["total"] == len({r["alert_id"] for r in rows})
    days = [r["days_overdue"] for r in rows]
    assert days == sorted(days, reverse=True)  # most days overdue first, as the page
    severe = api.get("/alerts/overdue?level=severe&limit=200").get_json()
    assert {r["level"] for r in severe["items"]} <= {"severe"}
    assert severe["counts"]["total"] == counts["by_level"].get("severe", 0)
    # a city office sees its own region and below only
    city = api_as("wz_supervisor").get("/alerts/overdue?limit=200").get_json()
    assert all(r["region"]["name"] != "浙江省" for r in city["items"])
    wrong = api.get("/alerts/overdue?days_min=9&days_max=3&due_from=2026-13-01")
    assert wrong.status_code == 422 and set(wrong.get_json(force=True)["errors"]) == {"due_from"}
    wrong = api.get("/alerts/overdue?days_min=9&days_max=3")
    assert wrong.get_json(force=True)["errors"] == {"days_max": ["最多逾期天数不能小于最少逾期天数。"]}


def test_cases_in_scope(demo, world, api_as) -> None:  # type: ignore[no-untyped-def]
    head = api_as("zj_head_jk").get("/cases").get_json()["items"]
    assert world["case"] in {c["id"] for c in head}
    assert world["case"] not in {c["id"] for c in api_as("wz_supervisor").get("/cases").get_json()["items"]}
    assert world["case"] not in {c["id"] for c in api_as("zj_head_yz").get("/cases").get_json()["items"]}
    case = api_as("zj_supervisor").get(f"/cases/{world['case']}").get_json()
    assert case["number"].startswith("浙卫督〔") and case["state"] == "issued"
    assert [s["action"] for s in case["steps"]][:2] == ["file", "issue"]
    assert api_as("zj_head_yz").get(f"/cases/{world['case']}").status_code == 403
    issued = api_as("zj_supervisor").get("/cases?state=issued").get_json()["items"]
    assert issued and {c["state"] for c in issued} == {"issued"}


def test_notifications_and_marking_one_read(demo, db, world, api_as) -> None:  # type: ignore[no-untyped-def]
    head = api_as("zj_head_jk")
    inbox = head.get("/notifications?unread=true").get_json()
    assert world["notification"] in {n["id"] for n in inbox["items"]} and inbox["unread"] >= 1
    assert api_as("zj_head_yz")("POST", f"/notifications/{world['notification']}/read").status_code == 404
    read = head("POST", f"/notifications/{world['notification']}/read")
    assert read.status_code == 200 and read.get_json()["read_at"]
    assert world["notification"] not in {n["id"] for n in head.get("/notifications?unread=true").get_json()["items"]}
    assert head("POST", "/notifications/999999/read").status_code == 404
    db.rollback()
    assert db.get(Notification, world["notification"]).read_at is not None
    entry = db.scalars(select(AuditEntry).where(AuditEntry.object_type == "notifications")).one()
    assert entry.actor.username == "zj_head_jk" and entry.summary == "标记通知已读（经 API 令牌“测试”）"


def test_problem_shape(demo, world, api_as) -> None:  # type: ignore[no-untyped-def]
    response = api_as("hz_planner").get(f"/tasks/{world['city_task']}")
    assert response.status_code == 403 and response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body == {"type": "about:blank", "title": "无权访问", "status": 403, "detail": "该任务不在您的管辖范围内。"}
    missing = api_as("hz_planner").get("/tasks/999999").get_json(force=True)
    assert missing["status"] == 404 and missing["title"] == "记录不存在" and missing["detail"] == "该任务不存在。"
    invalid = api_as("hz_planner").get("/tasks?limit=abc").get_json(force=True)
    assert invalid["status"] == 422 and invalid["title"] == "输入有误" and invalid["errors"] == {"limit": ["须为整数。"]}
    unauthenticated = api_as(None).get("/tasks").get_json(force=True)
    assert unauthenticated["status"] == 401 and unauthenticated["title"] == "未认证"


def test_an_unknown_address_or_method_under_the_api_is_a_problem_not_a_page(demo) -> None:  # type: ignore[no-untyped-def]
    client = demo.test_client()
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    assert missing.get_json()["title"]
    wrong = client.delete("/api/v1/plans")
    assert wrong.status_code == 405 and wrong.mimetype == "application/problem+json" and "GET" in wrong.headers["Allow"]
    page = client.get("/no-such-page")  # the rest of the site keeps its pages
    assert page.status_code == 404 and page.mimetype == "text/html"
