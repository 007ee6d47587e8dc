"""The leaders' dashboard: grouped figures per plan, each chart's numbers in a table, no inline script."""

from __future__ import annotations

import json
import re
from datetime import date
from html import unescape
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.alerts.models import Alert, AlertLevel, AlertRule, AlertStatus, AlertTarget
from tracker.config import PROJECT_ROOT
from tracker.dashboard.services import month_points
from tracker.planning.models import Plan
from tracker.timeutil import now

from ..conftest import login
from ..evaluations.world import World, build_world

TODAY = date(2026, 11, 22)


def _client(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    login(client, username)
    return client


def _page(client: FlaskClient, url: str = "/dashboard") -> tuple[str, dict[str, Any]]:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    html = response.get_data(as_text=True)
    block = re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>', html, re.S)
    assert block is not None
    return html, json.loads(block.group(1))


def _table(html: str, table_id: str) -> list[list[str]]:
    body = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S):
        cells = [unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        rows.append(cells)
    return rows


def _alert(session: Session, level: AlertLevel, *, task_id: int | None = None, indicator_id: int | None = None,
           status: AlertStatus = AlertStatus.OPEN) -> None:
    target = AlertTarget.TASK if task_id else AlertTarget.INDICATOR
    session.add(Alert(rule=AlertRule.INDICATOR if indicator_id else AlertRule.DEADLINE, level=level, target=target,
                      task_id=task_id, indicator_id=indicator_id, status=status, raised_on=TODAY,
                      level_changed_on=TODAY, resolved_at=None if status == AlertStatus.OPEN else now()))


def _world(app: Flask, session: Session) -> World:
    world = build_world(session)
    t = world.tasks
    _alert(session, AlertLevel.OVERDUE, task_id=t["a_open"].id)
    _alert(session, AlertLevel.SEVERE, task_id=t["b_child"].id)
    _alert(session, AlertLevel.DUE_SOON, task_id=t["c_2026"].id, status=AlertStatus.RESOLVED)
    _alert(session, AlertLevel.LAGGING, indicator_id=world.indicators["a_missed"].id)
    session.commit()
    return world


def test_figures_of_a_plan(app: Flask, session: Session) -> None:
    world = _world(app, session)
    html, data = _page(_client(app, world.leader.username), f"/dashboard?plan={world.plan.id}")
    assert data["chapters"] == [{"label": "一 第一章", "total": 9, "done": 5, "overdue": 3, "rate": 55.6}]
    departments = {d["label"]: (d["total"], d["done"], d["overdue"]) for d in data["departments"]}
    assert departments == {"甲处": (5, 4, 1), "乙处": (2, 1, 1), "丙处": (1, 0, 1), "丁处": (1, 0, 0)}
    assert [d["label"] for d in data["departments"]][0] == "甲处"
    trend = {p["label"]: (p["overdue"], p["new"]) for p in data["trend"]}
    assert len(trend) == 12 and list(trend)[0] == "2025年12月" and list(trend)[-1] == "2026年11月"
    assert trend["2025年12月"] == (3, 1)  # a_after was due on 31 December and done only in January
    assert trend["2026年1月"] == (2, 0)
    assert trend["2026年5月"] == (2, 0) and trend["2026年6月"] == (3, 1) and trend["2026年11月"] == (3, 0)
    assert [(a["label"], a["count"]) for a in data["alerts"]] == [("临期", 0), ("逾期", 1), ("严重逾期", 1), ("滞后", 1)]
    literacy = next(s for s in data["indicators"] if s["name"] == "居民健康素养水平")
    assert literacy["years"] == [2024, 2025] and literacy["values"] == [38.0, 41.5] and literacy["targets"] == [40.0]
    assert literacy["baseline"] == {"year": 2024, "value": 38.0, "from_baseline": False}
    assert literacy["expected"] == [38.0, 40.0]
    trend_only = next(s for s in data["indicators"] if s["name"] == "人均基本公共卫生服务经费")
    assert trend_only["targets"] == [] and trend_only["values"] == [None]

    # Every chart's numbers are in the table beside it.
    assert _table(html, "table-chapters") == [["一 第一章", "9", "5", "3", "55.6%"]]
    assert [r[:4] for r in _table(html, "table-departments")] == [
        [d["label"], str(d["total"]), str(d["done"]), str(d["overdue"])] for d in data["departments"]]
    assert [[r[0], int(r[1]), int(r[2])] for r in _table(html, "table-trend")] == [
        [p["label"], p["overdue"], p["new"]] for p in data["trend"]]
    assert [[r[0], int(r[1])] for r in _table(html, "table-alerts")] == [
        [a["label"], a["count"]] for a in data["alerts"]]


def test_the_page_runs_no_inline_script_and_no_cdn(demo: Flask) -> None:
    client = _client(demo, "zj_leader")
    response = client.get("/dashboard")
    html = response.get_data(as_text=True)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    tags = re.findall(r"<script([^>]*)>", html)
    # the data, ECharts, the charts, the header's menu, the print line, the form errors' focus, typed-text drafts
    assert len(tags) == 7
    for attributes in tags:
        assert 'type="application/json"' in attributes or 'src="/static/' in attributes, attributes
    assert '<script src="/static/vendor/echarts/echarts.min.js">' in html and "//cdn" not in html
    vendor = PROJECT_ROOT / "tracker" / "static" / "vendor" / "echarts"
    assert (vendor / "LICENSE").read_text().startswith("\n                                 Apache License") or \
        "Apache License" in (vendor / "LICENSE").read_text()
    assert 'registerPainter("svg"' in (vendor / "echarts.min.js").read_text(encoding="utf-8")
    script = (PROJECT_ROOT / "tracker" / "static" / "js" / "dashboard.js").read_text(encoding="utf-8")
    assert 'renderer: "svg"' in script
    with client.get("/static/js/dashboard.js") as static:
        assert static.status_code == 200


def test_demo_dashboard_shows_the_provincial_plan(demo: Flask, session: Session) -> None:
    html, data = _page(_client(demo, "zj_leader"))
    assert "浙江省卫生健康事业发展“十四五”规划" in html
    assert len(data["indicators"]) == 20 and len(data["chapters"]) == 11
    assert sum(c["total"] for c in data["chapters"]) == sum(d["total"] for d in data["departments"])
    zj13 = session.scalar(select(Plan.id).where(Plan.code == "zj-13"))
    html, data = _page(_client(demo, "zj_leader"), f"/dashboard?plan={zj13}")
    assert data["chapters"] == [] and len(data["indicators"]) == 16
    for user in ("zj_evaluator", "zj_planner", "zj_supervisor", "admin", "wl_leader"):
        assert _client(demo, user).get("/dashboard").status_code == 200, user


def test_who_may_open_it(demo: Flask, session: Session) -> None:
    for user in ("zj_head_jk", "zj_staff_jk"):
        response = _client(demo, user).get("/dashboard")
        assert response.status_code == 403
        assert "领导驾驶舱仅对领导、考核组、规划处、督查室和系统管理员开放。" in response.get_data(as_text=True)
    yq = session.scalar(select(Plan.id).where(Plan.code == "yq-14"))
    response = _client(demo, "wl_leader").get(f"/dashboard?plan={yq}")
    assert response.status_code == 403 and "该规划不在您的管辖范围内。" in response.get_data(as_text=True)
    leader = _client(demo, "zj_leader")
    assert leader.get("/dashboard?plan=abc").status_code == 400
    assert leader.get("/dashboard?plan=99999999").status_code == 404
    anonymous = demo.test_client().get("/dashboard")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_names_are_escaped(app: Flask, session: Session) -> None:
    world = build_world(session)
    chapter = next(t for t in world.tasks["a_open"].plan.tasks if t.parent_id is None)
    chapter.title = "</script><script>alert(1)</script>"
    world.departments["甲处"].name = "<img src=x onerror=alert(1)>"
    session.commit()
    response = _client(app, world.leader.username).get(f"/dashboard?plan={world.plan.id}")
    html = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
    block = re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>', html, re.S)
    assert block is not None and "\\u003c/script\\u003e" in block.group(1)
    assert json.loads(block.group(1))["chapters"][0]["label"].endswith("</script><script>alert(1)</script>")


def test_month_points() -> None:
    points = month_points(TODAY, 3)
    assert points == [("2026年9月", date(2026, 9, 1), date(2026, 10, 1)),
                      ("2026年10月", date(2026, 10, 1), date(2026, 11, 1)),
                      ("2026年11月", date(2026, 11, 1), TODAY)]
    assert month_points(date(2026, 1, 5), 2)[0] == ("2025年12月", date(2025, 12, 1), date(2026, 1, 1))
