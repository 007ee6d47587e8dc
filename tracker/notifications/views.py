from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from ..db import db_session
from ..web import ID, Form, paginate
from .channels import Channels
from .forms import PreferencesForm
from .models import Channel, DeliveryMode
from .services import (
    Preferences,
    inbox_statement,
    mark_all_read,
    mark_read,
    modes_of,
    save_preferences,
    unread_count,
)

bp = Blueprint("notifications", __name__)


@bp.app_context_processor
def _unread() -> dict[str, Any]:
    """``unread_notifications()`` for the header: counted only when a page asks for it."""

    def count() -> int:
        if not current_user.is_authenticated:
            return 0
        return unread_count(db_session(), current_user)

    return {"unread_notifications": count}


def _safe_next(link: str | None) -> str:
    """Only paths inside the application (never another host)."""
    if link and link.startswith("/") and not link.startswith("//"):
        return link
    return url_for("notifications.index")


@bp.route("/notifications")
@login_required
def index() -> str:
    unread_only = request.args.get("unread") == "1"
    page = paginate(db_session(), inbox_statement(current_user, unread_only), size=20)
    return render_template("notifications/index.html", page=page, unread_only=unread_only, form=Form())


@bp.route(f"/notifications/<{ID}:notification_id>/read", methods=["POST"])
@login_required
def read(notification_id: int) -> Response:
    form = Form()
    if not form.validate_on_submit():
        flash("请求已过期，请刷新页面后重试。", "error")
        return redirect(url_for("notifications.index"))
    notification = mark_read(db_session(), current_user, notification_id)
    if request.form.get("open"):
        return redirect(_safe_next(notification.link))
    return redirect(request.referrer if request.referrer and "/notifications" in request.referrer
                    else url_for("notifications.index"))


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def read_all() -> Response:
    if Form().validate_on_submit():
        n = mark_all_read(db_session(), current_user)
        flash(f"已将 {n} 条通知标为已读。" if n else "没有未读通知。", "success" if n else "info")
    return redirect(url_for("notifications.index"))


@bp.route("/notifications/settings", methods=["GET", "POST"])
@login_required
def settings() -> Response | str | tuple[str, int]:
    """接收方式: at once, in the daily digest or not at all, per channel, and the user's own addresses."""
    session = db_session()
    form = PreferencesForm()
    if request.method == "GET":
        form.email.data, form.phone.data = current_user.email, current_user.phone
        form.zzd_account_id.data = current_user.zzd_account_id
        for channel, mode in modes_of(session, current_user).items():
            form.mode_field(channel).data = mode.value
    elif form.validate_on_submit():
        save_preferences(session, current_user, Preferences(
            modes={c: DeliveryMode(form.mode_field(c).data) for c in Channel},
            email=form.email.data, phone=form.phone.data, zzd_account_id=form.zzd_account_id.data))
        flash("消息接收方式已保存。", "success")
        return redirect(url_for("notifications.settings"))
    configured = set(Channels.from_config(current_app.config).configured())
    page = render_template("notifications/settings.html", form=form, channels=list(Channel), configured=configured)
    return (page, 400) if form.errors else page
