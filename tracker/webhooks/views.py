"""事件推送 (/admin/webhooks): the administrator's endpoints and each one's delivery log."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from .. import audit
from ..auth.models import Role
from ..db import db_session
from ..errors import DomainError
from ..notifications.delivery import DeliveryStatus, can_resend, delivery_status
from ..notifications.recipients import RULES
from ..permissions import roles_required
from ..regions.models import RegionLevel
from ..regions.services import all_regions
from ..web import ID, enum_arg, form_version, local_path, paginate, refuse
from . import services
from .delivery import schedule_text
from .forms import EndpointForm, ToggleForm, VersionForm
from .models import WebhookEndpoint

bp = Blueprint("webhooks", __name__)

View = Response | str | tuple[str, int]


@bp.before_request
@login_required
@roles_required(Role.ADMIN)
def _admins_only() -> None:
    return None


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    endpoint = db_session().get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        abort(404)
    return endpoint


def _form(endpoint: WebhookEndpoint | None = None) -> EndpointForm:
    form = EndpointForm()
    form.event_kinds.choices = services.event_kinds()
    form.region_id.choices = [("", "全部区域")] + [
        (r.id, r.name if r.level == RegionLevel.COUNTY else f"{r.name}及下辖区域") for r in all_regions(db_session())]
    if request.method == "GET" and endpoint is not None:
        form.name.data, form.url.data = endpoint.name, endpoint.url
        form.event_kinds.data = list(endpoint.event_kinds or [])
        form.region_id.data = endpoint.region_id
        form.is_active.data = endpoint.is_active
        form.version.data = endpoint.version_id
    return form


def _input(form: EndpointForm) -> services.EndpointInput:
    return services.EndpointInput(name=form.name.data or "", url=form.url.data or "",
                                  event_kinds=list(form.event_kinds.data or []), region_id=form.region_id.data,
                                  is_active=bool(form.is_active.data))


def _kind_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """The kinds for the check boxes, grouped by the notifications they belong to."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for kind, rule in RULES.items():
        groups.setdefault(rule.kind.label, []).append((kind, getattr(rule, "label", None) or ""))
    return list(groups.items())


def _no_store(page: str, status: int) -> Response:
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"  # a new secret is on the page once
    return response


@bp.route("/admin/webhooks")
def endpoints() -> str:
    session = db_session()
    return render_template("webhooks/endpoints.html", endpoints=services.endpoints(session),
                           counts=services.delivery_counts(session), statuses=DeliveryStatus,
                           form=VersionForm(), schedule=schedule_text())


@bp.route("/admin/webhooks/new", methods=["GET", "POST"])
def new() -> View:
    form = _form()
    status = 200
    if form.validate_on_submit():
        try:
            endpoint, secret = services.create_endpoint(db_session(), current_user, _input(form))
        except DomainError as exc:
            status = refuse(form, exc, "url")
        else:
            return _no_store(render_template("webhooks/secret.html", endpoint=endpoint, secret=secret,
                                             created=True), 201)
    elif form.is_submitted():
        status = 422
    return render_template("webhooks/endpoint_form.html", form=form, endpoint=None, groups=_kind_groups()), status


@bp.route(f"/admin/webhooks/<{ID}:endpoint_id>/edit", methods=["GET", "POST"])
def edit(endpoint_id: int) -> View:
    endpoint = _endpoint(endpoint_id)
    form = _form(endpoint)
    status = 200
    if form.validate_on_submit():
        try:
            services.update_endpoint(db_session(), current_user, endpoint, _input(form), form_version(form))
        except DomainError as exc:
            status = refuse(form, exc, "url")
            form.version.data = endpoint.version_id
        else:
            flash(f"已保存推送地址“{endpoint.name}”。", "success")
            return redirect(url_for("webhooks.endpoints"))
    elif form.is_submitted():
        status = 422
    return render_template("webhooks/endpoint_form.html", form=form, endpoint=endpoint, groups=_kind_groups(),
                           button=VersionForm(formdata=None, version=endpoint.version_id),
                           history=audit.history(db_session(), ("webhook_endpoints", endpoint.id), limit=50)), status


@bp.route(f"/admin/webhooks/<{ID}:endpoint_id>/active", methods=["POST"])
def toggle(endpoint_id: int) -> Response:
    endpoint = _endpoint(endpoint_id)
    form = ToggleForm()
    if not form.validate_on_submit():
        abort(400)
    active = form.active.data == "1"
    try:
        services.set_active(db_session(), current_user, endpoint, active, form_version(form))
    except DomainError as exc:
        refuse(None, exc)
    else:
        flash(f"已{'启用' if active else '停用'}推送地址“{endpoint.name}”。", "success")
    return redirect(url_for("webhooks.endpoints"))


@bp.route(f"/admin/webhooks/<{ID}:endpoint_id>/secret", methods=["POST"])
def secret(endpoint_id: int) -> View:
    endpoint = _endpoint(endpoint_id)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        new_secret = services.regenerate_secret(db_session(), current_user, endpoint, form_version(form))
    except DomainError as exc:
        refuse(None, exc)
        return redirect(url_for("webhooks.edit", endpoint_id=endpoint.id))
    return _no_store(render_template("webhooks/secret.html", endpoint=endpoint, secret=new_secret, created=False),
                     200)


@bp.route(f"/admin/webhooks/<{ID}:endpoint_id>/delete", methods=["POST"])
def delete(endpoint_id: int) -> Response:
    endpoint = _endpoint(endpoint_id)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    name = endpoint.name
    try:
        services.delete_endpoint(db_session(), current_user, endpoint, form_version(form))
    except DomainError as exc:
        refuse(None, exc)
        return redirect(url_for("webhooks.edit", endpoint_id=endpoint.id))
    flash(f"已删除推送地址“{name}”及其推送记录。", "success")
    return redirect(url_for("webhooks.endpoints"))


@bp.route(f"/admin/webhooks/<{ID}:endpoint_id>/deliveries")
def deliveries(endpoint_id: int) -> str:
    endpoint = _endpoint(endpoint_id)
    status = enum_arg(DeliveryStatus, "status")
    kind = request.args.get("type") or None
    if kind is not None and kind not in RULES:
        abort(400)
    page = paginate(db_session(), services.delivery_list(endpoint, status, kind), size=20, scalars=False)
    return render_template("webhooks/deliveries.html", endpoint=endpoint, page=page, statuses=DeliveryStatus,
                           status=status, kind=kind, kinds=services.event_kinds(), status_of=delivery_status,
                           can_resend=can_resend, form=VersionForm(), pretty=_pretty)


@bp.route(f"/admin/webhooks/deliveries/<{ID}:delivery_id>/resend", methods=["POST"])
def resend(delivery_id: int) -> Response:
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    delivery = services.resend(db_session(), current_user, delivery_id)
    flash(f"已安排重新推送事件 {delivery.event_id}，将在下一次推送任务（每分钟）中送出。", "success")
    back = local_path(request.form.get("next")) or url_for("webhooks.deliveries", endpoint_id=delivery.endpoint_id)
    return redirect(back)


def _pretty(body: str | None) -> str:
    """A request or answer body as people read it: JSON indented, anything else as it came."""
    if not body:
        return ""
    try:
        data: Any = json.loads(body)
    except ValueError:
        return body
    return json.dumps(data, ensure_ascii=False, indent=2)
