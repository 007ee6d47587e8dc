"""Every key-project route × every role of the demo: 200 / 302 / 403 / 404 / 405 from one table, and
every refusal is the Chinese 403 page."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from tracker import timeutil
from tracker.projects.models import ProjectInvestment
from tracker.tasks.models import ProjectNode

from .conftest import client_as, project_of

USERS = {"planner": "zj_planner", "owner": "zj_head_yz", "other_head": "zj_head_jk", "staff": "zj_staff_jk",
         "supervisor": "zj_supervisor", "evaluator": "zj_evaluator", "leader": "zj_leader", "admin": "admin",
         "city_planner": "wz_planner"}


def only(*roles: str) -> dict[str, int]:
    return {r: (200 if r in roles else 403) for r in USERS}


ROUTES: list[tuple[str, str, dict[str, int], int]] = [
    # (endpoint, path, expected per role, default for roles not listed)
    ("projects.index", "/plans/{plan}/projects", {}, 200),
    ("projects.export", "/plans/{plan}/projects/export.xlsx", {}, 200),
    ("projects.index", "/plans/999999/projects", {}, 404),
    ("projects.new", "/plans/{plan}/projects/new", only("planner"), 403),
    ("projects.new", "/plans/999999/projects/new", {}, 404),
    ("projects.show", "/projects/{project}", {}, 200),
    ("projects.show", "/projects/999999", {}, 404),
    ("projects.edit", "/projects/{project}/edit", only("planner"), 403),
    ("projects.entry", "/projects/{project}/investments/2026", only("owner"), 403),
    ("projects.entry", "/projects/999999/investments/2026", {}, 404),
    ("projects.investment", "/projects/investments/{investment}", {}, 200),
    ("projects.investment", "/projects/investments/999999", {}, 404),
    ("projects.investment_action", "/projects/investments/{investment}/confirm", {}, 405),
    ("projects.node_done", "/projects/{project}/nodes/{node}/done", only("planner", "owner"), 403),
    ("projects.new_adjustment", "/projects/{project}/adjustments/new", only("owner"), 403),
    ("projects.decide", "/projects/adjustments/1/approve", {}, 405),
    ("projects.static", "/projects-static/projects.css", {}, 200),
]


@pytest.fixture
def world(demo: Flask):  # type: ignore[no-untyped-def]
    """专栏4 in mid-2026 (the demo's figures run to 2025): 2026 is a year its owner has not reported yet."""
    p = project_of(demo, "专栏4")
    with demo.extensions["tracker.sessions"]() as s:
        inv = s.scalar(select(ProjectInvestment.id).where(ProjectInvestment.project_id == p.id,
                                                          ProjectInvestment.year == 2025))
    node = next(m.id for m in p.task.milestones if m.node == ProjectNode.GROUNDBREAKING)
    ids = {"plan": p.task.plan_id, "project": p.id, "investment": inv, "node": node}
    clients = {role: client_as(demo, name) for role, name in USERS.items()}
    clients["anon"] = demo.test_client()
    with timeutil.frozen("2026-06-30"):
        yield ids, clients


def test_every_route_and_role(world) -> None:  # type: ignore[no-untyped-def]
    ids, clients = world
    failures = []
    for endpoint, path, expect, default in ROUTES:
        url = path.format(**ids)
        for role, client in clients.items():
            wanted = 405 if default == 405 else (302 if role == "anon" and endpoint != "projects.static"
                                                  else expect.get(role, default))
            with client.get(url) as response:
                if response.status_code != wanted:
                    failures.append(f"GET {url} as {role}: {response.status_code} ≠ {wanted}")
                if response.status_code == 403:
                    assert "无权访问" in response.get_data(as_text=True)
                if response.status_code == 302:
                    assert "/login" in response.headers["Location"]
    assert failures == [], "\n".join(failures)


def test_every_route_is_in_the_table(demo: Flask) -> None:
    endpoints = {r.endpoint for r in demo.url_map.iter_rules() if r.endpoint.startswith("projects.")}
    assert endpoints == {e for e, *_ in ROUTES}


def test_posts_are_refused_to_the_wrong_people_in_chinese(world) -> None:  # type: ignore[no-untyped-def]
    ids, clients = world
    posts = [
        (f"/projects/{ids['project']}/edit", "只有本级规划处可以维护项目库", ("planner",)),
        (f"/plans/{ids['plan']}/projects/new", "只有本级规划处可以维护项目库", ("planner",)),
        (f"/projects/{ids['project']}/investments/2026", "只有项目责任单位可以填报完成投资", ("owner",)),
        (f"/projects/{ids['project']}/adjustments/new", "只有项目责任单位负责人可以申请调整总投资", ("owner",)),
        (f"/projects/{ids['project']}/nodes/{ids['node']}/done", "只有项目责任单位负责人或本级规划处可以办结建设节点",
         ("owner", "planner")),
    ]
    for url, message, allowed in posts:
        for role, client in clients.items():
            if role in allowed or role == "anon":
                continue
            response = client.post(url, data={})
            assert response.status_code == 403, (url, role)
            assert message in response.get_data(as_text=True)
