from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user, login_required
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from .. import spreadsheets
from ..adjustments.models import AdjustmentRequest
from ..auth.models import User
from ..db import db_session
from ..permissions import can_view_case, can_view_request, can_view_task, require
from ..projects.models import ProjectInvestment
from ..supervision.models import CaseStep
from ..tasks.models import Milestone, ProgressReport, Task
from ..web import ID
from .models import Attachment
from .services import file_path

bp = Blueprint("attachments", __name__)


def owner_task(attachment: Attachment) -> Task | None:
    """The task whose page shows the file (tasks, milestones, reports, investments)."""
    session = db_session()
    if attachment.task_id:
        return session.get(Task, attachment.task_id)
    if attachment.milestone_id:
        return session.get(Milestone, attachment.milestone_id).task  # type: ignore[union-attr]
    if attachment.report_id:
        return session.get(ProgressReport, attachment.report_id).task  # type: ignore[union-attr]
    if attachment.investment_id:
        return session.get(ProjectInvestment, attachment.investment_id).project.task  # type: ignore[union-attr]
    return None


def may_download(session: Session, user: User, attachment: Attachment) -> bool:
    """Exactly those who may see the record the file belongs to: a case step's file follows its case (which
    may have no task), a request's file its request (a target request has no task), the rest their task."""
    if attachment.case_step_id:
        step = session.get(CaseStep, attachment.case_step_id)
        return step is not None and can_view_case(session, user, step.case)
    if attachment.adjustment_id:
        req = session.get(AdjustmentRequest, attachment.adjustment_id)
        return req is not None and can_view_request(user, req)
    task = owner_task(attachment)
    return task is not None and can_view_task(session, user, task)


@bp.route(f"/attachments/<{ID}:attachment_id>")
@login_required
def download(attachment_id: int) -> Response:
    session = db_session()
    attachment = session.get(Attachment, attachment_id)
    if attachment is None:
        abort(404)
    require(may_download(session, current_user, attachment), "您无权下载此附件。")
    path = file_path(attachment)
    if not path.exists():
        abort(404)
    return spreadsheets.download(path, attachment.filename, attachment.content_type)
