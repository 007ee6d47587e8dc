"""Locking asks for confirmation; an administrator reopens a locked evaluation with a reason, as a new draft
version (the locked version stays as it was)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories as f
from tracker.audit import AuditEntry
from tracker.auth.models import Role
from tracker.errors import DomainError, InvalidTransition, PermissionDenied
from tracker.evaluations.models import Evaluation, EvaluationKind, EvaluationState
from tracker.evaluations.queries import scores_of
from tracker.evaluations.services import adjust_score, lock, reopen, run_evaluation, score_fingerprint

from ..conftest import client_for
from .test_views import error_in_row, evaluation_of
from .world import World

MEANING = "锁定后考核结果不能再修改，重新计算将生成新版本"


def _figures(session: Session, evaluation: Evaluation) -> dict[str, tuple[object, ...]]:
    session.expire_all()
    return {s.department.name: (s.tasks_done, s.score, s.adjusted_score, s.adjust_reason, s.rank, s.grade)
            for s in scores_of(session, evaluation)}


def _entries(session: Session, evaluation: Evaluation) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.object_type == "evaluations",
                                                         AuditEntry.object_id == evaluation.id)
                                .order_by(AuditEntry.id)))


def test_locking_without_the_confirmation_is_refused_next_to_the_checkbox(world: World, session: Session) -> None:
    evaluation = run_evaluation(session, world.evaluator, world.plan, EvaluationKind.ANNUAL, 2025)
    session.commit()
    with pytest.raises(DomainError) as refused:
        lock(session, world.evaluator, evaluation)
    assert refused.value.field == "confirm" and MEANING in refused.value.message
    session.rollback()
    assert evaluation.state == EvaluationState.DRAFT and evaluation.locked_at is None
    lock(session, world.evaluator, evaluation, confirmed=True)
    assert evaluation.state == EvaluationState.LOCKED


def test_an_administrator_reopens_a_locked_evaluation_as_a_new_draft(world: World, session: Session) -> None:
    admin = f.user(session, world.departments["甲处"], Role.ADMIN, "eval_admin")
    evaluation = run_evaluation(session, world.evaluator, world.plan, EvaluationKind.ANNUAL, 2025)
    a = next(s for s in scores_of(session, evaluation) if s.department.name == "甲处")
    adjust_score(session, world.evaluator, a, Decimal("70"), "补充材料证明已完成", score_fingerprint(a))
    session.commit()

    with pytest.raises(InvalidTransition):  # a draft is recomputed and adjusted, not reopened
        reopen(session, admin, evaluation, "更正")
    lock(session, world.evaluator, evaluation, confirmed=True)
    session.commit()
    locked = _figures(session, evaluation)

    for someone in (world.evaluator, world.planner, world.leader):
        with pytest.raises(PermissionDenied):
            reopen(session, someone, evaluation, "更正")
    for blank in (None, "", "   "):
        with pytest.raises(DomainError) as refused:
            reopen(session, admin, evaluation, blank)
        assert refused.value.field == "reason" and refused.value.message == "重新开放须写明理由。"
    with pytest.raises(DomainError) as refused:
        reopen(session, admin, evaluation, "长" * 2001)
    assert refused.value.field == "reason"
    session.rollback()

    draft = reopen(session, admin, evaluation, "甲处材料漏报，经领导同意更正")
    session.commit()
    assert (draft.version, draft.state, draft.locked_at) == (2, EvaluationState.DRAFT, None)
    assert draft.id != evaluation.id
    assert (draft.weights, draft.grade_thresholds) == (evaluation.weights, evaluation.grade_thresholds)
    session.refresh(evaluation)
    assert evaluation.state == EvaluationState.LOCKED and _figures(session, evaluation) == locked
    assert _figures(session, draft) == locked  # the same data, the adjustment carried with its reason

    reopened = _entries(session, evaluation)[-1]
    assert reopened.action == "reopen" and reopened.actor_id == admin.id
    assert "甲处材料漏报，经领导同意更正" in (reopened.summary or "") and "第2版" in (reopened.summary or "")
    created = _entries(session, draft)[-1]
    assert created.actor_id == admin.id and "由第1版重新开放：甲处材料漏报" in (created.summary or "")

    with pytest.raises(InvalidTransition):  # the old version is no longer the latest
        reopen(session, admin, evaluation, "再次更正")
    session.rollback()
    lock(session, world.evaluator, draft, confirmed=True)
    third = reopen(session, admin, draft, "再次更正")
    assert third.version == 3


def test_the_lock_page_asks_first(demo: Flask, db: Session) -> None:
    evaluator = client_for(demo, "zj_evaluator")
    draft = evaluation_of(db, "zj-14", EvaluationKind.ANNUAL, 2024)
    show = evaluator.get(f"/evaluations/{draft.id}").get_data(as_text=True)
    assert f'href="/evaluations/{draft.id}/lock"' in show
    page = evaluator.get(f"/evaluations/{draft.id}/lock")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert MEANING in html and 'name="confirm"' in html and "确认锁定" in html

    refused = evaluator.post(f"/evaluations/{draft.id}/lock", data={})
    assert refused.status_code == 422
    assert any(MEANING in e for e in error_in_row(refused.get_data(as_text=True), "confirm"))
    assert evaluation_of(db, "zj-14", EvaluationKind.ANNUAL, 2024).state == EvaluationState.DRAFT

    assert evaluator.post(f"/evaluations/{draft.id}/lock", data={"confirm": "y"}).status_code == 302
    locked = evaluation_of(db, "zj-14", EvaluationKind.ANNUAL, 2024)
    assert locked.state == EvaluationState.LOCKED
    assert evaluator.get(f"/evaluations/{draft.id}/lock").status_code == 409
    assert f"/evaluations/{draft.id}/reopen" in evaluator.get(f"/evaluations/{draft.id}").get_data(as_text=True)
    assert client_for(demo, "zj_planner").post(f"/evaluations/{draft.id}/lock", data={"confirm": "y"}).status_code == 403


def test_the_administrator_reopens_with_a_reason(demo: Flask, db: Session) -> None:
    locked = evaluation_of(db, "zj-13", EvaluationKind.FINAL, 2020)
    url = f"/evaluations/{locked.id}/reopen"
    for user in ("zj_evaluator", "zj_planner", "zj_leader"):
        assert client_for(demo, user).post(url, data={"reason": "更正"}).status_code == 403
    admin = client_for(demo, "admin")
    page = admin.get(url)
    assert page.status_code == 200 and "重新开放理由" in page.get_data(as_text=True)
    refused = admin.post(url, data={"reason": "  "})
    assert refused.status_code == 422
    assert "重新开放须写明理由。" in error_in_row(refused.get_data(as_text=True), "reason")
    assert evaluation_of(db, "zj-13", EvaluationKind.FINAL, 2020).version == locked.version

    done = admin.post(url, data={"reason": "总结评估口径调整，经领导同意重新开放"})
    assert done.status_code == 302
    newest = evaluation_of(db, "zj-13", EvaluationKind.FINAL, 2020)
    assert (newest.version, newest.state) == (locked.version + 1, EvaluationState.DRAFT)
    old = db.get(Evaluation, locked.id)
    assert old is not None and old.state == EvaluationState.LOCKED and old.locked_at == locked.locked_at
    history = client_for(demo, "zj_evaluator").get(f"/evaluations/{locked.id}?tab=history").get_data(as_text=True)
    assert "总结评估口径调整，经领导同意重新开放" in history
    assert admin.get(url).status_code == 409  # version 1 is no longer the latest
