"""A case's colour is one rule (supervision.services.colour_bands): the page's badge (``colour``, in Python) and the
list's filter (``colour_condition``, in SQL) must put every case in the same colour, on every boundary."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.auth.models import Role
from tracker.regions.models import RegionLevel
from tracker.supervision.models import CaseOutcome, CaseSource, CaseState, SupervisionCase
from tracker.supervision.services import COLOUR_LABELS, colour, colour_condition
from tracker.timeutil import now

from .. import factories as f

DAY = date(2026, 12, 7)


def _case(state: CaseState, deadline: date | None, number: int, dept, closer) -> SupervisionCase:  # type: ignore[no-untyped-def]
    """A case in ``state`` as the lifecycle leaves it (the table's CHECKs hold)."""
    at, filed, closed = now(), state == CaseState.FILED, state == CaseState.CLOSED
    return SupervisionCase(
        source=CaseSource.ROUTINE, state=state, department=dept, title=f"{state.value} {deadline}", problem="问题",
        response_deadline=deadline, number_year=None if filed else 2026, number_seq=None if filed else number,
        office_id=None if filed else closer.department_id,
        issued_at=None if filed else at, acknowledged_at=None if state in (CaseState.FILED, CaseState.ISSUED) else at,
        submitted_at=at if state in (CaseState.SUBMITTED, CaseState.CLOSED) else None,
        closed_by_id=closer.id if closed else None, closed_at=at if closed else None,
        outcome=CaseOutcome.ON_TIME if closed else None)


def test_the_badge_and_the_filter_agree_on_every_state_and_boundary(session: Session) -> None:
    region = f.region(session, "温州市", RegionLevel.CITY)
    dept = f.department(session, region, "疾控处")
    closer = f.user(session, f.department(session, region, "督查室"), Role.SUPERVISOR)
    deadlines = [None] + [DAY + timedelta(days=d) for d in (-30, -1, 0, 1, 2, 3, 30)]
    # every state with every deadline around the boundaries (a deadline is required from issuing on)
    pairs = [(state, d) for state in CaseState for d in deadlines if d is not None or state == CaseState.FILED]
    cases = [_case(state, d, n, dept, closer) for n, (state, d) in enumerate(pairs, start=1)]
    session.add_all(cases)
    session.flush()
    by_colour = {name: set(session.scalars(select(SupervisionCase.id).where(colour_condition(name, DAY))))
                 for name in COLOUR_LABELS}
    for case in cases:
        expected = colour(case, DAY)
        assert {name for name, ids in by_colour.items() if case.id in ids} == {expected}, case.title
    # the rule itself, at its edges: late after the deadline day, yellow from two days before it
    awaiting = {c.response_deadline: colour(c, DAY) for c in cases if c.state == CaseState.RECTIFYING}
    assert [awaiting[DAY + timedelta(days=d)] for d in (-1, 0, 2, 3)] == ["red", "yellow", "yellow", "blue"]
    assert {colour(c, DAY) for c in cases if c.state == CaseState.CLOSED} == {"grey"}
    # not with the department: a case only filed, or answered and waiting for review, is never late
    assert {colour(c, DAY) for c in cases if c.state in (CaseState.FILED, CaseState.SUBMITTED)} == {"blue"}
