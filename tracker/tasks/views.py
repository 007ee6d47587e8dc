from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from ..attachments.services import save_uploads
from ..db import db_session
from ..errors import DomainError
from ..permissions import (
    REPORT_LIST_ROLES,
    can_edit_report,
    can_report_on_task,
    can_request_deadline,
    can_review_report,
    can_submit_report,
    can_supervise_task,
    can_update_task,
    can_view_task,
    require,
    roles_required,
)
from ..timeutil import today
from ..web import ID, enum_arg, form_version, paginate, refuse
from . import queries
from .forms import ActionForm, MilestoneDoneForm, ReportForm, ReviewForm, StatusForm
from .models import Milestone, ProgressReport, ReportPeriod, ReportState, Task, TaskStatus
from .services import (
    EDITABLE_REPORT_STATES,
    ReportInput,
    StatusUpdate,
    complete_milestone,
    create_report,
    transition_report,
    update_report,
    update_task_status,
)

bp = Blueprint("tasks", __name__)


def load_task(task_id: int) -> Task:
    session = db_session()
    task = session.get(
        Task,
        task_id,
        options=[
            selectinload(Task.co_departments),
            selectinload(Task.milestones),
            selectinload(Task.children).selectinload(Task.lead_department),
            selectinload(Task.downstream).selectinload(Task.plan),
            selectinload(Task.indicators),
        ],
    )
    if task is None:
        abort(404)
    require(can_view_task(session, current_user, task), "该任务不在您的管辖范围内。")
    return task


def load_report(report_id: int) -> ProgressReport:
    session = db_session()
    report = session.get(ProgressReport, report_id)
    if report is None:
        abort(404)
    require(can_view_task(session, current_user, report.task), "该填报不在您的管辖范围内。")
    return report


@bp.route(f"/tasks/<{ID}:task_id>")
@login_required
def show(task_id: int) -> str:
    session = db_session()
    task = load_task(task_id)
    page = queries.task_page(session, current_user, task)
    return render_template(
        "tasks/show.html", task=task, ancestors=page.ancestors, history=page.history, attachments=page.attachments,
        can_update=can_update_task(current_user, task), can_report=can_report_on_task(current_user, task),
        can_request_adjustment=can_request_deadline(current_user, task),
        can_file_case=can_supervise_task(session, current_user, task),
        cases=page.cases, adjustments=page.adjustments, action_form=ActionForm(),
        open_cases=page.open_cases,
    )


@bp.route(f"/tasks/<{ID}:task_id>/status", methods=["GET", "POST"])
@login_required
def status(task_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    task = load_task(task_id)
    require(can_update_task(current_user, task), "只有牵头单位负责人或本级规划处可以更新该任务的状态和进度。")
    form = StatusForm()
    if request.method == "GET":
        form.status.data = TaskStatus.IN_PROGRESS.value if task.status == TaskStatus.OVERDUE else task.status.value
        form.progress.data = task.progress
        form.note.data = task.status_note
        form.version.data = task.version_id
    elif form.validate_on_submit():
        try:
            update_task_status(session, current_user, task, StatusUpdate(
                status=TaskStatus(form.status.data), progress=form.progress.data or 0, note=form.note.data,
                version=form_version(form)))
        except DomainError as exc:
            status = refuse(form, exc)
            return render_template("tasks/status.html", form=form, task=task), status
        flash("已更新状态和进度。" + ("任务已过截止日期，状态仍为“已逾期”，办结、暂缓、终止或调整期限后改变。"
                                     if task.status == TaskStatus.OVERDUE else ""), "success")
        back = request.args.get("back")
        return redirect(url_for("workspace.index") if back == "workspace" else url_for("tasks.show", task_id=task.id))
    else:
        return render_template("tasks/status.html", form=form, task=task), 422
    return render_template("tasks/status.html", form=form, task=task)


@bp.route(f"/milestones/<{ID}:milestone_id>/complete", methods=["GET", "POST"])
@login_required
def complete(milestone_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    milestone = session.get(Milestone, milestone_id)
    if milestone is None:
        abort(404)
    task = load_task(milestone.task_id)
    require(can_update_task(current_user, task), "只有牵头单位负责人或本级规划处可以办结节点。")
    form = MilestoneDoneForm()
    if request.method == "GET":
        form.completed_on.data = today()
        form.version.data = milestone.version_id
    elif form.validate_on_submit():
        try:
            complete_milestone(session, current_user, milestone, completed_on=form.completed_on.data,
                               evidence=form.evidence.data or "", version=form_version(form))
            save_uploads(session, current_user, request.files.getlist(form.files.name), milestone_id=milestone.id)
        except DomainError as exc:
            status = refuse(form, exc)
            return render_template("tasks/milestone_done.html", form=form, task=task, milestone=milestone), status
        flash(f"节点“{milestone.title}”已办结。", "success")
        return redirect(url_for("tasks.show", task_id=task.id))
    else:
        return render_template("tasks/milestone_done.html", form=form, task=task, milestone=milestone), 422
    return render_template("tasks/milestone_done.html", form=form, task=task, milestone=milestone)


@bp.context_processor
def _period_names() -> dict[str, Any]:
    """The names of each period's 期次 for the report form."""
    return {"periods": {p.value: p.numbers for p in ReportPeriod}}


def _report_input(form: ReportForm) -> ReportInput:
    return ReportInput(period=ReportPeriod(form.period.data), period_year=form.period_year.data or 0,
                       period_no=form.period_no.data or 0, progress=form.progress.data or 0,
                       achievements=form.achievements.data, problems=form.problems.data,
                       next_steps=form.next_steps.data)


@bp.route(f"/tasks/<{ID}:task_id>/reports/new", methods=["GET", "POST"])
@login_required
def new_report(task_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    task = load_task(task_id)
    require(can_report_on_task(current_user, task), "只有该任务的牵头或配合单位可以填报进展。")
    form = ReportForm()
    if request.method == "GET":
        current = today()
        form.period.data = ReportPeriod.QUARTER.value
        form.period_year.data = current.year
        form.period_no.data = (current.month - 1) // 3 + 1
        form.progress.data = task.progress
    elif form.validate_on_submit():
        try:
            report = create_report(session, current_user, task, _report_input(form))
            save_uploads(session, current_user, request.files.getlist(form.files.name), report_id=report.id)
        except DomainError as exc:
            status = refuse(form, exc)
            return render_template("tasks/report_form.html", form=form, task=task, report=None), status
        flash("进展填报已保存为草稿。" + ("请确认无误后提交。" if can_submit_report(current_user, report)
                                          else "请本单位负责人审阅后提交。"), "success")
        return redirect(url_for("tasks.report", report_id=report.id))
    else:
        return render_template("tasks/report_form.html", form=form, task=task, report=None), 422
    return render_template("tasks/report_form.html", form=form, task=task, report=None)


@bp.route(f"/reports/<{ID}:report_id>")
@login_required
def report(report_id: int) -> str:
    session = db_session()
    report = load_report(report_id)
    page = queries.report_page(session, report)
    return render_template(
        "tasks/report.html", report=report, attachments=page.attachments, history=page.history,
        review_form=ReviewForm(),
        action_form=ActionForm(), can_edit=can_edit_report(current_user, report)
        and report.state in EDITABLE_REPORT_STATES,
        can_submit=can_submit_report(current_user, report) and report.state in EDITABLE_REPORT_STATES,
        can_review=can_review_report(current_user, report) and report.state == ReportState.SUBMITTED,
    )


@bp.route(f"/reports/<{ID}:report_id>/edit", methods=["GET", "POST"])
@login_required
def edit_report(report_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    report = load_report(report_id)
    require(can_edit_report(current_user, report), "只能修改本单位的填报。")
    form = ReportForm(obj=report) if request.method == "GET" else ReportForm()
    if request.method == "GET":
        form.period.data = report.period.value
        form.version.data = report.version_id
    elif form.validate_on_submit():
        try:
            update_report(session, current_user, report, _report_input(form), form_version(form))
            save_uploads(session, current_user, request.files.getlist(form.files.name), report_id=report.id)
        except DomainError as exc:
            status = refuse(form, exc)
            return render_template("tasks/report_form.html", form=form, task=report.task, report=report), status
        flash("填报已保存。", "success")
        return redirect(url_for("tasks.report", report_id=report.id))
    else:
        return render_template("tasks/report_form.html", form=form, task=report.task, report=report), 422
    return render_template("tasks/report_form.html", form=form, task=report.task, report=report)


@bp.route(f"/reports/<{ID}:report_id>/<any(submit, confirm, return):action>", methods=["POST"])
@login_required
def report_action(report_id: int, action: str) -> Response:
    session = db_session()
    report = load_report(report_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        transition_report(session, current_user, report, action, reason=form.reason.data,
                          version=form_version(form))
    except DomainError as exc:
        refuse(None, exc)
        return redirect(url_for("tasks.report", report_id=report.id))
    flash({"submit": "填报已提交，等待规划处审核。", "confirm": "填报已确认。", "return": "填报已退回。"}[action],
          "success")
    return redirect(url_for("tasks.report", report_id=report.id))


@bp.route("/reports")
@login_required
@roles_required(*REPORT_LIST_ROLES)
def reports() -> str:
    """Reports in scope: planners see their region's queue (submitted first); departments their own."""
    session = db_session()
    state = enum_arg(ReportState, "state")
    page = paginate(session, queries.report_list(session, current_user, state))
    return render_template("tasks/reports.html", page=page, state=state, states=ReportState)
