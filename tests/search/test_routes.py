"""Every search route × every role (tests/test_route_matrix.py's OWN_TABLES sends `search.` here): every signed-in
role may search — what each finds is its own scope (test_search.py) — and bad arguments are a 400 with a message."""

from __future__ import annotations

from urllib.parse import quote

from flask import Flask

from ..indicators.routes import Route, check, endpoints

LONG = quote("疾" * 101)
SPECIAL = quote('%_"NEAR" OR *')
ROUTES = [
    Route("search.index", "/search", {}),
    Route("search.index", "/search?q=", {}),
    Route("search.index", f"/search?q={quote('疾控')}", {}),
    Route("search.index", f"/search?q={quote('疾控中心')}&kind=tasks", {}),
    Route("search.index", f"/search?q={quote('疾控')}&kind=reports&page=2", {}),
    Route("search.index", f"/search?q={SPECIAL}", {}),
    Route("search.index", "/search?q=1.2.3", {}),
    Route("search.index", f"/search?q={quote('浙卫督〔2026〕1号')}", {}),
    Route("search.index", f"/search?q={LONG}", {}, default=400),
    Route("search.index", "/search?q=a&kind=bogus", {}, default=400),
    Route("search.index", "/search?q=a&kind=tasks&page=0", {}, default=400),
]


def test_every_search_route_and_role(demo: Flask) -> None:
    assert check(demo, ROUTES, {}) == []
    assert endpoints(demo, "search.") == {r.endpoint for r in ROUTES}
