from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from ..db import db_session
from ..errors import DomainError
from ..indicators.models import Indicator
from ..permissions import (
    can_decide_request,
    can_request_deadline,
    can_request_target,
    can_view_plan,
    can_view_request,
    require,
)
from ..tasks.views import load_task
from ..web import ID, enum_arg, paginate, refuse
from .forms import DeadlineRequestForm, DecisionForm, TargetRequestForm
from .models import AdjustmentRequest, AdjustmentState
from .services import decide, request_deadline, request_list, request_target, withdraw

bp = Blueprint("adjustments", __name__, url_prefix="/adjustments")


@bp.route(f"/task/<{ID}:task_id>/new", methods=["GET", "POST"])
@login_required
def new_deadline(task_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    task = load_task(task_id)
    require(can_request_deadline(current_user, task), "只有牵头单位负责人可以申请调整期限。")
    form = DeadlineRequestForm()
    form.milestone_id.choices = [(0, f"任务截止日期（{task.deadline}）")] + [
        (m.id, f"节点：{m.title}（{m.due_date}）") for m in task.milestones if m.is_open]
    if form.validate_on_submit():
        milestone = next((m for m in task.milestones if m.id == form.milestone_id.data), None)
        try:
            request_deadline(session, current_user, task, form.new_date.data, form.reason.data, milestone,
                             files=request.files.getlist(form.files.name))
        except DomainError as exc:
            status = refuse(form, exc, "reason")
            return render_template("adjustments/new.html", form=form, task=task, indicator=None), status
        flash("调整申请已提交，等待规划处审批。", "success")
        return redirect(url_for("tasks.show", task_id=task.id))
    status = 422 if request.method == "POST" else 200
    return render_template("adjustments/new.html", form=form, task=task, indicator=None), status


@bp.route(f"/indicator/<{ID}:indicator_id>/new", methods=["GET", "POST"])
@login_required
def new_target(indicator_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    indicator = session.get(Indicator, indicator_id)
    if indicator is None:
        abort(404)
    require(can_view_plan(session, current_user, indicator.plan), "该指标不在您的管辖范围内。")
    require(can_request_target(current_user, indicator), "只有指标牵头单位负责人可以申请调整目标。")
    form = TargetRequestForm()
    if form.validate_on_submit():
        try:
            request_target(session, current_user, indicator, form.new_value.data, form.reason.data,
                           files=request.files.getlist(form.files.name))
        except DomainError as exc:
            status = refuse(form, exc, "reason")
            return render_template("adjustments/new.html", form=form, task=None, indicator=indicator), status
        flash("调整申请已提交，等待规划处审批。", "success")
        return redirect(url_for("adjustments.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("adjustments/new.html", form=form, task=None, indicator=indicator), status


@bp.route("/")
@login_required
def index() -> str:
    session = db_session()
    state = enum_arg(AdjustmentState, "state")
    stmt = request_list(current_user, state)
    return render_template("adjustments/index.html", page=paginate(session, stmt), states=AdjustmentState,
                           state=state)


def load_request(request_id: int) -> AdjustmentRequest:
    session = db_session()
    req = session.get(AdjustmentRequest, request_id)
    if req is None:
        abort(404)
    require(can_view_request(current_user, req), "该申请不在您的管辖范围内。")
    return req


@bp.route(f"/<{ID}:request_id>", methods=["GET", "POST"])
@login_required
def show(request_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    req = load_request(request_id)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            decide(session, current_user, req, approve=form.decision.data == "approve", comment=form.comment.data)
        except DomainError as exc:
            status = refuse(form, exc, "reason")
            return render_template("adjustments/show.html", form=form, req=req,
                                   can_decide=can_decide_request(current_user, req)), status
        flash("已批准，调整已生效。" if req.state == AdjustmentState.APPROVED else "已驳回。", "success")
        return redirect(url_for("adjustments.show", request_id=req.id))
    status = 422 if request.method == "POST" else 200
    return render_template("adjustments/show.html", form=form, req=req,
                           can_decide=can_decide_request(current_user, req)), status


@bp.route(f"/<{ID}:request_id>/withdraw", methods=["POST"])
@login_required
def withdraw_request(request_id: int) -> Response:
    session = db_session()
    req = load_request(request_id)
    if not DecisionForm().validate_on_submit():
        abort(400)
    withdraw(session, current_user, req)
    flash("申请已撤回。", "success")
    return redirect(url_for("adjustments.show", request_id=req.id))
