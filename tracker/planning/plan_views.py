"""The plans' own pages (blueprint ``plans``): the list, a plan's page with its tabs, creating a plan from its
parent (分解), how the regions below implement it (覆盖情况) and deleting a plan nothing depends on. Changing a
plan and its tree is the ``planning`` blueprint's (views.py, under /planning/)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from .. import audit
from ..alerts.overdue import lists_anything
from ..db import db_session
from ..errors import DomainError, StaleObject
from ..permissions import (
    LANDING,
    can_cascade_from,
    can_edit_plan,
    can_view_coverage,
    can_view_plan,
    require,
)
from ..projects.checks import project_warnings
from ..regions.services import departments_of
from ..tasks.models import TaskLevel, TaskStatus
from ..timeutil import today
from ..web import ID, Page, enum_arg, int_arg, paginate, refuse
from . import cascade, deletion
from .forms import CascadeForm, DeleteForm
from .models import InvestmentUnit, Plan, PlanLevel, PlanStage
from .queries import (
    LEVEL_ORDER,
    PlanFilters,
    TreeFilters,
    plan_departments,
    plan_indicators,
    plan_progress,
    plan_projects,
    plans_in_scope,
    tab_counts,
    tree_page,
    visible_regions,
    with_counts,
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
    """Each role lands where its work is (permissions.LANDING); a supervision office with nothing overdue or due
    soon in its scope lands on its cases."""
    landing = LANDING[current_user.role]
    if landing == "alerts.overdue" and not lists_anything(db_session(), current_user):
        landing = "supervision.index"
    return redirect(url_for(landing))


@bp.route("/plans")
@login_required
def index() -> str:
    session = db_session()
    filters = PlanFilters(
        level=enum_arg(PlanLevel, "level"),
        region_id=int_arg("region"),
        stage=enum_arg(PlanStage, "stage"),
        q=(request.args.get("q") or "")[:100] or None,
        archived=request.args.get("archived") == "1",
    )
    page = paginate(session, plans_in_scope(session, current_user, filters))
    return render_template("planning/plan_index.html", rows=with_counts(session, page.items), page=page,
                           filters=filters, regions=visible_regions(session, current_user, filters.region_id),
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
    projects = plan_projects(session, plan) if tab == "projects" else []
    if tab == "tasks":
        number = int_arg("page", 1, lo=1) or 1
        rows, total = tree_page(session, plan, filters, number, TREE_PAGE_SIZE)
        page = Page(rows, number, TREE_PAGE_SIZE, total)
        departments = plan_departments(session, plan)
    return render_template(
        "planning/plan_show.html", plan=plan, tab=tab, page=page, filters=filters, departments=departments,
        levels=LEVEL_ORDER, statuses=TaskStatus, counts=tab_counts(session, plan),
        indicators=plan_indicators(session, plan) if tab == "indicators" else [],
        projects=projects, project_warnings={p.id: w for p in projects if (w := project_warnings(p))},
        history=audit.history(session, ("plans", plan.id)) if tab == "history" else [],
        figures=plan_progress(session, plan), can_edit=can_edit_plan(current_user, plan),
    )


# ------------------------------------------------------------------------------------------ cascade and coverage


@bp.route(f"/plans/<{ID}:plan_id>/cascade", methods=["GET", "POST"])
@login_required
def cascade_plan(plan_id: int) -> Page:
    session = db_session()
    parent = load_plan(plan_id)
    require(can_cascade_from(session, current_user, parent), "只能从上级地区的规划分解本地区的规划（仅限规划处）。")
    region = current_user.department.region
    choices = cascade.cascade_choices(session, parent)
    form = CascadeForm(data={
        "title": f"{region.name}{parent.title.split('省', 1)[-1] if '省' in parent.title else parent.title}",
        "start_year": parent.start_year, "end_year": parent.end_year, "stage_date": today(),
        "task_ids": [t.id for t in choices if t.level == TaskLevel.KEY_TASK],
        "indicator_ids": [i.id for i in parent.indicators],
    } if request.method == "GET" else None)
    form.task_ids.choices = [(t.id, t.title) for t in choices]
    form.indicator_ids.choices = [(i.id, i.name) for i in parent.indicators]
    form.default_lead_id.choices = [("", "（不设默认）")] + [
        (str(d.id), d.name) for d in departments_of(session, region.id) if d.is_active]
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            result = cascade.create_from_parent(session, current_user, parent, cascade.CascadeInput(
                title=form.title.data, short_name=form.short_name.data, start_year=form.start_year.data or 0,
                end_year=form.end_year.data or 0, task_ids=form.task_ids.data or [],
                indicator_ids=form.indicator_ids.data or [], default_lead_id=form.default_lead_id.data,
                issuing_body=form.issuing_body.data, investment_unit=InvestmentUnit(form.investment_unit.data),
                stage=PlanStage(form.stage.data), stage_date=form.stage_date.data))
        except DomainError as exc:
            status = refuse(form, exc)
        else:
            flash(f"已依据《{parent.title}》建立《{result.plan.title}》：落实任务 {result.tasks} 项、指标 {result.indicators} 项"
                  + (f"；{len(result.defaulted)} 项任务在本地区没有同名牵头单位，已设为默认牵头单位" if result.defaulted else "")
                  + "。", "success")
            return redirect(url_for("plans.show", plan_id=result.plan.id))
    return render_template("planning/cascade.html", parent=parent, form=form, choices=choices,
                           selected=set(form.task_ids.data or []), region=region), status


@bp.route(f"/plans/<{ID}:plan_id>/coverage")
@login_required
def coverage(plan_id: int) -> str:
    session = db_session()
    plan = load_plan(plan_id)
    require(can_view_coverage(session, current_user, plan), "覆盖情况仅对本级及上级的规划、督查、考核和领导开放。")
    report = cascade.coverage(session, plan)
    return render_template("planning/coverage.html", plan=plan, report=report)


# ------------------------------------------------------------------------------------------ deleting a plan


@bp.route(f"/plans/<{ID}:plan_id>/delete", methods=["GET", "POST"])
@login_required
def delete(plan_id: int) -> Page:
    """删除规划: GET shows what depends on the plan (then it cannot be deleted) or what goes with it; POST with
    the plan's version deletes it. A second submission of the same confirmation lands on the plan list."""
    session = db_session()
    if request.method == "POST" and session.get(Plan, plan_id) is None:
        entry = deletion.deleted_by(session, plan_id, current_user)
        if entry is None:
            abort(404)
        flash(f"该规划已删除：{entry.summary}。", "info")
        return redirect(url_for("plans.index"))
    plan = load_plan(plan_id)
    require(can_edit_plan(current_user, plan), "只有本地区的规划处可以删除该规划。")
    form = DeleteForm(data={"version": plan.version_id})
    status = 200
    if form.validate_on_submit():
        title = plan.title
        try:
            deletion.delete_plan(session, current_user, plan, form.version.data)
        except StaleObject as exc:
            status = refuse(form, exc)
            form = DeleteForm(formdata=None, data={"version": plan.version_id})
            form.form_errors.append(exc.message)
        except DomainError as exc:
            status = refuse(form, exc)
        else:
            flash(f"已删除规划《{title}》。", "success")
            return redirect(url_for("plans.index"))
    elif request.method == "POST":
        status = 422
    return render_template("planning/plan_delete.html", plan=plan, form=form,
                           dependents=deletion.plan_dependents(session, plan),
                           contents=deletion.plan_contents(session, plan)), status
