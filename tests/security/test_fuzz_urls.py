"""Unknown and impossible ids in every URL of the app, GET and POST, as a user who may use the route:
a 4xx (or a redirect), never a 5xx."""

from __future__ import annotations

import re

from flask import Flask

from .formcrawl import signed_in
from .hostile import check_refusal_shown
from .test_forms_security import _fill, _sample_ids

# Values for a URL part: nothing of these names a record.
NUMBERS = ["0", str(2**31 - 1), str(10**30)]
WORDS = ["t999999", "%E2%80%AE", "a" * 300, "..%2F..%2Fetc", "%00", "2026-02-30"]
# The user who works with each area's routes (others are refused before any id is looked at).
AREA_USERS = {"tasks": "zj_head_jk", "workspace": "zj_head_jk", "adjustments": "zj_head_jk",
              "supervision": "zj_supervisor", "alerts": "zj_supervisor", "evaluations": "zj_evaluator",
              "admin": "admin", "system": "admin", "notifications": "zj_head_jk", "projects": "zj_head_yz"}
PARAM = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>")


def test_impossible_ids_in_every_url(demo: Flask) -> None:
    ids = _sample_ids(demo)
    clients = {}
    tried = 0
    for rule in sorted(demo.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static" or rule.endpoint.startswith("auth.") or not rule.arguments:
            continue
        user = AREA_USERS.get(rule.endpoint.split(".")[0], "zj_planner")
        client = clients.get(user) or clients.setdefault(user, signed_in(demo, user))
        for match in PARAM.finditer(rule.rule):
            converter = match.group(1)
            if converter == "any":
                continue
            for value in NUMBERS if converter == "int" else NUMBERS[:1] + WORDS:
                path = _fill(rule.rule.replace(match.group(0), value), ids)
                for method in sorted((rule.methods or set()) & {"GET", "POST"}):
                    response = client.open(path, method=method)
                    if method == "POST":
                        check_refusal_shown(response, path)
                    assert response.status_code < 500, (method, path, response.status_code)
                    response.close()
                    tried += 1
    assert tried > 300


def test_every_integer_in_a_url_fits_an_integer_column(demo: Flask) -> None:
    """A route with a bare <int:…> lets 10^30 through to the database (an OverflowError on SQLite)."""
    from werkzeug.routing import IntegerConverter

    unbounded = [f"{rule.rule} ({name})" for rule in demo.url_map.iter_rules()
                 for name, converter in (rule._converters or {}).items()
                 if isinstance(converter, IntegerConverter) and (converter.max is None or converter.max > 2**31 - 1)]
    assert unbounded == []
