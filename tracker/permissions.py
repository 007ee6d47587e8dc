"""Who may see and do what — the one place the rules live.

Scope: a user works in the region of their department. They see plans of that region and of every
region below it (a city sees its counties, read-only unless they plan there), and plans of the regions
above it (the parent plans their own plans implement), never a sibling region's.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from flask_login import current_user
from sqlalchemy import ColumnElement, func, select, true

from .auth.models import Role, User
from .errors import PermissionDenied
from .regions.models import Region

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from .adjustments.models import AdjustmentRequest
    from .planning.models import Plan
    from .supervision.models import SupervisionCase
    from .tasks.models import ProgressReport, Task

F = TypeVar("F", bound=Callable[..., Any])

PLANNING_ROLES = frozenset({Role.PLANNER})
DEPARTMENT_ROLES = frozenset({Role.DEPT_HEAD, Role.DEPT_STAFF})


def region_ids_below(session: Session, region_id: int) -> set[int]:
    """The region and all its descendants (three levels at most); kept for the session's life,
    as a request asks for its scope several times."""
    cache = session.info.setdefault("regions_below", {})
    if region_id not in cache:
        cache[region_id] = frozenset(_descendants(session, region_id))
    return set(cache[region_id])


def _descendants(session: Session, region_id: int) -> set[int]:
    """One recursive query (level by level, the last levels sent a nation's thousand ids back as parameters)."""
    below = select(Region.id).where(Region.id == region_id).cte("below", recursive=True)
    below = below.union_all(select(Region.id).where(Region.parent_id == below.c.id))
    return set(session.scalars(select(below.c.id)))


def every_region(session: Session, regions: Collection[int]) -> bool:
    """Whether ``regions`` are every region there is (the scope of a root region's reader). Counted once per
    transaction with nothing unflushed (a primary key's count; a request asks several times): a count kept longer,
    while regions are added, would take a city for the whole."""
    transaction, kept = session.get_transaction(), session.info.get("region_count")
    if kept is not None and transaction is not None and kept[0] is transaction and not session.new:
        return len(regions) >= kept[1]
    count = session.scalar(select(func.count()).select_from(Region)) or 0
    session.info["region_count"] = (session.get_transaction(), count)
    return len(regions) >= count


def in_regions(session: Session, column: Any, regions: Collection[int]) -> ColumnElement[bool]:
    """``column IN regions`` — or nothing to test when they are every region: a nation's 1,021 ids are not worth
    sending, and planning against, with each statement."""
    return true() if every_region(session, regions) else column.in_(regions)  # type: ignore[no-any-return]


def region_ids_above(session: Session, region_id: int) -> set[int]:
    """The region's ancestors; kept for the session's life, like ``region_ids_below`` (the regions themselves are
    not: the session holds only the objects something refers to, and would read them again)."""
    cache = session.info.setdefault("regions_above", {})
    if region_id not in cache:
        ids: set[int] = set()
        region = session.get(Region, region_id)
        while region is not None and region.parent_id is not None:
            ids.add(region.parent_id)
            region = session.get(Region, region.parent_id)
        cache[region_id] = frozenset(ids)
    return set(cache[region_id])


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


def can_supervise_task(session: Session, user: User, task: Task) -> bool:
    """A supervision office files cases on the tasks of plans of its region and below (not of plans above,
    which it may read, nor of a sibling region)."""
    return can_supervise(user) and task.plan.region_id in region_ids_below(session, user.region_id)


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


# --- the overdue list (逾期清单) -------------------------------------------------------------------

OVERDUE_LIST_ROLES = frozenset({Role.SUPERVISOR, Role.PLANNER, Role.LEADER, Role.ADMIN})


def overdue_region_ids(session: Session, user: User) -> set[int]:
    """Regions whose alerts the user works on: their own and every region below (never a sibling's,
    nor the regions above, whose offices supervise their own plans)."""
    return region_ids_below(session, user.region_id)


# --- key projects (重大项目): the register, yearly investment and construction nodes ----------------
# Each rule takes the project's task: the owner unit is the task's lead department, and the planner
# of the plan's region keeps the register and reviews the figures.


def is_project_owner(user: User, task: Task) -> bool:
    return task.plan.region_id == user.region_id and is_lead(user, task)


def can_enter_investment(user: User, task: Task) -> bool:
    """The owner unit's head and staff fill in the completed investment (staff save drafts)."""
    return user.role in DEPARTMENT_ROLES and is_project_owner(user, task)


def can_submit_investment(user: User, task: Task) -> bool:
    """Only the owner unit's head sends the figure to the planner."""
    return user.role == Role.DEPT_HEAD and is_project_owner(user, task)


def can_review_investment(user: User, task: Task) -> bool:
    return user.role in PLANNING_ROLES and task.plan.region_id == user.region_id


def can_keep_project_register(user: User, plan: Plan) -> bool:
    """A plan's project register (adding projects; their facts, funding and yearly investment plan) belongs
    to the planner of the plan's region."""
    return user.role in PLANNING_ROLES and plan.region_id == user.region_id


def can_edit_project_register(user: User, task: Task) -> bool:
    return can_keep_project_register(user, task.plan)


def can_request_investment_adjustment(user: User, task: Task) -> bool:
    return user.role == Role.DEPT_HEAD and is_project_owner(user, task)


def can_decide_investment_adjustment(user: User, task: Task) -> bool:
    return user.role in PLANNING_ROLES and task.plan.region_id == user.region_id


# --- indicators, evaluations and the leaders' dashboard ------------------------------------------

EVALUATION_VIEW_ROLES = frozenset({Role.EVALUATOR, Role.PLANNER, Role.LEADER})
DASHBOARD_ROLES = frozenset({Role.LEADER, Role.EVALUATOR, Role.PLANNER, Role.SUPERVISOR, Role.ADMIN})


def can_enter_indicator_value(user: User, indicator: Any) -> bool:
    """The lead department (head or staff) enters its indicators' values; the plan's planners may too."""
    if indicator.plan.region_id != user.region_id:
        return False
    if user.role in PLANNING_ROLES:
        return True
    return user.role in DEPARTMENT_ROLES and indicator.lead_department_id == user.department_id


def can_confirm_indicator_value(user: User, indicator: Any) -> bool:
    return can_confirm_plan_values(user, indicator.plan)


def can_confirm_plan_values(user: User, plan: Plan) -> bool:
    """Planners of the plan's region confirm the values the departments entered."""
    return user.role in PLANNING_ROLES and plan.region_id == user.region_id


def can_judge_indicator_value(user: User, indicator: Any) -> bool:
    """Evaluators of the plan's region judge what a number cannot (qualitative and trend targets)."""
    return user.role == Role.EVALUATOR and indicator.plan.region_id == user.region_id


def can_run_evaluation(user: User, plan: Plan) -> bool:
    """Evaluators run, adjust and lock the evaluations of their own region's plans."""
    return user.role == Role.EVALUATOR and plan.region_id == user.region_id


def can_reopen_evaluation(user: User) -> bool:
    """Reopening a locked evaluation (a new draft version, with a reason) is the administrator's act."""
    return user.role == Role.ADMIN


def can_view_evaluations(user: User) -> bool:
    return user.role in EVALUATION_VIEW_ROLES


def can_view_evaluation(session: Session, user: User, plan: Plan) -> bool:
    return user.role in EVALUATION_VIEW_ROLES and can_view_plan(session, user, plan)


def can_view_dashboard(user: User) -> bool:
    """Leaders read the dashboard; the offices that work with them see it too."""
    return user.role in DASHBOARD_ROLES


# --- imports: plan documents, task lists (任务分解表), cascading plans down the levels -------------

COVERAGE_ROLES = frozenset({Role.PLANNER, Role.LEADER, Role.EVALUATOR, Role.SUPERVISOR})


def can_import(user: User) -> bool:
    """Planners bring plan documents into the system (for their own region)."""
    return user.role in PLANNING_ROLES


def can_work_on_import(user: User, document: Any) -> bool:
    """An uploaded document's draft belongs to the planners of the region it was uploaded for."""
    return user.role in PLANNING_ROLES and document.region_id == user.region_id


def can_import_task_list(user: User, plan: Plan) -> bool:
    return can_edit_plan(user, plan)


def can_cascade_from(session: Session, user: User, parent: Plan) -> bool:
    """A city or county planner creates their plan from a plan of a region above theirs."""
    return user.role in PLANNING_ROLES and parent.region_id in region_ids_above(session, user.region_id)


def can_view_coverage(session: Session, user: User, plan: Plan) -> bool:
    """How the regions below implement a plan: for the offices of the plan's region and the regions above."""
    return user.role in COVERAGE_ROLES and plan.region_id in region_ids_below(session, user.region_id)


# --- supervision cases and adjustment requests ---------------------------------------------------------


def can_view_case(session: Session, user: User, case: SupervisionCase) -> bool:
    """Departments see their own cases; everyone else the cases of departments in their region and below.
    The case list filters by the same rule in SQL; this one answers for a case's page and its files."""
    if user.role in DEPARTMENT_ROLES:
        return case.department_id == user.department_id
    return case.department.region_id in region_ids_below(session, user.region_id)


def request_region_id(req: AdjustmentRequest) -> int:
    """The region of the plan an adjustment request is about."""
    if req.task is not None:
        return req.task.plan.region_id
    if req.indicator is not None:
        return req.indicator.plan.region_id
    assert req.project is not None
    return req.project.task.plan.region_id


def can_view_request(user: User, req: AdjustmentRequest) -> bool:
    """Departments see their own requests; everyone else the deadline and target requests about plans of
    their own region. The request list filters by the same rule in SQL; this one answers for a request's
    page and its files."""
    if user.role in DEPARTMENT_ROLES:
        return req.department_id == user.department_id
    if req.task is not None:
        return req.task.plan.region_id == user.region_id
    if req.indicator is not None:
        return req.indicator.plan.region_id == user.region_id
    return False


def can_request_deadline(user: User, task: Task) -> bool:
    """The lead department's head asks to move a task's (or one of its milestones') deadline."""
    return user.role == Role.DEPT_HEAD and is_lead(user, task)


def can_request_target(user: User, indicator: Any) -> bool:
    """The indicator's lead department's head asks to change its target."""
    return user.role == Role.DEPT_HEAD and indicator.lead_department_id == user.department_id


def can_decide_request(user: User, req: AdjustmentRequest) -> bool:
    """The planners of the plan's region approve or reject a request."""
    return user.role in PLANNING_ROLES and request_region_id(req) == user.region_id


# --- lists that several roles read (each row is still scoped by the rules above) ---------------------

CASE_LIST_ROLES = frozenset({Role.SUPERVISOR, Role.DEPT_HEAD, Role.DEPT_STAFF, Role.LEADER, Role.PLANNER,
                             Role.EVALUATOR, Role.ADMIN})
REPORT_LIST_ROLES = frozenset({Role.PLANNER, Role.DEPT_HEAD, Role.DEPT_STAFF, Role.LEADER, Role.EVALUATOR,
                               Role.SUPERVISOR})


# --- the menu: which roles see each entry (each page still checks its own rule) ----------------------

MENU_ROLES: dict[str, frozenset[Role] | None] = {
    "workspace.index": DEPARTMENT_ROLES,
    "plans.index": None,
    "alerts.overdue": OVERDUE_LIST_ROLES,
    "supervision.index": frozenset({Role.SUPERVISOR, Role.DEPT_HEAD, Role.DEPT_STAFF, Role.LEADER, Role.PLANNER}),
    "tasks.reports": PLANNING_ROLES,
    "adjustments.index": frozenset({Role.PLANNER, Role.DEPT_HEAD}),
    "indicators.index": frozenset({Role.DEPT_HEAD, Role.DEPT_STAFF, Role.PLANNER, Role.EVALUATOR, Role.LEADER}),
    "evaluations.index": EVALUATION_VIEW_ROLES,
    "dashboard.index": DASHBOARD_ROLES,
    "admin.index": frozenset({Role.ADMIN}),
}


# Where each role lands after signing in: where its work is (each is one of the role's menu entries).
LANDING: dict[Role, str] = {
    Role.DEPT_HEAD: "workspace.index",
    Role.DEPT_STAFF: "workspace.index",
    Role.LEADER: "dashboard.index",
    Role.SUPERVISOR: "alerts.overdue",
    Role.EVALUATOR: "evaluations.index",
    Role.PLANNER: "plans.index",
    Role.ADMIN: "admin.index",
}


def sees_menu_entry(user: User, endpoint: str) -> bool:
    roles = MENU_ROLES[endpoint]
    return roles is None or getattr(user, "role", None) in roles
