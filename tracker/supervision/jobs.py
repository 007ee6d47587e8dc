"""催办: daily reminders to departments whose 督办单 answers are near or past their deadline.

One message per user per day lists all of the department's cases that need an answer (the digest
rule: no message per case); each reminded case gets one recorded 催办 step per day. Both writes are
set-based and idempotent: running the job twice on a day changes nothing the second time.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, insert, literal, select
from sqlalchemy.orm import Session

from ..notifications.channels import Channels
from ..notifications.models import Event, NotificationKind
from ..notifications.outbox import Message, emit, link_to, notify
from ..notifications.services import department_recipients
from ..timeutil import LOCAL_TZ, format_date, now, today
from .models import CaseAction, CaseStep, SupervisionCase
from .services import AWAITING_DEPARTMENT

REMIND_BEFORE_DAYS = 2


def _due(day: date) -> Any:
    return and_(SupervisionCase.state.in_([s.value for s in AWAITING_DEPARTMENT]),
                SupervisionCase.response_deadline <= day + timedelta(days=REMIND_BEFORE_DAYS))


def remind_cases(session: Session, day: date, channels: Channels) -> dict[str, int]:
    start = datetime.combine(day, time.min, LOCAL_TZ)
    # the step is stamped within the day it is for (a job may run for a past day)
    stamp = now() if today() == day else datetime.combine(day, time(9, 0), LOCAL_TZ)
    reminded_today = exists().where(
        CaseStep.case_id == SupervisionCase.id, CaseStep.action == CaseAction.REMIND,
        CaseStep.actor_id.is_(None), CaseStep.created_at >= start, CaseStep.created_at < start + timedelta(days=1))
    steps = len(session.execute(insert(CaseStep).from_select(
        ["case_id", "action", "from_state", "to_state", "actor_id", "comment", "created_at"],
        select(SupervisionCase.id, literal(CaseAction.REMIND.value), literal(None), literal(None), literal(None),
               literal("系统催办：答复期限临近或已过，请尽快办理。"), literal(stamp, CaseStep.created_at.type))
        .where(_due(day), ~reminded_today),
    ).returning(CaseStep.id)).all())

    rows = session.execute(select(SupervisionCase.department_id, func.count(),
                                  func.min(SupervisionCase.response_deadline))
                           .where(_due(day)).group_by(SupervisionCase.department_id)).all()
    recipients = department_recipients(session, [r[0] for r in rows])
    messages: list[Message] = []
    per_user: dict[int, list[str]] = defaultdict(list)
    for dept_id, n, earliest in rows:
        late = earliest < day
        text = f"本单位有{n}件督办单待答复，最早答复期限{format_date(earliest)}" + ("，已超期。" if late else "。")
        for user_id in recipients.get(dept_id, []):
            per_user[user_id].append(text)
    for user_id, lines in per_user.items():
        messages.append(Message(user_id=user_id, title=f"督办催办（{format_date(day)}）", body="\n".join(lines),
                                link="/supervision/"))
    sent = notify(session, NotificationKind.SUPERVISION, f"cases:{day.isoformat()}", messages, channels)
    return {"cases_reminded": steps, "messages": sent, "past_deadline": announce_late(session, day, channels)}


def announce_late(session: Session, day: date, channels: Channels) -> int:
    """Once per case, the day after its answer was due: the department and the issuing office hear of it."""
    told = exists().where(Event.kind == "case.overdue", Event.subject_type == SupervisionCase.__tablename__,
                          Event.subject_id == SupervisionCase.id)
    late = session.scalars(select(SupervisionCase).where(
        SupervisionCase.state.in_([s.value for s in AWAITING_DEPARTMENT]),
        SupervisionCase.response_deadline < day, ~told).order_by(SupervisionCase.id)).all()
    for case in late:
        emit(session, "case.overdue", case, actor=None,
             title=f"督办件超期未答复：{case.number_label} {case.title}",
             body=f"答复期限{format_date(case.response_deadline)}已过，{case.department.name}尚未提交复核。",
             link=link_to("supervision.show", case_id=case.id), department_id=case.department_id,
             office_id=case.office_id, plan_id=case.task.plan_id if case.task else None, channels=channels)
    return len(late)
