"""The import pages: upload a plan document, review and correct its draft, confirm it; the task list
(任务分解表) template, export and import.

Every route: load or 404 → permission (403) → validate the form → one service → flash → redirect. A refused
form comes back with the message next to its field (422); a draft changed by someone else since the page
was loaded is refused with 409. The work is in :mod:`.services`, :mod:`.draft`, :mod:`.confirm` and
:mod:`.tasklist`.

(Over 600 lines, one idea: the one ``imports`` blueprint, each route a thin one over the draft's operations.)
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from ..attachments.services import MAX_FILE_BYTES
from ..db import db_session
from ..errors import DomainError
from ..indicators.models import IndicatorNature
from ..permissions import (
    can_cascade_from,
    can_import,
    can_import_task_list,
    can_view_coverage,
    require,
)
from ..planning.models import InvestmentUnit, Plan, PlanStage
from ..planning.plan_views import load_plan
from ..regions.services import departments_of
from ..spreadsheets import XLSX_MIMETYPE, download
from ..tasks.models import TaskKind, TaskLevel
from ..timeutil import today
from ..web import ID, paginate, refuse
from . import confirm as confirming
from . import naming, revision, services, tasklist
from .draft import TYPE_LABELS, Draft, DraftIndicator, IndicatorInput, Item, ItemInput, ProjectInput
from .extract import STYLE_LABELS
from .forms import (
    ApplyRulesForm,
    BulkAssignForm,
    ConfirmForm,
    DecisionForm,
    DeleteItemForm,
    IndicatorForm,
    ItemForm,
    NatureForm,
    ProjectForm,
    RevForm,
    RevisionUploadForm,
    RuleForm,
    TaskListUploadForm,
    UploadForm,
    department_choices,
    task_list_apply_form,
)
from .limits import TIME_LIMIT_CONFIG, TIME_LIMIT_SECONDS
from .models import ImportDocument, ImportKind, ImportState, KeywordRule

bp = Blueprint("imports", __name__, static_folder="static", static_url_path="/imports-static")

Page = str | tuple[str, int] | Response
_DRAFT_ID = re.compile(r"^[a-z]\d{1,9}$")
ROLE_LABELS = {"chapter": "章", "section": "节（分组）", "key_task": "重点任务", "measure": "工作举措",
               "deep": "工作举措（更深层级）"}


# ------------------------------------------------------------------------------------------ helpers


def _document(document_id: int, kind: ImportKind | None = ImportKind.DOCUMENT) -> ImportDocument:
    # A write locks the row, so two saves of one draft run one after the other (and the second sees the
    # first's revision).
    document = db_session().get(ImportDocument, document_id, with_for_update=request.method == "POST")
    if document is None or (kind is not None and document.kind != kind):
        abort(404)
    require(services.can_work_on_import(current_user, document), services.NOT_YOURS)
    return document




def _draft_id(value: str) -> str:
    if not _DRAFT_ID.match(value):
        abort(404)
    return value


def _rev(form: Any) -> int | None:
    raw = form.rev.data
    return int(raw) if raw not in (None, "") and str(raw).isascii() and str(raw).isdigit() else None


def _status() -> int:
    return 422 if request.method == "POST" else 200


def _departments(document: ImportDocument) -> list[Any]:
    return departments_of(db_session(), document.region_id)


def _read_upload(form: Any) -> tuple[str, bytes]:
    storage = form.file.data
    data = storage.read(MAX_FILE_BYTES + 1)
    storage.close()
    return services.clean_filename(storage.filename or ""), data


def _back(document: ImportDocument, anchor: str | None = None) -> Response:
    return redirect(url_for("imports.show", document_id=document.id) + (f"#{anchor}" if anchor else ""))


@bp.app_context_processor
def _import_helpers() -> dict[str, Any]:
    """What the plan pages need to offer the import buttons."""

    def can(action: str, plan: Plan | None = None) -> bool:
        if not current_user.is_authenticated:
            return False
        session = db_session()
        match action:
            case "import":
                return can_import(current_user)
            case "tasklist":
                return plan is not None and can_import_task_list(current_user, plan)
            case "cascade":
                return plan is not None and can_cascade_from(session, current_user, plan)
            case "coverage":
                return plan is not None and can_view_coverage(session, current_user, plan)
        return False

    return {"imports_can": can}


# ------------------------------------------------------------------------------------------ documents


@bp.route("/imports", methods=["GET", "POST"])
@login_required
def index() -> Page:
    require(can_import(current_user), "只有规划处可以导入规划文档。")
    session = db_session()
    form = UploadForm()
    if form.validate_on_submit():
        filename, data = _read_upload(form)
        try:
            uploaded = services.upload_document(
                session, current_user, filename, data,
                time_limit=current_app.config.get(TIME_LIMIT_CONFIG, TIME_LIMIT_SECONDS))
        except DomainError as exc:
            refuse(form, exc, "file")
        else:
            document = uploaded.document
            if uploaded.outcome == "reopened":
                flash(f"该文件已上传过，继续处理之前的草稿（{document.created_at:%Y-%m-%d}上传）。", "info")
            elif uploaded.outcome == "update":
                flash(f"该文件已导入过《{document.plan.title if document.plan else ''}》，确认时可以选择更新原规划而不是新建。",
                      "warning")
            else:
                found = Draft.from_json(document.draft).counts()
                flash("已读取文档，识别出：" + "，".join(f"{k} {v}" for k, v in found.items() if v and k != "待核对")
                      + "。请核对标记为“待核对”的条目后确认。", "success")
            return redirect(url_for("imports.show", document_id=document.id))
    page = paginate(session, services.imports_of_region(current_user.region_id).options(
        selectinload(ImportDocument.plan)), size=20)
    return render_template("imports/index.html", form=form, page=page, counts=_counts), _status()


def _counts(stored: dict[str, Any]) -> dict[str, int]:
    return Draft.from_json(stored).counts()


@bp.route(f"/imports/<{ID}:document_id>")
@login_required
def show(document_id: int) -> Page:
    document = _document(document_id, kind=None)
    if document.kind == ImportKind.TASKLIST:
        return _tasklist_preview(document)
    return _preview(document)


def _preview(document: ImportDocument, *, rule_form: RuleForm | None = None,
             bulk_form: BulkAssignForm | None = None, nature_form: NatureForm | None = None,
             revise_form: RevisionUploadForm | None = None) -> str:
    """The draft as a tree with its indicators, tables, projects and candidates, and the forms to work on it."""
    session = db_session()
    departments = _departments(document)
    only_unsure = request.args.get("only") == "unsure"
    draft = Draft.from_json(document.draft)
    rows, folded = _fold_narrative(draft.tree())
    if only_unsure:
        rows = [(d, i) for d, i in rows if i.unsure]
    rev = draft.rev
    if rule_form is None:
        rule_form = RuleForm(formdata=None)
    rule_form.department_id.choices = department_choices(departments, "（选择单位）")
    if bulk_form is None:
        bulk_form = BulkAssignForm(formdata=None, rev=rev)
    bulk_form.lead.choices = department_choices(departments, "（选择单位）")
    if nature_form is None:
        nature_form = NatureForm(formdata=None, rev=rev)
    return render_template(
        "imports/show.html", document=document, draft=draft, rows=rows,
        names={d.id: d.name for d in departments}, found=draft.counts(),
        rules=services.keyword_rules(session, document.region_id), rule_form=rule_form,
        apply_form=ApplyRulesForm(formdata=None, rev=rev), bulk_form=bulk_form, rev=rev,
        type_labels=TYPE_LABELS, kinds={k.value: k.label for k in TaskKind},
        natures={n.value: n.label for n in IndicatorNature}, only_unsure=only_unsure,
        editable=document.state == ImportState.DRAFT, style_labels=STYLE_LABELS, role_labels=ROLE_LABELS,
        nature_form=nature_form, missing_natures=len(draft.missing_natures()),
        revise_form=revise_form or RevisionUploadForm(formdata=None), comparison=revision.revision_of(draft),
        change_labels=revision.STATUS_LABELS, what_labels=revision.WHAT_LABELS,
        unresolved=revision.unresolved(draft), bases=services.revision_bases(session, document),
        plan_changes=confirming.plan_differences(session, document) if document.plan else None,
        folded=folded, named=naming.named_departments(draft, departments),
    )


def _fold_narrative(tree: list[tuple[int, Item]]) -> tuple[list[tuple[int, Item]], dict[str, list[tuple[int, Item]]]]:
    """The tree with what lies under each narrative part (发展基础, 保障措施 …) folded into that part's row."""
    rows: list[tuple[int, Item]] = []
    folded: dict[str, list[tuple[int, Item]]] = {}
    open_part: tuple[int, str] | None = None  # depth and id of the narrative part being folded
    for depth, item in tree:
        if open_part is not None and depth > open_part[0]:
            folded[open_part[1]].append((depth - open_part[0], item))
            continue
        open_part = (depth, item.id) if item.narrative else None
        if item.narrative:
            folded[item.id] = []
        rows.append((depth, item))
    return rows, folded



@bp.route(f"/imports/<{ID}:document_id>/revise", methods=["POST"])
@login_required
def revise(document_id: int) -> Page:
    """上传修订版: a new version of this draft's (or confirmed import's) document."""
    document = _document(document_id)
    form = RevisionUploadForm()
    if form.validate_on_submit():
        filename, data = _read_upload(form)
        try:
            revised = services.upload_revision(
                db_session(), current_user, document, filename, data,
                time_limit=current_app.config.get(TIME_LIMIT_CONFIG, TIME_LIMIT_SECONDS))
        except DomainError as exc:
            refuse(form, exc, "file")
        else:
            flash(_revised_message(revised), "success")
            return _back(revised, "comparison")
    return _preview(document, revise_form=form), 422


def _revised_message(document: ImportDocument) -> str:
    summary = revision.revision_of(Draft.from_json(document.draft)) or {}
    conflicts = sum(1 for c in summary.get("changed", []) if c["conflict"])
    return (f"已作为新版本读取《{document.filename}》：新增 {len(summary.get('added', []))} 项，"
            f"原文修改 {len(summary.get('changed', []))} 项"
            + (f"（其中 {conflicts} 项您修改过，请逐项决定）" if conflicts else "")
            + f"，已删除 {len(summary.get('removed', []))} 项"
            + (f"，您删除过、新版仍有的 {len(summary['deleted'])} 项仍不列入" if summary.get("deleted") else "")
            + "；其余条目保留了您的核对和修改。")


@bp.route(f"/imports/<{ID}:document_id>/replace/<{ID}:base_id>", methods=["POST"])
@login_required
def replace(document_id: int, base_id: int) -> Response:
    """作为新版本替换草稿: the document just uploaded becomes the new version of another draft."""
    document = _document(document_id)
    base = _document(base_id)
    form = RevForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.replace_draft(db_session(), current_user, document, base)
    except DomainError as exc:
        refuse(None, exc)
        return _back(document)
    flash(_revised_message(document), "success")
    return _back(document, "comparison")


@bp.route(f"/imports/<{ID}:document_id>/revision/<entry_id>/<any(accept, keep, restore):action>", methods=["POST"])
@login_required
def revision_entry(document_id: int, entry_id: str, action: str) -> Response:
    """The planner's answer to one difference: take the new text, keep the correction, keep a removed entry."""
    document = _document(document_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    session = db_session()
    try:
        if action == "restore":
            name, restored = services.keep_removed(session, current_user, document, _draft_id(entry_id), _rev(form))
            flash(f"已{'恢复' if restored else '保留'}{name}，请核对它的位置。", "success")
        else:
            name = services.decide_revision(session, current_user, document, _draft_id(entry_id),
                                            action == "accept", _rev(form))
            flash(f"{'已采用新版原文' if action == 'accept' else '已保留您的修改'}：{name}。", "success")
            if form.back.data == "item":
                return redirect(url_for("imports.edit_item", document_id=document.id, item_id=entry_id))
    except DomainError as exc:
        refuse(None, exc)
    return _back(document, "comparison")


def _item_form(document: ImportDocument, draft: Draft, item: Item | None = None) -> ItemForm:
    form = ItemForm(data={"rev": draft.rev, **({
        "type": item.type, "code": item.code, "title": item.title, "description": item.description,
        "kind": item.kind or TaskKind.TASK.value, "parent": item.parent or "",
        "lead": item.lead, "co": item.co} if item else {})} if request.method == "GET" else None)
    departments = _departments(document)
    form.lead.choices = department_choices(departments, "（未分配）")
    form.co.choices = [(d.id, d.name) for d in departments]
    excluded = set()
    if item is not None:
        excluded = {item.id} | draft.descendants(item.id)
    form.parent.choices = [("", "（顶层）")] + [
        (i.id, f"{'　' * depth}{TYPE_LABELS[i.type]} {i.code} {i.title[:30]}")
        for depth, i in draft.tree() if i.id not in excluded and i.type in ("chapter", "section", "key_task")]
    return form


@bp.route(f"/imports/<{ID}:document_id>/items/<item_id>", methods=["GET", "POST"])
@login_required
def edit_item(document_id: int, item_id: str) -> Page:
    document = _document(document_id)
    draft = Draft.from_json(document.draft)
    item = next((i for i in draft.items if i.id == _draft_id(item_id)), None)
    if item is None:
        abort(404)
    form = _item_form(document, draft, item)
    status = _status()
    if form.validate_on_submit():
        try:
            services.update_item(db_session(), current_user, document, item_id, ItemInput(
                type=form.type.data, code=form.code.data, title=form.title.data, description=form.description.data,
                kind=form.kind.data, parent=form.parent.data or None, lead=form.lead.data, co=form.co.data or []),
                _rev(form))
        except DomainError as exc:
            status = refuse(form, exc)
        else:
            flash(f"已保存 {form.code.data} {form.title.data}。", "success")
            return _back(document, f"item-{item_id}")
    return render_template("imports/item_form.html", document=document, item=item, form=form, rev=draft.rev,
                           proposal=revision.proposal(draft, item)), status


@bp.route(f"/imports/<{ID}:document_id>/items/<item_id>/delete", methods=["POST"])
@login_required
def delete_item(document_id: int, item_id: str) -> Response:
    document = _document(document_id)
    form = DeleteItemForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        gone = services.delete_item(db_session(), current_user, document, _draft_id(item_id),
                                    with_children=form.with_children.data, rev=_rev(form))
    except DomainError as exc:
        if exc.status_code in (403, 409):
            raise
        flash(exc.message, "error")
        return _back(document)
    flash(f"已删除 {gone} 项。", "success")
    return _back(document, "tree")


@bp.route(f"/imports/<{ID}:document_id>/items/<item_id>/merge", methods=["POST"])
@login_required
def merge_item(document_id: int, item_id: str) -> Response:
    document = _document(document_id)
    form = RevForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        target = services.merge_item(db_session(), current_user, document, _draft_id(item_id), _rev(form))
    except DomainError as exc:
        if exc.status_code in (403, 409):
            raise
        flash(exc.message, "error")
        return _back(document)
    flash(f"已并入 {target.code} {target.title}。", "success")
    return _back(document, f"item-{target.id}")


@bp.route(f"/imports/<{ID}:document_id>/items/<item_id>/tasks", methods=["POST"])
@login_required
def make_tasks(document_id: int, item_id: str) -> Response:
    """转为任务: a chapter judged narrative whose headings are work after all."""
    document = _document(document_id)
    form = RevForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        made = services.make_tasks(db_session(), current_user, document, _draft_id(item_id), _rev(form))
    except DomainError as exc:
        if exc.status_code in (403, 409):
            raise
        flash(exc.message, "error")
        return _back(document)
    flash(f"已把 {made} 个小标题转为任务，请核对它们的类型和层级。", "success")
    return _back(document, f"item-{item_id}")


def _indicator_form(document: ImportDocument, draft: Draft, item: DraftIndicator) -> IndicatorForm:
    form = IndicatorForm(data={"rev": draft.rev, **{
        k: getattr(item, k) for k in ("number", "category", "name", "unit", "baseline", "baseline_year", "target",
                                      "target_year", "lead", "definition")}, "nature": item.nature or ""}
                         if request.method == "GET" else None)
    form.lead.choices = department_choices(_departments(document), "（未分配）")
    return form


@bp.route(f"/imports/<{ID}:document_id>/indicators/<indicator_id>", methods=["GET", "POST"])
@login_required
def edit_indicator(document_id: int, indicator_id: str) -> Page:
    document = _document(document_id)
    draft = Draft.from_json(document.draft)
    item = next((i for i in draft.indicators if i.id == _draft_id(indicator_id)), None)
    if item is None:
        abort(404)
    form = _indicator_form(document, draft, item)
    status = _status()
    if form.validate_on_submit():
        try:
            services.update_indicator(db_session(), current_user, document, indicator_id, IndicatorInput(
                number=form.number.data or 0, name=form.name.data, target=form.target.data,
                category=form.category.data, unit=form.unit.data, baseline=form.baseline.data,
                baseline_year=form.baseline_year.data, target_year=form.target_year.data,
                nature=form.nature.data or None, lead=form.lead.data, definition=form.definition.data), _rev(form))
        except DomainError as exc:
            status = refuse(form, exc)
        else:
            flash(f"已保存指标 {form.number.data}. {form.name.data}。", "success")
            return _back(document, f"indicator-{indicator_id}")
    return render_template("imports/indicator_form.html", document=document, item=item, form=form), status


@bp.route(f"/imports/<{ID}:document_id>/natures", methods=["POST"])
@login_required
def set_natures(document_id: int) -> Page:
    """The planner chooses the nature of every indicator the document did not mark."""
    document = _document(document_id)
    form = NatureForm()
    if form.validate_on_submit():
        try:
            n = services.set_missing_natures(db_session(), current_user, document, form.nature.data, _rev(form))
        except DomainError as exc:
            if exc.status_code in (403, 409):
                raise
            refuse(form, exc, "nature")
        else:
            flash(f"已把 {n} 项未注明属性的指标设为{IndicatorNature(form.nature.data).label}指标。", "success")
            return _back(document, "indicators")
    return _preview(document, nature_form=form), 422


@bp.route(f"/imports/<{ID}:document_id>/indicators/<indicator_id>/delete", methods=["POST"])
@login_required
def delete_indicator(document_id: int, indicator_id: str) -> Response:
    document = _document(document_id)
    form = RevForm()
    if not form.validate_on_submit():
        abort(400)
    services.delete_indicator(db_session(), current_user, document, _draft_id(indicator_id), _rev(form))
    flash("已删除该指标。", "success")
    return _back(document, "indicators")


@bp.route(f"/imports/<{ID}:document_id>/candidates/<candidate_id>/<any(promote, drop):action>", methods=["POST"])
@login_required
def candidate(document_id: int, candidate_id: str, action: str) -> Response:
    document = _document(document_id)
    form = RevForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if action == "promote":
            indicator = services.promote_candidate(db_session(), current_user, document, _draft_id(candidate_id),
                                                   _rev(form))
            flash(f"已转为指标 {indicator.number}. {indicator.name}，请核对。", "success")
            return _back(document, f"indicator-{indicator.id}")
        services.delete_candidate(db_session(), current_user, document, _draft_id(candidate_id), _rev(form))
    except DomainError as exc:
        if exc.status_code in (403, 409):
            raise
        flash(exc.message, "error")
    return _back(document, "candidates")


@bp.route(f"/imports/<{ID}:document_id>/projects/<project_id>", methods=["GET", "POST"])
@login_required
def edit_project(document_id: int, project_id: str) -> Page:
    document = _document(document_id)
    draft = Draft.from_json(document.draft)
    item = next((p for p in draft.projects if p.id == _draft_id(project_id)), None)
    if item is None:
        abort(404)
    form = ProjectForm(data={"rev": draft.rev, **{
        k: getattr(item, k) for k in ("name", "unit", "total", "period", "start_year", "end_year", "owner", "lead",
                                 "content", "remarks")}} if request.method == "GET" else None)
    form.lead.choices = department_choices(_departments(document), "（按建设单位匹配或默认）")
    status = _status()
    if form.validate_on_submit():
        try:
            services.update_project(db_session(), current_user, document, project_id, ProjectInput(
                name=form.name.data, unit=form.unit.data, content=form.content.data, total=form.total.data,
                period=form.period.data, owner=form.owner.data, remarks=form.remarks.data,
                start_year=form.start_year.data, end_year=form.end_year.data, lead=form.lead.data), _rev(form))
        except DomainError as exc:
            status = refuse(form, exc)
        else:
            flash(f"已保存项目“{form.name.data}”。", "success")
            return _back(document, "projects")
    return render_template("imports/project_form.html", document=document, item=item, form=form), status


@bp.route(f"/imports/<{ID}:document_id>/projects/<project_id>/delete", methods=["POST"])
@login_required
def delete_project(document_id: int, project_id: str) -> Response:
    document = _document(document_id)
    form = RevForm()
    if not form.validate_on_submit():
        abort(400)
    services.delete_project(db_session(), current_user, document, _draft_id(project_id), _rev(form))
    flash("已删除该项目。", "success")
    return _back(document, "projects")


@bp.route(f"/imports/<{ID}:document_id>/rules", methods=["POST"])
@login_required
def add_rule(document_id: int) -> Page:
    document = _document(document_id)
    form = RuleForm()
    form.department_id.choices = department_choices(_departments(document), "（选择单位）")
    if form.validate_on_submit():
        try:
            rule = services.save_rule(db_session(), current_user, form.keyword.data, form.department_id.data)
        except DomainError as exc:
            refuse(form, exc, "keyword")
        else:
            flash(f"已保存规则：含“{rule.keyword}”的任务由{rule.department.name}牵头。", "success")
            return _back(document, "rules")
    return _preview(document, rule_form=form), 422


@bp.route(f"/imports/rules/<{ID}:rule_id>/delete", methods=["POST"])
@login_required
def delete_rule(rule_id: int) -> Response:
    session = db_session()
    rule = session.get(KeywordRule, rule_id)
    if rule is None:
        abort(404)
    form = RevForm()
    if not form.validate_on_submit():
        abort(400)
    services.delete_rule(session, current_user, rule)
    flash(f"已删除规则“{rule.keyword}”。", "success")
    back = request.form.get("back", "")
    if back.isascii() and back.isdigit() and len(back) < 10:
        return redirect(url_for("imports.show", document_id=int(back)) + "#rules")
    return redirect(url_for("imports.index"))


@bp.route(f"/imports/<{ID}:document_id>/assign", methods=["POST"])
@login_required
def assign(document_id: int) -> Response:
    document = _document(document_id)
    form = ApplyRulesForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        result = services.apply_rules(db_session(), current_user, document, overwrite=form.overwrite.data,
                                      rev=_rev(form))
    except DomainError as exc:
        if exc.status_code in (403, 409):
            raise
        flash(exc.message, "error")
        return _back(document, "rules")
    message = f"已按规则分配：牵头单位 {result.leads} 项，配合单位 {result.co} 项。"
    if result.unmatched:
        message += f"另有 {len(result.unmatched)} 项没有匹配到规则，可逐项编辑、勾选后批量指定，或在确认时选择默认牵头单位。"
    flash(message, "success")
    return _back(document, "tree")


@bp.route(f"/imports/<{ID}:document_id>/bulk", methods=["POST"])
@login_required
def bulk(document_id: int) -> Page:
    document = _document(document_id)
    form = BulkAssignForm()
    form.lead.choices = department_choices(_departments(document), "（选择单位）")
    if form.validate_on_submit():
        try:
            n = services.assign_selected(db_session(), current_user, document, form.items.data or [], form.lead.data,
                                         [], _rev(form))
        except DomainError as exc:
            if exc.status_code in (403, 409):
                raise
            refuse(form, exc, "lead")
        else:
            flash(f"已为 {n} 项指定牵头单位。", "success")
            return _back(document, "tree")
    return _preview(document, bulk_form=form), 422


@bp.route(f"/imports/<{ID}:document_id>/discard", methods=["POST"])
@login_required
def discard(document_id: int) -> Response:
    document = _document(document_id, kind=None)
    form = RevForm()
    if not form.validate_on_submit():
        abort(400)
    services.discard(db_session(), current_user, document)
    flash(f"已放弃导入《{document.filename}》。", "success")
    return redirect(url_for("imports.index"))


@bp.route(f"/imports/<{ID}:document_id>/confirm", methods=["GET", "POST"])
@login_required
def confirm(document_id: int) -> Page:
    session = db_session()
    document = _document(document_id)
    if document.state != ImportState.DRAFT:
        flash(f"该导入{document.state.label}。", "info")
        return _back(document)
    draft = Draft.from_json(document.draft)
    plan_info = draft.plan
    title = plan_info.title or document.filename.rsplit(".", 1)[0]
    form = ConfirmForm(data={
        "mode": "update" if document.plan else "new", "title": title,
        "short_name": confirming.suggested_short_name(title), "start_year": plan_info.start_year,
        "end_year": plan_info.end_year, "issuing_body": plan_info.issuing_body,
        "investment_unit": draft.investment_unit().value, "stage_date": today(),
    } if request.method == "GET" else None)
    departments = _departments(document)
    form.default_lead_id.choices = department_choices(departments, "（不设默认）")
    from ..planning.services import parent_plan_options

    form.parent_id.choices = [("", "（无）")] + [(str(p.id), f"{p.title}（{p.region.name}）")
                                               for p in parent_plan_options(session, current_user)]
    status = _status()
    if form.validate_on_submit():
        try:
            result = confirming.confirm(session, current_user, document, confirming.ConfirmInput(
                title=form.title.data, short_name=form.short_name.data, start_year=form.start_year.data or 0,
                end_year=form.end_year.data or 0, parent_id=form.parent_id.data,
                issuing_body=form.issuing_body.data, doc_number=form.doc_number.data,
                investment_unit=InvestmentUnit(form.investment_unit.data), stage=PlanStage(form.stage.data),
                stage_date=form.stage_date.data, default_lead_id=form.default_lead_id.data,
                update=form.mode.data == "update" and document.plan is not None))
        except DomainError as exc:
            status = refuse(form, exc)
        else:
            created = "，".join(f"{k} {v} 项" for k, v in result.created.items() if v)
            updated = "，".join(f"{k} {v} 项" for k, v in result.updated.items() if v)
            flash(f"已导入《{result.plan.title}》：新建{created or '0 项'}" + (f"；更新{updated}" if updated else "")
                  + (f"；{result.defaulted} 项使用了默认牵头单位" if result.defaulted else "") + "。", "success")
            return redirect(url_for("plans.show", plan_id=result.plan.id))
    return render_template("imports/confirm.html", document=document, form=form, found=draft.counts(),
                           unassigned=draft.unassigned(), missing_natures=draft.missing_natures(),
                           unresolved=revision.unresolved(draft)), status


# ------------------------------------------------------------------------------------------ task list (Excel)


@bp.route(f"/plans/<{ID}:plan_id>/tasklist.xlsx")
@login_required
def export_tasklist(plan_id: int) -> Response:
    plan = load_plan(plan_id)
    data = tasklist.workbook(db_session(), plan, with_tasks=True)
    return download(data, f"{plan.short_name}-任务分解表-{today():%Y%m%d}.xlsx", XLSX_MIMETYPE)


@bp.route(f"/plans/<{ID}:plan_id>/tasklist-template.xlsx")
@login_required
def tasklist_template(plan_id: int) -> Response:
    plan = load_plan(plan_id)
    return download(tasklist.workbook(db_session(), plan, with_tasks=False), f"{plan.short_name}-任务分解表模板.xlsx",
                    XLSX_MIMETYPE)


@bp.route(f"/plans/<{ID}:plan_id>/tasklist/import", methods=["GET", "POST"])
@login_required
def import_tasklist(plan_id: int) -> Page:
    plan = load_plan(plan_id)
    require(can_import_task_list(current_user, plan), "只有本地区的规划处可以导入该规划的任务分解表。")
    form = TaskListUploadForm()
    problems: list[tasklist.Problem] = []
    if form.validate_on_submit():
        filename, data = _read_upload(form)
        try:
            document = tasklist.stage(db_session(), current_user, plan, filename, data)
        except tasklist.TaskListInvalid as exc:
            problems = exc.problems
            refuse(form, exc, "file")
        except DomainError as exc:
            refuse(form, exc, "file")
        else:
            return redirect(url_for("imports.show", document_id=document.id))
    return render_template("imports/tasklist_upload.html", plan=plan, form=form, problems=problems), _status()


def _tasklist_preview(document: ImportDocument) -> Page:
    plan = document.plan
    if plan is None:
        abort(404)
    session = db_session()
    rows = tasklist.staged_rows(document)
    diff = tasklist.changes(session, plan, rows) if document.state == ImportState.DRAFT else None
    form_class = task_list_apply_form([m.task.id for m in diff.missing] if diff else [])
    form = form_class()
    return render_template("imports/tasklist_preview.html", document=document, plan=plan, diff=diff, form=form,
                           levels=TaskLevel, action_form=RevForm())


@bp.route(f"/imports/<{ID}:document_id>/apply", methods=["POST"])
@login_required
def apply_tasklist(document_id: int) -> Page:
    session = db_session()
    document = _document(document_id, kind=ImportKind.TASKLIST)
    plan = document.plan
    if plan is None:
        abort(404)
    if document.state != ImportState.DRAFT:
        flash(f"该任务分解表{document.state.label}。", "info")
        return redirect(url_for("plans.show", plan_id=plan.id))
    diff = tasklist.changes(session, plan, tasklist.staged_rows(document))
    form = task_list_apply_form([m.task.id for m in diff.missing])()
    if not form.validate_on_submit():
        return render_template("imports/tasklist_preview.html", document=document, plan=plan, diff=diff, form=form,
                               levels=TaskLevel, action_form=RevForm()), 422
    choices = {m.task.id: getattr(form, f"choice_{m.task.id}").data for m in diff.missing}
    try:
        result = tasklist.apply(session, current_user, document, choices, form.reason.data)
    except tasklist.TaskListInvalid as exc:
        return render_template("imports/tasklist_preview.html", document=document, plan=plan, diff=diff, form=form,
                               levels=TaskLevel, action_form=RevForm(), problems=exc.problems), 422
    except DomainError as exc:
        status = refuse(form, exc)
        return render_template("imports/tasklist_preview.html", document=document, plan=plan, diff=diff, form=form,
                               levels=TaskLevel, action_form=RevForm()), status
    flash(f"任务分解表已导入：新建 {result.created} 项，更新 {result.updated} 项，终止 {result.closed} 项，"
          f"删除 {result.deleted} 项，保留 {result.kept} 项。", "success")
    return redirect(url_for("plans.show", plan_id=plan.id))
