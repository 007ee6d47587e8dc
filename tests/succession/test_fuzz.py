"""Hostile values into the selection page's form (as tests/security/test_fuzz_forms.py does for every form,
here more of them for this one): no 5xx, a refusal says why, nothing stored that no form may hold."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ..security.formcrawl import build_world, forms_of
from ..security.hostile import check_refusal_shown, hostile_post, post, stored_problems


@pytest.fixture
def selection(demo: Flask) -> tuple[Any, Any]:
    world = build_world(demo)
    return world, next(f for f in forms_of(demo, world) if f.endpoint == "succession.start")


@given(data=st.data())
@settings(max_examples=40, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
def test_hostile_values_in_the_selection_form(demo: Flask, selection: tuple[Any, Any], data: st.DataObject) -> None:
    world, form = selection
    response = post(world.clients[form.user], form.action, data.draw(hostile_post(form), label="post"))
    check_refusal_shown(response, form)
    if response.status_code == 302:
        assert stored_problems(demo) == []
