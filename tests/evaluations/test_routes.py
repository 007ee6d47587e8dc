"""Every evaluation route × every role."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.documents import pdf_available
from tracker.evaluations.models import DepartmentScore, Evaluation, EvaluationKind
from tracker.planning.models import Plan

from ..indicators.routes import Route, check, endpoints, only

READERS = only("evaluator", "planner", "leader", "outsider")
# the PDF needs LibreOffice: without it, whoever may read the report gets 404 with a message
PDF_READERS = READERS if pdf_available() else {r: 404 if c == 200 else c for r, c in READERS.items()}
ROUTES = [
    Route("evaluations.index", "/evaluations", READERS),
    Route("evaluations.new", "/evaluations/new", only("evaluator")),
    Route("evaluations.show", "/evaluations/{locked}", READERS),
    Route("evaluations.show", "/evaluations/{draft}?tab=indicators", READERS),
    Route("evaluations.show", "/evaluations/999999", {}, default=404),
    Route("evaluations.export", "/evaluations/{locked}/export.xlsx", READERS),
    Route("evaluations.report", "/evaluations/{locked}/report.docx", READERS),
    Route("evaluations.report_pdf", "/evaluations/{locked}/report.pdf", PDF_READERS),
    Route("evaluations.settings", "/evaluations/{draft}/settings", only("evaluator")),
    Route("evaluations.settings", "/evaluations/{locked}/settings", {**only(), "evaluator": 409}),
    Route("evaluations.conclusions", "/evaluations/{draft}/conclusions", only("evaluator")),
    Route("evaluations.conclusions", "/evaluations/{locked}/conclusions", {**only(), "evaluator": 409}),
    Route("evaluations.adjust", "/evaluations/scores/{score}/adjust", only("evaluator")),
    Route("evaluations.adjust", "/evaluations/scores/999999/adjust", {}, default=404),
    Route("evaluations.recompute", "/evaluations/{draft}/recompute", {}, default=405),
    Route("evaluations.lock", "/evaluations/{draft}/lock", only("evaluator")),
    Route("evaluations.lock", "/evaluations/{locked}/lock", {**only(), "evaluator": 409}),
    Route("evaluations.lock", "/evaluations/999999/lock", {}, default=404),
    Route("evaluations.reopen", "/evaluations/{locked}/reopen", only("admin")),
    Route("evaluations.reopen", "/evaluations/{draft}/reopen", {**only(), "admin": 409}),
    Route("evaluations.reopen", "/evaluations/999999/reopen", {}, default=404),
]


def test_every_evaluation_route_and_role(demo: Flask, session: Session) -> None:
    def evaluation(code: str, kind: EvaluationKind) -> Evaluation:
        return session.scalars(select(Evaluation).join(Plan).where(Plan.code == code, Evaluation.kind == kind)).one()

    draft = evaluation("zj-14", EvaluationKind.ANNUAL)
    ids = {"draft": draft.id, "locked": evaluation("zj-13", EvaluationKind.FINAL).id,
           "score": session.scalars(select(DepartmentScore.id).where(DepartmentScore.evaluation_id == draft.id)).first()}
    session.rollback()
    assert check(demo, ROUTES, ids) == []  # type: ignore[arg-type]
    assert endpoints(demo, "evaluations.") == {r.endpoint for r in ROUTES}
