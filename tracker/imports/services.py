"""Plan documents to drafts, and the planner's work on a draft.

The planner uploads a document; its draft (read by :mod:`.extract`, typed by :mod:`.draft`) is kept in
``ImportDocument.draft`` and edited there — items changed, deleted, merged and moved, departments assigned
by keyword rules — until the planner confirms it (:mod:`.confirm`). Uploading the same content again is
recognised by its SHA-256: an open draft is reopened, and a document already confirmed offers to update
that plan instead of creating a second one. A revised version of a document (另一份文件, the same plan) is
merged with the draft it revises by :mod:`.revision` — uploaded from the draft's page ("上传修订版") or
offered when a new upload matches an open draft or a confirmed import ("作为新版本替换草稿"). The edits themselves are :class:`.draft.Draft`'s methods; here
they get the permission and revision checks, the audit entry and the saving.

Every function takes the acting user, checks permission, writes audit entries and flushes; the caller's
unit of work commits. Refused input raises ``DomainError(field=...)`` before anything is changed.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..attachments.services import MAX_FILE_BYTES, check_upload, clean_filename
from ..auth.models import User
from ..errors import DomainError, InvalidTransition, StaleObject
from ..permissions import can_edit_plan, can_import, can_work_on_import, require
from ..planning.models import Plan
from ..regions.models import Department
from ..regions.services import departments_of
from ..timeutil import now
from . import revision
from .docx import convert_to_docx, read_docx
from .draft import (
    Assignment,
    Departments,
    Draft,
    DraftIndicator,
    DraftProject,
    IndicatorInput,
    Item,
    ItemInput,
    ProjectInput,
    Source,
)
from .extract import Block, extract
from .limits import TIME_LIMIT_SECONDS, Budget
from .models import ImportDocument, ImportKind, ImportState, KeywordRule
from .naming import assign_named_departments
from .pdf import read_pdf
from .text import decode, read_text

DOCUMENT_TYPES = {"docx": "Word 文档", "doc": "Word 97-2003 文档", "wps": "WPS 文档", "txt": "文本", "md": "Markdown",
                  "pdf": "PDF（带文字层）"}
DOCUMENT_TYPES_LABEL = "Word（.docx、.doc）、WPS（.wps）、文本（.txt、.md）、PDF（带文字层，.pdf）"
NOT_YOURS = "只有本地区的规划处可以处理该导入。"


def extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def _refuse(exc: DomainError) -> DomainError:
    return DomainError(exc.message, field="file")


def check_document(filename: str, data: bytes) -> str:
    """The document's type by its content (not only its name), or a DomainError saying what is wrong."""
    ext = extension(filename)
    if ext not in DOCUMENT_TYPES:
        raise DomainError(f"不支持的文件类型“.{ext or '（无扩展名）'}”，只接受{DOCUMENT_TYPES_LABEL}。", field="file")
    if ext in ("txt", "md"):
        try:
            check_upload("document.txt", data)
        except DomainError as exc:
            if not data or len(data) > MAX_FILE_BYTES:
                raise DomainError(exc.message.replace("document.txt", filename), field="file") from None
            decode(data)  # GBK text is fine; binary content is refused here
        return ext
    if ext == "pdf":
        try:
            check_upload(filename, data)
        except DomainError as exc:
            raise _refuse(exc) from None
        return ext
    try:
        check_upload(f"{filename.rsplit('.', 1)[0]}.{'docx' if ext == 'docx' else 'doc'}", data)
    except DomainError as exc:
        raise _refuse(exc) from None
    if ext == "docx":
        try:
            with zipfile.ZipFile(BytesIO(data)) as archive:
                if "word/document.xml" not in archive.namelist():
                    raise DomainError(f"文件“{filename}”不是 Word 文档（可能是改了扩展名的其他文件），已拒绝。",
                                      field="file")
        except zipfile.BadZipFile:
            raise DomainError(f"文件“{filename}”已损坏，无法作为 Word 文档读取。", field="file") from None
    return ext


def read_document(filename: str, data: bytes, budget: Budget | None = None) -> list[Block]:
    budget = budget or Budget()
    ext = check_document(filename, data)
    if ext == "docx":
        return read_docx(data, budget)
    if ext in ("doc", "wps"):
        converted = convert_to_docx(data, ext)
        budget.start()
        return read_docx(converted, budget)
    if ext == "pdf":
        return read_pdf(data, budget)
    return read_text(data, budget)


def draft_of(filename: str, data: bytes, budget: Budget | None = None) -> Draft:
    """The draft of a document (no database): for previews, the command line and tests. The budget (by
    default the limits of :mod:`.limits`) bounds the reading and the extraction together. An indicator the
    document gives no nature is marked for the planner to choose one (see :data:`.draft.NATURE_MISSING`)."""
    budget = budget or Budget()
    blocks = read_document(filename, data, budget)
    draft = Draft.from_json(extract(blocks, budget))
    for indicator in draft.missing_natures():
        indicator.doubt_nature()
    revision.remember_extraction(draft)
    return draft

# ------------------------------------------------------------------------------------------- upload


@dataclass
class Uploaded:
    document: ImportDocument
    outcome: str  # new | reopened | update


def _open_draft(session: Session, region_id: int, sha: str) -> ImportDocument | None:
    return session.scalar(
        select(ImportDocument)
        .where(ImportDocument.sha256 == sha, ImportDocument.region_id == region_id,
               ImportDocument.state == ImportState.DRAFT)
        .order_by(ImportDocument.id.desc()).limit(1)
    )


def _imported_plan(session: Session, region_id: int, sha: str) -> Plan | None:
    """The plan a document with this content was already confirmed into (if the plan still exists)."""
    return session.scalar(
        select(Plan).join(ImportDocument, ImportDocument.plan_id == Plan.id)
        .where(ImportDocument.sha256 == sha, ImportDocument.region_id == region_id,
               ImportDocument.state == ImportState.CONFIRMED)
        .order_by(ImportDocument.id.desc()).limit(1)
    )


def upload_document(session: Session, actor: User | None, filename: str, data: bytes, *,
                    region_id: int | None = None, plan: Plan | None = None,
                    time_limit: float | None = TIME_LIMIT_SECONDS) -> Uploaded:
    """Read a plan document into a draft for the actor's region (or ``region_id`` for the command line).
    A document over the limits of :mod:`.limits` (or reading longer than ``time_limit`` seconds) is refused
    and nothing is kept."""
    if actor is not None:
        require(can_import(actor), "只有规划处可以导入规划文档。")
        region_id = actor.region_id
        if plan is not None:
            require(can_edit_plan(actor, plan), "只有本地区的规划处可以更新该规划。")
    if plan is not None:
        region_id = plan.region_id
    if region_id is None:
        raise DomainError("请指定行政区划。", field="region")
    filename = clean_filename(filename)
    sha = hashlib.sha256(data).hexdigest()
    existing = _open_draft(session, region_id, sha)
    if existing is not None and existing.kind == ImportKind.DOCUMENT:
        return Uploaded(existing, "reopened")
    draft = draft_of(filename, data, Budget(time_limit))
    assign_named_departments(draft, departments_of(session, region_id))
    outcome = "new"
    if plan is None:
        plan = _imported_plan(session, region_id, sha)
        if plan is not None:
            outcome = "update"
    else:
        outcome = "update"
    draft.source = Source(filename=filename, size=len(data), type=DOCUMENT_TYPES[extension(filename)])
    document = ImportDocument(sha256=sha, filename=filename, kind=ImportKind.DOCUMENT, region_id=region_id, plan_id=plan.id if plan else None,
                              state=ImportState.DRAFT, draft=draft.to_json(), created_by_id=actor.id if actor else None,
                              created_at=now())
    session.add(document)
    session.flush()
    found = draft.counts()
    audit.record(session, actor, document, "upload",
                 summary=f"上传规划文档《{filename}》，识别出" + "，".join(f"{k}{v}" for k, v in found.items() if v))
    session.flush()
    return Uploaded(document, outcome)



# ------------------------------------------------------------------------------------------- editing the draft


def _working_copy(actor: User, document: ImportDocument, rev: int | None) -> Draft:
    require(can_work_on_import(actor, document), NOT_YOURS)
    if document.state != ImportState.DRAFT:
        raise InvalidTransition(f"该导入{document.state.label}，不能再修改。")
    if rev is not None and rev != document.draft.get("rev", 0):
        raise StaleObject("草稿在您打开页面后已被修改（可能是同事在同时处理），您的修改没有保存。请查看最新内容后重新操作。")
    return Draft.from_json(document.draft)


def _save(session: Session, actor: User, document: ImportDocument, draft: Draft, summary: str,
          changes: dict[str, list[Any]] | None = None) -> None:
    draft.rev += 1
    document.draft = draft.to_json()
    audit.record(session, actor, document, "edit", changes or {}, summary)
    session.flush()


def department_of(session: Session, region_id: int, dept_id: int | None, field_name: str,
                  what: str) -> Department | None:
    if dept_id is None:
        return None
    dept = session.get(Department, dept_id)
    if dept is None or dept.region_id != region_id:
        raise DomainError(f"所选{what}不属于本地区。", field=field_name)
    return dept


def _departments(session: Session, document: ImportDocument) -> Departments:
    """How the draft's edits check that a department chosen is of the document's region."""
    def department(dept_id: int | None, field_name: str, what: str) -> int | None:
        dept = department_of(session, document.region_id, dept_id, field_name, what)
        return dept.id if dept else None

    return department


def update_item(session: Session, actor: User, document: ImportDocument, item_id: str, data: ItemInput,
                rev: int | None) -> Item:
    """Change one item of the tree (type, code, title, text, kind, place, departments); it counts as checked."""
    draft = _working_copy(actor, document, rev)
    item, (before, after) = draft.update_item(item_id, data, _departments(session, document))
    _save(session, actor, document, draft, f"修改草稿条目 {item.code} {item.title[:30]}", audit.diff(before, after))
    return item


def delete_item(session: Session, actor: User, document: ImportDocument, item_id: str, *, with_children: bool,
                rev: int | None) -> int:
    """Remove an item; its children go with it or move up to its parent. Returns how many items went."""
    draft = _working_copy(actor, document, rev)
    item, gone = draft.delete_item(item_id, with_children=with_children)
    _save(session, actor, document, draft, f"删除草稿条目 {item.code} {item.title[:30]}"
          + (f"（连同 {gone - 1} 项下级）" if gone > 1 else ""))
    return gone


def make_tasks(session: Session, actor: User, document: ImportDocument, item_id: str, rev: int | None) -> int:
    """A part judged narrative holds work after all: its headings become tasks. Returns how many."""
    draft = _working_copy(actor, document, rev)
    item, made = draft.make_tasks(item_id)
    _save(session, actor, document, draft, f"把叙述性章节 {item.code} {item.title[:30]} 的 {made} 个小标题转为任务")
    return made


def merge_item(session: Session, actor: User, document: ImportDocument, item_id: str, rev: int | None) -> Item:
    """Fold an item into the one before it with the same parent (a task the document split in two)."""
    draft = _working_copy(actor, document, rev)
    item, target = draft.merge_item(item_id)
    _save(session, actor, document, draft, f"把“{item.title[:30]}”并入“{target.title[:30]}”")
    return target


def update_indicator(session: Session, actor: User, document: ImportDocument, indicator_id: str,
                     data: IndicatorInput, rev: int | None) -> DraftIndicator:
    draft = _working_copy(actor, document, rev)
    indicator, (before, after) = draft.update_indicator(indicator_id, data, _departments(session, document))
    _save(session, actor, document, draft, f"修改草稿指标 {indicator.number}. {indicator.name[:30]}",
          audit.diff(before, after))
    return indicator


def set_missing_natures(session: Session, actor: User, document: ImportDocument, nature: str | None,
                        rev: int | None) -> int:
    """The planner gives every indicator the document left without a nature the one they choose (the
    others keep theirs). Returns how many were set."""
    draft = _working_copy(actor, document, rev)
    chosen, n = draft.set_missing_natures(nature)
    _save(session, actor, document, draft, f"把未注明属性的 {n} 项指标设为{chosen.label}指标",
          {"nature": [None, chosen.label]})
    return n


def delete_indicator(session: Session, actor: User, document: ImportDocument, indicator_id: str,
                     rev: int | None) -> None:
    draft = _working_copy(actor, document, rev)
    indicator = draft.delete_indicator(indicator_id)
    _save(session, actor, document, draft, f"删除草稿指标 {indicator.number}. {indicator.name[:30]}")


def promote_candidate(session: Session, actor: User, document: ImportDocument, candidate_id: str,
                      rev: int | None) -> DraftIndicator:
    """A target found in the prose becomes an indicator of the draft (still to be checked)."""
    draft = _working_copy(actor, document, rev)
    candidate, indicator = draft.promote_candidate(candidate_id)
    _save(session, actor, document, draft, f"把正文目标“{candidate.name[:30]}”转为指标 {indicator.number}")
    return indicator


def delete_candidate(session: Session, actor: User, document: ImportDocument, candidate_id: str,
                     rev: int | None) -> None:
    draft = _working_copy(actor, document, rev)
    candidate = draft.delete_candidate(candidate_id)
    _save(session, actor, document, draft, f"忽略正文目标“{candidate.name[:30]}”")


def update_project(session: Session, actor: User, document: ImportDocument, project_id: str, data: ProjectInput,
                   rev: int | None) -> DraftProject:
    draft = _working_copy(actor, document, rev)
    project = draft.update_project(project_id, data, _departments(session, document))
    _save(session, actor, document, draft, f"修改草稿项目“{project.name[:30]}”")
    return project


def delete_project(session: Session, actor: User, document: ImportDocument, project_id: str,
                   rev: int | None) -> None:
    draft = _working_copy(actor, document, rev)
    project = draft.delete_project(project_id)
    _save(session, actor, document, draft, f"删除草稿项目“{project.name[:30]}”")


# -- departments: keyword rules and bulk assignment ------------------------------------------------------



def keyword_rules(session: Session, region_id: int) -> list[KeywordRule]:
    return list(session.scalars(select(KeywordRule).where(KeywordRule.region_id == region_id)
                                .order_by(KeywordRule.keyword)))


def save_rule(session: Session, actor: User, keyword: str, department_id: int | None) -> KeywordRule:
    """A rule "titles holding this keyword go to this department" for the planner's region (replaced
    when the keyword already has one)."""
    require(can_import(actor), "只有规划处可以设置分配规则。")
    keyword = (keyword or "").strip()
    if not keyword:
        raise DomainError("请填写关键词。", field="keyword")
    if len(keyword) > 40:
        raise DomainError("关键词不能超过40个字。", field="keyword")
    if department_id is None:
        raise DomainError("请选择责任单位。", field="department_id")
    dept = department_of(session, actor.region_id, department_id, "department_id", "责任单位")
    assert dept is not None
    rule = session.scalar(select(KeywordRule).where(KeywordRule.region_id == actor.region_id,
                                                    KeywordRule.keyword == keyword))
    if rule is None:
        rule = KeywordRule(region_id=actor.region_id, keyword=keyword, department_id=dept.id)
        session.add(rule)
        session.flush()
        audit.record(session, actor, rule, "create", {"keyword": [None, keyword], "department": [None, dept.name]},
                     f"新增分配规则：含“{keyword}”的任务由{dept.name}牵头")
    elif rule.department_id != dept.id:
        old = session.get(Department, rule.department_id)
        rule.department_id = dept.id
        audit.record(session, actor, rule, "update", {"department": [old.name if old else None, dept.name]},
                     f"修改分配规则：含“{keyword}”的任务改由{dept.name}牵头")
    session.flush()
    return rule


def delete_rule(session: Session, actor: User, rule: KeywordRule) -> None:
    require(can_import(actor) and rule.region_id == actor.region_id, "只能删除本地区的分配规则。")
    audit.record(session, actor, rule, "delete", {"keyword": [rule.keyword, None]}, f"删除分配规则“{rule.keyword}”")
    session.delete(rule)
    session.flush()



def apply_rules(session: Session, actor: User, document: ImportDocument, *, overwrite: bool,
                rev: int | None) -> Assignment:
    """Assign departments by the region's keyword rules (see :meth:`.draft.Draft.apply_rules`)."""
    draft = _working_copy(actor, document, rev)
    rules = [(r.keyword, r.department_id) for r in keyword_rules(session, document.region_id)]
    if not rules:
        raise DomainError("还没有分配规则。请先添加“关键词 → 责任单位”规则。", field="keyword")
    result = draft.apply_rules(rules, overwrite=overwrite)
    _save(session, actor, document, draft, f"按关键词规则分配责任单位：牵头 {result.leads} 项，配合 {result.co} 项")
    return result


def assign_selected(session: Session, actor: User, document: ImportDocument, item_ids: list[str], lead_id: int | None,
                    co_ids: list[int], rev: int | None) -> int:
    """Give the chosen items one lead department and/or add co-operating departments."""
    draft = _working_copy(actor, document, rev)
    if not item_ids:
        raise DomainError("请先勾选要分配的任务。", field="items")
    if lead_id is None and not co_ids:
        raise DomainError("请选择牵头单位或配合单位。", field="lead")
    department = _departments(session, document)
    lead = department(lead_id, "lead", "牵头单位")
    co = [d for d in (department(i, "co", "配合单位") for i in co_ids) if d]
    n = draft.assign(item_ids, lead, co)
    _save(session, actor, document, draft, f"批量分配责任单位：{n} 项")
    return n


def discard(session: Session, actor: User, document: ImportDocument) -> None:
    require(can_work_on_import(actor, document), NOT_YOURS)
    if document.state != ImportState.DRAFT:
        raise InvalidTransition(f"该导入{document.state.label}。")
    document.state = ImportState.DISCARDED
    audit.record(session, actor, document, "discard", {"state": ["待确认", "已放弃"]}, "放弃导入")
    session.flush()



# ------------------------------------------------------------------------------------------- revised documents


def revision_bases(session: Session, document: ImportDocument) -> list[ImportDocument]:
    """What a freshly uploaded document may be a new version of: the region's open drafts and confirmed
    imports (whose plan still exists) of the same plan, uploaded before it — the same period, and the same
    title or many items in common. Newest first; empty once the document is itself a revision."""
    if document.state != ImportState.DRAFT or document.kind != ImportKind.DOCUMENT:
        return []
    new = Draft.from_json(document.draft)
    if revision.revision_of(new) is not None:
        return []
    found = []
    for other in session.scalars(
        select(ImportDocument).where(
            ImportDocument.region_id == document.region_id, ImportDocument.kind == ImportKind.DOCUMENT,
            ImportDocument.id < document.id, ImportDocument.sha256 != document.sha256,
            (ImportDocument.state == ImportState.DRAFT)
            | ((ImportDocument.state == ImportState.CONFIRMED) & ImportDocument.plan_id.is_not(None)))
        .order_by(ImportDocument.id.desc()).limit(50)
    ):
        old = Draft.from_json(other.draft)
        if (old.plan.start_year, old.plan.end_year) != (new.plan.start_year, new.plan.end_year) or not old.items:
            continue
        if revision.same_plan(old, new):
            found.append(other)
    return found


def _check_base(actor: User, base: ImportDocument) -> None:
    require(can_work_on_import(actor, base), NOT_YOURS)
    if base.kind != ImportKind.DOCUMENT:
        raise DomainError("任务分解表不能上传修订版。", field="file")
    if base.state == ImportState.DISCARDED:
        raise InvalidTransition("该导入已放弃（或已被新版本替换），不能再上传修订版。")
    if base.state == ImportState.CONFIRMED and base.plan is None:
        raise InvalidTransition("该导入对应的规划已不存在，请作为新文档上传。")


def _revise(session: Session, actor: User, base: ImportDocument, document: ImportDocument, new: Draft) -> dict[str, Any]:
    """Merge ``new`` (the document's extraction) with the base's draft into ``document``; an open base
    draft is replaced (state 已放弃), a confirmed one stays and the new draft updates its plan."""
    old = Draft.from_json(base.draft)
    if not revision.same_plan(old, new):
        raise DomainError(f"文件《{document.filename}》"
                          + (f"是《{new.plan.title}》，" if new.plan.title else "与本草稿的条目几乎没有相同之处，")
                          + f"不是《{old.plan.title or base.filename}》的修订版，已拒绝。请在“导入”页作为新文档上传。",
                          field="file")
    merged, summary = revision.merge(old, new, previous_id=base.id, previous_filename=base.filename)
    document.draft = merged.to_json()
    if base.state == ImportState.CONFIRMED:
        document.plan_id = base.plan_id
    else:
        document.plan_id = base.plan_id
        base.state = ImportState.DISCARDED
        base.draft = {**base.draft, "replaced_by": document.id}  # (the rest of the old draft stays as it was)
        audit.record(session, actor, base, "replace", {"state": ["待确认", "已放弃"]},
                     f"草稿被修订版《{document.filename}》替换（导入 {document.id}）")
    conflicts = sum(1 for c in summary["changed"] if c["conflict"])
    audit.record(session, actor, document, "revise", {},
                 f"作为《{base.filename}》（导入 {base.id}）的新版本：新增 {len(summary['added'])} 项，"
                 f"原文修改 {len(summary['changed'])} 项（其中与已有修改冲突 {conflicts} 项），"
                 f"已删除 {len(summary['removed'])} 项"
                 + (f"，您删除过、新版仍有的 {len(summary['deleted'])} 项仍不列入" if summary["deleted"] else ""))
    session.flush()
    return summary


def upload_revision(session: Session, actor: User, base: ImportDocument, filename: str, data: bytes, *,
                    time_limit: float | None = TIME_LIMIT_SECONDS) -> ImportDocument:
    """A revised version of the base's document, uploaded from the base's page: a new draft that keeps the
    planner's work (see :mod:`.revision`). A file that cannot be read, or is of another plan, is refused
    and the base is left as it was."""
    require(can_import(actor), "只有规划处可以导入规划文档。")
    _check_base(actor, base)
    filename = clean_filename(filename)
    sha = hashlib.sha256(data).hexdigest()
    if sha == base.sha256:
        raise DomainError(f"文件《{filename}》与当前版本内容完全相同，无需作为修订版上传。", field="file")
    new = draft_of(filename, data, Budget(time_limit))
    assign_named_departments(new, departments_of(session, base.region_id))
    new.source = Source(filename=filename, size=len(data), type=DOCUMENT_TYPES[extension(filename)])
    document = ImportDocument(sha256=sha, filename=filename, kind=ImportKind.DOCUMENT, region_id=base.region_id,
                              state=ImportState.DRAFT, draft={}, created_by_id=actor.id, created_at=now())
    with session.begin_nested():  # a refused file leaves nothing behind
        session.add(document)
        session.flush()
        _revise(session, actor, base, document, new)
    return document


def replace_draft(session: Session, actor: User, document: ImportDocument, base: ImportDocument) -> dict[str, Any]:
    """A document just uploaded becomes the new version of the base ("作为新版本替换草稿"): its draft is
    merged with the base's."""
    require(can_work_on_import(actor, document), NOT_YOURS)
    if document.state != ImportState.DRAFT or document.kind != ImportKind.DOCUMENT:
        raise InvalidTransition(f"该导入{document.state.label}，不能再作为新版本。")
    if base.id == document.id or base.region_id != document.region_id:
        raise DomainError("请选择本地区的另一份草稿。")
    new = Draft.from_json(document.draft)
    if revision.revision_of(new) is not None:
        raise InvalidTransition("该草稿已经是一份修订版。")
    _check_base(actor, base)
    for entry in (*new.items, *new.indicators, *new.projects):  # what the planner did to it so far counts as read
        entry.extra["extracted"] = revision.snapshot(entry)
    with session.begin_nested():
        return _revise(session, actor, base, document, new)


def decide_revision(session: Session, actor: User, document: ImportDocument, entry_id: str, accept: bool,
                    rev: int | None) -> str:
    """The planner settles a "原文已修改" entry: the document's new text, or their own correction."""
    draft = _working_copy(actor, document, rev)
    entry = revision.decide(draft, entry_id, accept)
    name = revision.label(entry)
    _save(session, actor, document, draft, f"{'采用新版原文' if accept else '保留已有修改'}：{name[:40]}")
    return name


def keep_removed(session: Session, actor: User, document: ImportDocument, entry_id: str,
                 rev: int | None) -> tuple[str, bool]:
    """Keep an entry the revised document no longer has, or restore one the planner had deleted. Returns its
    name and whether it was the planner's deletion undone."""
    draft = _working_copy(actor, document, rev)
    entry = revision.restore(draft, entry_id)
    name = revision.label(entry)
    restored = entry.extra["change"] == "restored"
    _save(session, actor, document, draft,
          f"恢复您删除过、新版仍有的{name[:40]}" if restored else f"保留新版文档中已删除的{name[:40]}")
    return name, restored


# ------------------------------------------------------------------------------------------- reading helpers


def imports_of_region(region_id: int) -> Any:
    """The region's imports, newest first (a statement for the paginated list)."""
    return select(ImportDocument).where(ImportDocument.region_id == region_id).order_by(ImportDocument.id.desc())


