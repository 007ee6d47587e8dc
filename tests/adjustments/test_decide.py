"""Adjustment requests of every kind are decided and withdrawn by one service: KINDS says what an approval
applies (a task's deadline, an indicator's target, a project's total investment), who decides and how
each kind words a refusal. A request is settled once: a second decision, even one made at the same time,
is refused and applies nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tracker.adjustments.models import AdjustmentKind, AdjustmentRequest, AdjustmentState
from tracker.adjustments.services import (
    DECIDED_MEANWHILE,
    KINDS,
    decide,
    request_deadline,
    request_target,
    withdraw,
)
from tracker.audit import AuditEntry
from tracker.auth.models import Role
from tracker.errors import DomainError, InvalidTransition, PermissionDenied
from tracker.projects.services import request_total_change
from tracker.timeutil import now

from .. import factories as f
from ..review.world import World, build_world


@pytest.fixture
def w(session: Session) -> World:
    return build_world(session)


# kind -> (ask for a change, the item's value now, what the change applies, how the item's audit calls it)
Case = tuple[Callable[[Session, World], AdjustmentRequest], Callable[[World], Any], Any, str]
CASES: dict[AdjustmentKind, Case] = {
    AdjustmentKind.DEADLINE: (lambda s, w: request_deadline(s, w.head, w.task, date(2027, 3, 31), "设备到货延迟"),
                              lambda w: w.task.deadline, date(2027, 3, 31), "adjusted"),
    AdjustmentKind.TARGET: (lambda s, w: request_target(s, w.head, w.indicator, "98以上", "已提前达标"),
                            lambda w: w.indicator.target_text, "98以上", "adjusted"),
    AdjustmentKind.INVESTMENT: (lambda s, w: request_total_change(s, w.head, w.project, new_total=Decimal(1500),
                                                                  reason="概算调整"),
                                lambda w: w.project.total_investment, Decimal(1500), "adjust_total"),
}


def item_of(w: World, kind: AdjustmentKind) -> Any:
    return {AdjustmentKind.DEADLINE: w.task, AdjustmentKind.TARGET: w.indicator,
            AdjustmentKind.INVESTMENT: w.project}[kind]


def audit_of(session: Session, obj: Any, action: str | None = None) -> list[AuditEntry]:
    stmt = select(AuditEntry).where(AuditEntry.object_type == obj.__tablename__, AuditEntry.object_id == obj.id)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    return list(session.scalars(stmt.order_by(AuditEntry.id)))


def test_every_kind_has_its_rules() -> None:
    assert set(KINDS) == set(AdjustmentKind)
    assert [KINDS[k].noun for k in AdjustmentKind] == ["调整申请", "调整申请", "投资调整申请"]


@pytest.mark.parametrize("kind", list(AdjustmentKind), ids=str)
def test_an_approval_applies_once(session: Session, w: World, kind: AdjustmentKind) -> None:
    ask, current, wanted, applied = CASES[kind]
    req = ask(session, w)
    before = current(w)
    assert req.kind == kind and before != wanted
    decide(session, w.planner, req, approve=True, comment="同意")
    assert current(w) == wanted
    assert (req.state, req.decided_by_id, req.decided_at, req.decision_comment) == (
        AdjustmentState.APPROVED, w.planner.id, now(), "同意")
    [entry] = audit_of(session, req, "approve")
    assert entry.summary == f"批准{KINDS[kind].noun}：同意" and entry.changes == {"state": ["待审批", "已批准"]}
    assert len(audit_of(session, item_of(w, kind), applied)) == 1

    settled = KINDS[kind].settled.format(state="已批准", what="再审批")
    with pytest.raises(InvalidTransition, match=f"^{settled}$"):
        decide(session, w.planner, req, approve=True, comment=None)
    with pytest.raises(InvalidTransition):
        withdraw(session, w.head, req)
    assert len(audit_of(session, item_of(w, kind), applied)) == 1


@pytest.mark.parametrize("kind", list(AdjustmentKind), ids=str)
def test_a_decision_made_meanwhile_is_not_overwritten(session: Session, w: World, kind: AdjustmentKind) -> None:
    """Another planner decided after this one loaded the request: the request as loaded still says 待审批,
    the row does not, and only the row counts."""
    ask, current, _wanted, applied = CASES[kind]
    req = ask(session, w)
    before = current(w)
    session.execute(update(AdjustmentRequest.__table__).where(AdjustmentRequest.__table__.c.id == req.id)
                    .values(state="rejected", decided_at=now(), decision_comment="不同意"))
    assert req.state == AdjustmentState.PENDING  # what this planner's page was made from
    with pytest.raises(InvalidTransition, match=f"^{DECIDED_MEANWHILE}$"):
        decide(session, w.planner, req, approve=True, comment="同意")
    assert current(w) == before and audit_of(session, item_of(w, kind), applied) == []
    assert audit_of(session, req, "approve") == []


@pytest.mark.parametrize("kind", list(AdjustmentKind), ids=str)
def test_a_withdrawal_after_a_decision_made_meanwhile_is_refused(session: Session, w: World,
                                                                 kind: AdjustmentKind) -> None:
    req = CASES[kind][0](session, w)
    session.execute(update(AdjustmentRequest.__table__).where(AdjustmentRequest.__table__.c.id == req.id)
                    .values(state="approved", decided_at=now()))
    with pytest.raises(InvalidTransition, match=f"^{DECIDED_MEANWHILE}$"):
        withdraw(session, w.head, req)


@pytest.mark.parametrize("kind", list(AdjustmentKind), ids=str)
def test_a_rejection_needs_a_reason_and_changes_nothing(session: Session, w: World, kind: AdjustmentKind) -> None:
    ask, current, _wanted, applied = CASES[kind]
    req = ask(session, w)
    before = current(w)
    with pytest.raises(DomainError, match="^驳回须写明理由。$") as refused:
        decide(session, w.planner, req, approve=False, comment=" ")
    assert refused.value.field == "comment" and req.state == AdjustmentState.PENDING
    decide(session, w.planner, req, approve=False, comment="依据不足")
    assert req.state == AdjustmentState.REJECTED and current(w) == before
    assert audit_of(session, item_of(w, kind), applied) == []
    [entry] = audit_of(session, req, "reject")
    assert entry.summary == f"驳回{KINDS[kind].noun}：依据不足"


def test_who_decides_and_who_withdraws(session: Session, w: World) -> None:
    deadline = CASES[AdjustmentKind.DEADLINE][0](session, w)
    investment = CASES[AdjustmentKind.INVESTMENT][0](session, w)
    for user in (w.head, w.outsider):
        with pytest.raises(PermissionDenied, match="^只有本级规划处可以审批调整申请。$"):
            decide(session, user, deadline, approve=True, comment=None)
        with pytest.raises(PermissionDenied, match="^只有本级规划处可以审批投资调整申请。$"):
            decide(session, user, investment, approve=True, comment=None)
    with pytest.raises(PermissionDenied, match="^只能撤回自己提交的申请。$"):
        withdraw(session, w.planner, deadline)
    with pytest.raises(PermissionDenied, match="^只有申请单位可以撤回申请。$"):
        withdraw(session, w.planner, investment)
    # another head of the owner unit may take back the unit's investment request, not its deadline request
    colleague = f.user(session, w.head.department, Role.DEPT_HEAD, "r_head2")
    with pytest.raises(PermissionDenied):
        withdraw(session, colleague, deadline)
    withdraw(session, colleague, investment)
    withdraw(session, w.head, deadline)
    assert deadline.state == investment.state == AdjustmentState.WITHDRAWN
    assert [e.summary for e in audit_of(session, deadline, "withdraw") + audit_of(session, investment, "withdraw")] \
        == ["撤回调整申请", "撤回投资调整申请"]
    with pytest.raises(InvalidTransition, match="^该申请已撤回，不能撤回。$"):
        withdraw(session, w.head, deadline)
    with pytest.raises(InvalidTransition, match="^该申请已撤回，不能再审批。$"):
        decide(session, w.planner, investment, approve=True, comment=None)


def test_an_investment_approval_checks_the_figures_entered_since(session: Session, w: World) -> None:
    req = request_total_change(session, w.head, w.project, new_total=Decimal(500), reason="压缩规模")
    w.investment.completed = Decimal(600)
    session.flush()
    with pytest.raises(DomainError, match="低于已填报的累计完成投资") as refused:
        decide(session, w.planner, req, approve=True, comment="同意")
    assert refused.value.field == "comment"
    assert req.state == AdjustmentState.PENDING and w.project.total_investment == Decimal(1000)

