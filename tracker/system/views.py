from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from ..alerts.models import AlertLevel
from ..auth.models import Role
from ..db import db_session
from ..errors import DomainError
from ..permissions import roles_required
from ..scheduler import JOBS, run_chain
from ..timeutil import today
from ..web import refuse, rollback_request
from .forms import CalendarDayForm, ConfirmForm, LoadYearForm, SettingsForm, field_name
from .models import DayKind, JobStatus
from .services import (
    SETTING_GROUPS,
    SETTINGS,
    all_settings,
    calendar_year,
    calendar_years,
    load_library_year,
    recent_job_runs,
    remove_calendar_day,
    set_calendar_day,
    update_settings,
    working_day_summary,
)

bp = Blueprint("system", __name__, url_prefix="/system")


@bp.before_request
@login_required
@roles_required(Role.ADMIN)
def _admins_only() -> None:
    return None


@bp.route("/")
def index() -> Response:
    return redirect(url_for("system.settings"))


# --- settings ------------------------------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"])
def settings():  # type: ignore[no-untyped-def]
    session = db_session()
    form = SettingsForm()
    if request.method == "GET":
        for key, value in all_settings(session).items():
            getattr(form, field_name(key)).data = value
    elif form.validate_on_submit():
        values = {key: getattr(form, field_name(key)).data for key in SETTINGS}
        try:
            changes = update_settings(session, current_user, values)
        except DomainError as exc:
            status = refuse(form, exc)
            return _settings_page(form), status
        flash("已保存：" + "、".join(SETTINGS[k].label for k in changes) if changes else "设置没有变化。",
              "success" if changes else "info")
        return redirect(url_for("system.settings"))
    else:
        return _settings_page(form), 422
    return _settings_page(form)


def _settings_page(form: SettingsForm) -> str:  # type: ignore[valid-type]
    groups = {
        title: [(getattr(form, field_name(k)), spec) for k, spec in SETTINGS.items() if spec.group == group]
        for group, title in SETTING_GROUPS.items()
    }
    return render_template("system/settings.html", form=form, groups=groups)


# --- the holiday calendar ------------------------------------------------------------------------


def _year_arg() -> int:
    raw = request.args.get("year") or ""
    if raw.isascii() and raw.isdigit() and 2000 <= int(raw) <= 2100:
        return int(raw)
    return today().year


@bp.route("/calendar")
def calendar() -> str:
    year = _year_arg()
    day_form = CalendarDayForm(formdata=None, day=date(year, 10, 1) if year != today().year else today(),
                               kind=DayKind.HOLIDAY.value)
    return _calendar_page(year, day_form, LoadYearForm(formdata=None, year=year))


def _calendar_page(year: int, day_form: CalendarDayForm, load_form: LoadYearForm) -> str:
    session = db_session()
    view = calendar_year(session, year, today())
    return render_template(
        "system/calendar.html", view=view, years=calendar_years(session), day_form=day_form, load_form=load_form,
        confirm=ConfirmForm(), summary=working_day_summary(session, year) if view.loaded else None,
        this_year=today().year,
    )


@bp.route("/calendar/days", methods=["POST"])
def calendar_day():  # type: ignore[no-untyped-def]
    session = db_session()
    form = CalendarDayForm()
    year = form.day.data.year if form.day.data else _year_arg()
    if form.validate_on_submit():
        try:
            row = set_calendar_day(session, current_user, form.day.data, DayKind(form.kind.data), form.name.data)
        except DomainError as exc:
            refuse(form, exc, "day")
        else:
            flash(f"已将{row.day.isoformat()}设为{row.kind.label}。", "success")
            return redirect(url_for("system.calendar", year=row.day.year))
    return _calendar_page(year, form, LoadYearForm(formdata=None, year=year)), 422


@bp.route("/calendar/days/<day>/delete", methods=["POST"])
def calendar_remove(day: str) -> Response:
    session = db_session()
    form = ConfirmForm()
    try:
        when = date.fromisoformat(day)
    except ValueError:
        flash("日期格式不正确。", "error")
        return redirect(url_for("system.calendar"))
    if form.validate_on_submit():
        try:
            remove_calendar_day(session, current_user, when)
        except DomainError as exc:
            refuse(None, exc)
        else:
            flash(f"已删除{when.isoformat()}。", "success")
    return redirect(url_for("system.calendar", year=when.year))


@bp.route("/calendar/load", methods=["POST"])
def calendar_load():  # type: ignore[no-untyped-def]
    session = db_session()
    form = LoadYearForm()
    if form.validate_on_submit():
        try:
            n = load_library_year(session, current_user, form.year.data)
        except DomainError as exc:
            refuse(form, exc, "year")
        else:
            flash(f"已从 chinese-calendar 载入{form.year.data}年的节假日和调休上班日（{n}天）。", "success")
            return redirect(url_for("system.calendar", year=form.year.data))
    year = form.year.data if isinstance(form.year.data, int) and 2000 <= form.year.data <= 2100 else today().year
    return _calendar_page(year, CalendarDayForm(formdata=None), form), 422


# --- scheduled jobs ------------------------------------------------------------------------------


# What the counts of a run mean, in the words of the page.
COUNT_LABELS = {
    "raised": "新增预警", "upgraded": "升级", "resolved": "解除", "cancelled": "取消",
    "tasks_overdue": "任务转为已逾期", "tasks_reopened": "任务恢复", "milestones_overdue": "节点转为已逾期",
    "milestones_reopened": "节点恢复", "open": "未解除预警", "since": "统计自", "departments": "涉及单位",
    "messages": "新消息", "recipients": "收件人", "items": "预警条目", "cases_reminded": "催办督办单",
    "periods": "填报期",
    "sent": "已发送", "retry": "待重试", "failed": "发送失败", "waiting": "顺延（限流）",
    "events": "记录事件", "past_deadline": "超期未答复督办件", "offices": "督查室汇总",
}


@bp.route("/jobs")
def jobs() -> str:
    job = request.args.get("job") if request.args.get("job") in JOBS else None
    return render_template("system/jobs.html", runs=recent_job_runs(db_session(), 100, job), jobs=JOBS, job=job,
                           confirm=ConfirmForm(), succeeded=JobStatus.SUCCEEDED, count_labels=COUNT_LABELS,
                           level_labels={lvl.value: lvl.label for lvl in AlertLevel})


@bp.route("/jobs/<name>/run", methods=["POST"])
def run_job_now(name: str) -> Response:
    if name not in JOBS or not ConfirmForm().validate_on_submit():
        flash("无法运行该任务。", "error")
        return redirect(url_for("system.jobs"))
    # Each run is its own transaction. This request has nothing to save, so end its transaction
    # first: on SQLite a POST's transaction holds the write lock the job needs.
    rollback_request()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    for run in run_chain(app, name):
        label = JOBS[run.job].label
        if run.status == JobStatus.SUCCEEDED:
            flash(f"{label}已完成。", "success")
            for warning in run.counts.get("warnings", []):
                flash(warning, "warning")
        else:
            flash(f"{label}失败：{(run.error or '').splitlines()[0]}", "error")
    return redirect(url_for("system.jobs", job=name))
