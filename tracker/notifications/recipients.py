"""Who hears of what: one table, from the kind of an event to the people it concerns.

Every event names its scope in columns (the department, the issuing office, the plan, the person it is
about); an audience reads one of them. The actor never hears of their own act. A kind that is not in
``RULES`` cannot be emitted, and a test walks every transition of every workflow through this table.

Alerts are recorded as events too, but reach their department only through the daily digest (one message
a day, not one per alert — 浙政钉 allows an app 100 messages a user a day).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..auth.models import Role, User
from ..planning.models import Plan
from ..regions.models import Department, Region
from .models import Event, NotificationKind


class Audience(StrEnum):
    DEPARTMENT = "department"  # the heads and staff of the event's department
    DEPARTMENT_HEAD = "department_head"  # its heads
    OFFICE = "office"  # the supervisors of the issuing office
    PLANNERS = "planners"  # the planners of the plan's region (who review what departments enter)
    EVALUATORS = "evaluators"  # the evaluators of the plan's region
    LEADERS = "leaders"  # the leaders whose scope holds the department (its region and those above)
    PERSON = "person"  # the one person the event is about: the author, the requester


AUDIENCE_LABELS = {
    Audience.DEPARTMENT: "责任单位负责人和填报员",
    Audience.DEPARTMENT_HEAD: "责任单位负责人",
    Audience.OFFICE: "督办单位（督查室）",
    Audience.PLANNERS: "本级规划处",
    Audience.EVALUATORS: "本级考核组",
    Audience.LEADERS: "分管领导",
    Audience.PERSON: "经办人（填报人、申请人）",
}


@dataclass(frozen=True)
class Rule:
    kind: NotificationKind
    audiences: tuple[Audience, ...]
    inbox: bool = True  # False: heard of in the daily digest only
    label: str = ""  # the event kind in words (the webhook page's checkboxes)


A = Audience
SUP, REV, ADJ, EVA, PRO = (NotificationKind.SUPERVISION, NotificationKind.REVIEW, NotificationKind.ADJUSTMENT,
                           NotificationKind.EVALUATION, NotificationKind.PROGRESS)

RULES: dict[str, Rule] = {
    # 督查督办: each action of the closed loop (supervision.services.TRANSITIONS), filing and lateness
    "case.file": Rule(SUP, (A.OFFICE,), label="督办件立案"),
    "case.issue": Rule(SUP, (A.DEPARTMENT,), label="下发督办单"),
    "case.acknowledge": Rule(SUP, (A.OFFICE,), label="督办单签收"),
    "case.plan": Rule(SUP, (A.OFFICE,), label="提交整改方案"),
    "case.progress": Rule(SUP, (A.OFFICE,), label="报送整改进展"),
    "case.submit": Rule(SUP, (A.OFFICE,), label="提交复核"),
    "case.return": Rule(SUP, (A.DEPARTMENT_HEAD,), label="督办件退回"),
    "case.close": Rule(SUP, (A.DEPARTMENT_HEAD,), label="督办件销号"),
    "case.remind": Rule(SUP, (A.DEPARTMENT_HEAD,), label="催办"),
    "case.interview": Rule(SUP, (A.DEPARTMENT_HEAD,), label="约谈"),
    "case.circulate": Rule(SUP, (A.DEPARTMENT_HEAD, A.LEADERS), label="通报"),
    "case.overdue": Rule(SUP, (A.DEPARTMENT, A.OFFICE), label="督办件超期未答复"),
    # progress reports: a staff member's draft, then the review (review.TRANSITIONS)
    "report.draft": Rule(REV, (A.DEPARTMENT_HEAD,), label="进展填报待提交"),
    "report.submit": Rule(REV, (A.PLANNERS,), label="进展填报提交"),
    "report.confirm": Rule(REV, (A.PERSON, A.DEPARTMENT_HEAD), label="进展填报确认"),
    "report.return": Rule(REV, (A.PERSON, A.DEPARTMENT_HEAD), label="进展填报退回"),
    # indicator values
    "value.submit": Rule(REV, (A.PLANNERS,), label="指标监测值提交"),
    "value.confirm": Rule(REV, (A.PERSON,), label="指标监测值确认"),
    "value.return": Rule(REV, (A.DEPARTMENT, A.PERSON), label="指标监测值退回"),
    # a key project's yearly completed investment
    "investment.submit": Rule(REV, (A.PLANNERS,), label="项目完成投资提交"),
    "investment.confirm": Rule(REV, (A.PERSON, A.DEPARTMENT_HEAD), label="项目完成投资确认"),
    "investment.return": Rule(REV, (A.PERSON, A.DEPARTMENT_HEAD), label="项目完成投资退回"),
    # adjustment requests
    "adjustment.file": Rule(ADJ, (A.PLANNERS,), label="调整申请提出"),
    "adjustment.approve": Rule(ADJ, (A.PERSON,), label="调整申请批准"),
    "adjustment.reject": Rule(ADJ, (A.PERSON,), label="调整申请驳回"),
    "adjustment.withdraw": Rule(ADJ, (A.PLANNERS,), label="调整申请撤回"),
    # evaluations
    "evaluation.compute": Rule(EVA, (A.EVALUATORS, A.PLANNERS), label="考核评估计算"),
    "evaluation.lock": Rule(EVA, (A.EVALUATORS, A.PLANNERS, A.LEADERS), label="考核评估锁定"),
    "evaluation.reopen": Rule(EVA, (A.EVALUATORS, A.PLANNERS), label="考核评估重新开放"),
    # work done
    "task.done": Rule(PRO, (A.DEPARTMENT_HEAD, A.PLANNERS), label="任务完成"),
    "milestone.done": Rule(PRO, (A.DEPARTMENT_HEAD,), label="节点完成"),
    # alerts raised or raised a level by the scan: the department's daily digest
    "alert.raise": Rule(NotificationKind.OVERDUE, (A.DEPARTMENT,), inbox=False, label="预警产生"),
    "alert.escalate": Rule(NotificationKind.OVERDUE, (A.DEPARTMENT,), inbox=False, label="预警升级"),
}


def _region_and_above(session: Session, region_id: int) -> list[int]:
    ids = [region_id]
    parent = session.scalar(select(Region.parent_id).where(Region.id == region_id))
    while parent is not None and parent not in ids:
        ids.append(parent)
        parent = session.scalar(select(Region.parent_id).where(Region.id == parent))
    return ids


def audience_condition(session: Session, audience: Audience, event: Event) -> object | None:
    """The users of ``audience`` for ``event`` as a WHERE clause on User, or None when the event lacks the
    column the audience reads."""
    match audience:
        case A.DEPARTMENT | A.DEPARTMENT_HEAD:
            if event.department_id is None:
                return None
            roles = [Role.DEPT_HEAD, Role.DEPT_STAFF] if audience == A.DEPARTMENT else [Role.DEPT_HEAD]
            return (User.department_id == event.department_id) & User.role.in_(roles)
        case A.OFFICE:
            if event.office_id is None:
                return None
            return (User.department_id == event.office_id) & (User.role == Role.SUPERVISOR)
        case A.PLANNERS | A.EVALUATORS:
            if event.plan_id is None:
                return None
            role = Role.PLANNER if audience == A.PLANNERS else Role.EVALUATOR
            plan_region = select(Plan.region_id).where(Plan.id == event.plan_id).scalar_subquery()
            return (User.role == role) & User.department_id.in_(
                select(Department.id).where(Department.region_id == plan_region))
        case A.LEADERS:
            region_id = None
            if event.department_id is not None:
                region_id = session.scalar(select(Department.region_id).where(Department.id == event.department_id))
            elif event.plan_id is not None:
                region_id = session.scalar(select(Plan.region_id).where(Plan.id == event.plan_id))
            if region_id is None:
                return None
            return (User.role == Role.LEADER) & User.department_id.in_(
                select(Department.id).where(Department.region_id.in_(_region_and_above(session, region_id))))
        case A.PERSON:
            return None if event.person_id is None else User.id == event.person_id
    raise ValueError(audience)  # pragma: no cover


def recipients(session: Session, event: Event) -> list[int]:
    """The active users who hear of ``event`` (never its actor), in id order."""
    conditions = [c for a in RULES[event.kind].audiences if (c := audience_condition(session, a, event)) is not None]
    if not conditions:
        return []
    stmt = select(User.id).where(User.is_active.is_(True), or_(*conditions)).order_by(User.id)  # type: ignore[arg-type]
    if event.actor_id is not None:
        stmt = stmt.where(User.id != event.actor_id)
    return list(session.scalars(stmt))
