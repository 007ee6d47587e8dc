"""The personal access tokens page (blueprint ``tokens``, /account/tokens), and where /api/v1 is mounted.

Registering this blueprint mounts the API (``resources.api``, flask-smorest) on the same app with its OpenAPI
document (``spec.make_api``), so the app factory names the area once. The API blueprint is exempt from the
CSRF check: it is called with a bearer token, never with the session cookie."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, url_for
from flask.blueprints import BlueprintSetupState
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from ..db import db_session
from ..errors import DomainError
from ..extensions import csrf
from ..timeutil import now
from ..web import ID, refuse
from .forms import RevokeForm, TokenForm
from .models import TokenScope
from .problems import from_http_exception
from .services import NewToken, create_token, revoke_token, user_tokens

bp = Blueprint("tokens", __name__, static_folder="static", static_url_path="/api-static")


@bp.record_once
def _mount_api(state: BlueprintSetupState) -> None:
    from .resources import api
    from .spec import make_api

    csrf.exempt(api)
    spec_api = make_api(state.app)
    spec_api.register_blueprint(api)
    state.app.extensions["tracker.api"] = spec_api
    # an unknown address or method under /api/ answers as the API does, not with an HTML page
    state.app.extensions.setdefault("tracker.problem_paths", {})["/api/"] = from_http_exception


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def index() -> Response:
    session = db_session()
    form = TokenForm()
    created, status = None, 200
    if form.validate_on_submit():
        try:
            record, token = create_token(session, current_user, NewToken(
                name=form.name.data or "", scope=TokenScope(form.scope.data), days=form.days.data))
            created, status = (record, token), 201  # made, and shown on this page once (never redirected)
            form = TokenForm(formdata=None)
        except DomainError as exc:
            status = refuse(form, exc)
    elif form.is_submitted():
        status = 422
    response = make_response(render_template(
        "api/tokens.html", form=form, created=created, tokens=user_tokens(session, current_user),
        revoke_form=RevokeForm(), at=now()), status)
    response.headers["Cache-Control"] = "no-store"  # a new token is on the page once
    return response


@bp.route(f"/account/tokens/<{ID}:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int) -> Response:
    record = revoke_token(db_session(), current_user, token_id)
    flash(f"访问令牌“{record.name}”已吊销，使用它的程序将无法再访问。", "success")
    return redirect(url_for("tokens.index"))
