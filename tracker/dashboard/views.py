"""The leaders' dashboard: one plan at a time, every chart with its table."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from ..db import db_session
from ..permissions import can_view_dashboard, can_view_plan, require
from ..planning.models import Plan
from ..timeutil import today
from ..web import int_arg
from . import services

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


@bp.route("")
@login_required
def index() -> str:
    require(can_view_dashboard(current_user), "领导驾驶舱仅对领导、考核组、规划处、督查室和系统管理员开放。")
    session = db_session()
    plans = services.plans_for(session, current_user)
    plan_id = int_arg("plan")
    if plan_id is not None:
        plan = session.get(Plan, plan_id)
        if plan is None:
            abort(404)
        require(can_view_plan(session, current_user, plan), "该规划不在您的管辖范围内。")
    else:
        plan = services.default_plan(plans, current_user)
    if plan is None:
        return render_template("dashboard/index.html", plans=plans, board=None)
    board = services.build(session, plan, today())
    return render_template("dashboard/index.html", plans=plans, board=board, data=board.chart_data(),
                           latest=services.latest_judgements(board.indicators))
