"""The database ties each case state to the fields it needs, whoever writes the row."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.supervision.models import CaseState, SupervisionCase

from .test_cases import _case_in, _users

S = CaseState
ACKNOWLEDGED_OR_LATER = (S.ACKNOWLEDGED, S.RECTIFYING, S.SUBMITTED, S.CLOSED)


def _refused(session: Session, case_id: int, constraint: str, **values: Any) -> None:
    with pytest.raises(IntegrityError, match=constraint):
        session.execute(update(SupervisionCase).where(SupervisionCase.id == case_id).values(**values))
    session.rollback()


def test_each_state_has_its_fields(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    users = _users(session)
    cases = {state: _case_in(session, users, state).id for state in CaseState}
    session.commit()  # the service fills every field each state needs

    for state in ACKNOWLEDGED_OR_LATER:
        _refused(session, cases[state], "ck_supervision_cases_acknowledged_has_time", acknowledged_at=None)
    _refused(session, cases[S.SUBMITTED], "ck_supervision_cases_submitted_has_time", submitted_at=None)
    _refused(session, cases[S.CLOSED], "ck_supervision_cases_closed_has_closer", closed_by_id=None)
    # moving a row into a state without filling its field is refused the same way
    _refused(session, cases[S.ISSUED], "ck_supervision_cases_acknowledged_has_time", state=S.ACKNOWLEDGED)
    _refused(session, cases[S.RECTIFYING], "ck_supervision_cases_submitted_has_time", state=S.SUBMITTED,
             submitted_at=None)

    # what the states do not need may stay empty: a filed or issued case is not acknowledged yet, and a
    # returned case keeps its earlier submission time while it is rectified again
    earlier = session.get(SupervisionCase, cases[S.SUBMITTED]).submitted_at  # type: ignore[union-attr]
    session.execute(update(SupervisionCase).where(SupervisionCase.id.in_([cases[S.FILED], cases[S.ISSUED]]))
                    .values(acknowledged_at=None))
    session.execute(update(SupervisionCase).where(SupervisionCase.id == cases[S.RECTIFYING])
                    .values(submitted_at=earlier))
    session.commit()


def test_a_closed_case_without_its_closer_cannot_be_inserted(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    users = _users(session)
    closed = _case_in(session, users, S.CLOSED)
    columns = {c.key: getattr(closed, c.key) for c in SupervisionCase.__table__.columns
               if c.key != "id" and c.computed is None}  # (the queue is the database's)
    session.commit()
    session.add(SupervisionCase(**{**columns, "number_seq": closed.number_seq + 1000, "closed_by_id": None}))
    with pytest.raises(IntegrityError, match="ck_supervision_cases_closed_has_closer"):
        session.flush()
    session.rollback()
