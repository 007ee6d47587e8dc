"""Every kind of page passes axe-core's WCAG 2.1 A and AA rules (GB/T 37668-2019) at 1366 and 390 px.

The pages come from the route × role tables (tests/test_route_matrix.py ROUTES and the tables its OWN_TABLES
names), so a new page is audited as soon as it is in its table: each endpoint (and query) once, as the first
role of PREFERRED that may open it, its ids from the same demo world the route matrix builds. One browser,
one signed-in page per role; axe (vendored from npm, tests/e2e/vendor/axe-core, MPL-2.0) is loaded into each
page as it opens and run at both widths, and at 390 px the page must not scroll sideways. With
$A11Y_SCREENSHOTS set, each page is photographed at both widths into that folder.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from tracker.alerts.services import scan
from tracker.db import unit_of_work
from tracker.evaluations.models import DepartmentScore, Evaluation, EvaluationKind
from tracker.imports.models import ImportDocument
from tracker.indicators.models import Indicator, IndicatorValue
from tracker.planning.models import Plan
from tracker.projects.models import ProjectInvestment
from tracker.tasks.models import ProjectNode
from tracker.timeutil import today

from .. import test_route_matrix as matrix
from ..api import test_routes as api_table
from ..conftest import PASSWORD, client_for
from ..dashboard import test_routes as dashboard_table
from ..evaluations import test_routes as evaluations_table
from ..imports import test_routes as imports_table
from ..imports.conftest import seed
from ..imports.test_documents import document_id, upload
from ..indicators import test_routes as indicators_table
from ..projects import test_routes as projects_table
from ..projects.conftest import project_of
from .conftest import LiveServer, login_as

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = (1366, 390)
# Who opens a page that several roles may open: the role whose work it is comes first.
PREFERRED = ["anon", "head", "staff", "supervisor", "evaluator", "leader", "planner", "admin", "owner", "outsider",
             "city_planner", "other_head"]
USERS = {**matrix.USERS, **projects_table.USERS, **imports_table.USERS}
# Files, JSON and static assets are not pages.
NOT_PAGES = re.compile(r"\.(xlsx|docx|pdf|json|css|js)(\?|$)")
NOT_PAGE_ENDPOINTS = {"attachments.download", "planning.explain_target"}
# The HTTP error page, as everybody meets it.
ERROR_PAGES = [("errors.not_found", "/plans/999999", "head"), ("errors.forbidden", "/admin/users", "head")]


@dataclass(frozen=True)
class Visit:
    kind: str
    path: str
    role: str


def _code(route: object, role: str) -> int:
    if isinstance(route, tuple):  # the (endpoint, path, expect, default) rows of the projects and imports tables
        endpoint, _, expect, default = route
        if default == 405:
            return 405
        if role == "anon":
            return 200 if endpoint.endswith(".static") else 302
        return expect.get(role, default)
    return route.code(role)  # type: ignore[attr-defined]


def _rows() -> list[tuple[str, str, object, tuple[str, ...]]]:
    """(endpoint, path, route, roles) of every table, with the roles that table knows."""
    rows = []
    for table in (matrix, indicators_table, evaluations_table, dashboard_table):
        roles = ("anon", *table.USERS) if hasattr(table, "USERS") else tuple(matrix.ROLES)
        rows += [(r.endpoint, r.path, r, roles) for r in table.ROUTES]
    for table in (projects_table, imports_table):
        rows += [(r[0], r[1], r, ("anon", *table.USERS)) for r in table.ROUTES]
    rows += [(r.endpoint, "/api/v1" + r.path, r, ("anon",)) for r in api_table.ROUTES if r.endpoint == "api.docs"]
    return rows


def visits() -> list[Visit]:
    """One visit per kind of page (endpoint and query keys) that some role opens with 200."""
    seen: dict[str, Visit] = {}
    for endpoint, path, route, roles in _rows():
        if NOT_PAGES.search(path) or endpoint in NOT_PAGE_ENDPOINTS or endpoint.endswith(".static"):
            continue
        query = urlsplit(path).query
        kind = endpoint + (f"?{'&'.join(sorted(p.split('=')[0] for p in query.split('&')))}" if query else "")
        if endpoint == "imports.show" and "{tasklist}" in path:
            kind += "(tasklist)"  # a staged task list has a page of its own
        if kind in seen:
            continue
        role = next((r for r in PREFERRED if r in roles and _code(route, r) == 200), None)
        if role is not None:
            seen[kind] = Visit(kind, path, role)
    return [*seen.values(), *(Visit(*e) for e in ERROR_PAGES)]


def _world(app: Flask) -> dict[str, int]:
    """The ids the tables' paths name, from the demo data as the tables' own tests find them."""
    ids = dict(matrix._build(app).ids)
    with unit_of_work(app.extensions["tracker.sessions"]) as session:
        scan(session, today())  # the overdue list, the workspace and the dashboard with their alerts
    with app.extensions["tracker.sessions"]() as s:
        plan = s.scalars(select(Plan).where(Plan.code == "zj-14")).one()
        city = s.scalars(select(Plan).where(Plan.code == "wz-14")).one()
        indicator = s.scalars(select(Indicator).where(Indicator.plan_id == plan.id, Indicator.number == 10)).one()

        def evaluation(code: str, kind: EvaluationKind) -> int:
            return s.scalars(select(Evaluation.id).join(Plan).where(Plan.code == code, Evaluation.kind == kind)).one()

        draft = evaluation("zj-14", EvaluationKind.ANNUAL)
        ids |= {"city_indicator": city.indicators[0].id,
                "value": s.scalars(select(IndicatorValue.id).where(IndicatorValue.indicator_id == indicator.id)).first(),
                "draft": draft, "locked": evaluation("zj-13", EvaluationKind.FINAL),
                "score": s.scalars(select(DepartmentScore.id).where(DepartmentScore.evaluation_id == draft)).first(),
                "county_plan": s.scalar(select(Plan.id).where(Plan.code == "yq-14"))}
    project = project_of(app, "专栏4")
    with app.extensions["tracker.sessions"]() as s:
        ids["investment"] = s.scalar(select(ProjectInvestment.id).where(ProjectInvestment.project_id == project.id,
                                                                        ProjectInvestment.year == 2025))
    ids |= {"project": project.id,
            "node": next(m.id for m in project.task.milestones if m.node == ProjectNode.GROUNDBREAKING)}
    # a plan document and a task list staged for import, as tests/imports/test_routes.py stages them
    from ..imports.test_tasklist import export, send, staged

    csrf = app.config["WTF_CSRF_ENABLED"]
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        planner = client_for(app, "zj_planner")
        text = seed("003").read_text(encoding="utf-8") + imports_table.PROJECT_TABLE
        doc = document_id(upload(planner, "plan.md", text.encode()))
        ids["tasklist"] = staged(send(planner, ids["plan"], export(planner, ids["plan"])))
    finally:
        app.config["WTF_CSRF_ENABLED"] = csrf
    with app.extensions["tracker.sessions"]() as s:
        draft_doc = s.get(ImportDocument, doc).draft  # type: ignore[union-attr]
    ids |= {"doc": doc, "item": draft_doc["items"][0]["id"], "candidate": draft_doc["candidates"][0]["id"],
            "draft_indicator": draft_doc["indicators"][0]["id"], "draft_project": draft_doc["projects"][0]["id"]}
    return ids


def _format(path: str, ids: dict[str, int]) -> str:
    if path.startswith("/imports/{doc}/"):  # the imports table's indicator and project are those of the draft
        path = path.replace("{indicator}", "{draft_indicator}").replace("{project}", "{draft_project}")
    return path.format(**ids)


# What sticks out of a narrow page: the outermost elements wider than the window (their parents fit).
STICKING_OUT = """width => {
  const out = e => e.getBoundingClientRect().right > width + 1;
  const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && e.className.baseVal === undefined
    ? '.' + String(e.className).trim().split(/\\s+/).join('.') : '');
  return [...document.body.querySelectorAll('*')].filter(e => out(e) && !out(e.parentElement))
    .slice(0, 5).map(e => name(e.parentElement) + ' > ' + name(e));
}"""
# Swagger UI (vendored, tracker/static/vendor/swagger-ui) draws the API page from its own components; what is ours
# there is the page around it and the table shown without JavaScript.
RUN_AXE = """async tags => {
  const result = await axe.run({exclude: [['#swagger-ui .swagger-ui']]}, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations'], iframes: false});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary, html: n.html.slice(0, 160)}))}));
}"""


def test_every_kind_of_page_passes_axe(browser, live_app: Flask, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    ids = _world(live_app)
    by_role: dict[str, list[Visit]] = defaultdict(list)
    for visit in visits():
        by_role[visit.role].append(visit)
    assert len({v.kind for vs in by_role.values() for v in vs}) >= 80, "fewer pages than the tables name"

    problems: list[str] = []
    for role, role_visits in by_role.items():
        context = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai",
                                      viewport={"width": WIDTHS[0], "height": 900})
        try:
            page = context.new_page()
            page.set_default_timeout(15000)
            if role != "anon":
                login_as(page, USERS[role], PASSWORD)
            context.add_init_script(path=str(AXE))
            for visit in role_visits:
                url = _format(visit.path, ids)
                page.set_viewport_size({"width": WIDTHS[0], "height": 900})
                response = page.goto(url, wait_until="domcontentloaded")  # the styles are in by then
                assert response is not None
                if "html" not in (response.headers.get("content-type") or ""):
                    problems.append(f"{visit.kind} {url} ({role}): not a page ({response.status})")
                    continue
                if page.locator("[data-chart]").count():
                    page.wait_for_selector("[data-chart][data-rendered]")
                if page.locator("#swagger-ui[data-spec]").count():  # Swagger UI draws once the spec is in
                    page.wait_for_selector("#swagger-ui .opblock")
                for width in WIDTHS:
                    if width != WIDTHS[0]:
                        page.set_viewport_size({"width": width, "height": 844})
                    for v in page.evaluate(RUN_AXE, TAGS):
                        nodes = "\n".join(f"      {n['target']}  {n['html']}\n        {n['summary']}".replace(
                            "\n  ", " ") for n in v["nodes"][:4])
                        more = f"\n      … and {len(v['nodes']) - 4} more" if len(v["nodes"]) > 4 else ""
                        problems.append(f"{visit.kind} {url} as {role} at {width}px: {v['id']} ({v['impact']}) "
                                        f"{v['help']}\n{nodes}{more}")
                    if os.environ.get("A11Y_SCREENSHOTS"):
                        name = re.sub(r"[^\w.-]+", "_", f"{visit.kind}-{width}")
                        page.screenshot(path=str(Path(os.environ["A11Y_SCREENSHOTS"]) / f"{name}.png"))
                    if width < 1000:
                        wide = page.evaluate("document.documentElement.scrollWidth")
                        if wide > width:
                            problems.append(f"{visit.kind} {url} as {role} at {width}px: scrolls sideways "
                                            f"({wide} px wide): {', '.join(page.evaluate(STICKING_OUT, width))}")
        finally:
            context.close()
    assert not problems, f"{len(problems)} accessibility problems:\n" + "\n".join(problems)


@pytest.mark.parametrize("kind", ["tasks.show", "alerts.overdue", "dashboard.index", "auth.login",
                                  "evaluations.show?tab", "imports.show(tasklist)"])
def test_the_page_list_comes_from_the_route_tables(kind: str) -> None:
    assert kind in {v.kind for v in visits()}

