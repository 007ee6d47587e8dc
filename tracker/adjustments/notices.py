"""What people hear of an adjustment request: filed → the planners of the plan's region; approved, rejected
→ the requester; withdrawn → the planners (see notifications.recipients)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..auth.models import User
from ..notifications.outbox import emit, link_to
from .models import AdjustmentKind, AdjustmentRequest

VERBS = {"file": "待审批", "approve": "已批准", "reject": "已驳回", "withdraw": "已撤回"}


def subject_of(req: AdjustmentRequest) -> tuple[int, str]:
    """(the plan's id, the request's subject in words)."""
    if req.kind == AdjustmentKind.INVESTMENT:
        assert req.project is not None
        task = req.project.task
        return task.plan_id, f"“{task.code} {task.title}”总投资调整申请"
    if req.indicator is not None:
        return req.indicator.plan_id, f"指标“{req.indicator.name}”目标调整申请"
    assert req.task is not None
    what = f"节点“{req.milestone.title}”" if req.milestone is not None else ""
    return req.task.plan_id, f"“{req.task.code} {req.task.title}”{what}期限调整申请"


def announce(session: Session, actor: User, req: AdjustmentRequest, action: str) -> None:
    plan_id, what = subject_of(req)
    body = req.reason if action == "file" else req.decision_comment
    emit(session, f"adjustment.{action}", req, actor=actor, title=f"{VERBS[action]}：{req.department.name}{what}",
         body=body, link=link_to("adjustments.show", request_id=req.id), department_id=req.department_id,
         plan_id=plan_id, person_id=req.requested_by_id)
