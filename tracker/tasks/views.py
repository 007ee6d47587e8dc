from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..audit import AuditEntry
from ..db import db_session
from ..permissions import can_view_task, require
from .models import Task

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


@bp.route("/tasks/<int:task_id>")
@login_required
def show(task_id: int) -> str:
    session = db_session()
    task = load_task(task_id)
    ancestors = []
    node = task.parent
    while node is not None:
        ancestors.insert(0, node)
        node = node.parent
    history = list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "tasks", AuditEntry.object_id == task.id)
            .options(selectinload(AuditEntry.actor))
            .order_by(AuditEntry.id.desc())
        )
    )
    return render_template("tasks/show.html", task=task, ancestors=ancestors, history=history)
