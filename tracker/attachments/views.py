from __future__ import annotations

from flask import Blueprint, abort, send_file
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from ..adjustments.models import AdjustmentRequest
from ..db import db_session
from ..permissions import can_view_task, require
from ..projects.models import ProjectInvestment
from ..supervision.models import CaseStep
from ..tasks.models import Milestone, ProgressReport, Task
from ..web import ID
from .models import Attachment
from .services import file_path

bp = Blueprint("attachments", __name__)


def owner_task(attachment: Attachment) -> Task | None:
    session = db_session()
    if attachment.task_id:
        return session.get(Task, attachment.task_id)
    if attachment.milestone_id:
        return session.get(Milestone, attachment.milestone_id).task  # type: ignore[union-attr]
    if attachment.report_id:
        return session.get(ProgressReport, attachment.report_id).task  # type: ignore[union-attr]
    if attachment.case_step_id:
        return session.get(CaseStep, attachment.case_step_id).case.task  # type: ignore[union-attr]
    if attachment.adjustment_id:
        return session.get(AdjustmentRequest, attachment.adjustment_id).task  # type: ignore[union-attr]
    if attachment.investment_id:
        return session.get(ProjectInvestment, attachment.investment_id).project.task  # type: ignore[union-attr]
    return None


@bp.route(f"/attachments/<{ID}:attachment_id>")
@login_required
def download(attachment_id: int) -> Response:
    session = db_session()
    attachment = session.get(Attachment, attachment_id)
    if attachment is None:
        abort(404)
    task = owner_task(attachment)
    require(task is not None and can_view_task(session, current_user, task), "您无权下载此附件。")
    path = file_path(attachment)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype=attachment.content_type, as_attachment=True,
                     download_name=attachment.filename, max_age=0)
