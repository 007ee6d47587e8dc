from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from ..alerts.models import AlertTarget
from ..db import db_session
from ..permissions import can_update_task
from ..supervision.services import COLOUR_LABELS, colour
from ..tasks.models import MilestoneStatus, TaskStatus
from ..timeutil import today
from ..web import enum_arg, int_arg, paginate
from .services import (
    WorkspaceFilters,
    alert_levels,
    cases_awaiting,
    counts,
    last_reports,
    milestone_counts,
    milestone_query,
    task_query,
    workspace_plans,
)

bp = Blueprint("workspace", __name__)


@bp.route("/workspace")
@login_required
def index() -> str:
    session = db_session()
    view = request.args.get("view", "tasks")
    role = request.args.get("role") or None
    bucket = request.args.get("bucket") or None
    if view not in ("tasks", "milestones") or role not in (None, "lead", "co") or bucket not in (None, "overdue", "soon"):
        abort(400)
    # The status filter speaks of tasks on the tasks tab and of milestones on the milestones tab.
    filters = WorkspaceFilters(plan_id=int_arg("plan"), year=int_arg("year", lo=1990, hi=2100), role=role,
                               bucket=bucket)
    if view == "milestones":
        filters.milestone_status = enum_arg(MilestoneStatus, "status")
    else:
        filters.status = enum_arg(TaskStatus, "status")
    department_id = current_user.department_id
    day = today()
    completable: set[int] = set()
    reports = {}
    if view == "milestones":
        figures = milestone_counts(session, department_id, filters, day)
        page = paginate(session, milestone_query(department_id, filters, day))
        levels = alert_levels(session, AlertTarget.MILESTONE, [m.id for m in page.items])
        # Only the lead department's head (or the plan's planners) may mark a milestone done.
        completable = {m.id for m in page.items if m.is_open and can_update_task(current_user, m.task)}
    else:
        figures = counts(session, department_id, filters, day)
        page = paginate(session, task_query(department_id, filters, day))
        ids = [t.id for t in page.items]
        levels = alert_levels(session, AlertTarget.TASK, ids)
        reports = last_reports(session, department_id, ids)
    return render_template(
        "workspace/index.html", view=view, page=page, figures=figures, filters=filters, levels=levels,
        reports=reports, completable=completable, plans=workspace_plans(session, department_id),
        statuses=MilestoneStatus if view == "milestones" else TaskStatus,
        cases=cases_awaiting(session, department_id), case_colour=colour, colour_labels=COLOUR_LABELS,
        years=range(day.year + 1, 2020, -1),
    )
