"""考核评估: the list, running an evaluation, the ranking and indicator table, adjusting, locking, exports."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from .. import audit
from ..db import db_session
from ..documents import PDF_MIMETYPE, docx_to_pdf, pdf_available
from ..errors import DomainError
from ..permissions import (
    can_reopen_evaluation,
    can_run_evaluation,
    can_view_evaluation,
    can_view_evaluations,
    require,
)
from ..spreadsheets import DOCX_MIMETYPE, XLSX_MIMETYPE, download
from ..timeutil import now, today
from ..web import ID, enum_arg, int_arg, paginate, refuse
from . import plan_review, queries, services
from .exports import evaluation_workbook, filename_of
from .forms import AdjustForm, ConclusionsForm, LockForm, RecomputeForm, ReopenForm, RunForm, SettingsForm
from .models import DepartmentScore, Evaluation, EvaluationKind, EvaluationState
from .report import drafted_conclusions, evaluation_report

bp = Blueprint("evaluations", __name__, url_prefix="/evaluations")

NOT_FOR_YOU = "考核评估仅对考核组、规划处和领导开放。"
# 中期评估 and 总结评估 also show the plan's key tasks, key projects and cascade, each on a tab of its own
REVIEW_TABS = {"key_tasks": "重点任务推进", "projects": "重大项目", "cascade": "规划衔接"}


def _evaluation(evaluation_id: int) -> Evaluation:
    session = db_session()
    evaluation = session.get(Evaluation, evaluation_id)
    if evaluation is None:
        abort(404)
    require(can_view_evaluation(session, current_user, evaluation.plan), "该考核不在您的管辖范围内。")
    return evaluation


@bp.route("")
@login_required
def index() -> str:
    require(can_view_evaluations(current_user), NOT_FOR_YOU)
    session = db_session()
    kind = enum_arg(EvaluationKind, "kind")
    plan_id = int_arg("plan")
    year = int_arg("year", lo=1990, hi=2100)
    stmt = queries.evaluation_list(session, current_user, kind, plan_id, year)
    plans = queries.visible_plans(session, current_user)
    return render_template("evaluations/index.html", page=paginate(session, stmt), plans=plans, kinds=EvaluationKind,
                           kind=kind, plan_id=plan_id, year=year,
                           can_run=any(can_run_evaluation(current_user, p) for p in plans))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():  # type: ignore[no-untyped-def]
    session = db_session()
    plans = queries.runnable_plans(session, current_user)
    require(bool(plans), "只有考核组可以开展考核评估。")
    form = RunForm()
    form.plan_id.choices = [(p.id, f"{p.title}（{p.period_label}）") for p in plans]
    if request.method == "GET":
        form.defaults()
        chosen = int_arg("plan")
        form.plan_id.data = chosen if chosen in {p.id for p in plans} else plans[0].id
        kind = enum_arg(EvaluationKind, "kind")
        form.kind.data = (kind or EvaluationKind.ANNUAL).value
        form.year.data = int_arg("year", today().year - 1, lo=1990, hi=2100)
        return render_template("evaluations/new.html", form=form, unconfirmed=_unconfirmed(form, plans))
    if not form.validate_on_submit():
        return render_template("evaluations/new.html", form=form, unconfirmed=_unconfirmed(form, plans)), 422
    plan = next(p for p in plans if p.id == form.plan_id.data)
    try:
        evaluation = services.run_evaluation(session, current_user, plan, EvaluationKind(form.kind.data),
                                             form.year.data, form.settings(),
                                             proceed_unconfirmed=form.proceed_unconfirmed.data)
    except DomainError as exc:
        status = refuse(form, exc)
        return render_template("evaluations/new.html", form=form, unconfirmed=_unconfirmed(form, plans)), status
    flash(f"已完成{evaluation.year}年{evaluation.kind.label}计算（第{evaluation.version}版）。请审核部门得分，"
          "确认无误后锁定。", "success")
    return redirect(url_for("evaluations.show", evaluation_id=evaluation.id))


def _unconfirmed(form: RunForm, plans: list) -> queries.Unconfirmed | None:  # type: ignore[type-arg]
    """The chosen plan's values of the chosen year not yet confirmed (what computing will ask about)."""
    plan = next((p for p in plans if p.id == form.plan_id.data), None)
    if plan is None or not isinstance(form.year.data, int) or form.year.errors or not 1990 <= form.year.data <= 2100:
        return None  # no year to look at (a refused one is shown next to its field)
    return queries.unconfirmed_values(db_session(), plan, form.year.data)


@bp.route(f"/<{ID}:evaluation_id>")
@login_required
def show(evaluation_id: int) -> str:
    return _show(_evaluation(evaluation_id), request.args.get("tab", "departments"))


def _show(evaluation: Evaluation, tab: str, recompute_form: RecomputeForm | None = None) -> str:
    session = db_session()
    review_tabs = list(REVIEW_TABS.items()) if plan_review.reviewed(evaluation.kind) else []
    if tab not in ("departments", "indicators", "supervision", *dict(review_tabs), "history"):
        abort(404)
    history = audit.history(session, ("evaluations", evaluation.id)) if tab == "history" else []
    scores = queries.scores_of(session, evaluation)
    return render_template(
        "evaluations/show.html", evaluation=evaluation, tab=tab, scores=scores,
        tied=queries.tied_ranks(scores), rank_label=queries.rank_label, rates_coincide=queries.rates_coincide(scores),
        unconfirmed=queries.unconfirmed_values(session, evaluation.plan, evaluation.year),
        recompute_form=recompute_form or RecomputeForm(),
        results=queries.binding_first(queries.indicator_rows(session, evaluation)) if tab == "indicators" else [],
        courses=queries.courses(session, evaluation) if tab == "indicators" else {},
        outcomes=queries.case_outcomes(session, evaluation) if tab == "supervision" else {},
        cases=queries.cases_of(session, evaluation) if tab == "supervision" else [],
        totals=queries.totals(session, evaluation), window=queries.evaluation_window(evaluation),
        settings=services.Settings.of(evaluation), versions=queries.versions_of(session, evaluation),
        history=history, can_run=can_run_evaluation(current_user, evaluation.plan),
        review_tabs=review_tabs, review=plan_review.read(evaluation) if tab in dict(review_tabs) else None,
        draft=evaluation.state == EvaluationState.DRAFT,
        weight_labels=services.WEIGHT_LABELS, grade_labels=services.GRADE_LABELS,
    )


@bp.route(f"/<{ID}:evaluation_id>/recompute", methods=["POST"])
@login_required
def recompute(evaluation_id: int) -> Response:
    session = db_session()
    evaluation = _evaluation(evaluation_id)
    require(can_run_evaluation(current_user, evaluation.plan), "只有本级考核组可以重新计算考核结果。")
    form = RecomputeForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        result = services.recompute(session, current_user, evaluation,  # a lost race: a 409 at the boundary
                                    proceed_unconfirmed=form.proceed_unconfirmed.data)
    except DomainError as exc:
        status = refuse(form, exc)
        return _show(evaluation, "departments", form), status  # type: ignore[return-value]
    if result.id != evaluation.id:
        flash(f"原结果已锁定，已按当前数据生成第{result.version}版（草稿）。", "success")
    else:
        flash("已按当前数据重新计算；已有的得分调整保留。", "success")
    return redirect(url_for("evaluations.show", evaluation_id=result.id))


@bp.route(f"/<{ID}:evaluation_id>/settings", methods=["GET", "POST"])
@login_required
def settings(evaluation_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    evaluation = _evaluation(evaluation_id)
    require(can_run_evaluation(current_user, evaluation.plan), "只有本级考核组可以设置考核权重和等次分数线。")
    services.ensure_draft(evaluation)
    form = SettingsForm()
    unconfirmed = queries.unconfirmed_values(session, evaluation.plan, evaluation.year)
    if request.method == "GET":
        form.fill(services.Settings.of(evaluation))
        return render_template("evaluations/settings.html", form=form, evaluation=evaluation, unconfirmed=unconfirmed)
    if not form.validate_on_submit():
        return render_template("evaluations/settings.html", form=form, evaluation=evaluation,
                               unconfirmed=unconfirmed), 422
    try:
        services.change_settings(session, current_user, evaluation, form.settings(),
                                 proceed_unconfirmed=form.proceed_unconfirmed.data)
    except DomainError as exc:
        status = refuse(form, exc)
        return render_template("evaluations/settings.html", form=form, evaluation=evaluation,
                               unconfirmed=unconfirmed), status
    flash("已按新的权重和分数线重新计算得分和等次。", "success")
    return redirect(url_for("evaluations.show", evaluation_id=evaluation.id))


@bp.route(f"/<{ID}:evaluation_id>/conclusions", methods=["GET", "POST"])
@login_required
def conclusions(evaluation_id: int):  # type: ignore[no-untyped-def]
    """总体情况, 存在问题, 下一步工作建议 in the evaluators' words, prefilled from the figures."""
    session = db_session()
    evaluation = _evaluation(evaluation_id)
    require(can_run_evaluation(current_user, evaluation.plan), "只有本级考核组可以撰写评估结论。")
    services.ensure_draft(evaluation)
    form = ConclusionsForm()
    if request.method == "GET":
        drafted = drafted_conclusions(session, evaluation)
        for name in services.CONCLUSION_FIELDS:
            getattr(form, name).data = getattr(evaluation, name) or drafted[name]
    elif form.validate_on_submit():
        try:
            services.write_conclusions(session, current_user, evaluation,
                                       {name: getattr(form, name).data for name in services.CONCLUSION_FIELDS})
        except DomainError as exc:
            status = refuse(form, exc)
            return render_template("evaluations/conclusions.html", form=form, evaluation=evaluation), status
        flash("评估结论已保存，导出的评估报告将使用这些文字。", "success")
        return redirect(url_for("evaluations.show", evaluation_id=evaluation.id))
    page = render_template("evaluations/conclusions.html", form=form, evaluation=evaluation)
    return (page, 422) if form.errors else page


@bp.route(f"/scores/<{ID}:score_id>/adjust", methods=["GET", "POST"])
@login_required
def adjust(score_id: int):  # type: ignore[no-untyped-def]
    session = db_session()
    score = session.get(DepartmentScore, score_id)
    if score is None:
        abort(404)
    evaluation = _evaluation(score.evaluation_id)
    require(can_run_evaluation(current_user, evaluation.plan), "只有本级考核组可以调整考核得分。")
    services.ensure_draft(evaluation)
    form = AdjustForm()
    context = {"evaluation": evaluation, "score": score}
    if request.method == "GET":
        form.adjusted_score.data = str(score.adjusted_score) if score.adjusted_score is not None else ""
        form.reason.data = score.adjust_reason or ""
        form.seen.data = services.score_fingerprint(score)
        return render_template("evaluations/adjust.html", form=form, **context)
    if not form.validate_on_submit():
        return render_template("evaluations/adjust.html", form=form, **context), 422
    try:
        services.adjust_score(session, current_user, score, services.parse_score(form.adjusted_score.data),
                              form.reason.data, form.seen.data)
    except DomainError as exc:
        status = refuse(form, exc)
        return render_template("evaluations/adjust.html", form=form, **context), status
    flash(f"已调整{score.department.name}的得分。", "success")
    return redirect(url_for("evaluations.show", evaluation_id=evaluation.id))


@bp.route(f"/<{ID}:evaluation_id>/lock", methods=["GET", "POST"])
@login_required
def lock(evaluation_id: int):  # type: ignore[no-untyped-def]
    """Locking asks first: a page that says what it means, with a checkbox to tick."""
    evaluation = _evaluation(evaluation_id)
    require(can_run_evaluation(current_user, evaluation.plan), "只有本级考核组可以锁定考核结果。")
    services.ensure_draft(evaluation)
    form = LockForm()
    if request.method == "GET":
        return render_template("evaluations/lock.html", form=form, evaluation=evaluation)
    if not form.validate_on_submit():
        return render_template("evaluations/lock.html", form=form, evaluation=evaluation), 422
    try:
        services.lock(db_session(), current_user, evaluation, confirmed=form.confirm.data)
    except DomainError as exc:
        status = refuse(form, exc)
        return render_template("evaluations/lock.html", form=form, evaluation=evaluation), status
    flash(f"{evaluation.year}年{evaluation.kind.label}结果已锁定，此后不再变化。", "success")
    return redirect(url_for("evaluations.show", evaluation_id=evaluation.id))


@bp.route(f"/<{ID}:evaluation_id>/reopen", methods=["GET", "POST"])
@login_required
def reopen(evaluation_id: int):  # type: ignore[no-untyped-def]
    """An administrator reopens a locked evaluation (a new draft version) with a reason."""
    session = db_session()
    evaluation = session.get(Evaluation, evaluation_id)
    if evaluation is None:
        abort(404)
    require(can_reopen_evaluation(current_user), "只有系统管理员可以重新开放已锁定的考核结果。")
    services.ensure_reopenable(session, evaluation)
    form = ReopenForm()
    if request.method == "GET":
        return render_template("evaluations/reopen.html", form=form, evaluation=evaluation)
    if not form.validate_on_submit():
        return render_template("evaluations/reopen.html", form=form, evaluation=evaluation), 422
    try:
        draft = services.reopen(session, current_user, evaluation, form.reason.data)
    except DomainError as exc:
        status = refuse(form, exc)
        return render_template("evaluations/reopen.html", form=form, evaluation=evaluation), status
    flash(f"已重新开放{evaluation.plan.short_name}{evaluation.year}年{evaluation.kind.label}：生成第{draft.version}版草稿"
          f"（第{evaluation.version}版保持不变），请通知考核组审核后重新锁定。", "success")
    return redirect(url_for("admin.index"))


@bp.route(f"/<{ID}:evaluation_id>/export.xlsx")
@login_required
def export(evaluation_id: int) -> Response:
    evaluation = _evaluation(evaluation_id)
    data = evaluation_workbook(db_session(), evaluation, now())
    return download(data, filename_of(evaluation, "xlsx"), XLSX_MIMETYPE, f"evaluation-{evaluation.id}.xlsx")


@bp.route(f"/<{ID}:evaluation_id>/report.docx")
@login_required
def report(evaluation_id: int) -> Response:
    evaluation = _evaluation(evaluation_id)
    data = evaluation_report(db_session(), evaluation, now())
    return download(data, filename_of(evaluation, "docx"), DOCX_MIMETYPE, f"evaluation-{evaluation.id}.docx")


@bp.route(f"/<{ID}:evaluation_id>/report.pdf")
@login_required
def report_pdf(evaluation_id: int) -> Response:
    """The report as PDF (LibreOffice converts the .docx); 404 with a message where it is not installed."""
    evaluation = _evaluation(evaluation_id)
    data = docx_to_pdf(evaluation_report(db_session(), evaluation, now()))
    return download(data, filename_of(evaluation, "pdf"), PDF_MIMETYPE, f"evaluation-{evaluation.id}.pdf")


@bp.context_processor
def _pdf_links() -> dict[str, bool]:
    """The evaluation page offers the PDF report only where the server can make one."""
    return {"pdf_available": pdf_available()}
