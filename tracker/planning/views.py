"""The planner's pages: plans, tasks, annual splitting, milestones and indicators.

Every route: load or 404 → only planners of the plan's region (403) → validate the form → one service →
flash → redirect. A refused form comes back with the message next to its field (422); a form loaded
before someone else saved comes back with the current values and what differs (409).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from ..db import db_session
from ..errors import DomainError, StaleObject
from ..indicators.models import Direction, Indicator
from ..permissions import can_create_plan, can_edit_plan, require
from ..projects.models import KeyProject
from ..projects.services import ensure_project
from ..tasks.models import PROJECT_KINDS, Milestone, Task, TaskLevel
from ..timeutil import format_date, today
from ..web import ID, also_rule_errors, refuse
from . import indicators as indicator_services
from . import milestones as milestone_services
from . import services, tree
from .forms import (
    CloseForm,
    DeleteForm,
    EditIndicatorForm,
    EditMilestoneForm,
    EditPlanForm,
    EditTaskForm,
    IndicatorForm,
    MilestoneForm,
    MoveForm,
    NewPlanForm,
    SplitForm,
    StageForm,
    TaskForm,
    UpstreamForm,
    conflict_rows,
    indicator_initial,
    plan_initial,
    task_initial,
)
from .models import Plan, PlanLevel

bp = Blueprint("planning", __name__, url_prefix="/planning")

Page = str | tuple[str, int] | Response


# ------------------------------------------------------------------------------------------ helpers


def _plan(plan_id: int) -> Plan:
    plan = db_session().get(Plan, plan_id)
    if plan is None:
        abort(404)
    require(can_edit_plan(current_user, plan), services.NOT_YOURS)
    return plan


def _task(task_id: int) -> Task:
    task = db_session().get(Task, task_id, options=[
        selectinload(Task.co_departments), selectinload(Task.milestones), selectinload(Task.children),
        selectinload(Task.indicators),
    ])
    if task is None:
        abort(404)
    require(can_edit_plan(current_user, task.plan), services.NOT_YOURS)
    return task


def _milestone(milestone_id: int) -> Milestone:
    milestone = db_session().get(Milestone, milestone_id)
    if milestone is None:
        abort(404)
    require(can_edit_plan(current_user, milestone.task.plan), services.NOT_YOURS)
    return milestone


def _indicator(indicator_id: int) -> Indicator:
    indicator = db_session().get(Indicator, indicator_id)
    if indicator is None:
        abort(404)
    require(can_edit_plan(current_user, indicator.plan), services.NOT_YOURS)
    return indicator


def _status() -> int:
    """A form shown again after a refused POST says so (and the request's changes are rolled back)."""
    return 422 if request.method == "POST" else 200


def _arg_id(name: str) -> int | None:
    value = request.args.get(name, "")
    if not (value.isascii() and value.isdigit()) or int(value) > 2**31 - 1:
        return None
    return int(value)


def _conflict(obj: Any, submitted: FlaskForm, fresh: FlaskForm, exc: StaleObject) -> dict[str, Any]:
    """Who saved in between, and every field where the submitted form differs from what is saved now."""
    return {"message": exc.message, "entry": services.last_change(db_session(), obj),
            "rows": conflict_rows(submitted, fresh)}


def _fill_task_form(form: TaskForm | SplitForm, plan: Plan, task: Task | None = None) -> None:
    session = db_session()
    keep = ([task.lead_department] if task and task.lead_department else []) + (task.co_departments if task else [])
    departments = services.department_options(session, plan, keep)
    if isinstance(form, SplitForm):
        form.set_choices(departments)
        return
    form.set_choices(
        departments,
        parents=services.parent_options(session, plan) if form.parent_id is not None else [],
        upstream=services.upstream_options(session, plan),
        indicators=services.indicator_options(session, plan),
    )


def _fill_plan_form(form: NewPlanForm | EditPlanForm, plan: Plan | None = None) -> None:
    form.set_choices(services.parent_plan_options(db_session(), current_user, plan))


def _task_page(**context: Any) -> str:
    level_parents = {level.value: sorted(p.value if p else "" for p in parents)
                     for level, parents in services.LEVEL_PARENTS.items()}
    return render_template("planning/task_form.html", level_parents=level_parents, **context)


def _indicator_page(**context: Any) -> str:
    return render_template("planning/indicator_form.html", categories=indicator_services.CATEGORIES, **context)


@bp.app_context_processor
def _planning_helpers() -> dict[str, Any]:
    """What the plan and task pages need to offer the planner's buttons."""

    def can_edit(plan: Plan) -> bool:
        return bool(current_user.is_authenticated and can_edit_plan(current_user, plan))

    def can_create() -> bool:
        return bool(current_user.is_authenticated and can_create_plan(current_user))

    return {
        "planning_can_edit": can_edit,
        "planning_can_create": can_create,
        "planning_child_levels": lambda task: services.child_levels(task.level if task else None),
        "planning_splittable": lambda task: task.level in services.SPLITTABLE_LEVELS,
    }


# -------------------------------------------------------------------------------------------- plans


@bp.route("/plans/new", methods=["GET", "POST"])
@login_required
def new_plan() -> Page:
    require(can_create_plan(current_user), "只有规划处可以新建规划。")
    region = current_user.department.region
    form = NewPlanForm(data={"level": PlanLevel(region.level.value), "stage_date": today()}
                       if request.method == "GET" else None)
    _fill_plan_form(form)
    if form.is_submitted() and not form.validate():
        also_rule_errors(form, lambda: services.check_plan(db_session(), current_user, form.to_data(), None))
    elif form.is_submitted():
        try:
            plan = services.create_plan(db_session(), current_user, form.to_data(), stage=form.stage.data,
                                        stage_date=form.stage_date.data, stage_note=form.stage_note.data)
        except DomainError as exc:
            refuse(form, exc)
        else:
            flash(f"已新建规划《{plan.title}》。下一步：添加章和重点任务。", "success")
            return redirect(url_for("plans.show", plan_id=plan.id))
    return render_template("planning/plan_form.html", form=form, plan=None, region=region), _status()


@bp.route(f"/plans/<{ID}:plan_id>/edit", methods=["GET", "POST"])
@login_required
def edit_plan(plan_id: int) -> Page:
    plan = _plan(plan_id)
    form = EditPlanForm(data=plan_initial(plan))
    _fill_plan_form(form, plan)
    conflict = None
    if form.is_submitted() and not form.validate():
        also_rule_errors(form, lambda: services.check_plan(db_session(), current_user, form.to_data(), plan))
    elif form.is_submitted():
        try:
            services.update_plan(db_session(), current_user, plan, form.to_data(), form.version.data)
        except StaleObject as exc:
            fresh = EditPlanForm(formdata=None, data=plan_initial(plan))
            _fill_plan_form(fresh, plan)
            conflict = _conflict(plan, form, fresh, exc)
            return render_template("planning/plan_form.html", form=fresh, plan=plan, region=plan.region,
                                   conflict=conflict), 409
        except DomainError as exc:
            refuse(form, exc)
        else:
            flash("规划信息已保存。", "success")
            return redirect(url_for("plans.show", plan_id=plan.id))
    return render_template("planning/plan_form.html", form=form, plan=plan, region=plan.region), _status()


@bp.route(f"/plans/<{ID}:plan_id>/stages/new", methods=["GET", "POST"])
@login_required
def record_stage(plan_id: int) -> Page:
    plan = _plan(plan_id)
    form = StageForm(data={"stage": plan.stage, "on_date": today()} if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            event = services.record_stage(db_session(), current_user, plan, form.stage.data, form.on_date.data,
                                          form.note.data, confirm_archive=form.confirm_archive.data)
        except DomainError as exc:
            refuse(form, exc)
        else:
            message = f"已记录阶段“{event.stage.label}”（{format_date(event.on_date)}）。"
            if plan.stage != event.stage:
                message += f"按日期最新的记录，规划当前阶段仍为“{plan.stage.label}”。"
            flash(message, "success")
            return redirect(url_for("plans.show", plan_id=plan.id))
    return render_template("planning/stage_form.html", form=form, plan=plan), _status()


# -------------------------------------------------------------------------------------------- tasks


@bp.route(f"/plans/<{ID}:plan_id>/tasks/new", methods=["GET", "POST"])
@login_required
def new_task(plan_id: int) -> Page:
    session = db_session()
    plan = _plan(plan_id)
    initial: dict[str, Any] | None = None
    if request.method == "GET":
        parent = None
        if "parent" in request.args:
            parent = session.get(Task, _arg_id("parent") or 0)
            if parent is None or parent.plan_id != plan.id:
                abort(404)
        allowed = services.child_levels(parent.level if parent else None)
        if not allowed:
            abort(404)
        level = next((lv for lv in allowed if lv.value == request.args.get("level")), allowed[0])
        initial = services.new_task_defaults(session, plan, parent, level)
    form = TaskForm(data=initial)
    _fill_task_form(form, plan)
    if form.is_submitted() and not form.validate():
        also_rule_errors(form, lambda: services.check_task(session, plan, form.parent_id.data, None, form.to_data()))
    elif form.is_submitted():
        try:
            task = services.create_task(session, current_user, plan, form.parent_id.data, form.to_data())
            project = ensure_project(session, current_user, task)
        except DomainError as exc:
            refuse(form, exc)
        else:
            flash(f"已新建{task.level.label} {task.code} {task.title}。", "success")
            if project is not None:
                return _listed_in_register(project)
            if task.level == TaskLevel.CHAPTER:
                return redirect(url_for("plans.show", plan_id=plan.id))
            return redirect(url_for("tasks.show", task_id=task.id))
    return _task_page(form=form, plan=plan, task=None), _status()


@bp.route(f"/tasks/<{ID}:task_id>/edit", methods=["GET", "POST"])
@login_required
def edit_task(task_id: int) -> Page:
    task = _task(task_id)
    form = EditTaskForm(data=task_initial(task))
    _fill_task_form(form, task.plan, task)
    if form.is_submitted() and not form.validate():
        also_rule_errors(form, lambda: services.check_task(db_session(), task.plan, None, task, form.to_data()))
    elif form.is_submitted():
        try:
            services.update_task(db_session(), current_user, task, form.to_data(), form.version.data)
            project = ensure_project(db_session(), current_user, task)
        except StaleObject as exc:
            fresh = EditTaskForm(formdata=None, data=task_initial(task))
            _fill_task_form(fresh, task.plan, task)
            return _task_page(form=fresh, plan=task.plan, task=task,
                                   conflict=_conflict(task, form, fresh, exc)), 409
        except DomainError as exc:
            refuse(form, exc)
        else:
            flash("任务已保存。", "success")
            if project is not None:
                return _listed_in_register(project)
            return redirect(url_for("tasks.show", task_id=task.id))
    return _task_page(form=form, plan=task.plan, task=task), _status()


def _listed_in_register(project: KeyProject) -> Response:
    """A task that became 重大工程/重大项目 is now in the plan's register: on to its register entry."""
    flash(f"该任务为“{project.task.kind.label}”，已列入重大项目库。请补充建设内容、投资和资金来源。", "info")
    return redirect(url_for("projects.edit", project_id=project.id))


@bp.route(f"/tasks/<{ID}:task_id>/split", methods=["GET", "POST"])
@login_required
def split_task(task_id: int) -> Page:
    task = _task(task_id)
    if task.level not in services.SPLITTABLE_LEVELS:
        raise DomainError("只有重点任务和工作举措可以拆分为年度任务。")
    plan = task.plan
    form = SplitForm(data=tree.split_defaults(task) if request.method == "GET" else None)
    _fill_task_form(form, plan, task)
    form.set_years(range(plan.start_year, plan.end_year + 1), tree.existing_years(task))
    if form.validate_on_submit():
        try:
            created = tree.split_into_annual_tasks(db_session(), current_user, task, form.to_data())
        except DomainError as exc:
            refuse(form, exc)
        else:
            flash(f"已拆分为 {len(created)} 项年度任务：" + "、".join(t.code for t in created) + "。", "success")
            return redirect(url_for("tasks.show", task_id=task.id))
    return render_template("planning/split_form.html", form=form, task=task, plan=plan), _status()


@bp.route(f"/tasks/<{ID}:task_id>/upstream", methods=["GET", "POST"])
@login_required
def link_upstream(task_id: int) -> Page:
    task = _task(task_id)
    form = UpstreamForm(data={"upstream_task_id": task.upstream_task_id, "version": task.version_id})
    form.set_choices(services.upstream_options(db_session(), task.plan))
    status = _status()
    if form.validate_on_submit():
        try:
            tree.link_upstream(db_session(), current_user, task, form.upstream_task_id.data, form.version.data)
        except DomainError as exc:
            status = refuse(form, exc)
        else:
            flash("已关联上位任务。" if task.upstream else "已解除上位任务关联。", "success")
            return redirect(url_for("tasks.show", task_id=task.id))
    return render_template("planning/upstream_form.html", form=form, task=task), status


@bp.route(f"/tasks/<{ID}:task_id>/move", methods=["GET", "POST"])
@login_required
def move_task(task_id: int) -> Page:
    task = _task(task_id)
    form = MoveForm(data={"parent_id": task.parent_id, "version": task.version_id})
    places = [n for n in services.parent_options(db_session(), task.plan, task)
              if services.level_fits(task.level, n.task)]
    form.set_choices(places, top=services.level_fits(task.level, None))
    status = _status()
    if form.validate_on_submit():
        try:
            tree.move_task(db_session(), current_user, task, form.parent_id.data, form.version.data)
        except DomainError as exc:
            status = refuse(form, exc)
        else:
            flash("任务已移动。", "success")
            return redirect(url_for("tasks.show", task_id=task.id))
    return render_template("planning/move_form.html", form=form, task=task), status


def _removal_page(task: Task, delete_form: DeleteForm, close_form: CloseForm, status: int) -> tuple[str, int]:
    blockers = tree.deletion_blockers(db_session(), task)
    return render_template("planning/delete_form.html", task=task, blockers=blockers, delete_form=delete_form,
                           close_form=close_form, closable=task.status not in services.CLOSED_STATUSES), status


@bp.route(f"/tasks/<{ID}:task_id>/delete", methods=["GET", "POST"])
@login_required
def delete_task(task_id: int) -> Page:
    task = _task(task_id)
    form = DeleteForm(data={"version": task.version_id})
    close_form = CloseForm(formdata=None, data={"version": task.version_id})
    status = _status()
    if form.validate_on_submit():
        plan_id, label = task.plan_id, f"{task.code} {task.title}"
        try:
            tree.delete_task(db_session(), current_user, task, form.version.data)
        except DomainError as exc:
            status = refuse(form, exc)
        else:
            flash(f"已删除任务 {label}。", "success")
            return redirect(url_for("plans.show", plan_id=plan_id))
    return _removal_page(task, form, close_form, status)


@bp.route(f"/tasks/<{ID}:task_id>/close", methods=["GET", "POST"])
@login_required
def close_task(task_id: int) -> Page:
    task = _task(task_id)
    form = CloseForm(data={"version": task.version_id})
    delete_form = DeleteForm(formdata=None, data={"version": task.version_id})
    status = _status()
    if form.validate_on_submit():
        try:
            closed = tree.close_task(db_session(), current_user, task, form.reason.data or "", form.version.data)
        except DomainError as exc:
            status = refuse(form, exc)
        else:
            extra = f"（含 {len(closed) - 1} 项下级任务）" if len(closed) > 1 else ""
            flash(f"任务已终止{extra}。", "success")
            return redirect(url_for("tasks.show", task_id=task.id))
    return _removal_page(task, delete_form, form, status)


# --------------------------------------------------------------------------------------- milestones


def _node_choices_apply(form: MilestoneForm, task: Task) -> None:
    if task.kind not in PROJECT_KINDS:
        del form.node


@bp.route(f"/tasks/<{ID}:task_id>/milestones", methods=["GET", "POST"])
@login_required
def milestones(task_id: int) -> Page:
    task = _task(task_id)
    form = MilestoneForm(data={"due_date": task.deadline} if request.method == "GET" else None)
    _node_choices_apply(form, task)
    if form.is_submitted() and not form.validate():
        also_rule_errors(form, lambda: milestone_services.check_milestone(task, form.title.data, form.due_date.data))
    elif form.is_submitted():
        try:
            milestone = milestone_services.add_milestone(db_session(), current_user, task, form.title.data,
                                               form.due_date.data, form.node.data if "node" in form else None)
        except DomainError as exc:
            refuse(form, exc)
        else:
            flash(f"已添加节点“{milestone.title}”。", "success")
            return redirect(url_for("planning.milestones", task_id=task.id))
    blockers = {m.id: milestone_services.milestone_removal_blockers(db_session(), m) for m in task.milestones}
    return render_template("planning/milestones.html", form=form, task=task, blockers=blockers), _status()


@bp.route(f"/milestones/<{ID}:milestone_id>/edit", methods=["GET", "POST"])
@login_required
def edit_milestone(milestone_id: int) -> Page:
    milestone = _milestone(milestone_id)
    task = milestone.task

    def initial() -> dict[str, Any]:  # read again after a conflict: the record as saved now
        return {"title": milestone.title, "due_date": milestone.due_date, "node": milestone.node,
                "version": milestone.version_id}

    form = EditMilestoneForm(data=initial())
    _node_choices_apply(form, task)
    if form.is_submitted() and not form.validate():
        also_rule_errors(form, lambda: milestone_services.check_milestone(task, form.title.data, form.due_date.data))
    elif form.is_submitted():
        try:
            milestone_services.update_milestone(db_session(), current_user, milestone, form.title.data, form.due_date.data,
                                      form.node.data if "node" in form else milestone.node, form.version.data)
        except StaleObject as exc:
            fresh = EditMilestoneForm(formdata=None, data=initial())
            _node_choices_apply(fresh, task)
            return render_template("planning/milestone_form.html", form=fresh, task=task, milestone=milestone,
                                   conflict=_conflict(milestone, form, fresh, exc)), 409
        except DomainError as exc:
            refuse(form, exc)
        else:
            flash("节点已保存。", "success")
            return redirect(url_for("planning.milestones", task_id=task.id))
    return render_template("planning/milestone_form.html", form=form, task=task, milestone=milestone), _status()


@bp.route(f"/milestones/<{ID}:milestone_id>/delete", methods=["POST"])
@login_required
def delete_milestone(milestone_id: int) -> Page:
    milestone = _milestone(milestone_id)
    task = milestone.task
    title = milestone.title
    milestone_services.remove_milestone(db_session(), current_user, milestone)
    flash(f"已删除节点“{title}”。", "success")
    return redirect(url_for("planning.milestones", task_id=task.id))


# --------------------------------------------------------------------------------------- indicators


def _fill_indicator_form(form: IndicatorForm, plan: Plan, indicator: Indicator | None = None) -> None:
    keep = [indicator.lead_department] if indicator and indicator.lead_department else []
    form.set_choices(services.department_options(db_session(), plan, keep))


@bp.route(f"/plans/<{ID}:plan_id>/indicators")
@login_required
def indicators(plan_id: int) -> str:
    plan = _plan(plan_id)
    items = services.indicator_options(db_session(), plan)
    explained = {i.id: indicator_services.explain_json(i.target_rule, i.unit) for i in items}
    return render_template("planning/indicators.html", plan=plan, items=items, explained=explained)


@bp.route(f"/plans/<{ID}:plan_id>/indicators/new", methods=["GET", "POST"])
@login_required
def new_indicator(plan_id: int) -> Page:
    plan = _plan(plan_id)
    initial = None
    if request.method == "GET":
        numbers = [i.number for i in services.indicator_options(db_session(), plan)]
        initial = {"number": max(numbers, default=0) + 1, "target_year": plan.end_year,
                   "baseline_year": plan.start_year - 1}
    form = IndicatorForm(data=initial)
    _fill_indicator_form(form, plan)
    if form.is_submitted() and not form.validate():
        also_rule_errors(form, lambda: indicator_services.check_indicator(db_session(), plan, form.to_data(), None))
    elif form.is_submitted():
        try:
            indicator = indicator_services.create_indicator(db_session(), current_user, plan, form.to_data())
        except DomainError as exc:
            refuse(form, exc)
        else:
            flash(f"已新增指标 {indicator.number}. {indicator.name}。系统理解的目标："
                  + indicator_services.explain_json(indicator.target_rule, indicator.unit), "success")
            return redirect(url_for("planning.indicators", plan_id=plan.id))
    return _indicator_page(form=form, plan=plan, indicator=None,
                           explained=_explain_form(form)), _status()


@bp.route(f"/indicators/<{ID}:indicator_id>/edit", methods=["GET", "POST"])
@login_required
def edit_indicator(indicator_id: int) -> Page:
    indicator = _indicator(indicator_id)
    plan = indicator.plan
    form = EditIndicatorForm(data=indicator_initial(indicator))
    _fill_indicator_form(form, plan, indicator)
    if form.is_submitted() and not form.validate():
        also_rule_errors(form, lambda: indicator_services.check_indicator(db_session(), plan, form.to_data(),
                                                                          indicator))
    elif form.is_submitted():
        try:
            indicator_services.update_indicator(db_session(), current_user, indicator, form.to_data(),
                                                form.version.data)
        except StaleObject as exc:
            fresh = EditIndicatorForm(formdata=None, data=indicator_initial(indicator))
            _fill_indicator_form(fresh, plan, indicator)
            return _indicator_page(form=fresh, plan=plan, indicator=indicator,
                                   explained=_explain_form(fresh), conflict=_conflict(indicator, form, fresh, exc)), 409
        except DomainError as exc:
            refuse(form, exc)
        else:
            flash("指标已保存。系统理解的目标：" + indicator_services.explain_json(indicator.target_rule, indicator.unit),
                  "success")
            return redirect(url_for("planning.indicators", plan_id=plan.id))
    return _indicator_page(form=form, plan=plan, indicator=indicator,
                           explained=_explain_form(form)), _status()


def _explain_form(form: IndicatorForm) -> str:
    if not form.target_text.data:
        return ""
    try:
        rule = indicator_services.understand(form.target_text.data, form.name.data, form.direction.data,
                                             unit=form.unit.data, baseline=form.baseline_text.data)
    except DomainError as exc:
        return exc.message
    return indicator_services.explain(rule, form.unit.data)


@bp.route("/targets/explain")
@login_required
def explain_target() -> Response:
    """How a target as written will be understood (the indicator form asks while the planner types)."""
    text = (request.args.get("text") or "")[:60].strip()
    name = (request.args.get("name") or "")[:120].strip() or None
    unit = (request.args.get("unit") or "")[:30].strip() or None
    baseline = (request.args.get("baseline") or "")[:60].strip() or None
    choice = request.args.get("direction")
    direction = Direction(choice) if choice in (Direction.HIGHER.value, Direction.LOWER.value) else None
    if not text:
        return jsonify({"text": ""})
    try:
        rule = indicator_services.understand(text, name, direction, unit=unit, baseline=baseline)
    except DomainError as exc:
        return jsonify({"text": exc.message, "refused": True})
    return jsonify({"text": indicator_services.explain(rule, unit), "direction": rule.direction.label})
