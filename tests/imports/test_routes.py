"""Every import route × every role of the demo: 200 / 302 / 403 / 404 / 405 from one table, and every
refusal is the Chinese 403 page."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from tracker.imports.models import ImportDocument
from tracker.planning.models import Plan

from .conftest import client_for, seed
from .test_documents import document_id, upload

USERS = {"planner": "zj_planner", "head": "zj_head_jk", "staff": "zj_staff_jk", "supervisor": "zj_supervisor",
         "evaluator": "zj_evaluator", "leader": "zj_leader", "admin": "admin", "city_planner": "wz_planner",
         "outsider": "hz_planner"}
PLANNERS = ("planner", "city_planner", "outsider")


def only(*roles: str) -> dict[str, int]:
    return {r: (200 if r in roles else 403) for r in USERS}


ROUTES: list[tuple[str, str, dict[str, int], int]] = [
    # (endpoint, path, expected per role, default for roles not listed)
    ("imports.index", "/imports", only(*PLANNERS), 403),
    ("imports.show", "/imports/{doc}", only("planner"), 403),
    ("imports.show", "/imports/999999", {}, 404),
    ("imports.show", "/imports/{tasklist}", only("planner"), 403),
    ("imports.edit_item", "/imports/{doc}/items/{item}", only("planner"), 403),
    ("imports.edit_item", "/imports/{doc}/items/t999999", {"planner": 404}, 403),
    ("imports.edit_item", "/imports/{doc}/items/nonsense", {"planner": 404}, 403),
    ("imports.delete_item", "/imports/{doc}/items/{item}/delete", {}, 405),
    ("imports.merge_item", "/imports/{doc}/items/{item}/merge", {}, 405),
    ("imports.make_tasks", "/imports/{doc}/items/{item}/tasks", {}, 405),
    ("imports.edit_indicator", "/imports/{doc}/indicators/{indicator}", only("planner"), 403),
    ("imports.delete_indicator", "/imports/{doc}/indicators/{indicator}/delete", {}, 405),
    ("imports.set_natures", "/imports/{doc}/natures", {}, 405),
    ("imports.candidate", "/imports/{doc}/candidates/{candidate}/promote", {}, 405),
    ("imports.edit_project", "/imports/{doc}/projects/{project}", only("planner"), 403),
    ("imports.delete_project", "/imports/{doc}/projects/{project}/delete", {}, 405),
    ("imports.add_rule", "/imports/{doc}/rules", {}, 405),
    ("imports.delete_rule", "/imports/rules/1/delete", {}, 405),
    ("imports.assign", "/imports/{doc}/assign", {}, 405),
    ("imports.bulk", "/imports/{doc}/bulk", {}, 405),
    ("imports.discard", "/imports/{doc}/discard", {}, 405),
    ("imports.confirm", "/imports/{doc}/confirm", only("planner"), 403),
    ("imports.revise", "/imports/{doc}/revise", {}, 405),
    ("imports.replace", "/imports/{doc}/replace/{doc}", {}, 405),
    ("imports.revision_entry", "/imports/{doc}/revision/{item}/keep", {}, 405),
    ("imports.export_tasklist", "/plans/{plan}/tasklist.xlsx", {}, 200),
    ("imports.export_tasklist", "/plans/{county_plan}/tasklist.xlsx", {"outsider": 403}, 200),
    ("imports.export_tasklist", "/plans/999999/tasklist.xlsx", {}, 404),
    ("imports.tasklist_template", "/plans/{plan}/tasklist-template.xlsx", {}, 200),
    ("imports.import_tasklist", "/plans/{plan}/tasklist/import", only("planner"), 403),
    ("imports.apply_tasklist", "/imports/{tasklist}/apply", {}, 405),
    ("plans.cascade_plan", "/plans/{plan}/cascade", only("city_planner", "outsider"), 403),
    ("plans.coverage", "/plans/{plan}/coverage", only("planner", "supervisor", "evaluator", "leader"), 403),
    ("plans.coverage", "/plans/999999/coverage", {}, 404),
    ("imports.static", "/imports-static/imports.css", {}, 200),
]

PROJECT_TABLE = """
附表  重大项目表（单位：亿元）
| 序号 | 项目名称 | 建设内容 | 总投资 | 期内投资 | 建设单位 |
| --- | --- | --- | --- | --- | --- |
| 1 | 省疾控中心迁建 | 新建业务用房 | 12.5 | 10 | 省疾病预防控制中心 |
"""


@pytest.fixture
def world(demo: Flask):  # type: ignore[no-untyped-def]
    from .test_tasklist import export, send, staged

    planner = client_for(demo, "zj_planner")
    text = seed("003").read_text(encoding="utf-8") + PROJECT_TABLE
    doc = document_id(upload(planner, "plan.md", text.encode()))
    with demo.extensions["tracker.sessions"]() as s:
        draft = s.get(ImportDocument, doc).draft  # type: ignore[union-attr]
        plan = s.scalar(select(Plan.id).where(Plan.code == "zj-14"))
        county_plan = s.scalar(select(Plan.id).where(Plan.code == "yq-14"))
    tasklist = staged(send(planner, plan, export(planner, plan)))
    ids = {"doc": doc, "item": draft["items"][0]["id"], "indicator": draft["indicators"][0]["id"],
           "candidate": draft["candidates"][0]["id"], "project": draft["projects"][0]["id"], "plan": plan,
           "county_plan": county_plan, "tasklist": tasklist}
    clients = {role: client_for(demo, name) for role, name in USERS.items()}
    clients["anon"] = demo.test_client()
    return ids, clients


def test_every_route_and_role(world) -> None:  # type: ignore[no-untyped-def]
    ids, clients = world
    failures = []
    for endpoint, path, expect, default in ROUTES:
        url = path.format(**ids)
        for role, client in clients.items():
            if default == 405:
                wanted = 405
            elif role == "anon":
                wanted = 200 if endpoint == "imports.static" else 302
            else:
                wanted = expect.get(role, default)
            with client.get(url) as response:
                if response.status_code != wanted:
                    failures.append(f"GET {url} as {role}: {response.status_code} ≠ {wanted}")
                if response.status_code == 403:
                    assert "无权访问" in response.get_data(as_text=True)
                if response.status_code == 302:
                    assert "/login" in response.headers["Location"]
    assert failures == [], "\n".join(failures)


def test_every_route_is_in_the_table(demo: Flask) -> None:
    endpoints = {r.endpoint for r in demo.url_map.iter_rules() if r.endpoint.startswith("imports.")}
    # the table also holds planning's cascade and coverage pages, which are asked of this file's world
    assert endpoints == {e for e, *_ in ROUTES if e.startswith("imports.")}
    assert {e for e, *_ in ROUTES if not e.startswith("imports.")} == {"plans.cascade_plan", "plans.coverage"}


def test_posts_are_refused_to_the_wrong_people_in_chinese(world) -> None:  # type: ignore[no-untyped-def]
    ids, clients = world
    doc = ids["doc"]
    posts = [
        ("/imports", "只有规划处可以导入规划文档", PLANNERS),
        (f"/imports/{doc}/items/{ids['item']}/delete", "只有本地区的规划处可以处理该导入", ("planner",)),
        (f"/imports/{doc}/assign", "只有本地区的规划处可以处理该导入", ("planner",)),
        (f"/imports/{doc}/natures", "只有本地区的规划处可以处理该导入", ("planner",)),
        (f"/imports/{doc}/confirm", "只有本地区的规划处可以处理该导入", ("planner",)),
        (f"/imports/{doc}/revise", "只有本地区的规划处可以处理该导入", ("planner",)),
        (f"/imports/{doc}/replace/{doc}", "只有本地区的规划处可以处理该导入", ("planner",)),
        (f"/imports/{doc}/revision/{ids['item']}/keep", "只有本地区的规划处可以处理该导入", ("planner",)),
        (f"/imports/{ids['tasklist']}/apply", "只有本地区的规划处可以处理该导入", ("planner",)),
        (f"/plans/{ids['plan']}/tasklist/import", "只有本地区的规划处可以导入该规划的任务分解表", ("planner",)),
        (f"/plans/{ids['plan']}/cascade", "只能从上级地区的规划分解本地区的规划", ("city_planner", "outsider")),
    ]
    for url, message, allowed in posts:
        for role, client in clients.items():
            if role in allowed or role == "anon":
                continue
            response = client.post(url, data={})
            assert response.status_code == 403, (url, role)
            assert message in response.get_data(as_text=True), (url, role)
