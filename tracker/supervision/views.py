from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from ..auth.models import Role
from ..db import db_session
from ..documents import PDF_MIMETYPE, docx_to_pdf, pdf_available
from ..errors import DomainError
from ..permissions import (
    CASE_LIST_ROLES,
    can_supervise,
    can_supervise_task,
    can_view_case,
    require,
    roles_required,
)
from ..regions.models import Department
from ..spreadsheets import DOCX_MIMETYPE, XLSX_MIMETYPE, download
from ..tasks.models import Task
from ..timeutil import now, today
from ..web import (
    ID,
    INTEGER_LIMIT,
    also_rule_errors,
    enum_arg,
    form_version,
    int_arg,
    local_path,
    paginate,
    refuse,
)
from .documents import STEP_DOCUMENTS, notice_docx, notice_fields, step_docx, step_filename
from .forms import ActionForm, CaseForm, FromAlertsForm
from .ledger import ledger_workbook
from .models import CaseAction, CaseOutcome, CaseSource, CaseState, CaseStep, SupervisionCase
from .services import (
    COLOUR_LABELS,
    CaseFilters,
    CaseInput,
    allowed_actions,
    case_departments,
    case_list,
    case_regions,
    cases_from_alerts,
    check_case,
    colour,
    department_choices,
    file_case,
    open_case_for_task,
    perform,
    state_counts,
    suggested_alerts,
)

bp = Blueprint("supervision", __name__, url_prefix="/supervision")

def load_case(case_id: int) -> SupervisionCase:
    session = db_session()
    case = session.get(SupervisionCase, case_id, options=[
        selectinload(SupervisionCase.steps).selectinload(CaseStep.attachments)])
    if case is None:
        abort(404)
    require(can_view_case(session, current_user, case), "该督办件不在您的管辖范围内。")
    return case


def _filters() -> CaseFilters:
    """The list's filters from the query string; an unknown value is a 400."""
    colour_name = request.args.get("colour") or None
    if colour_name not in (None, *COLOUR_LABELS):
        abort(400)
    return CaseFilters(state=enum_arg(CaseState, "state"), source=enum_arg(CaseSource, "source"), colour=colour_name,
                       department_id=int_arg("department"), year=int_arg("year", lo=1990, hi=2100),
                       region_id=int_arg("region"))


@bp.route("/")
@login_required
@roles_required(*CASE_LIST_ROLES)
def index() -> str:
    session = db_session()
    day = today()
    filters = _filters()
    page = paginate(session, case_list(session, current_user, filters, day))
    suggestions = suggested_alerts(session, current_user) if can_supervise(current_user) else []
    return render_template(
        "supervision/index.html", page=page, counts=state_counts(session, current_user), states=CaseState, sources=CaseSource,
        colours=COLOUR_LABELS, colour=colour, filters=filters,
        departments=case_departments(session, current_user, filters), regions=case_regions(session, current_user, filters.region_id),
        suggestions=suggestions, from_alerts_form=FromAlertsForm(), day=day,
        can_file=can_supervise(current_user))


@bp.route("/new", methods=["GET", "POST"])
@login_required
@roles_required(Role.SUPERVISOR)
def new():  # type: ignore[no-untyped-def]
    session = db_session()
    form = CaseForm()
    form.department_id.choices = department_choices(session, current_user)
    task = None
    task_id = form.task_id.data if request.method == "POST" else int_arg("task")
    if task_id and 0 < task_id <= INTEGER_LIMIT:  # a larger number is refused by the form below
        task = session.get(Task, task_id)
        if task is not None and not can_supervise_task(session, current_user, task):
            abort(403)  # before anything of it is read: its plan, title or open case
        if request.method == "GET" and task is not None:
            existing = open_case_for_task(session, task.id)
            if existing is not None:
                flash(f"该任务已有未销号的督办件 {existing.number_label}，已为您打开。", "warning")
                return redirect(url_for("supervision.show", case_id=existing.id))
            form.task_id.data = task.id
            form.department_id.data = task.lead_department_id
            form.title.data = f"关于“{task.title}”的督办"
    if form.is_submitted() and not form.validate():
        also_rule_errors(form, lambda: check_case(session, current_user, _case_input(session, form, task, task_id)))
    elif form.is_submitted():
        try:
            case = file_case(session, current_user, _case_input(session, form, task, task_id))
            perform(session, current_user, case, CaseAction.ISSUE, version=case.version_id,
                    response_days=form.response_days.data)
        except DomainError as exc:
            status = refuse(form, exc)
            return render_template("supervision/new.html", form=form, task=task), status
        flash(f"已立案并下发督办单 {case.number_label}。", "success")
        return redirect(url_for("supervision.show", case_id=case.id))
    status = 422 if request.method == "POST" else 200
    return render_template("supervision/new.html", form=form, task=task), status


def _case_input(session: Any, form: CaseForm, task: Task | None, task_id: int | None) -> CaseInput:
    """What the 立案 form asks for, or a refusal at its field (a task or department that is not there)."""
    if task_id and task is None:
        raise DomainError("任务不存在。", field="task_id")
    department = session.get(Department, form.department_id.data) if form.department_id.data else None
    if department is None:
        raise DomainError("责任单位不存在。", field="department_id")
    if form.source.data not in {s.value for s in CaseSource}:
        raise DomainError("请选择来源。", field="source")
    return CaseInput(source=CaseSource(form.source.data), department=department, task=task,
                     title=form.title.data or "", problem=form.problem.data or "",
                     requirements=form.requirements.data, instruction=form.instruction.data)


@bp.route("/from-alerts", methods=["POST"])
@login_required
@roles_required(Role.SUPERVISOR)
def from_alerts():  # type: ignore[no-untyped-def]
    session = db_session()
    form = FromAlertsForm()
    ids = [int(i) for i in request.form.getlist("alert_ids") if i.isascii() and i.isdigit() and len(i) < 10]
    back = local_path(request.form.get("back")) or url_for("supervision.index")
    if not form.validate_on_submit():
        flash("；".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect(back)
    try:
        result = cases_from_alerts(session, current_user, ids, requirements=form.requirements.data,
                                   response_days=form.response_days.data or 10)
    except DomainError as exc:
        refuse(None, exc)
        return redirect(back)
    if result.created:
        flash(f"已立案并下发 {len(result.created)} 件督办单：" + "、".join(c.number_label for c in result.created), "success")
    for task, existing in result.skipped:
        flash(f"“{task.title}”已有未销号的督办件 {existing.number_label}，未重复立案。", "warning")
    if len(result.created) == 1 and not result.skipped:
        return redirect(url_for("supervision.show", case_id=result.created[0].id))
    return redirect(url_for("supervision.index"))


@bp.route("/ledger.xlsx")
@login_required
@roles_required(*CASE_LIST_ROLES)
def ledger() -> Response:
    """督办台账: the list exactly as filtered, every case with its course."""
    session = db_session()
    filters = _filters()
    data = ledger_workbook(session, current_user, filters, today(), case_departments(session, current_user, filters),
                           now(), current_user.department.region.name)
    return download(data, f"督办台账_{today():%Y%m%d}.xlsx", XLSX_MIMETYPE, "ledger.xlsx")


@bp.route(f"/<{ID}:case_id>")
@login_required
def show(case_id: int) -> str:
    case = load_case(case_id)
    form = ActionForm()
    form.version.data = case.version_id
    return render_template("supervision/show.html", case=case, form=form, actions=allowed_actions(case, current_user),
                           colour=colour(case), colour_labels=COLOUR_LABELS, outcomes=CaseOutcome,
                           CaseAction=CaseAction)


@bp.route(f"/<{ID}:case_id>/<action>", methods=["POST"])
@login_required
def act(case_id: int, action: str):  # type: ignore[no-untyped-def]
    session = db_session()
    case = load_case(case_id)
    try:
        case_action = CaseAction(action)
    except ValueError:
        abort(404)
    form = ActionForm()
    if not form.validate_on_submit():
        return render_template("supervision/show.html", case=case, form=form, failed_action=case_action,
                               actions=allowed_actions(case, current_user), colour=colour(case),
                               colour_labels=COLOUR_LABELS, outcomes=CaseOutcome, CaseAction=CaseAction), 422
    try:
        perform(session, current_user, case, case_action, comment=form.comment.data, version=form_version(form),
                response_days=form.response_days.data, outcome=CaseOutcome(form.outcome.data) if form.outcome.data
                else None, rating=int(form.rating.data) if form.rating.data else None,
                files=request.files.getlist(form.files.name))
    except DomainError as exc:
        status = refuse(form, exc, "comment")
        return render_template("supervision/show.html", case=case, form=form, failed_action=case_action,
                               actions=allowed_actions(case, current_user), colour=colour(case),
                               colour_labels=COLOUR_LABELS, outcomes=CaseOutcome, CaseAction=CaseAction), status
    flash(f"已{case_action.label}。", "success")
    return redirect(url_for("supervision.show", case_id=case.id))


@bp.route(f"/<{ID}:case_id>/notice")
@login_required
def notice(case_id: int) -> str:
    case = load_case(case_id)
    if case.number_seq is None:
        abort(404)
    return render_template("supervision/notice.html", case=case, fields=notice_fields(case),
                           issuer=case.issuing_body)


@bp.route(f"/<{ID}:case_id>/notice.docx")
@login_required
def notice_document(case_id: int) -> Response:
    case = load_case(case_id)
    if case.number_seq is None:
        abort(404)
    data = notice_docx(case, case.issuing_body)
    return download(data, f"督办单{case.number_year}-{case.number_seq}.docx", DOCX_MIMETYPE, "notice.docx")


@bp.route(f"/<{ID}:case_id>/notice.pdf")
@login_required
def notice_pdf(case_id: int) -> Response:
    """The 督办单 as PDF (LibreOffice converts the .docx); 404 with a message where it is not installed."""
    case = load_case(case_id)
    if case.number_seq is None:
        abort(404)
    data = docx_to_pdf(notice_docx(case, case.issuing_body))
    return download(data, f"督办单{case.number_year}-{case.number_seq}.pdf", PDF_MIMETYPE, "notice.pdf")


@bp.route(f"/<{ID}:case_id>/steps/<{ID}:step_id>.<any(docx, pdf):fmt>")
@login_required
def step_document(case_id: int, step_id: int, fmt: str) -> Response:
    """The 约谈通知书 or 情况通报 of an escalation step (.docx, or .pdf where LibreOffice is installed)."""
    case = load_case(case_id)
    step = next((s for s in case.steps if s.id == step_id and s.action in STEP_DOCUMENTS), None)
    if step is None:
        abort(404)
    data = step_docx(case, step)
    if fmt == "pdf":
        return download(docx_to_pdf(data), step_filename(case, step, "pdf"), PDF_MIMETYPE, "step.pdf")
    return download(data, step_filename(case, step, "docx"), DOCX_MIMETYPE, "step.docx")


@bp.context_processor
def _pdf_links() -> dict[str, object]:
    """The case page offers the PDF only where the server can make one, and each escalation step's document."""
    return {"pdf_available": pdf_available(), "step_documents": STEP_DOCUMENTS}
