"""Events: every step of every workflow writes its event with the change, and reaches the people the
recipient table names, in their inbox at once — with no job run in between."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker import review
from tracker.adjustments.notices import VERBS
from tracker.alerts.services import scan
from tracker.auth.models import Role, User
from tracker.indicators.services import VALUE_REVIEW
from tracker.notifications.channels import Channels
from tracker.notifications.models import Channel, DeliveryMode, Event, Notification, NotificationDelivery
from tracker.notifications.outbox import DEFAULT_MODES, emit
from tracker.notifications.recipients import RULES, Audience
from tracker.notifications.services import modes_of, set_modes
from tracker.projects.services import INVESTMENT_REVIEW
from tracker.supervision.models import CaseAction, CaseState
from tracker.supervision.services import TRANSITIONS, perform
from tracker.tasks.services import REPORT_REVIEW

from ..supervision.test_cases import ALLOWED, _case_in, _kwargs, _users


@pytest.fixture(autouse=True)
def _in_the_app(app):  # type: ignore[no-untyped-def]
    with app.app_context():  # links are built from the routes, as in a request
        yield


SPECS = {"report": REPORT_REVIEW, "investment": INVESTMENT_REVIEW, "value": VALUE_REVIEW}


def test_every_transition_of_every_workflow_has_a_rule() -> None:
    kinds = {f"case.{action.value}" for action in [*TRANSITIONS, CaseAction.FILE]}
    kinds |= {f"{family}.{action}" for family, spec in SPECS.items() for action in spec.may}
    kinds |= {"value.submit"}  # entering a value submits it
    kinds |= {f"adjustment.{action}" for action in VERBS}
    missing = kinds - set(RULES)
    assert missing == set()
    assert all(spec.notice is not None for spec in SPECS.values())
    assert all(rule.audiences for rule in RULES.values())


def _last_event(session: Session, kind: str, subject_id: int) -> Event:
    return session.scalars(select(Event).where(Event.kind == kind, Event.subject_id == subject_id)
                           .order_by(Event.id.desc())).first()


def _heard(session: Session, event: Event) -> set[int]:
    return set(session.scalars(select(Notification.user_id).where(Notification.event_id == event.id)))


def _audience(session: Session, audience: Audience, case) -> set[int]:  # type: ignore[no-untyped-def]
    """Who an audience is, worked out here from the people of the demo, not from the code's SQL."""
    users = session.scalars(select(User).where(User.is_active.is_(True))).all()
    match audience:
        case Audience.DEPARTMENT:
            return {u.id for u in users if u.department_id == case.department_id
                    and u.role in (Role.DEPT_HEAD, Role.DEPT_STAFF)}
        case Audience.DEPARTMENT_HEAD:
            return {u.id for u in users if u.department_id == case.department_id and u.role == Role.DEPT_HEAD}
        case Audience.OFFICE:
            return {u.id for u in users if u.department_id == case.office_id and u.role == Role.SUPERVISOR}
        case Audience.LEADERS:
            return {u.id for u in users if u.role == Role.LEADER and u.department.region_id == 1}
    raise AssertionError(audience)


def test_every_allowed_case_transition_reaches_its_recipients(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    """Each (state, action, role) the workflow allows: the event is written and its message is in the inbox
    of everyone its rule names (never the actor), at once."""
    users = _users(session)
    for state, action, role in sorted(ALLOWED, key=lambda k: (k[0].value, k[1].value, k[2])):
        case = _case_in(session, users, state)
        actor = users[role]
        perform(session, actor, case, action, version=case.version_id, **_kwargs(action))
        session.flush()
        event = _last_event(session, f"case.{action.value}", case.id)
        assert event is not None, (state, action, role)
        heard = _heard(session, event)
        expected = set().union(*(_audience(session, a, case) for a in RULES[event.kind].audiences)) - {actor.id}
        assert heard == expected and heard, (state, action, role, heard, expected)
        session.rollback()


def test_the_whole_loop_talks_without_a_job(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    users = _users(session)
    case = _case_in(session, users, CaseState.FILED)
    steps = [(CaseAction.ISSUE, "supervisor", "head"), (CaseAction.ACKNOWLEDGE, "head", "supervisor"),
             (CaseAction.PLAN, "staff", "supervisor"), (CaseAction.SUBMIT, "head", "supervisor"),
             (CaseAction.RETURN, "supervisor", "head"), (CaseAction.SUBMIT, "head", "supervisor"),
             (CaseAction.CLOSE, "supervisor", "head")]
    for action, actor, reader in steps:
        perform(session, users[actor], case, action, version=case.version_id, **_kwargs(action))
        session.commit()
        newest = session.scalars(select(Notification).where(Notification.user_id == users[reader].id)
                                 .order_by(Notification.id.desc())).first()
        assert newest is not None and newest.title.startswith(action.label), (action, newest and newest.title)
        assert newest.link == f"/supervision/{case.id}"
    closed = session.scalars(select(Notification).where(Notification.user_id == users["head"].id)
                             .order_by(Notification.id.desc())).first()
    assert "评价4星" in closed.body
    # the staff of the department heard of the issue too, and nobody heard of their own act
    assert session.scalar(select(func.count()).select_from(Notification).join(Event).where(
        Event.kind == "case.issue", Notification.user_id == users["staff"].id)) == 1
    assert session.scalar(select(func.count()).select_from(Notification).join(Event).where(
        Notification.user_id == Event.actor_id)) == 0


def test_a_change_rolled_back_takes_its_messages_with_it(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    users = _users(session)
    case = _case_in(session, users, CaseState.FILED)
    session.commit()
    before = session.scalar(select(func.count()).select_from(Notification))
    perform(session, users["supervisor"], case, CaseAction.ISSUE, version=case.version_id, response_days=10)
    assert session.scalar(select(func.count()).select_from(Notification)) > before
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Notification)) == before
    assert session.scalar(select(func.count()).select_from(Event).where(Event.kind == "case.issue",
                                                                        Event.subject_id == case.id)) == 0


def test_a_report_reaches_the_head_the_planner_and_back(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    from tracker.tasks.models import ReportPeriod
    from tracker.tasks.services import ReportInput, create_report, transition_report

    from ..supervision.test_cases import _task

    users = _users(session)
    task = _task(session)
    report = create_report(session, users["staff"], task, ReportInput(ReportPeriod.QUARTER, task.start_date.year, 3, 60, "完成了一半",
                                                                      None, None))
    draft = _last_event(session, "report.draft", report.id)
    assert _heard(session, draft) >= {users["head"].id} and users["staff"].id not in _heard(session, draft)
    transition_report(session, users["head"], report, review.SUBMIT, version=report.version_id)
    submitted = _last_event(session, "report.submit", report.id)
    assert users["planner"].id in _heard(session, submitted)
    transition_report(session, users["planner"], report, review.RETURN, reason="数字不对", version=report.version_id)
    returned = _last_event(session, "report.return", report.id)
    assert _heard(session, returned) >= {users["staff"].id, users["head"].id}
    assert returned.body == "退回原因：数字不对"


def test_deliveries_follow_each_users_choice(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    users = _users(session)
    channels = Channels(smtp_url="smtp://127.0.0.1:1/?from=a@b.c")
    for u in users.values():
        u.email = f"{u.username}@example.org"
    assert modes_of(session, users["head"])[Channel.EMAIL] == DEFAULT_MODES[Role.DEPT_HEAD] == DeliveryMode.IMMEDIATE
    set_modes(session, users["staff"], {Channel.EMAIL: DeliveryMode.DIGEST})
    case = _case_in(session, users, CaseState.FILED)
    event = emit(session, "case.issue", case, actor=users["supervisor"], title="下发督办单", department_id=case.department_id,
                 channels=channels)
    mailed = set(session.scalars(select(Notification.user_id).join(NotificationDelivery)
                                 .where(Notification.event_id == event.id)))
    assert users["head"].id in mailed and users["staff"].id not in mailed
    assert users["staff"].id in _heard(session, event)  # the inbox has it all the same


def test_the_scan_records_alert_events_once(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    counts = scan(session, date(2026, 12, 10))
    again = scan(session, date(2026, 12, 10))
    assert counts["events"] > 0 and again["events"] == 0
    assert session.scalar(select(func.count()).select_from(Event).where(Event.kind.like("alert.%"))) == counts["events"]
    # heard of in the digest, not one inbox message per alert
    assert session.scalar(select(func.count()).select_from(Notification).join(Event).where(
        Event.kind.like("alert.%"))) == 0


@pytest.mark.parametrize("kind", sorted(RULES))
def test_a_kind_names_where_its_people_are(kind: str) -> None:
    rule = RULES[kind]
    assert rule.kind is not None and len(set(rule.audiences)) == len(rule.audiences)


def test_the_days_messages_are_recapped_in_the_digest(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    from tracker.notifications.services import compose_digests, digest_key
    from tracker.timeutil import today

    users = _users(session)
    case = _case_in(session, users, CaseState.ISSUED)
    compose_digests(session, today(), Channels())
    digest = session.scalars(select(Notification).where(Notification.user_id == users["staff"].id,
                                                        Notification.dedupe_key == digest_key(today()))).one()
    assert f"下发督办单：{case.number_label} 日常督查" in digest.body
    assert "消息汇总" in digest.title or "收到的消息" in digest.body
