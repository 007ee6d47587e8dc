"""调整申请: the lead department asks to move a deadline or change an indicator's target (and a project's
owner unit to change its total investment, asked for in :mod:`tracker.projects.services`); the planner of
the plan's region approves or rejects. One `decide` and one `withdraw` serve every kind; KINDS says what
an approval applies for each. An approved change is applied to the item with the old value kept in the
request and in the audit trail; an approved deadline is re-evaluated at once (the day's overdue scan runs
again in the same transaction), so the item leaves the overdue list and its status is set back as soon as
the approval is saved."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session, selectinload
from werkzeug.datastructures import FileStorage

from .. import audit
from ..alerts.services import scan
from ..attachments.services import save_uploads
from ..auth.models import User
from ..errors import DomainError, InvalidTransition
from ..indicators.models import Indicator
from ..indicators.targets import parse_target
from ..permissions import (
    DEPARTMENT_ROLES,
    can_decide_investment_adjustment,
    can_decide_request,
    can_request_deadline,
    can_request_investment_adjustment,
    can_request_target,
    require,
)
from ..planning.models import Plan
from ..projects import services as projects
from ..tasks.models import Milestone, Task
from ..timeutil import format_date, now
from . import notices
from .models import AdjustmentKind, AdjustmentRequest, AdjustmentState


def _pending(session: Session, **item: int) -> AdjustmentRequest | None:
    column, value = next(iter(item.items()))
    return session.scalar(select(AdjustmentRequest).where(
        getattr(AdjustmentRequest, column) == value, AdjustmentRequest.state == AdjustmentState.PENDING))


def _require_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请写明调整理由。", field="reason")
    return reason


def _attach(session: Session, actor: User, req: AdjustmentRequest, files: Sequence[FileStorage]) -> None:
    """The request's supporting files; a refused one raises DomainError(field="files") and the caller
    rolls the request back."""
    if files:
        save_uploads(session, actor, list(files), adjustment_id=req.id)


def request_deadline(session: Session, actor: User, task: Task, new_date: date | None, reason: str | None,
                     milestone: Milestone | None = None, files: Sequence[FileStorage] = ()) -> AdjustmentRequest:
    require(can_request_deadline(actor, task), "只有牵头单位负责人可以申请调整期限。")
    reason = _require_reason(reason)
    if new_date is None:
        raise DomainError("请填写调整后的日期。", field="new_date")
    if milestone is not None and milestone.task_id != task.id:
        raise DomainError("节点不属于该任务。", field="milestone_id")
    old = milestone.due_date if milestone is not None else task.deadline
    if new_date == old:
        raise DomainError("调整后的日期与现在相同。", field="new_date")
    if task.start_date and new_date < task.start_date:
        raise DomainError("调整后的日期不能早于任务开始日期。", field="new_date")
    if milestone is not None and task.deadline and new_date > task.deadline:
        raise DomainError(f"节点日期不能晚于任务截止日期 {format_date(task.deadline)}，请先申请调整任务期限。",
                          field="new_date")
    existing = _pending(session, task_id=task.id)
    if existing is not None:
        raise DomainError(f"该任务已有一项待审批的调整申请（#{existing.id}），请等待审批结果。", field="new_date")
    req = AdjustmentRequest(kind=AdjustmentKind.DEADLINE, task=task, milestone=milestone,
                            department_id=actor.department_id, requested_by_id=actor.id, old_date=old,
                            new_date=new_date, reason=reason, created_at=now())
    session.add(req)
    session.flush()
    what = f"节点“{milestone.title}”" if milestone else "任务"
    audit.record(session, actor, req, "request", {}, f"申请将{what}期限由{format_date(old)}调整为{format_date(new_date)}")
    audit.record(session, actor, task, "adjustment_requested", {},
                 f"申请将{what}期限由{format_date(old)}调整为{format_date(new_date)}：{reason}")
    _attach(session, actor, req, files)
    notices.announce(session, actor, req, "file")
    return req


def request_target(session: Session, actor: User, indicator: Indicator, new_target: str | None,
                   reason: str | None, files: Sequence[FileStorage] = ()) -> AdjustmentRequest:
    require(can_request_target(actor, indicator), "只有指标牵头单位负责人可以申请调整目标。")
    reason = _require_reason(reason)
    new_target = (new_target or "").strip()
    if not new_target or len(new_target) > 60:
        raise DomainError("请填写调整后的目标值（60字以内）。", field="new_value")
    if new_target == indicator.target_text:
        raise DomainError("调整后的目标与现在相同。", field="new_value")
    existing = _pending(session, indicator_id=indicator.id)
    if existing is not None:
        raise DomainError(f"该指标已有一项待审批的调整申请（#{existing.id}）。", field="new_value")
    req = AdjustmentRequest(kind=AdjustmentKind.TARGET, indicator=indicator, department_id=actor.department_id,
                            requested_by_id=actor.id, old_value=indicator.target_text, new_value=new_target,
                            reason=reason, created_at=now())
    session.add(req)
    session.flush()
    audit.record(session, actor, req, "request", {}, f"申请将指标目标由“{indicator.target_text}”调整为“{new_target}”")
    _attach(session, actor, req, files)
    notices.announce(session, actor, req, "file")
    return req


# ---------------------------------------------------------------- deciding and withdrawing


def _apply_deadline(session: Session, actor: User, req: AdjustmentRequest) -> None:
    """The task's deadline, or the milestone's planned date, moves; the item is re-evaluated at once
    (idempotent and set-based: on a day already scanned only the moved item changes)."""
    note = f"经批准的调整申请 #{req.id}：{req.reason}"
    assert req.new_date is not None
    if req.milestone is not None:
        m = req.milestone
        changes = {"due_date": [m.due_date.isoformat(), req.new_date.isoformat()]}
        m.due_date = req.new_date
        session.flush()
        audit.record(session, actor, m, "adjusted", changes, note)
        audit.record(session, actor, m.task, "adjusted", {f"节点“{m.title}”计划日期": changes["due_date"]}, note)
    else:
        task = req.task
        assert task is not None
        changes = {"deadline": [task.deadline.isoformat() if task.deadline else None, req.new_date.isoformat()]}
        task.deadline = req.new_date
        session.flush()
        audit.record(session, actor, task, "adjusted", changes, note)
    scan(session)


def _apply_target(session: Session, actor: User, req: AdjustmentRequest) -> None:
    """The indicator's target (as written and as understood) becomes the requested one."""
    ind = req.indicator
    assert ind is not None and req.new_value is not None
    rule = parse_target(req.new_value, ind.name)
    changes = {"target_text": [ind.target_text, req.new_value]}
    ind.target_text, ind.target_rule, ind.direction = req.new_value, rule.to_json(), rule.direction
    session.flush()
    audit.record(session, actor, ind, "adjusted", changes, f"经批准的调整申请 #{req.id}：{req.reason}")


@dataclass(frozen=True)
class KindRules:
    """What deciding and withdrawing a request of one kind means."""

    noun: str  # what the audit summaries call the request
    may_decide: Callable[[User, AdjustmentRequest], bool]
    decide_denied: str
    may_withdraw: Callable[[User, AdjustmentRequest], bool]
    withdraw_denied: str
    apply: Callable[[Session, User, AdjustmentRequest], None]  # what an approval changes
    check: Callable[[Session, AdjustmentRequest], None] | None = None  # refuses an approval (DomainError)
    # How a refusal names a request that is no longer pending ("{state}" is the state's label, e.g. 已批准).
    settled: str = "该申请{state}，不能{what}。"


def _project_task(req: AdjustmentRequest) -> Task:
    assert req.project is not None
    return req.project.task


def _own_request(user: User, req: AdjustmentRequest) -> bool:
    return req.requested_by_id == user.id


KINDS: dict[AdjustmentKind, KindRules] = {
    AdjustmentKind.DEADLINE: KindRules(
        "调整申请", can_decide_request, "只有本级规划处可以审批调整申请。",
        _own_request, "只能撤回自己提交的申请。", _apply_deadline),
    AdjustmentKind.TARGET: KindRules(
        "调整申请", can_decide_request, "只有本级规划处可以审批调整申请。",
        _own_request, "只能撤回自己提交的申请。", _apply_target),
    # The owner unit's head may withdraw a request another head of the unit made.
    AdjustmentKind.INVESTMENT: KindRules(
        "投资调整申请",
        lambda user, req: can_decide_investment_adjustment(user, _project_task(req)),
        "只有本级规划处可以审批投资调整申请。",
        lambda user, req: _own_request(user, req) or can_request_investment_adjustment(user, _project_task(req)),
        "只有申请单位可以撤回申请。",
        projects.apply_total_change, projects.check_total_change),
}
DECIDED_MEANWHILE = "该申请刚刚已被他人审批，请刷新页面查看结果。"


def _settle(session: Session, req: AdjustmentRequest, state: AdjustmentState, **values: Any) -> None:
    """Move a pending request on — only if it is still pending: of two decisions (or a decision and a
    withdrawal) made at once, the second finds it settled and is refused, whichever database."""
    done = session.execute(
        update(AdjustmentRequest)
        .where(AdjustmentRequest.id == req.id, AdjustmentRequest.state == AdjustmentState.PENDING)
        .values(state=state, **values)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidTransition(DECIDED_MEANWHILE)
    session.refresh(req)


def decide(session: Session, actor: User, req: AdjustmentRequest, *, approve: bool, comment: str | None) -> None:
    """The planner approves (the kind's change is applied once) or rejects (with a reason) a pending request."""
    rules = KINDS[req.kind]
    require(rules.may_decide(actor, req), rules.decide_denied)
    if req.state != AdjustmentState.PENDING:
        raise InvalidTransition(rules.settled.format(state=req.state.label, what="再审批"))
    comment = (comment or "").strip() or None
    if not approve and not comment:
        raise DomainError("驳回须写明理由。", field="comment")
    if approve and rules.check is not None:
        rules.check(session, req)
    state = AdjustmentState.APPROVED if approve else AdjustmentState.REJECTED
    _settle(session, req, state, decided_by_id=actor.id, decided_at=now(), decision_comment=comment)
    audit.record(session, actor, req, "approve" if approve else "reject",
                 {"state": [AdjustmentState.PENDING.label, state.label]},
                 f"{'批准' if approve else '驳回'}{rules.noun}" + (f"：{comment}" if comment else ""))
    if approve:
        rules.apply(session, actor, req)
    notices.announce(session, actor, req, "approve" if approve else "reject")


def withdraw(session: Session, actor: User, req: AdjustmentRequest) -> None:
    """The requesting unit takes back a request that is still pending."""
    rules = KINDS[req.kind]
    require(rules.may_withdraw(actor, req), rules.withdraw_denied)
    if req.state != AdjustmentState.PENDING:
        raise InvalidTransition(rules.settled.format(state=req.state.label, what="撤回"))
    _settle(session, req, AdjustmentState.WITHDRAWN)
    audit.record(session, actor, req, "withdraw", {"state": [AdjustmentState.PENDING.label, req.state.label]},
                 f"撤回{rules.noun}")
    notices.announce(session, actor, req, "withdraw")


# ------------------------------------------------------------------------------------------ the list


def scoped(user: User, stmt: Select[Any]) -> Select[Any]:
    """The SQL form of ``permissions.can_view_request``: departments see their own requests, everyone else
    the deadline and target requests about plans of their own region (a test holds the two together)."""
    if user.role in DEPARTMENT_ROLES:
        return stmt.where(AdjustmentRequest.department_id == user.department_id)
    task_plans = select(Task.id).join(Plan).where(Plan.region_id == user.region_id)
    indicator_plans = select(Indicator.id).join(Plan).where(Plan.region_id == user.region_id)
    return stmt.where(or_(AdjustmentRequest.task_id.in_(task_plans),
                          AdjustmentRequest.indicator_id.in_(indicator_plans)))


def request_list(user: User, state: AdjustmentState | None = None) -> Select[Any]:
    """The requests the user sees, pending first, newest first (for paging)."""
    stmt = scoped(user, select(AdjustmentRequest)).options(
        selectinload(AdjustmentRequest.task).selectinload(Task.plan), selectinload(AdjustmentRequest.indicator),
        selectinload(AdjustmentRequest.department)).order_by(
        (AdjustmentRequest.state == AdjustmentState.PENDING).desc(), AdjustmentRequest.id.desc())
    if state:
        stmt = stmt.where(AdjustmentRequest.state == state)
    return stmt
