"""Hostile input into every form of the app, as the users who may use it: no answer is a 5xx, a refusal says
why, and nothing a form may not hold is stored.

The fields come from the pages themselves (formcrawl reads every POST form on each user's pages), so the
values land in real fields next to valid values of the others. Examples share one demo database per test.
TRACKER_FUZZ_SCALE=10 runs ten times as many examples (the suite's run is kept short).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.adjustments.models import AdjustmentRequest
from tracker.attachments.models import Attachment
from tracker.audit import AuditEntry
from tracker.auth.models import User
from tracker.indicators.models import IndicatorValue
from tracker.projects.models import ProjectInvestment
from tracker.supervision.models import CaseStep, SupervisionCase
from tracker.tasks.models import Milestone, ProgressReport, Task

from .formcrawl import API_PREFIX, PAGES, UNFUZZED, Form, World, build_world, forms_of, page_forms
from .hostile import check_refusal_shown, hostile_post, post, stored_problems

SCALE = int(os.environ.get("TRACKER_FUZZ_SCALE", "1"))


def fuzz(examples: int) -> settings:
    # No shrinking: a failure is reported as found, and a run stays bounded in time.
    return settings(max_examples=examples * SCALE, deadline=None, database=None,
                    phases=[Phase.explicit, Phase.generate], suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])


class Forms:
    """The forms of a world, each re-read from its page when a save may have changed its hidden versions."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.world: World = build_world(app)
        self.all: list[Form] = forms_of(app, self.world)
        self.stale: set[int] = set()

    def fresh(self, form: Form) -> Form:
        """The form with the hidden values (versions, revisions) its page shows now."""
        if id(form) not in self.stale:
            return form
        self.stale.discard(id(form))
        response = self.world.clients[form.user].get(form.page)
        if response.status_code == 200:
            for now in page_forms(self.app, form.user, form.page, response.get_data(as_text=True)):
                if now.action == form.action:
                    for name, field in now.fields.items():
                        if name in form.fields and field.kind == "hidden":
                            form.fields[name].value = field.value
        return form

    def send(self, form: Form, pairs: list[tuple[str, str]]) -> Any:
        response = post(self.world.clients[form.user], form.action, pairs)
        event(f"{form.endpoint} {response.status_code}")
        check_refusal_shown(response, form)
        if response.status_code == 302:
            self.stale.update(id(f) for f in self.all)
        return response


def any_form(forms: list[Form]) -> st.SearchStrategy[Form]:
    """A form, every route as likely as any other (a page may hold many forms of one route)."""
    by_endpoint: dict[str, list[Form]] = {}
    for form in forms:
        by_endpoint.setdefault(form.endpoint, []).append(form)
    return st.sampled_from(sorted(by_endpoint)).flatmap(lambda e: st.sampled_from(by_endpoint[e]))


@pytest.fixture
def forms(demo: Flask) -> Forms:
    return Forms(demo)


def _audit_count(app: Flask) -> int:
    with app.extensions["tracker.sessions"]() as s:
        return s.scalar(select(func.count()).select_from(AuditEntry)) or 0


def test_every_post_route_has_a_form_on_the_pages(forms: Forms) -> None:
    posts = {r.endpoint for r in forms.app.url_map.iter_rules()
             if "POST" in (r.methods or set()) and not r.endpoint.startswith(API_PREFIX)}
    missing = posts - UNFUZZED - {f.endpoint for f in forms.all}
    assert missing == set(), f"add a page showing the form of {missing} to formcrawl.PAGES"
    assert set(PAGES) == {f.user for f in forms.all}


@given(data=st.data())
@fuzz(250)
def test_hostile_values_in_every_form(forms: Forms, data: st.DataObject) -> None:
    form = forms.fresh(data.draw(any_form(forms.all), label="form"))
    pairs = data.draw(hostile_post(form), label="post")
    audited = _audit_count(forms.app)
    response = forms.send(form, pairs)
    if response.status_code in (201, 302):  # 201: made and shown on the page (a new access token, shown once)
        assert stored_problems(forms.app) == [], (form, pairs)
    else:  # refused: nothing was recorded
        assert _audit_count(forms.app) == audited, (form, response.status_code)


# ------------------------------------------------------------------------------ key forms, record by record


def _rows(s: Session, model: Any, *where: Any) -> list[tuple[Any, ...]]:
    table = model.__table__
    return sorted((tuple(r) for r in s.execute(select(table).where(*where))), key=repr)


# What each key form may change, read from the database: a refused post leaves it exactly as it was.
TOUCHED: dict[str, Callable[[Session, dict[str, Any]], Any]] = {
    "tasks.status": lambda s, a: _rows(s, Task, Task.id == a["task_id"]),
    "tasks.complete": lambda s, a: (_rows(s, Milestone, Milestone.id == a["milestone_id"]),
                                    _rows(s, Attachment, Attachment.milestone_id == a["milestone_id"])),
    "tasks.new_report": lambda s, a: _rows(s, ProgressReport, ProgressReport.task_id == a["task_id"]),
    "tasks.edit_report": lambda s, a: (_rows(s, ProgressReport, ProgressReport.id == a["report_id"]),
                                       _rows(s, Attachment, Attachment.report_id == a["report_id"])),
    "indicators.edit_value": lambda s, a: _rows(s, IndicatorValue, IndicatorValue.indicator_id == a["indicator_id"]),
    "indicators.entry": lambda s, a: _rows(s, IndicatorValue),
    "supervision.new": lambda s, a: (_rows(s, SupervisionCase), _rows(s, CaseStep)),
    "supervision.act": lambda s, a: (_rows(s, SupervisionCase, SupervisionCase.id == a["case_id"]),
                                     _rows(s, CaseStep, CaseStep.case_id == a["case_id"])),
    "adjustments.new_deadline": lambda s, a: (_rows(s, AdjustmentRequest), _rows(s, Task, Task.id == a["task_id"])),
    "adjustments.new_target": lambda s, a: _rows(s, AdjustmentRequest),
    "adjustments.show": lambda s, a: _rows(s, AdjustmentRequest, AdjustmentRequest.id == a["request_id"]),
    "projects.entry": lambda s, a: _rows(s, ProjectInvestment, ProjectInvestment.project_id == a["project_id"]),
    "projects.new_adjustment": lambda s, a: _rows(s, AdjustmentRequest),
    "admin.user_form": lambda s, a: _rows(s, User),
}


def _touched(forms: Forms, form: Form) -> Any:
    adapter = forms.app.url_map.bind("localhost")
    _, args = adapter.match(form.action, method="POST")
    with forms.app.extensions["tracker.sessions"]() as s:
        return TOUCHED[form.endpoint](s, args)


@given(data=st.data())
@fuzz(150)
def test_a_refused_key_form_leaves_its_record_unchanged(forms: Forms, data: st.DataObject) -> None:
    key_forms = [f for f in forms.all if f.endpoint in TOUCHED]
    assert {f.endpoint for f in key_forms} == set(TOUCHED)
    form = forms.fresh(data.draw(any_form(key_forms), label="form"))
    pairs = data.draw(hostile_post(form), label="post")
    before = _touched(forms, form)
    response = forms.send(form, pairs)
    if response.status_code in (201, 302):  # 201: made and shown on the page (a new access token, shown once)
        assert stored_problems(forms.app) == [], (form, pairs)
    else:
        assert _touched(forms, form) == before, (form, response.status_code)
