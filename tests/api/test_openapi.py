"""The OpenAPI 3.1 document describes every route of /api/v1; the documentation page loads nothing from elsewhere."""

from __future__ import annotations

import re

import pytest


def _paths(app) -> set[str]:  # type: ignore[no-untyped-def]
    """Every /api/v1 route as OpenAPI writes it (/tasks/{task_id}), with its methods."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
            found |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def test_the_document_is_openapi_3_1_and_names_every_route(app, client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    spec = response.get_json()
    assert spec["openapi"] == "3.1.0"
    assert spec["info"]["title"] and spec["info"]["version"] == "v1"
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops if method != "parameters"}
    assert _paths(app) - documented == set()
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    # errors are documented as problem+json, and validation is described by the same schemas
    assert "application/problem+json" in spec["components"]["responses"]["NOT_FOUND"]["content"]
    patch = spec["paths"]["/api/v1/tasks/{task_id}"]["patch"]
    assert {"412", "428", "422"} <= set(patch["responses"])
    assert any(p["name"] == "If-Match" for p in patch["parameters"])
    status = spec["components"]["schemas"]["TaskPatch"]["properties"]["status"]
    assert "overdue" in status["enum"] and "additionalProperties" in spec["components"]["schemas"]["TaskPatch"]


def test_the_document_validates(client) -> None:  # type: ignore[no-untyped-def]
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(client.get("/api/v1/openapi.json").get_json())


def test_the_docs_page_loads_only_this_sites_files(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert not re.search(r"(?:src|href)\s*=\s*[\"'](?:https?:)?//", html), "an external URL in the docs page"
    assert "http://" not in html and "https://" not in html
    assert "<script>" not in html  # the CSP allows no inline script
    assert "/api/v1/tasks/{task_id}" in html  # the server-side summary of every operation
    assets = re.findall(r'<script src="(/[^"]+)"', html) + re.findall(r'<link rel="stylesheet" href="(/[^"]+)"', html)
    assert len(assets) == 3
    for src in assets:
        with client.get(src) as asset:
            assert asset.status_code == 200, src
    assert "script-src 'self';" in response.headers["Content-Security-Policy"]
