"""The key-project pages: a plan's register (with totals and the Excel export), the project page, and the
forms — the planner's register entry, the owner unit's completed investment, the planner's review,
construction nodes and investment adjustments.

Every route: load or 404 → may the user see it (403) → validate the form → one service → flash →
redirect. A refused form comes back with the message next to its field (422); a form loaded before
someone else saved comes back with what changed (409).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from .. import audit
from ..adjustments import services as adjustments
from ..adjustments.models import AdjustmentKind, AdjustmentRequest, AdjustmentState
from ..attachments.services import save_uploads
from ..db import db_session
from ..errors import DomainError, StaleObject
from ..permissions import (
    can_decide_investment_adjustment,
    can_edit_project_register,
    can_enter_investment,
    can_keep_project_register,
    can_request_investment_adjustment,
    can_review_investment,
    can_submit_investment,
    can_update_task,
    can_view_task,
    require,
)
from ..planning.models import Plan
from ..planning.plan_views import load_plan
from ..planning.services import department_options
from ..spreadsheets import XLSX_MIMETYPE, download
from ..timeutil import now, today
from ..web import ID, Page, enum_arg, form_version, int_arg, refuse
from . import amounts, charts, checks, exports, queries, services
from . import figures as fig
from .forms import (
    AdjustmentForm,
    DecisionForm,
    InvestmentForm,
    NewProjectForm,
    NodeDoneForm,
    RegisterForm,
    ReviewForm,
    register_form,
)
from .models import FundingSource, KeyProject, ProjectInvestment, ProjectKind, ProjectStatus

bp = Blueprint("projects", __name__, static_folder="static", static_url_path="/projects-static")

YEAR = "int(min=1990, max=2100)"
PAGE_SIZE = 50
View = str | tuple[str, int] | Response

HISTORY_LIMIT = 300


# ------------------------------------------------------------------------------------------ helpers




def _project(project_id: int) -> KeyProject:
    session = db_session()
    project = queries.load_project(session, project_id)
    if project is None:
        abort(404)
    require(can_view_task(session, current_user, project.task), "该项目不在您的管辖范围内。")
    return project


def _investment(investment_id: int) -> ProjectInvestment:
    inv = db_session().get(ProjectInvestment, investment_id)
    if inv is None:
        abort(404)
    _project(inv.project_id)
    return inv


def _filters() -> queries.RegisterFilters:
    return queries.RegisterFilters(status=enum_arg(ProjectStatus, "status"), owner_id=int_arg("owner"),
                                    kind=enum_arg(ProjectKind, "kind"), region_id=int_arg("region"))


def _filters_text(filters: queries.RegisterFilters, choices: dict[str, list[Any]]) -> list[str]:
    parts = []
    if filters.status:
        parts.append(f"项目状态：{filters.status.label}")
    if filters.owner_id:
        name = next((d.name for d in choices["owners"] if d.id == filters.owner_id), "（无）")
        parts.append(f"责任单位：{name}")
    if filters.kind:
        parts.append(f"建设性质：{filters.kind.label}")
    if filters.region_id:
        name = next((r.name for r in choices["regions"] if r.id == filters.region_id), "（无）")
        parts.append(f"建设地点：{name}")
    return parts


@bp.app_template_global("project_totals")
def project_totals(projects: list[KeyProject]) -> fig.Summary:
    """Totals of already loaded projects (the plan page's 重大项目 tab shows the same figures as the register)."""
    return fig.summarize(projects, with_sources=False)


# ------------------------------------------------------------------------------------------ the register


@bp.route(f"/plans/<{ID}:plan_id>/projects")
@login_required
def index(plan_id: int) -> str:
    session = db_session()
    plan = load_plan(plan_id)
    filters = _filters()
    projects = queries.register(session, plan, filters)
    number = int_arg("page", 1, lo=1) or 1
    page = Page(projects[(number - 1) * PAGE_SIZE:number * PAGE_SIZE], number, PAGE_SIZE, len(projects))
    choices = queries.filter_choices(session, plan)
    return render_template(
        "projects/index.html", plan=plan, page=page, rows=[fig.figures(p) for p in page.items],
        warnings={p.id: w for p in page.items if (w := checks.project_warnings(p))},
        summary=fig.summarize(projects), filters=filters, choices=choices, statuses=ProjectStatus,
        kinds=ProjectKind, unit=plan.investment_unit.label, columns=exports.page_columns(plan.investment_unit.label),
        years_text=exports.years_text, can_add=can_keep_project_register(current_user, plan),
    )


@bp.route(f"/plans/<{ID}:plan_id>/projects/export.xlsx")
@login_required
def export(plan_id: int) -> Response:
    session = db_session()
    plan = load_plan(plan_id)
    filters = _filters()
    projects = queries.register(session, plan, filters)
    data = exports.register_workbook(plan, projects, fig.summarize(projects),
                                     queries.register_years(projects, plan),
                                     _filters_text(filters, queries.filter_choices(session, plan)), now())
    filename = f"{plan.short_name}重大项目库_{today():%Y%m%d}.xlsx"
    return download(data, filename, XLSX_MIMETYPE, "projects.xlsx")


# ------------------------------------------------------------------------------------------ the project page


def _page_context(project: KeyProject, **overrides: Any) -> dict[str, Any]:
    session = db_session()
    task = project.task
    unit = task.plan.investment_unit
    figures = fig.figures(project)
    nodes = fig.nodes(project)
    adjustments = services.project_adjustments(session, project)
    history = services.project_history(session, project, HISTORY_LIMIT)
    context: dict[str, Any] = dict(
        project=project, task=task, plan=task.plan, unit=unit.label, figures=figures, nodes=nodes,
        node_states={m.id: charts.node_state(m, today()) for m in nodes},
        chart=charts.investment_chart(figures, unit), timeline=charts.node_timeline(nodes, today()),
        funding=sorted(project.funding, key=lambda f: list(FundingSource).index(f.source)),
        adjustments=adjustments, pending=next((a for a in adjustments if a.state == AdjustmentState.PENDING), None),
        history=[h.entry for h in history], subjects={h.entry.id: h.subject for h in history},
        attachments=queries.node_attachments(session, [m.id for m in nodes]),
        entry_years=services.entry_years(project), this_year=today().year,
        can_edit=can_edit_project_register(current_user, task),
        can_enter=can_enter_investment(current_user, task),
        can_submit=can_submit_investment(current_user, task),
        can_review=can_review_investment(current_user, task),
        can_complete=can_update_task(current_user, task),
        can_request=can_request_investment_adjustment(current_user, task),
        can_decide=can_decide_investment_adjustment(current_user, task),
        decision_form=DecisionForm(), editable_states=services.EDITABLE_STATES,
        warnings=checks.project_warnings(project),
        as_text=amounts.as_text, stored=amounts.stored,
    )
    context.update(overrides)
    return context


@bp.route(f"/projects/<{ID}:project_id>")
@login_required
def show(project_id: int) -> str:
    return render_template("projects/show.html", **_page_context(_project(project_id)))


# ------------------------------------------------------------------------------------------ the planner's register entry


def _region_choices(plan: Plan) -> list[tuple[int, str]]:
    return [(r.id, r.name) for r in queries.site_regions(db_session(), plan)]


def _fill_register(form: RegisterForm, project: KeyProject) -> None:
    unit = project.task.plan.investment_unit
    form.kind.data, form.status.data = project.kind.value, project.status.value
    form.region.data = project.region_id or project.task.plan.region_id
    form.start_year.data, form.end_year.data = project.start_year, project.end_year
    form.content.data = project.content
    form.total_investment.data = amounts.as_text(project.total_investment, unit, tbd=project.total_tbd)
    form.period_investment.data = amounts.as_text(project.period_investment, unit, tbd=project.period_tbd)
    funding = {f.source: f for f in project.funding}
    for source, f in form.funding_fields():
        row = funding.get(source)
        f.data = "" if row is None else amounts.as_text(row.amount, unit, tbd=row.amount is None)
    by_year = {i.year: i for i in project.investments}
    for year, f in form.planned_fields():
        f.data = amounts.as_text(by_year[year].planned, unit) if year in by_year else ""
    form.version.data = project.version_id


def _register_input(form: RegisterForm) -> services.RegisterInput:
    return services.RegisterInput(
        kind=ProjectKind(form.kind.data), status=ProjectStatus(form.status.data), region_id=form.region.data,
        content=form.content.data, start_year=form.start_year.data, end_year=form.end_year.data,
        total=form.total_investment.entered, period=form.period_investment.entered,
        funding={source: f.entered for source, f in form.funding_fields()},
        planned={year: f.entered for year, f in form.planned_fields()},
    )


@bp.route(f"/projects/<{ID}:project_id>/edit", methods=["GET", "POST"])
@login_required
def edit(project_id: int) -> View:
    session = db_session()
    project = _project(project_id)
    require(can_edit_project_register(current_user, project.task), "只有本级规划处可以维护项目库。")
    form = register_form(fig.project_years(project))()
    form.bind_unit(project.task.plan.investment_unit)
    form.region.choices = _region_choices(project.task.plan)
    status = 200
    warnings: list[str] = []
    if request.method == "GET":
        _fill_register(form, project)
        warnings = checks.project_warnings(project)
    elif form.validate_on_submit():
        data = _register_input(form)
        try:
            services.update_register(session, current_user, project, data, form_version(form),
                                     acknowledged=form.acknowledged())
        except checks.WarningsToAcknowledge as exc:
            status = refuse(form, exc)
            warnings = exc.warnings
        except DomainError as exc:
            status = refuse(form, exc)
            warnings = services.register_warnings(project.task.plan, project, data)  # shown with the refusal
        else:
            flash("项目库信息已保存。", "success")
            return redirect(url_for("projects.show", project_id=project.id))
    else:
        status = 422
    form.offer(warnings)
    return render_template("projects/edit.html", form=form, project=project, task=project.task,
                           plan=project.task.plan, total_locked=project.total_investment is not None,
                           warnings=warnings), status


@bp.route(f"/plans/<{ID}:plan_id>/projects/new", methods=["GET", "POST"])
@login_required
def new(plan_id: int) -> View:
    """新增项目: the project's task and its register entry, with the register form's own fields and rules."""
    session = db_session()
    plan = load_plan(plan_id)
    require(can_keep_project_register(current_user, plan), "只有本级规划处可以维护项目库。")
    form = register_form(list(range(plan.start_year, plan.end_year + 1)), NewProjectForm)()
    form.bind_unit(plan.investment_unit)
    form.region.choices = _region_choices(plan)
    form.set_task_choices(department_options(session, plan), services.project_parents(session, plan))
    status = 200
    warnings: list[str] = []
    if request.method == "GET":
        form.region.data = plan.region_id
    elif form.validate_on_submit():
        data = _register_input(form)
        try:
            project = services.create_project(session, current_user, plan, form.task_input(), data,
                                              acknowledged=form.acknowledged())
        except checks.WarningsToAcknowledge as exc:
            status = refuse(form, exc)
            warnings = exc.warnings
        except DomainError as exc:
            status = refuse(form, exc)
            warnings = services.register_warnings(plan, None, data)
        else:
            flash(f"已新增项目 {project.task.code} {project.task.title}。", "success")
            return redirect(url_for("projects.show", project_id=project.id))
    else:
        status = 422
    form.offer(warnings)
    return render_template("projects/new.html", form=form, plan=plan, warnings=warnings), status


# ------------------------------------------------------------------------------------------ completed investment


@bp.route(f"/projects/<{ID}:project_id>/investments/<{YEAR}:year>", methods=["GET", "POST"])
@login_required
def entry(project_id: int, year: int) -> View:
    session = db_session()
    project = _project(project_id)
    require(can_enter_investment(current_user, project.task), "只有项目责任单位可以填报完成投资。")
    if year not in services.entry_years(project):
        abort(404)
    inv = services.investment_of(project, year)
    unit = project.task.plan.investment_unit
    form = InvestmentForm()
    form.bind_unit(unit)
    status = 200
    if request.method == "GET":
        if inv is not None and inv.state not in services.EDITABLE_STATES:
            flash(f"{year}年完成投资{inv.state.label}，不能再修改。", "info")
            return redirect(url_for("projects.investment", investment_id=inv.id))
        if inv is not None:
            form.completed.data = amounts.as_text(inv.completed, unit)
            form.note.data = inv.note
        form.version.data = inv.version_id if inv is not None else 0
    elif form.validate_on_submit():
        submit = request.form.get("action") == "submit"
        try:
            saved = services.save_investment(session, current_user, project, year, completed=form.completed.entered.wan,
                                             note=form.note.data, version=form_version(form), submit=submit)
        except DomainError as exc:
            status = refuse(form, exc)
        else:
            flash(f"{year}年完成投资已提交，等待规划处确认。" if submit else
                  f"{year}年完成投资已保存为草稿。" + ("请确认无误后提交。" if can_submit_investment(current_user, project.task)
                                                   else "请本单位负责人审阅后提交。"), "success")
            return redirect(url_for("projects.show", project_id=project.id, _anchor=f"year-{saved.year}"))
    else:
        status = 422
    figures = fig.figures(project)
    return render_template("projects/entry.html", form=form, project=project, task=project.task, plan=project.task.plan,
                           year=year, inv=inv, figures=figures, unit=unit.label,
                           can_submit=can_submit_investment(current_user, project.task)), status


def _investment_page(inv: ProjectInvestment, form: ReviewForm, status: int = 200) -> tuple[str, int]:
    project = inv.project
    figures = fig.figures(project)
    history = audit.history(db_session(), ("project_investments", inv.id), limit=HISTORY_LIMIT)
    return render_template(
        "projects/investment.html", inv=inv, project=project, task=project.task, plan=project.task.plan,
        figures=figures, form=form, history=history, unit=project.task.plan.investment_unit.label,
        can_review=can_review_investment(current_user, project.task) and inv.state.value == "submitted",
        can_submit=can_submit_investment(current_user, project.task) and inv.state in services.EDITABLE_STATES
        and inv.completed is not None,
        can_enter=can_enter_investment(current_user, project.task) and inv.state in services.EDITABLE_STATES,
    ), status


@bp.route(f"/projects/investments/<{ID}:investment_id>")
@login_required
def investment(investment_id: int) -> View:
    inv = _investment(investment_id)
    form = ReviewForm()
    form.version.data = inv.version_id
    return _investment_page(inv, form)


@bp.route(f"/projects/investments/<{ID}:investment_id>/<any(submit, confirm, return):action>", methods=["POST"])
@login_required
def investment_action(investment_id: int, action: str) -> View:
    session = db_session()
    inv = _investment(investment_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        return _investment_page(inv, form, 422)
    try:
        services.transition_investment(session, current_user, inv, action, reason=form.reason.data,
                                       version=form_version(form))
    except DomainError as exc:
        return _investment_page(inv, form, refuse(form, exc))
    flash({"submit": f"{inv.year}年完成投资已提交，等待规划处确认。", "confirm": f"{inv.year}年完成投资已确认。",
           "return": f"{inv.year}年完成投资已退回。"}[action], "success")
    return redirect(url_for("projects.show", project_id=inv.project_id, _anchor=f"year-{inv.year}"))


# ------------------------------------------------------------------------------------------ construction nodes


@bp.route(f"/projects/<{ID}:project_id>/nodes/<{ID}:milestone_id>/done", methods=["GET", "POST"])
@login_required
def node_done(project_id: int, milestone_id: int) -> View:
    session = db_session()
    project = _project(project_id)
    milestone = next((m for m in fig.nodes(project) if m.id == milestone_id), None)
    if milestone is None:
        abort(404)
    require(can_update_task(current_user, project.task), "只有项目责任单位负责人或本级规划处可以办结建设节点。")
    form = NodeDoneForm()
    status = 200
    if request.method == "GET":
        form.completed_on.data = today()
        form.version.data = milestone.version_id
    elif form.validate_on_submit():
        try:
            services.complete_node(session, current_user, project, milestone, completed_on=form.completed_on.data,
                                   evidence=form.evidence.data or "", version=form_version(form))
            save_uploads(session, current_user, request.files.getlist(form.files.name), milestone_id=milestone.id)
        except DomainError as exc:
            status = refuse(form, exc)
        else:
            flash(f"节点“{milestone.title}”已办结。", "success")
            return redirect(url_for("projects.show", project_id=project.id, _anchor="nodes"))
    else:
        status = 422
    return render_template("projects/node_done.html", form=form, project=project, task=project.task,
                           plan=project.task.plan, milestone=milestone), status


# ------------------------------------------------------------------------------------------ adjustments


@bp.route(f"/projects/<{ID}:project_id>/adjustments/new", methods=["GET", "POST"])
@login_required
def new_adjustment(project_id: int) -> View:
    session = db_session()
    project = _project(project_id)
    require(can_request_investment_adjustment(current_user, project.task), "只有项目责任单位负责人可以申请调整总投资。")
    unit = project.task.plan.investment_unit
    form = AdjustmentForm()
    form.bind_unit(unit)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.request_total_change(session, current_user, project, new_total=form.new_total.entered.wan,
                                              reason=form.reason.data)
            except DomainError as exc:
                status = refuse(form, exc)
            else:
                flash("投资调整申请已提交，等待规划处审批。", "success")
                return redirect(url_for("projects.show", project_id=project.id, _anchor="adjustments"))
        else:
            status = 422
    return render_template("projects/adjustment.html", form=form, project=project, task=project.task,
                           plan=project.task.plan, figures=fig.figures(project), unit=unit.label,
                           pending=services.pending_adjustment(session, project)), status


@bp.route(f"/projects/adjustments/<{ID}:request_id>/<any(approve, reject, withdraw):action>", methods=["POST"])
@login_required
def decide(request_id: int, action: str) -> View:
    session = db_session()
    req = session.get(AdjustmentRequest, request_id)
    if req is None or req.kind != AdjustmentKind.INVESTMENT or req.project_id is None:
        abort(404)
    project = _project(req.project_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        return render_template("projects/show.html", **_page_context(project, decision_form=form)), 422
    try:
        if action == "withdraw":
            adjustments.withdraw(session, current_user, req)
        else:
            adjustments.decide(session, current_user, req, approve=action == "approve", comment=form.comment.data)
    except StaleObject:
        raise
    except DomainError as exc:
        status = refuse(form, exc)
        project = _project(req.project_id)
        return render_template("projects/show.html", **_page_context(project, decision_form=form)), status
    flash({"approve": "已批准投资调整申请，总投资已更新。", "reject": "已驳回投资调整申请。",
           "withdraw": "已撤回投资调整申请。"}[action], "success")
    return redirect(url_for("projects.show", project_id=project.id, _anchor="adjustments"))
