"""Route × role matrices for the indicator, evaluation and dashboard pages (GET only, so one demo app serves
every request): each role gets exactly the status the table says."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient

from ..conftest import login

USERS = {"admin": "admin", "planner": "zj_planner", "head": "zj_head_jk", "staff": "zj_staff_jk",
         "other_head": "zj_head_yz", "supervisor": "zj_supervisor", "evaluator": "zj_evaluator",
         "leader": "zj_leader", "outsider": "hz_planner"}
ROLES = ["anon", *USERS]


@dataclass
class Route:
    endpoint: str
    path: str
    expect: dict[str, int]
    default: int = 200

    def code(self, role: str) -> int:
        if self.default == 405:
            return 405
        if role in self.expect:
            return self.expect[role]
        return 302 if role == "anon" else self.default


def only(*roles: str, ok: int = 200) -> dict[str, int]:
    """Only these roles get ``ok``; every other signed-in role gets 403."""
    return {r: (ok if r in roles else 403) for r in USERS}


def clients(app: Flask) -> dict[str, FlaskClient]:
    result = {"anon": app.test_client()}
    for role, username in USERS.items():
        result[role] = app.test_client()
        login(result[role], username)
    return result


def check(app: Flask, routes: list[Route], ids: dict[str, int]) -> list[str]:
    """Every (route, role) whose status differs from the table."""
    wrong = []
    by_role = clients(app)
    for route in routes:
        path = route.path.format(**ids)
        for role in ROLES:
            response = by_role[role].get(path)
            response.close()
            if response.status_code != route.code(role):
                wrong.append(f"{route.endpoint} {path} as {role}: {response.status_code}, expected {route.code(role)}")
            if response.status_code == 403:
                assert "无权访问" in response.get_data(as_text=True)
    return wrong


def endpoints(app: Flask, prefix: str) -> set[str]:
    return {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith(prefix)}
