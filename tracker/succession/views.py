"""规划衔接: the selection page that starts the next period's plan from a locked final evaluation, and the
lines the evaluation and plan pages show of it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..db import db_session
from ..errors import DomainError
from ..evaluations.models import Evaluation
from ..permissions import can_view_evaluation, require
from ..planning.models import Plan
from ..web import ID, refuse, rollback_request
from . import services
from .forms import SuccessionForm, choices_from

bp = Blueprint("succession", __name__, url_prefix="/succession")


def _page(proposal: services.Proposal, form: SuccessionForm, chosen: services.Choices, status: int = 200) -> Any:
    return render_template("succession/start.html", p=proposal, form=form, chosen=chosen, actions=services.ACTIONS,
                           evaluation=proposal.evaluation), status


def _already(evaluation: Evaluation, exc: services.SuccessionExists, status: int) -> Any:
    return render_template("succession/start.html", evaluation=evaluation, existing=exc.succession,
                           message=exc.message), status


@bp.route(f"/evaluations/<{ID}:evaluation_id>", methods=["GET", "POST"])
@login_required
def start(evaluation_id: int) -> Any:
    """启动下一期规划: the new plan's title and period, then the chapters, unfinished tasks and indicators to
    carry; the POST creates the draft plan and goes to it."""
    session = db_session()
    evaluation = session.get(Evaluation, evaluation_id)
    if evaluation is None:
        abort(404)
    require(can_view_evaluation(session, current_user, evaluation.plan), "该考核不在您的管辖范围内。")
    try:
        proposal = services.proposal(session, current_user, evaluation)
    except services.SuccessionExists as exc:
        return _already(evaluation, exc, 200 if request.method == "GET" else 409)
    if request.method == "GET":
        chosen = services.default_choices(proposal)
        return _page(proposal, SuccessionForm(data={"title": chosen.title, "short_name": chosen.short_name,
                                                    "start_year": chosen.start_year, "end_year": chosen.end_year}),
                     chosen)
    form = SuccessionForm()
    if not form.validate_on_submit():
        return _page(proposal, form, services.default_choices(proposal), 422)
    chosen = services.default_choices(proposal)
    try:
        chosen = choices_from(form, request.form)
        succession = services.start_next_plan(session, current_user, evaluation, chosen)
    except services.SuccessionExists as exc:  # started meanwhile (a second submission)
        rollback_request()
        return _already(evaluation, exc, 409)
    except DomainError as exc:
        status = refuse(form, exc)
        return _page(services.proposal(session, current_user, evaluation), form, chosen, status)
    plan = succession.plan
    flash(f"已启动下一期规划《{plan.title}》（{plan.period_label}，起草）。", "success")
    return redirect(url_for("plans.show", plan_id=plan.id))


@bp.app_template_global("evaluation_succession")
def _evaluation_succession(evaluation: Evaluation) -> services.Links:
    """The evaluation page's 启动下一期规划 button or 已启动下一期规划 line."""
    return services.evaluation_links(db_session(), current_user, evaluation)


@bp.app_template_global("plan_succession")
def _plan_succession(plan: Plan) -> services.Links:
    """The plan page's lines: the next plan started from it, or the plan it was started from and why."""
    return services.plan_links(db_session(), plan)
