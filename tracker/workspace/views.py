from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from ..alerts.models import AlertTarget
from ..db import db_session
from ..supervision.services import COLOUR_LABELS, colour
from ..tasks.models import TaskStatus
from ..timeutil import today
from ..web import enum_arg, int_arg, paginate
from .services import (
    WorkspaceFilters,
    alert_levels,
    cases_awaiting,
    counts,
    last_reports,
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
    filters = WorkspaceFilters(plan_id=int_arg("plan"), status=enum_arg(TaskStatus, "status"),
                               year=int_arg("year", lo=1990, hi=2100), role=role, bucket=bucket)
    department_id = current_user.department_id
    day = today()
    figures = counts(session, department_id, filters, day)
    if view == "milestones":
        page = paginate(session, milestone_query(department_id, filters, day))
        levels = alert_levels(session, AlertTarget.MILESTONE, [m.id for m in page.items])
        reports = {}
    else:
        page = paginate(session, task_query(department_id, filters, day))
        ids = [t.id for t in page.items]
        levels = alert_levels(session, AlertTarget.TASK, ids)
        reports = last_reports(session, department_id, ids)
    return render_template(
        "workspace/index.html", view=view, page=page, figures=figures, filters=filters, levels=levels,
        reports=reports, plans=workspace_plans(session, department_id), statuses=TaskStatus,
        cases=cases_awaiting(session, department_id), case_colour=colour, colour_labels=COLOUR_LABELS,
        years=range(day.year + 1, 2020, -1),
    )
