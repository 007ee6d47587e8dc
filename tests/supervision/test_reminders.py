"""催办: one message per user per day, one recorded reminder per case per day, idempotent."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.notifications.channels import Channels
from tracker.notifications.models import Event, Notification
from tracker.supervision.jobs import remind_cases
from tracker.supervision.models import CaseAction, CaseStep

from .test_cases import S, _case_in, _users


def test_reminders_are_a_daily_digest_and_idempotent(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    users = _users(session)
    first, second = _case_in(session, users, S.ISSUED), _case_in(session, users, S.ACKNOWLEDGED)
    _case_in(session, users, S.SUBMITTED)  # answered: no reminder
    session.commit()
    channels = Channels(None, None)
    # deadlines are 2025-12-05: nothing to remind a week before, both two days before
    assert remind_cases(session, date(2025, 11, 25), channels) == {"cases_reminded": 0, "messages": 0,
                                                                   "past_deadline": 0}
    counts = remind_cases(session, date(2025, 12, 3), channels)
    assert counts["cases_reminded"] == 2
    recipients = session.scalar(select(func.count()).select_from(Notification)
                                .where(Notification.dedupe_key == "cases:2025-12-03"))
    assert recipients == counts["messages"] >= 2  # the head and the staff of 疾控处, one message each
    body = session.scalars(select(Notification.body).where(Notification.dedupe_key == "cases:2025-12-03")).first()
    assert "2件督办单待答复" in body
    assert remind_cases(session, date(2025, 12, 3), channels) == {"cases_reminded": 0, "messages": 0,
                                                                  "past_deadline": 0}
    steps = session.scalar(select(func.count()).select_from(CaseStep).where(
        CaseStep.action == CaseAction.REMIND, CaseStep.case_id.in_([first.id, second.id])))
    assert steps == 2
    late = remind_cases(session, date(2025, 12, 8), channels)
    assert late["cases_reminded"] == 2
    # past the answer date: the department and the issuing office hear of each case once
    assert late["past_deadline"] == 2
    assert remind_cases(session, date(2025, 12, 9), channels)["past_deadline"] == 0
    told = set(session.scalars(select(Notification.user_id).join(Event, Event.id == Notification.event_id)
                               .where(Event.kind == "case.overdue", Event.subject_id == first.id)))
    assert {users["head"].id, users["supervisor"].id} <= told
    assert "已超期" in session.scalars(select(Notification.body).where(
        Notification.dedupe_key == "cases:2025-12-08")).first()
