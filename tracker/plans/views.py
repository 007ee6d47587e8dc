from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from .. import audit
from ..db import db_session
from ..permissions import can_edit_plan, can_view_plan, require
from ..tasks.models import TaskLevel, TaskStatus
from ..web import ID, Page, enum_arg, int_arg
from .models import Plan, PlanLevel, PlanStage
from .services import (
    LEVEL_ORDER,
    PlanFilters,
    TreeFilters,
    list_plans,
    plan_departments,
    plan_indicators,
    plan_progress,
    plan_projects,
    tab_counts,
    tree_page,
    visible_regions,
)

bp = Blueprint("plans", __name__)
TREE_PAGE_SIZE = 200


def load_plan(plan_id: int) -> Plan:
    session = db_session()
    plan = session.get(Plan, plan_id)
    if plan is None:
        abort(404)
    require(can_view_plan(session, current_user, plan), "该规划不在您的管辖范围内。")
    return plan


@bp.route("/")
@login_required
def home() -> Response:
    """Each role lands where its work is."""
    from ..auth.models import Role

    if current_user.role in (Role.DEPT_HEAD, Role.DEPT_STAFF):
        return redirect(url_for("workspace.index"))
    return redirect(url_for("plans.index"))


@bp.route("/plans")
@login_required
def index() -> str:
    session = db_session()
    filters = PlanFilters(
        level=enum_arg(PlanLevel, "level"),
        region_id=int_arg("region"),
        stage=enum_arg(PlanStage, "stage"),
        q=(request.args.get("q") or "")[:100] or None,
    )
    rows = list_plans(session, current_user, filters)
    return render_template("plans/index.html", rows=rows, filters=filters, regions=visible_regions(session, current_user),
                           levels=PlanLevel, stages=PlanStage)


@bp.route(f"/plans/<{ID}:plan_id>")
@login_required
def show(plan_id: int) -> str:
    session = db_session()
    plan = load_plan(plan_id)
    tab = request.args.get("tab", "tasks")
    if tab not in ("tasks", "indicators", "projects", "history"):
        abort(404)
    filters = TreeFilters(depth=enum_arg(TaskLevel, "depth"), status=enum_arg(TaskStatus, "status"),
                          department_id=int_arg("department"), year=int_arg("year", lo=1990, hi=2100),
                          q=(request.args.get("q") or "").strip()[:100] or None)
    page, departments = None, []
    if tab == "tasks":
        number = int_arg("page", 1, lo=1) or 1
        rows, total = tree_page(session, plan, filters, number, TREE_PAGE_SIZE)
        page = Page(rows, number, TREE_PAGE_SIZE, total)
        departments = plan_departments(session, plan)
    return render_template(
        "plans/show.html", plan=plan, tab=tab, page=page, filters=filters, departments=departments,
        levels=LEVEL_ORDER, statuses=TaskStatus, counts=tab_counts(session, plan),
        indicators=plan_indicators(session, plan) if tab == "indicators" else [],
        projects=plan_projects(session, plan) if tab == "projects" else [],
        history=audit.history(session, ("plans", plan.id)) if tab == "history" else [],
        figures=plan_progress(session, plan), can_edit=can_edit_plan(current_user, plan),
    )
