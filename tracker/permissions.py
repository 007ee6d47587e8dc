"""Who may see and do what — the one place the rules live.

Scope: a user works in the region of their department. They see plans of that region and of every
region below it (a city sees its counties, read-only unless they plan there), and plans of the regions
above it (the parent plans their own plans implement), never a sibling region's.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from .auth.models import Role, User
from .errors import PermissionDenied
from .plans.models import Plan
from .regions.models import Region
from .tasks.models import ProgressReport, Task

F = TypeVar("F", bound=Callable[..., Any])

PLANNING_ROLES = frozenset({Role.PLANNER})
DEPARTMENT_ROLES = frozenset({Role.DEPT_HEAD, Role.DEPT_STAFF})


def region_ids_below(session: Session, region_id: int) -> set[int]:
    """The region and all its descendants (three levels at most)."""
    ids = {region_id}
    frontier = {region_id}
    while frontier:
        frontier = set(session.scalars(select(Region.id).where(Region.parent_id.in_(frontier))))
        frontier -= ids
        ids |= frontier
    return ids


def region_ids_above(session: Session, region_id: int) -> set[int]:
    ids: set[int] = set()
    region = session.get(Region, region_id)
    while region is not None and region.parent_id is not None:
        ids.add(region.parent_id)
        region = session.get(Region, region.parent_id)
    return ids


def visible_region_ids(session: Session, user: User) -> set[int]:
    """Regions whose plans the user may read."""
    return region_ids_below(session, user.region_id) | region_ids_above(session, user.region_id)


def can_view_region(session: Session, user: User, region_id: int) -> bool:
    return region_id in visible_region_ids(session, user)


def can_view_plan(session: Session, user: User, plan: Plan) -> bool:
    return can_view_region(session, user, plan.region_id)


def can_edit_plan(user: User, plan: Plan) -> bool:
    """Planners shape the plans of their own region."""
    return user.role in PLANNING_ROLES and plan.region_id == user.region_id


def can_create_plan(user: User) -> bool:
    return user.role in PLANNING_ROLES


def can_view_task(session: Session, user: User, task: Task) -> bool:
    return can_view_plan(session, user, task.plan)


def is_lead(user: User, task: Task) -> bool:
    return task.lead_department_id == user.department_id


def is_co(user: User, task: Task) -> bool:
    return any(d.id == user.department_id for d in task.co_departments)


def can_update_task(user: User, task: Task) -> bool:
    """Status, progress and milestones belong to the lead department's head (and the plan's planners)."""
    if task.plan.region_id != user.region_id:
        return False
    if user.role in PLANNING_ROLES:
        return True
    return user.role == Role.DEPT_HEAD and is_lead(user, task)


def can_report_on_task(user: User, task: Task) -> bool:
    """Lead and co-operating departments each report their part."""
    return (
        user.role in DEPARTMENT_ROLES
        and task.plan.region_id == user.region_id
        and (is_lead(user, task) or is_co(user, task))
    )


def can_edit_report(user: User, report: ProgressReport) -> bool:
    return user.role in DEPARTMENT_ROLES and report.department_id == user.department_id


def can_submit_report(user: User, report: ProgressReport) -> bool:
    """Staff draft; the department head submits."""
    return user.role == Role.DEPT_HEAD and report.department_id == user.department_id


def can_review_report(user: User, report: ProgressReport) -> bool:
    return user.role in PLANNING_ROLES and report.task.plan.region_id == user.region_id


def can_supervise(user: User) -> bool:
    return user.role == Role.SUPERVISOR


def can_evaluate(user: User) -> bool:
    return user.role == Role.EVALUATOR


def can_administer(user: User) -> bool:
    return user.role == Role.ADMIN


def require(allowed: bool, message: str = "您没有权限执行此操作。") -> None:
    if not allowed:
        raise PermissionDenied(message)


def roles_required(*roles: Role) -> Callable[[F], F]:
    """View decorator: only these roles may enter (after login)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            require(current_user.is_authenticated and current_user.role in roles,
                    "此功能仅对" + "、".join(r.label for r in roles) + "开放。")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
