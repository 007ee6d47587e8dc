from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from ..auth.models import Role, User
from ..auth.services import create_user, locked_names, throttle_name, update_user, user_list
from ..db import db_session
from ..errors import DomainError
from ..notifications.delivery import (
    DeliveryStatus,
    can_resend,
    delivery_list,
    delivery_status,
    resend,
)
from ..notifications.models import Channel
from ..permissions import roles_required
from ..regions.models import Department, DepartmentKind, Region
from ..regions.services import (
    all_regions,
    create_department,
    department_choices,
    departments_of,
    update_department,
)
from ..web import ID, Form, enum_arg, int_arg, local_path, paginate, refuse
from .forms import DepartmentForm, UserForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
@roles_required(Role.ADMIN)
def _admins_only() -> None:
    return None


@bp.route("/")
def index() -> Response:
    return redirect(url_for("admin.users"))


@bp.route("/users")
def users() -> str:
    session = db_session()
    role = enum_arg(Role, "role")
    region_id = int_arg("region")
    q = (request.args.get("q") or "").strip()[:40]
    page = paginate(session, user_list(role, region_id, q))
    regions = all_regions(session)
    return render_template("admin/users.html", page=page, roles=Role, role=role, region_id=region_id, q=q,
                           regions=regions, locked=locked_names(session), throttle_name=throttle_name)


@bp.route("/users/new", methods=["GET", "POST"])
@bp.route(f"/users/<{ID}:user_id>/edit", methods=["GET", "POST"])
def user_form(user_id: int | None = None):  # type: ignore[no-untyped-def]
    session = db_session()
    user = None
    if user_id is not None:
        user = session.get(User, user_id)
        if user is None:
            abort(404)
    form = UserForm(obj=user) if request.method == "GET" and user else UserForm()
    form.department_id.choices = department_choices(session)
    if request.method == "GET" and user:
        form.role.data = user.role.value
    if user:
        form.username.data = user.username
    if form.validate_on_submit():
        dept = session.get(Department, form.department_id.data)
        try:
            if dept is None:
                raise DomainError("部门不存在。", field="department_id")
            if user is None:
                if not form.password.data:
                    raise DomainError("新建用户须设置初始密码。", field="password")
                user = create_user(session, current_user, username=form.username.data or "", name=form.name.data or "",
                                   role=Role(form.role.data), region_code=dept.region.code,
                                   department_name=dept.name, password=form.password.data,
                                   email=form.email.data or None)
                if not form.is_active.data:
                    user.is_active = False
                flash(f"已创建用户 {user.username}。", "success")
            else:
                update_user(session, current_user, user, name=form.name.data or "", role=Role(form.role.data),
                            department=dept, email=form.email.data or None, is_active=form.is_active.data,
                            new_password=form.password.data or None)
                flash(f"已保存用户 {user.username}。", "success")
        except DomainError as exc:
            status = refuse(form, exc, "username")
            return render_template("admin/user_form.html", form=form, user=user), status
        return redirect(url_for("admin.users"))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/user_form.html", form=form, user=user), status


@bp.route("/departments")
def departments() -> str:
    session = db_session()
    region_id = int_arg("region")
    regions = all_regions(session)
    region = session.get(Region, region_id) if region_id else regions[0] if regions else None
    if region_id and region is None:
        abort(404)
    depts = departments_of(session, region.id) if region else []
    return render_template("admin/departments.html", regions=regions, region=region, departments=depts)


@bp.route(f"/regions/<{ID}:region_id>/departments/new", methods=["GET", "POST"])
@bp.route(f"/departments/<{ID}:department_id>/edit", methods=["GET", "POST"])
def department_form(region_id: int | None = None, department_id: int | None = None):  # type: ignore[no-untyped-def]
    session = db_session()
    dept = session.get(Department, department_id) if department_id else None
    region = dept.region if dept else session.get(Region, region_id) if region_id else None
    if region is None or (department_id and dept is None):
        abort(404)
    form = DepartmentForm(obj=dept) if request.method == "GET" and dept else DepartmentForm()
    if request.method == "GET" and dept:
        form.kind.data = dept.kind.value
    if form.validate_on_submit():
        try:
            if dept is None:
                create_department(session, current_user, region, form.name.data or "", DepartmentKind(form.kind.data),
                                  form.doc_prefix.data)
            else:
                update_department(session, current_user, dept, form.name.data or "", DepartmentKind(form.kind.data),
                                  form.is_active.data, form.doc_prefix.data)
        except DomainError as exc:
            status = refuse(form, exc)
            return render_template("admin/department_form.html", form=form, dept=dept, region=region), status
        flash("部门已保存。", "success")
        return redirect(url_for("admin.departments", region=region.id))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/department_form.html", form=form, dept=dept, region=region), status


@bp.route("/deliveries")
def deliveries() -> str:
    status = enum_arg(DeliveryStatus, "status")
    channel = enum_arg(Channel, "channel")
    page = paginate(db_session(), delivery_list(status, channel), scalars=False)
    return render_template("admin/deliveries.html", page=page, statuses=DeliveryStatus, channels=Channel,
                           status=status, channel=channel, status_of=delivery_status, can_resend=can_resend,
                           form=Form())


@bp.route(f"/deliveries/<{ID}:delivery_id>/resend", methods=["POST"])
def resend_delivery(delivery_id: int) -> Response:
    back = local_path(request.form.get("next")) or url_for("admin.deliveries")
    if not Form().validate_on_submit():
        flash("请求已过期，请刷新页面后重试。", "error")
        return redirect(back)
    delivery = resend(db_session(), current_user, delivery_id)
    flash(f"已安排重新发送（{delivery.channel.label}），将在下一次发送任务中送出。", "success")
    return redirect(back)


# ---------------------------------------------------------------- service accounts
# Accounts of other systems (tracker/auth/service_accounts.py): created here, bound to a department and a
# role, their API tokens issued (shown once) and revoked here.

from flask import make_response  # noqa: E402

from ..api.forms import RevokeForm, TokenForm  # noqa: E402
from ..api.models import TokenScope  # noqa: E402
from ..api.services import NewToken  # noqa: E402
from ..auth import service_accounts as accounts  # noqa: E402
from ..auth.forms import ServiceAccountForm  # noqa: E402
from ..timeutil import now  # noqa: E402


@bp.route("/service-accounts")
def service_accounts() -> str:
    page = paginate(db_session(), accounts.service_account_list())
    return render_template("admin/service_accounts.html", page=page)


def _account_department(department_id: int | None) -> Department:
    dept = db_session().get(Department, department_id) if department_id else None
    if dept is None:
        raise DomainError("请选择所在单位。", field="department_id")
    return dept


@bp.route("/service-accounts/new", methods=["GET", "POST"])
def service_account_new():  # type: ignore[no-untyped-def]
    session = db_session()
    form = ServiceAccountForm()
    form.department_id.choices = department_choices(session)
    if form.validate_on_submit():
        try:
            account = accounts.create_service_account(
                session, current_user, username=form.username.data or "", name=form.name.data or "",
                role=Role(form.role.data), department=_account_department(form.department_id.data))
        except DomainError as exc:
            status = refuse(form, exc, "username")
            return render_template("admin/service_accounts_form.html", form=form, account=None), status
        flash(f"已创建服务账号 {account.username}，请为它签发访问令牌。", "success")
        return redirect(url_for("admin.service_account", account_id=account.id))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/service_accounts_form.html", form=form, account=None), status


def _account_page(account: User, form: ServiceAccountForm | None = None, token_form: TokenForm | None = None,
                  created: tuple[object, str] | None = None, status: int = 200) -> Response:
    session = db_session()
    if form is None:
        form = ServiceAccountForm(obj=account, formdata=None)
        form.role.data = account.role.value
    form.username.data = account.username
    form.department_id.choices = department_choices(session)
    response = make_response(render_template(
        "admin/service_accounts_show.html", account=account, form=form, token_form=token_form or TokenForm(formdata=None),
        created=created, tokens=accounts.account_tokens(session, account), revoke_form=RevokeForm(), at=now(),
        history=accounts.account_history(session, account)), status)
    response.headers["Cache-Control"] = "no-store"  # a new token is on the page once
    return response


@bp.route(f"/service-accounts/<{ID}:account_id>", methods=["GET", "POST"])
def service_account(account_id: int) -> Response:
    session = db_session()
    account = accounts.get_service_account(session, account_id)
    if request.method == "GET":
        return _account_page(account)
    form = ServiceAccountForm()
    form.username.data = account.username
    form.department_id.choices = department_choices(session)
    if not form.validate_on_submit():
        return _account_page(account, form, status=422)
    try:
        accounts.update_service_account(session, current_user, account, name=form.name.data or "",
                                        role=Role(form.role.data),
                                        department=_account_department(form.department_id.data),
                                        is_active=form.is_active.data)
    except DomainError as exc:
        return _account_page(account, form, status=refuse(form, exc))
    flash(f"已保存服务账号 {account.username}。", "success")
    return redirect(url_for("admin.service_account", account_id=account.id))


@bp.route(f"/service-accounts/<{ID}:account_id>/tokens", methods=["POST"])
def service_account_token(account_id: int) -> Response:
    session = db_session()
    account = accounts.get_service_account(session, account_id)
    token_form = TokenForm()
    if not token_form.validate_on_submit():
        return _account_page(account, token_form=token_form, status=422)
    try:
        created = accounts.issue_token(session, current_user, account, NewToken(
            name=token_form.name.data or "", scope=TokenScope(token_form.scope.data), days=token_form.days.data))
    except DomainError as exc:
        return _account_page(account, token_form=token_form, status=refuse(token_form, exc))
    return _account_page(account, created=created, status=201)  # shown on this page once, never redirected


@bp.route(f"/service-accounts/<{ID}:account_id>/tokens/<{ID}:token_id>/revoke", methods=["POST"])
def service_account_revoke(account_id: int, token_id: int) -> Response:
    session = db_session()
    account = accounts.get_service_account(session, account_id)
    if not RevokeForm().validate_on_submit():
        flash("请求已过期，请刷新页面后重试。", "error")
        return redirect(url_for("admin.service_account", account_id=account.id))
    record = accounts.revoke_account_token(session, current_user, account, token_id)
    flash(f"访问令牌“{record.name}”已吊销，使用它的程序将无法再访问。", "success")
    return redirect(url_for("admin.service_account", account_id=account.id))
