"""The 省“十四五” final evaluation (2025) the succession tests start the next plan from, made after the demo's
day (tests/evaluations/final_2025.py) and locked with the evaluators' 存在问题; the tests run on its day."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import timeutil
from tracker.auth.models import User
from tracker.evaluations.models import Evaluation, EvaluationKind
from tracker.planning.models import Plan

from ..evaluations import final_2025
from ..evaluations.final_2025 import user

PROBLEMS = "重点任务推进不平衡，部分任务逾期未完成\n个别指标进展滞后"


def evaluation_of(session: Session, code: str, kind: EvaluationKind = EvaluationKind.FINAL) -> Evaluation:
    return session.scalars(select(Evaluation).join(Plan).where(Plan.code == code, Evaluation.kind == kind)
                           .order_by(Evaluation.version.desc())).first()  # type: ignore[return-value]


def final_evaluation(session: Session) -> Evaluation:
    """The locked 2025 final evaluation of 省“十四五”, its 存在问题 written by the evaluators."""
    return final_2025.final_evaluation(session, PROBLEMS)


@pytest.fixture
def later(demo: Flask) -> Iterator[Flask]:
    """The demo on the day the final evaluation is locked (the demo data record an earlier day)."""
    with timeutil.frozen(final_2025.EVALUATED):
        yield demo


@pytest.fixture
def final(later: Flask, db: Session) -> Evaluation:
    return final_evaluation(db)


@pytest.fixture
def planner(db: Session) -> User:
    return user(db, "zj_planner")


@pytest.fixture
def as_user(db: Session) -> Callable[[str], User]:
    return lambda username: user(db, username)
