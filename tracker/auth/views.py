"""Signing in (a local password, or single sign-on through the unified identity platform), signing out,
changing one's password."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from ..db import db_session, unit_of_work
from ..errors import DomainError, NotFound, PermissionDenied
from ..web import local_path
from . import oidc
from .forms import ChangePasswordForm, LoginForm
from .services import LoginFailed, SsoOutcome, authenticate, change_password, sso_account

bp = Blueprint("auth", __name__)

# Session keys: the sign-in under way, the ID token of a single sign-on (for signing out at the provider),
# and the provider's end-session address between signing out here and going there.
SSO_REQUEST, SSO_ID_TOKEN, SSO_LOGOUT = "oidc_request", "oidc_id_token", "oidc_logout"
LOCAL_LOGIN_OFF = "本系统已关闭密码登录，请使用统一身份认证登录。"


def _provider() -> oidc.Provider | None:
    """The app's identity platform (discovery and keys kept for the process's life), or None."""
    settings = oidc.Settings.of(current_app.config)
    if settings is None:
        return None
    provider = current_app.extensions.get("tracker.oidc")
    if provider is None or provider.settings != settings:
        provider = current_app.extensions["tracker.oidc"] = oidc.Provider(settings)
    return provider


def _external(endpoint: str) -> str:
    """This system's address of ``endpoint`` as the provider is told it (TRACKER_PUBLIC_URL when set)."""
    public = current_app.config.get("PUBLIC_URL")
    if public:
        return public.rstrip("/") + url_for(endpoint)
    return url_for(endpoint, _external=True)


def _local_login() -> bool:
    return bool(current_app.config.get("LOCAL_LOGIN", True))


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("plans.home"))
    sso = _provider() is not None
    form = LoginForm()
    if not _local_login():
        status = 403 if request.method == "POST" else 200
        return render_template("auth/login.html", form=None, sso=sso, error=LOCAL_LOGIN_OFF if status == 403 else None,
                               next=local_path(request.args.get("next"))), status
    error = None
    if form.validate_on_submit():
        try:
            user = authenticate(db_session(), form.username.data or "", form.password.data or "",
                                request.remote_addr)
        except LoginFailed as exc:
            error = exc.message
        else:
            session.pop(SSO_ID_TOKEN, None)
            login_user(user)
            return redirect(local_path(request.args.get("next")) or url_for("plans.home"))
    return render_template("auth/login.html", form=form, sso=sso, error=error,
                           next=local_path(request.args.get("next")))


@bp.route("/login/sso")
def oidc_login() -> Response:
    """Off to the identity platform (authorization code flow with PKCE, state and nonce)."""
    provider = _provider()
    if provider is None:
        raise NotFound("未配置统一身份认证。")
    if current_user.is_authenticated:
        return redirect(url_for("plans.home"))
    try:
        url, sign_in = oidc.begin(provider, _external("auth.oidc_callback"), local_path(request.args.get("next")))
    except oidc.SsoError as exc:
        current_app.logger.warning("single sign-on unavailable: %s", exc.reason)
        return _refused(exc.message, 503)  # type: ignore[return-value]
    session[SSO_REQUEST] = sign_in.as_dict()
    return redirect(url)


@bp.route("/login/sso/callback")
def oidc_callback() -> Response | tuple[str, int]:
    """Back from the platform: check the answer, validate the ID token, find the account, sign it in. The
    account's changes (bound, recorded, last sign-in) and refusals' audit entries are saved here although
    the request is a GET (the platform sends the browser back with one)."""
    provider = _provider()
    if provider is None:
        raise NotFound("未配置统一身份认证。")
    sign_in = oidc.Request.from_dict(session.pop(SSO_REQUEST, None))
    if sign_in is None:
        return _refused("登录请求已失效（可能已完成或在其他窗口重新发起），请重新登录。", 400)
    try:
        claims, id_token = oidc.finish(provider, sign_in, request.args, _external("auth.oidc_callback"))
    except oidc.SsoError as exc:
        current_app.logger.warning("single sign-on refused from %s: %s", request.remote_addr, exc.reason)
        return _refused(exc.message, 403)
    settings = provider.settings
    with unit_of_work(current_app.extensions["tracker.sessions"]) as s:
        outcome: SsoOutcome = sso_account(s, claims, user_claim=settings.user_claim, user_field=settings.user_field,
                                          create_users=settings.create_users)
    if outcome.user is None:
        current_app.logger.warning("single sign-on refused for subject %r: %s", claims.get("sub"), outcome.refusal)
        return _refused(outcome.refusal or "", outcome.status)
    session[SSO_ID_TOKEN] = id_token
    login_user(outcome.user)
    return redirect(sign_in.next or url_for("plans.home"))


def _refused(message: str, status: int) -> tuple[str, int]:
    return render_template("auth/sso_refused.html", message=message, local_login=_local_login()), status


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    id_token = session.pop(SSO_ID_TOKEN, None)
    if current_user.is_authenticated:
        # Not only this browser's cookie: a copy of it (or another device's) stops working too.
        current_user.end_sessions()
    logout_user()
    provider = _provider()
    if id_token and provider is not None:
        end_session = oidc.logout_url(provider, id_token, _external("auth.login"))
        if end_session:
            # Signed out here; the platform's own sign-out follows from a page of this site (a form's
            # submission may not be redirected to another site under this site's form-action policy).
            session[SSO_LOGOUT] = end_session
            return redirect(url_for("auth.oidc_logout"))
    flash("您已退出登录。", "info")
    return redirect(url_for("auth.login"))


@bp.route("/login/sso/logout")
def oidc_logout() -> Response | str:
    """Signed out here: on to the platform's end-session endpoint, which ends the sign-on there too and
    sends the browser back to the login page."""
    end_session = session.pop(SSO_LOGOUT, None)
    if not isinstance(end_session, str) or current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return render_template("auth/sso_logout.html", end_session=end_session)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password() -> str | Response:
    if not _local_login():
        raise PermissionDenied(LOCAL_LOGIN_OFF + "密码请在统一身份认证平台修改。")
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
    return render_template("auth/password.html", form=form, sso_only=current_user.password_hash is None)
