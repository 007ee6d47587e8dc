"""Every /api/v1 route × role with a token of that role's demo user: 200 / 401 / 403 / 404 from one table, as the
pages answer (tests/test_route_matrix.py walks the pages; its OWN_TABLES sends the API here)."""

from __future__ import annotations

from dataclasses import dataclass

from tracker.api.problems import PROBLEM_JSON

USERS = {"head": "zj_head_jk", "staff": "zj_staff_jk", "planner": "zj_planner", "supervisor": "zj_supervisor",
         "leader": "zj_leader", "outsider": "hz_planner", "city_supervisor": "wz_supervisor"}
ROLES = ["anon", *USERS]


@dataclass
class Route:
    endpoint: str
    path: str
    expect: dict[str, int]
    default: int = 200
    anon: int = 401

    def code(self, role: str) -> int:
        if role == "anon":
            return self.anon
        return self.expect.get(role, self.default)


ROUTES = [
    Route("api.openapi_json", "/openapi.json", {}, anon=200),
    Route("api.docs", "/docs", {}, anon=200),
    Route("api.me", "/me", {}),
    Route("api.plans", "/plans", {}),
    Route("api.plan", "/plans/{plan}", {}),
    Route("api.plan", "/plans/{city_plan}", {"outsider": 403}),
    Route("api.plan", "/plans/999999", {}, default=404),
    Route("api.tasks", "/tasks", {}),
    Route("api.tasks", "/tasks?plan={city_plan}&limit=5", {}),
    Route("api.task", "/tasks/{task}", {}),
    Route("api.task", "/tasks/{city_task}", {"outsider": 403}),
    Route("api.task", "/tasks/999999", {}, default=404),
    Route("api.overdue", "/alerts/overdue", {"head": 403, "staff": 403}),
    Route("api.cases", "/cases", {}),
    Route("api.case", "/cases/{case}", {"outsider": 403, "city_supervisor": 403}),
    Route("api.case", "/cases/999999", {}, default=404),
    Route("api.notifications", "/notifications", {}),
    Route("api.report", "/reports/{report}", {}),  # the province task: its plan is above every reader
    Route("api.report", "/reports/999999", {}, default=404),
    Route("api.search", "/search?q=疾控", {}),
    Route("api.milestone", "/milestones/{milestone}", {}),
    Route("api.projects", "/plans/{plan}/projects", {}),
    Route("api.projects", "/plans/{city_plan}/projects", {"outsider": 403}),
    Route("api.milestone", "/milestones/999999", {}, default=404),
    Route("api.search", "/search?q=" + "长" * 101, {}, default=422),
]
# Writes, walked in test_tasks.py and test_actions.py with their versions and bodies; indicator values and
# evaluations have none in the route matrix's world, so test_actions.py walks their reads too.
WRITES = {"api.evaluation", "api.evaluation_document", "api.milestone_files", "api.enter_investment", "api.investment_action", "api.update_task", "api.read", "api.case_action", "api.report_action", "api.indicator_value",
          "api.indicator_value_action", "api.create_report", "api.enter_value", "api.complete"}


def test_every_api_route_and_role(demo, world, api_as) -> None:  # type: ignore[no-untyped-def]
    clients = {role: api_as(USERS.get(role)) for role in ROLES}
    failures = []
    for route in ROUTES:
        path = route.path.format(**world)
        for role in ROLES:
            response = clients[role].get(path)
            if response.status_code != route.code(role):
                failures.append(f"GET {path} as {role}: {response.status_code} ≠ {route.code(role)}")
            if response.status_code >= 400:
                assert response.mimetype == PROBLEM_JSON, path
                body = response.get_json(force=True)
                assert body["status"] == response.status_code and body["title"] and body["detail"], path
            if response.status_code == 403:
                assert body["title"] == "无权访问"
    assert failures == [], "\n".join(failures)


def test_every_api_route_is_in_the_table(demo) -> None:  # type: ignore[no-untyped-def]
    covered = {r.endpoint for r in ROUTES} | WRITES
    endpoints = {r.endpoint for r in demo.url_map.iter_rules() if r.endpoint.startswith("api.")}
    assert endpoints - covered == set()
