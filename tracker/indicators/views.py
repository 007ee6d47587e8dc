"""指标监测: one year's values of a plan's indicators, entry (one by one, in bulk, by Excel),
confirmation by the planner and an evaluator's judgement."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from ..db import db_session
from ..errors import DomainError, StaleObject
from ..permissions import (
    can_confirm_indicator_value,
    can_enter_indicator_value,
    can_judge_indicator_value,
    can_view_plan,
    require,
)
from ..planning.models import Plan
from ..planning.plan_views import load_plan
from ..spreadsheets import XLSX_MIMETYPE, download
from ..timeutil import now, today
from ..web import ID, form_version, int_arg, refuse, rollback_request
from . import queries, services
from .exports import UploadRefused, read_upload, template_workbook
from .forms import VALUE_HINT, ActionForm, BulkValuesForm, JudgeForm, ReturnForm, UploadForm, ValueForm
from .models import Indicator, IndicatorValue, Judgement, ValueState
from .services import Row, RowsRefused, ValueInput

bp = Blueprint("indicators", __name__, url_prefix="/indicators")


@bp.app_template_filter("figure")
def figure(value: Any, places: int = 4) -> str:
    """A number as people write it: 79.4700 → 79.47, None → —; ``places`` at most (an indicator's
    :func:`services.places_of`)."""
    return services.figure(value, places)


bp.add_app_template_global(services.places_of, "places_of")




def _indicator(indicator_id: int) -> Indicator:
    indicator = db_session().get(Indicator, indicator_id, options=[selectinload(Indicator.values)])
    if indicator is None:
        abort(404)
    require(can_view_plan(db_session(), current_user, indicator.plan), "该指标不在您的管辖范围内。")
    return indicator


def _value(value_id: int) -> IndicatorValue:
    value = db_session().get(IndicatorValue, value_id)
    if value is None:
        abort(404)
    require(can_view_plan(db_session(), current_user, value.indicator.plan), "该指标不在您的管辖范围内。")
    return value


def _year(plan: Plan) -> int:
    years = services.plan_years(plan)
    default = max((y for y in years if y < today().year), default=years[-1])
    year = int_arg("year", default, lo=1990, hi=2100)
    assert year is not None
    if year not in years:
        abort(404)
    return year


def _enterable(rows: list[services.YearRow]) -> list[services.YearRow]:
    """The indicators the person may fill in (their department's, or all of them for the plan's planners)."""
    return [r for r in rows if can_enter_indicator_value(current_user, r.indicator)]


def _editable(rows: list[services.YearRow]) -> set[int]:
    """Indicators whose value of the year the person may change now (a confirmed one only by the planner)."""
    return {r.indicator.id for r in rows if can_enter_indicator_value(current_user, r.indicator)
            and (r.value is None or r.value.state != ValueState.CONFIRMED
                 or can_confirm_indicator_value(current_user, r.indicator))}


@bp.route("")
@login_required
def index() -> str:
    """Plans in scope that have indicators, with how many values each year holds."""
    session = db_session()
    plans = queries.plans_with_indicators(session, current_user)
    counts = queries.value_counts(session, [p.id for p, _ in plans])
    return render_template("indicators/index.html", plans=plans, counts=counts)


@bp.route(f"/plans/<{ID}:plan_id>")
@login_required
def plan_year(plan_id: int) -> str:
    session = db_session()
    plan = load_plan(plan_id)
    year = _year(plan)
    rows = services.plan_year(session, plan, year)
    editable = _editable(rows)
    return render_template(
        "indicators/plan.html", plan=plan, year=year, years=services.plan_years(plan), rows=rows,
        counts=services.judgement_counts(rows), editable=editable,
        entered=sum(1 for r in rows if r.value is not None and r.value.state == ValueState.ENTERED),
        can_confirm=bool(rows) and can_confirm_indicator_value(current_user, rows[0].indicator),
        can_judge=bool(rows) and can_judge_indicator_value(current_user, rows[0].indicator),
        alerts=services.open_indicator_alerts(session, [r.indicator.id for r in rows]),
        action_form=ActionForm(), Judgement=Judgement,
    )


def _bulk_page(plan: Plan, year: int, form: BulkValuesForm, rows: list[services.YearRow],
               errors: dict[Any, tuple[str | None, str]] | None = None, status: int = 200) -> tuple[str, int]:
    by_id = {str(entry.form.indicator_id.data): entry.form for entry in form.rows}
    return render_template("indicators/entry.html", plan=plan, year=year, rows=rows, forms=by_id, form=form,
                           errors=errors or {}, hint=VALUE_HINT), status


@bp.route(f"/plans/<{ID}:plan_id>/entry", methods=["GET", "POST"])
@login_required
def entry(plan_id: int):  # type: ignore[no-untyped-def]
    """One year's values of every indicator the person may fill in, on one page; all saved or none."""
    session = db_session()
    plan = load_plan(plan_id)
    year = _year(plan)
    rows = services.plan_year(session, plan, year)
    editable = _editable(rows)
    require(bool(editable), "您没有可以填报的指标：监测值由指标的牵头单位填报，规划处确认。")
    if request.method == "GET":
        form = BulkValuesForm(data={"rows": [
            {"indicator_id": r.indicator.id, "value_text": r.value.value_text if r.value else "",
             "source": (r.value.source if r.value else None) or "", "note": (r.value.note if r.value else None) or "",
             "version": r.value.version_id if r.value else ""}
            for r in rows if r.indicator.id in editable]})
        return _bulk_page(plan, year, form, rows)
    form = BulkValuesForm()
    if not form.validate_on_submit():
        return _bulk_page(plan, year, form, rows, status=422)
    by_id = {r.indicator.id: r for r in rows}
    batch = []
    for entry_form in (e.form for e in form.rows):
        try:
            indicator_id = int(entry_form.indicator_id.data)
        except (TypeError, ValueError):
            abort(400)
        if indicator_id not in by_id:
            abort(400)
        batch.append(Row(indicator_id, by_id[indicator_id].indicator, ValueInput(
            entry_form.value_text.data, entry_form.source.data, entry_form.note.data, form_version(entry_form))))
    try:
        changed = services.save_values(session, current_user, plan, year, batch)
    except RowsRefused as exc:
        rollback_request()
        form.form_errors.append(exc.message)
        return _bulk_page(plan, year, form, services.plan_year(session, plan, year), exc.errors, exc.status_code)
    flash(f"已保存 {changed} 项{year}年监测值，等待规划处确认。" if changed else "没有需要保存的修改。", "success")
    return redirect(url_for("indicators.plan_year", plan_id=plan.id, year=year))


@bp.route(f"/plans/<{ID}:plan_id>/template.xlsx")
@login_required
def template(plan_id: int) -> Response:
    session = db_session()
    plan = load_plan(plan_id)
    year = _year(plan)
    rows = _enterable(services.plan_year(session, plan, year))
    require(bool(rows), "您没有可以填报的指标：监测值由指标的牵头单位填报，规划处确认。")
    data = template_workbook(plan, year, rows, now())
    name = f"{plan.short_name}{year}年监测值填报模板.xlsx"
    return download(data, name, XLSX_MIMETYPE, f"indicator-values-{year}.xlsx")


@bp.route(f"/plans/<{ID}:plan_id>/upload", methods=["GET", "POST"])
@login_required
def upload(plan_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    plan = load_plan(plan_id)
    year = _year(plan)
    rows = services.plan_year(session, plan, year)
    require(bool(_enterable(rows)), "您没有可以填报的指标：监测值由指标的牵头单位填报，规划处确认。")
    form = UploadForm()
    errors: list[str] = []
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("indicators/upload.html", plan=plan, year=year, form=form, errors=errors), 422
        file = form.file.data
        try:
            content = file.read()
        finally:
            file.close()
        try:
            uploaded = read_upload(file.filename or "", content, plan, year)
            by_number = {r.indicator.number: r.indicator for r in rows}
            unknown = [f"{u.key}：本规划没有序号为 {u.number} 的指标。" for u in uploaded if u.number not in by_number]
            if unknown:
                raise UploadRefused(f"有 {len(unknown)} 行有误，全部未保存。", unknown)
            batch = [Row(u.key, by_number[u.number], _upload_input(session, by_number[u.number], year, u))
                     for u in uploaded]
            changed = services.save_values(session, current_user, plan, year, batch)
        except UploadRefused as exc:
            refuse(form, exc)
            errors = exc.errors
        except RowsRefused as exc:
            rollback_request()
            form.file.errors = [exc.message]
            numbers = {u.key: u for u in uploaded}
            errors = [f"{key}（序号 {numbers[key].number}）：{message}" for key, (_, message) in exc.errors.items()]
            return render_template("indicators/upload.html", plan=plan, year=year, form=form,
                                   errors=errors), exc.status_code
        else:
            flash(f"已从 Excel 导入 {changed} 项{year}年监测值，等待规划处确认。" if changed
                  else "模板中的监测值与已保存的一致，没有需要保存的修改。", "success")
            return redirect(url_for("indicators.plan_year", plan_id=plan.id, year=year))
        return render_template("indicators/upload.html", plan=plan, year=year, form=form, errors=errors), 422
    return render_template("indicators/upload.html", plan=plan, year=year, form=form, errors=errors)


def _upload_input(session: Any, indicator: Indicator, year: int, u: Any) -> ValueInput:
    """An uploaded row changes the stored value the person downloaded (its current version)."""
    stored = services.stored_value(session, indicator, year)
    return ValueInput(u.value_text, u.source, u.note, stored.version_id if stored else None)


@bp.route(f"/plans/<{ID}:plan_id>/confirm", methods=["POST"])
@login_required
def confirm_year(plan_id: int) -> Response:
    plan = load_plan(plan_id)
    year = _year(plan)
    if not ActionForm().validate_on_submit():
        abort(400)
    n = services.confirm_year(db_session(), current_user, plan, year)
    flash(f"已确认 {n} 项{year}年监测值。" if n else "没有待确认的监测值。", "success")
    return redirect(url_for("indicators.plan_year", plan_id=plan.id, year=year))


@bp.route(f"/<{ID}:indicator_id>")
@login_required
def show(indicator_id: int) -> str:
    session = db_session()
    indicator = _indicator(indicator_id)
    return render_template(
        "indicators/show.html", indicator=indicator, t=services.trajectory(indicator),
        history=queries.indicator_history(session, indicator),
        years=services.year_range(indicator), action_form=ActionForm(),
        can_enter=can_enter_indicator_value(current_user, indicator),
        can_confirm=can_confirm_indicator_value(current_user, indicator),
        can_judge=can_judge_indicator_value(current_user, indicator),
        alert=indicator.id in services.open_indicator_alerts(session, [indicator.id]),
    )


@bp.route(f"/<{ID}:indicator_id>/values/<{ID}:year>", methods=["GET", "POST"])
@login_required
def edit_value(indicator_id: int, year: int):  # type: ignore[no-untyped-def]
    session = db_session()
    indicator = _indicator(indicator_id)
    require(can_enter_indicator_value(current_user, indicator),
            f"只有指标“{indicator.name}”的牵头单位或本级规划处可以填报监测值。")
    if year not in services.year_range(indicator):
        abort(404)
    stored = next((v for v in indicator.values if v.year == year), None)
    form = ValueForm()
    if request.method == "GET":
        if stored is not None:
            form.value_text.data, form.source.data, form.note.data = stored.value_text, stored.source, stored.note
            form.version.data = stored.version_id
    elif form.validate_on_submit():
        try:
            services.save_value(session, current_user, indicator, year, ValueInput(
                form.value_text.data, form.source.data, form.note.data, form_version(form)))
        except DomainError as exc:
            status = refuse(form, exc, "value_text")
            return render_template("indicators/value_form.html", form=form, indicator=indicator, year=year,
                                   stored=stored, hint=VALUE_HINT), status
        flash(f"已保存{indicator.name}{year}年监测值，等待规划处确认。", "success")
        return redirect(url_for("indicators.show", indicator_id=indicator.id))
    else:
        return render_template("indicators/value_form.html", form=form, indicator=indicator, year=year,
                               stored=stored, hint=VALUE_HINT), 422
    return render_template("indicators/value_form.html", form=form, indicator=indicator, year=year, stored=stored,
                           hint=VALUE_HINT)


@bp.route(f"/values/<{ID}:value_id>/confirm", methods=["POST"])
@login_required
def confirm_value(value_id: int) -> Response:
    value = _value(value_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    services.confirm_value(db_session(), current_user, value, form_version(form))
    flash(f"已确认{value.indicator.name}{value.year}年监测值。", "success")
    back = request.args.get("back")
    if back == "plan":
        return redirect(url_for("indicators.plan_year", plan_id=value.indicator.plan_id, year=value.year))
    return redirect(url_for("indicators.show", indicator_id=value.indicator_id))


@bp.route(f"/values/<{ID}:value_id>/return", methods=["POST"])
@login_required
def return_value(value_id: int) -> Response:
    session = db_session()
    value = _value(value_id)
    form = ReturnForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        flash("; ".join(e for errors in form.errors.values() for e in errors), "error")
    else:
        try:
            services.return_value(session, current_user, value, form.reason.data, form_version(form))
        except StaleObject:
            raise
        except DomainError as exc:
            refuse(None, exc)
        else:
            flash(f"已退回{value.indicator.name}{value.year}年监测值。", "success")
    if request.args.get("back") == "plan":
        return redirect(url_for("indicators.plan_year", plan_id=value.indicator.plan_id, year=value.year))
    return redirect(url_for("indicators.show", indicator_id=value.indicator_id))


@bp.route(f"/values/<{ID}:value_id>/judge", methods=["GET", "POST"])
@login_required
def judge_value(value_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    value = _value(value_id)
    indicator = value.indicator
    require(can_judge_indicator_value(current_user, indicator), "只有本级考核组可以评判监测值。")
    form = JudgeForm()
    status = 200
    if request.method == "GET":
        form.judgement.data = value.judgement.value if value.judged_by_id and value.judgement else ""
        form.note.data = value.judgement_note if value.judged_by_id else ""
        form.version.data = value.version_id
    elif form.validate_on_submit():
        try:
            services.judge_by_hand(session, current_user, value, form.chosen(), form.note.data, form_version(form))
        except StaleObject:
            raise
        except DomainError as exc:
            status = refuse(form, exc, "note")
        else:
            flash(f"已评判{indicator.name}{value.year}年监测值。", "success")
            return redirect(url_for("indicators.show", indicator_id=indicator.id))
    else:
        status = 422
    return render_template("indicators/judge.html", form=form, value=value, indicator=indicator,
                           rule=services.rule_of(indicator)), status
