"""The demo's 省“十四五” final evaluation (2025), reopened and locked again with the evaluators' 存在问题: the
basis the succession tests start the next plan from."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.auth.models import User
from tracker.evaluations import services as evaluations
from tracker.evaluations.models import Evaluation, EvaluationKind
from tracker.planning.models import Plan

PROBLEMS = "重点任务推进不平衡，部分任务逾期未完成\n个别指标进展滞后"


def user(session: Session, username: str) -> User:
    return session.scalars(select(User).where(User.username == username)).one()


def evaluation_of(session: Session, code: str, kind: EvaluationKind = EvaluationKind.FINAL) -> Evaluation:
    return session.scalars(select(Evaluation).join(Plan).where(Plan.code == code, Evaluation.kind == kind)
                           .order_by(Evaluation.version.desc())).first()  # type: ignore[return-value]


def relock_with_problems(session: Session, problems: str | None = PROBLEMS) -> Evaluation:
    """Version 2 of the 十四五 final evaluation with 存在问题 written, locked (version 1 stays, superseded)."""
    first = evaluation_of(session, "zj-14")
    draft = evaluations.reopen(session, user(session, "admin"), first, "补写评估结论")
    evaluator = user(session, "zj_evaluator")
    evaluations.write_conclusions(session, evaluator, draft, {"problems": problems})
    evaluations.lock(session, evaluator, draft, confirmed=True)
    session.commit()
    return draft


@pytest.fixture
def final(db: Session) -> Evaluation:
    return relock_with_problems(db)


@pytest.fixture
def planner(db: Session) -> User:
    return user(db, "zj_planner")


@pytest.fixture
def as_user(db: Session) -> Callable[[str], User]:
    return lambda username: user(db, username)
