from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from ..db import db_session
from ..errors import DomainError
from ..web import local_path
from .forms import ChangePasswordForm, LoginForm
from .services import LoginFailed, authenticate, change_password

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("plans.home"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = authenticate(db_session(), form.username.data or "", form.password.data or "",
                                request.remote_addr)
        except LoginFailed as exc:
            error = exc.message
        else:
            login_user(user)
            return redirect(local_path(request.args.get("next")) or url_for("plans.home"))
    return render_template("auth/login.html", form=form, error=error)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    if current_user.is_authenticated:
        # Not only this browser's cookie: a copy of it (or another device's) stops working too.
        current_user.end_sessions()
    logout_user()
    flash("您已退出登录。", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password() -> str | Response:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            change_password(db_session(), current_user, form.old_password.data or "", form.new_password.data or "")
        except DomainError as exc:
            getattr(form, exc.field or "new_password").errors.append(exc.message)
        else:
            login_user(current_user._get_current_object())  # this session goes on; the others have ended
            flash("密码已修改。", "success")
            return redirect(url_for("plans.home"))
    return render_template("auth/password.html", form=form)
