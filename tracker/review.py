"""Review: what a department enters goes to the planner, who confirms it or returns it with a reason.

Progress reports, a project's yearly completed investment and indicator values all go round the same
way. The lifecycle is data (TRANSITIONS over the four stages); each kind of reviewed record describes
itself once in a ``Reviewed`` spec beside its rules — its own state enum, who may take each action, the
columns each action stamps or empties, what its audit entry says, how it words a refused action — and
`move` is the one function that changes a reviewed record's state. Permissions stay in
:mod:`tracker.permissions`: a spec names the predicate, `move` calls it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from . import audit
from .auth.models import User
from .errors import DomainError, InvalidTransition
from .notifications.outbox import emit
from .permissions import require
from .timeutil import now
from .versioning import check_version


class Stage(StrEnum):
    """Where a reviewed record stands, whatever its own state enum calls it."""

    DRAFT = "draft"  # entered, not yet sent to the planner
    SUBMITTED = "submitted"  # waiting for the planner
    CONFIRMED = "confirmed"
    RETURNED = "returned"  # sent back with a reason, to be corrected and sent again


SUBMIT, CONFIRM, RETURN = "submit", "confirm", "return"
ACTION_LABELS = {SUBMIT: "提交", CONFIRM: "确认", RETURN: "退回"}

# (stage, action) -> stage: the review lifecycle.
TRANSITIONS: dict[tuple[Stage, str], Stage] = {
    (Stage.DRAFT, SUBMIT): Stage.SUBMITTED,
    (Stage.RETURNED, SUBMIT): Stage.SUBMITTED,
    (Stage.SUBMITTED, CONFIRM): Stage.CONFIRMED,
    (Stage.SUBMITTED, RETURN): Stage.RETURNED,
}
# Where the department may still change what it entered before sending it (again).
EDITABLE_STAGES = frozenset({Stage.DRAFT, Stage.RETURNED})
REASON_REQUIRED = "退回须写明原因。"


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


@dataclass(frozen=True)
class Stamp:
    """What an action writes on the record besides its state: ``at`` the time, ``by`` the actor's id, and the
    columns in ``clear`` emptied. A return also writes its reason into the spec's ``reason_column``."""

    at: str | None = None
    by: str | None = None
    clear: tuple[str, ...] = ()


Predicate = Callable[[User, Any], bool]


@dataclass(frozen=True)
class Notice:
    """What people hear of a reviewed record's move: the event family (``report`` → ``report.submit`` …),
    what the record is in words, where it opens, and its scope (see notifications.recipients)."""

    family: str
    what: str
    link: str | None
    department_id: int | None
    plan_id: int | None
    person_id: int | None  # who entered it: told of the confirmation or the return


@dataclass(frozen=True)
class Reviewed:
    """One kind of reviewed record."""

    states: Mapping[Stage, Any]  # each stage the kind has -> its own state enum member
    may: Mapping[str, tuple[Predicate, str]]  # the kind's actions -> (who may, the refusal's message)
    stamps: Mapping[str, Stamp]
    fields: list[str]  # the audited columns
    refused: Callable[[Any, str], str]  # (record, action) -> why that action is not possible now
    summary: Callable[[Any, str, str | None], str]  # (record, action label, reason) -> the audit summary
    reason_column: str = "return_reason"
    # The kind's own rules, checked after the common ones and before anything changes: (session, record,
    # action, reason) — raise DomainError to refuse.
    check: Callable[[Session, Any, str, str | None], None] | None = None
    # What else the action records once it is done: (session, actor, record, action, reason).
    after: Callable[[Session, User, Any, str, str | None], None] | None = None
    # What people hear of its moves (the recipient table says who).
    notice: Callable[[Any], Notice] | None = None
    _stage_of: dict[Any, Stage] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_stage_of", {state: stage for stage, state in self.states.items()})

    def stage(self, state: Any) -> Stage:
        return self._stage_of[state]

    def target(self, state: Any, action: str) -> Any | None:
        """The state ``action`` moves a record in ``state`` to, or None when the kind cannot take it there."""
        if action not in self.may:
            return None
        stage = TRANSITIONS.get((self.stage(state), action))
        return self.states.get(stage) if stage is not None else None

    @property
    def editable(self) -> frozenset[Any]:
        return frozenset(self.states[s] for s in EDITABLE_STAGES if s in self.states)


def move(session: Session, actor: User, spec: Reviewed, record: Any, action: str, *, reason: str | None = None,
         version: int | None = None) -> None:
    """Take ``action`` on a reviewed record: the transition must exist from its state (InvalidTransition in
    the record's own words), the actor must be allowed (PermissionDenied), the form's version must be the
    record's (StaleObject), a return needs a reason; then the kind's own checks, the state, the stamps and
    the audit entry. Flushes; the caller's unit of work commits."""
    target = spec.target(record.state, action)
    if target is None:
        raise InvalidTransition(spec.refused(record, action))
    allowed, denied = spec.may[action]
    require(allowed(actor, record), denied)
    check_version(session, record, version)
    reason = (reason or "").strip() or None
    if action == RETURN and not reason:
        raise DomainError(REASON_REQUIRED, field="reason")
    if spec.check is not None:
        spec.check(session, record, action, reason)

    before = audit.snapshot(record, spec.fields)
    record.state = target
    stamp = spec.stamps.get(action, Stamp())
    for column in stamp.clear:
        setattr(record, column, None)
    if stamp.at is not None:
        setattr(record, stamp.at, now())
    if stamp.by is not None:
        setattr(record, stamp.by, actor.id)
    if action == RETURN:
        setattr(record, spec.reason_column, reason)
    audit.record_change(session, actor, record, action, before, spec.fields,
                        spec.summary(record, ACTION_LABELS[action], reason))
    if spec.after is not None:
        spec.after(session, actor, record, action, reason)
    if spec.notice is not None:
        announce(session, actor, spec.notice(record), action, record, reason)


def announce(session: Session, actor: User, notice: Notice, action: str, record: Any,
             reason: str | None = None) -> None:
    """Tell the people concerned that ``action`` was taken on ``record`` (also for a submission made outside
    ``move``, such as entering an indicator value)."""
    body = f"退回原因：{reason}" if action == RETURN and reason else None
    emit(session, f"{notice.family}.{action}", record, actor=actor,
         title=f"{notice.what}已{ACTION_LABELS[action]}" if action != SUBMIT else f"待审核：{notice.what}",
         body=body, link=notice.link, department_id=notice.department_id, plan_id=notice.plan_id,
         person_id=notice.person_id)
