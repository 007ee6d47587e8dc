from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from ..db import db_session
from ..errors import DomainError
from ..web import local_path, refuse
from .services import KINDS, MAX_ROWS, Kind, kinds_for, preview, run

bp = Blueprint("batch", __name__, url_prefix="/batch")


@bp.app_template_global("batch_actions")
def batch_actions(*names: str) -> list[Kind]:
    return kinds_for(current_user, *names) if current_user.is_authenticated else []


def _kind(name: str) -> Kind:
    kind = KINDS.get(name)
    if kind is None:
        abort(404)
    if current_user.role not in kind.roles:
        abort(403)
    return kind


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isascii() and v.isdigit() and len(v) < 10][:MAX_ROWS + 1]


@bp.route("/<name>/preview", methods=["POST"])
@login_required
def confirm(name: str) -> str | Response:
    """The confirmation page: every chosen record with what will happen to it, or why it cannot."""
    kind = _kind(name)
    back = local_path(request.form.get("back")) or url_for(kind.back)
    try:
        rows = preview(db_session(), current_user, kind, _ids(request.form.getlist("ids")))
    except DomainError as exc:
        refuse(None, exc)
        return redirect(back)
    return render_template("batch/confirm.html", kind=kind, rows=rows, back=back)


@bp.route("/<name>", methods=["POST"])
@login_required
def perform(name: str) -> tuple[str, int] | str:
    """Do it: a result per row; a refused row changed nothing."""
    kind = _kind(name)
    back = local_path(request.form.get("back")) or url_for(kind.back)
    items: list[tuple[int, int | None]] = []
    for record_id in _ids(request.form.getlist("ids")):
        version = request.form.get(f"version_{record_id}", "")
        items.append((record_id, int(version) if version.isascii() and version.isdigit() and len(version) < 10
                      else None))
    text = request.form.get("text")
    session = db_session()
    try:
        rows = run(session, current_user, kind, items, text)
    except DomainError as exc:
        refuse(None, exc)
        rows = preview(session, current_user, kind, [i for i, _ in items]) if items else []
        return render_template("batch/confirm.html", kind=kind, rows=rows, back=back, text=text or "",
                               error=exc.message), 422
    done = sum(r.ok for r in rows)
    if done:
        flash(f"{kind.title}：{done} 项已{kind.verb}" + (f"，{len(rows) - done} 项未办理" if done < len(rows) else "")
              + "。", "success")
    return render_template("batch/result.html", kind=kind, rows=rows, back=back, done=done)
