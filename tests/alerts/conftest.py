from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.alerts.models import Alert, AlertStatus
from tracker.alerts.services import scan

from .world import World, build_world


@pytest.fixture
def world(session: Session) -> World:
    w = build_world(session)
    session.commit()
    return w


def open_alerts(session: Session) -> list[tuple[Any, ...]]:
    """The open alerts as comparable tuples: (target, task id, milestone id, level, due date)."""
    session.expire_all()
    return sorted(
        (a.target.value, a.task_id, a.milestone_id or 0, a.level.value, a.due_date, a.rule.value)
        for a in session.scalars(select(Alert).where(Alert.status == AlertStatus.OPEN))
    )


@pytest.fixture
def run_scan(session: Session) -> Callable[..., dict[str, Any]]:
    """Scan in the test's session and commit, as the job would."""

    def run(on: date | None = None) -> dict[str, Any]:
        counts = scan(session, on)
        session.commit()
        return counts

    return run


@pytest.fixture
def sessions(app: Flask) -> Callable[[], Session]:
    return app.extensions["tracker.sessions"]
