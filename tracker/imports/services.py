"""Plan documents to drafts, drafts to plans.

The planner uploads a document; its draft (see :mod:`.extract`) is kept in ``ImportDocument.draft`` and
edited there — items changed, deleted, merged and moved, departments assigned by keyword rules — until
the planner confirms it: the plan, its tasks, indicators and key projects are then created together by
the planning area's own services (so every rule and audit entry is the same as by hand). Uploading the
same content again is recognised by its SHA-256: an open draft is reopened, and a document already
confirmed offers to update that plan instead of creating a second one.

Every function takes the acting user, checks permission, writes audit entries and flushes; the caller's
unit of work commits. Refused input raises ``DomainError(field=...)`` before anything is changed.
"""

from __future__ import annotations

import copy
import hashlib
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date
from io import BytesIO
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..attachments.services import MAX_FILE_BYTES, check_upload, clean_filename
from ..auth.models import User
from ..errors import DomainError, InvalidTransition, StaleObject
from ..indicators.models import Indicator, IndicatorNature
from ..permissions import can_edit_plan, can_import, can_work_on_import, require
from ..plans.models import InvestmentUnit, Plan, PlanLevel, PlanStage
from ..projects import amounts
from ..projects.models import KeyProject, ProjectKind, ProjectStatus
from ..regions.models import Department
from ..tasks.models import PROJECT_KINDS, Task, TaskKind, TaskLevel
from ..tasks.services import roll_up_plan
from ..timeutil import now
from .docx import convert_to_docx, read_docx
from .extract import TYPE_LABELS, Block, counts, extract, name_key
from .limits import TIME_LIMIT_SECONDS, Budget
from .models import ImportDocument, ImportState, KeywordRule
from .text import decode, read_text

DOCUMENT_TYPES = {"docx": "Word 文档", "doc": "Word 97-2003 文档", "wps": "WPS 文档", "txt": "文本", "md": "Markdown"}
DOCUMENT_TYPES_LABEL = "Word（.docx、.doc）、WPS（.wps）、文本（.txt、.md）"
NOT_YOURS = "只有本地区的规划处可以处理该导入。"
ITEM_TYPES = ("chapter", "section", "key_task", "measure", "box")
# Where each draft item may sit (None: the top of the tree).
ITEM_PARENTS: dict[str, frozenset[str | None]] = {
    "chapter": frozenset({None}),
    "section": frozenset({None, "chapter", "section"}),
    "key_task": frozenset({None, "chapter", "section"}),
    "measure": frozenset({"key_task"}),
    "box": frozenset({None, "chapter", "section", "key_task"}),
}
PLACEMENT = {
    "chapter": "章只能位于顶层。",
    "section": "节只能位于顶层或章之下。",
    "key_task": "重点任务须位于顶层、章或节之下。",
    "measure": "工作举措须位于重点任务之下。",
    "box": "专栏须位于重点任务、章或节之下。",
}


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
    return read_text(data, budget)


def draft_of(filename: str, data: bytes, budget: Budget | None = None) -> dict[str, Any]:
    """The draft of a document (no database): for previews, the command line and tests. The budget (by
    default the limits of :mod:`.limits`) bounds the reading and the extraction together."""
    budget = budget or Budget()
    blocks = read_document(filename, data, budget)
    draft = extract(blocks, budget)
    for indicator in draft.get("indicators", []):
        if not indicator.get("nature"):
            _doubt_nature(indicator)
    draft["kind"] = "document"
    draft["rev"] = 0
    return draft


# A document that does not say whether an indicator is 约束性 or 预期性 leaves it to the planner: the
# nature decides whether a lagging value raises an alert, so it is never guessed.
NATURE_MISSING = "文档未注明指标属性（约束性或预期性），请选择"


def _doubt_nature(indicator: dict[str, Any]) -> None:
    reasons = [r for r in (indicator.get("reason") or "").split("；") if r and r != NATURE_MISSING]
    indicator["unsure"], indicator["reason"] = True, "；".join([*reasons, NATURE_MISSING])


def _nature_chosen(indicator: dict[str, Any], nature: str) -> None:
    """The planner chose the nature: the doubt about it goes, any other doubt stays."""
    indicator["nature"] = nature
    reasons = [r for r in (indicator.get("reason") or "").split("；") if r and r != NATURE_MISSING]
    indicator["reason"] = "；".join(reasons) or None
    indicator["unsure"] = bool(reasons) and bool(indicator.get("unsure"))


def missing_natures(draft: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in draft.get("indicators", []) if not i.get("nature")]


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
    if existing is not None and existing.draft.get("kind") == "document":
        return Uploaded(existing, "reopened")
    draft = draft_of(filename, data, Budget(time_limit))
    outcome = "new"
    if plan is None:
        plan = _imported_plan(session, region_id, sha)
        if plan is not None:
            outcome = "update"
    else:
        outcome = "update"
    draft["source"] = {"filename": filename, "size": len(data), "type": DOCUMENT_TYPES[extension(filename)]}
    document = ImportDocument(sha256=sha, filename=filename, region_id=region_id, plan_id=plan.id if plan else None,
                              state=ImportState.DRAFT, draft=draft, created_by_id=actor.id if actor else None,
                              created_at=now())
    session.add(document)
    session.flush()
    found = counts(draft)
    audit.record(session, actor, document, "upload",
                 summary=f"上传规划文档《{filename}》，识别出" + "，".join(f"{k}{v}" for k, v in found.items() if v))
    session.flush()
    return Uploaded(document, outcome)


# ------------------------------------------------------------------------------------------- editing the draft


def _working_copy(actor: User, document: ImportDocument, rev: int | None) -> dict[str, Any]:
    require(can_work_on_import(actor, document), NOT_YOURS)
    if document.state != ImportState.DRAFT:
        raise InvalidTransition(f"该导入{document.state.label}，不能再修改。")
    if rev is not None and rev != document.draft.get("rev", 0):
        raise StaleObject("草稿在您打开页面后已被修改（可能是同事在同时处理），您的修改没有保存。请查看最新内容后重新操作。")
    return copy.deepcopy(document.draft)


def _save(session: Session, actor: User, document: ImportDocument, draft: dict[str, Any], summary: str,
          changes: dict[str, list[Any]] | None = None) -> None:
    draft["rev"] = draft.get("rev", 0) + 1
    document.draft = draft
    audit.record(session, actor, document, "edit", changes or {}, summary)
    session.flush()


def _find(items: list[dict[str, Any]], item_id: str, what: str = "条目") -> dict[str, Any]:
    for item in items:
        if item["id"] == item_id:
            return item
    raise DomainError(f"草稿中没有这个{what}（可能已被删除），请刷新页面。")


def _new_id(draft: dict[str, Any], prefix: str) -> str:
    n = draft.get("next_id", 1)
    draft["next_id"] = n + 1
    return f"{prefix}{n}"


def _descendants(items: list[dict[str, Any]], item_id: str) -> set[str]:
    found: set[str] = set()
    frontier = {item_id}
    while frontier:
        frontier = {i["id"] for i in items if i["parent"] in frontier} - found
        found |= frontier
    return found


def region_departments(session: Session, region_id: int) -> list[Department]:
    return list(session.scalars(select(Department).where(Department.region_id == region_id)
                                .order_by(Department.sort_order, Department.id)))


def _department(session: Session, region_id: int, dept_id: int | None, field_name: str,
                what: str) -> Department | None:
    if dept_id is None:
        return None
    dept = session.get(Department, dept_id)
    if dept is None or dept.region_id != region_id:
        raise DomainError(f"所选{what}不属于本地区。", field=field_name)
    return dept


@dataclass
class ItemInput:
    type: str
    code: str
    title: str
    description: str | None = None
    kind: str = TaskKind.TASK.value
    parent: str | None = None
    lead: int | None = None
    co: list[int] = field(default_factory=list)


def _clean(text: str | None) -> str:
    return (text or "").strip()


def update_item(session: Session, actor: User, document: ImportDocument, item_id: str, data: ItemInput,
                rev: int | None) -> dict[str, Any]:
    """Change one item of the tree (type, code, title, text, kind, place, departments); it counts as checked."""
    draft = _working_copy(actor, document, rev)
    items = draft["items"]
    item = _find(items, item_id)
    if data.type not in ITEM_TYPES:
        raise DomainError("请选择类型。", field="type")
    title = _clean(data.title)
    if not title:
        raise DomainError("请填写标题。", field="title")
    if len(title) > 300:
        raise DomainError("标题不能超过300字。", field="title")
    code = _clean(data.code)
    if not code:
        raise DomainError("请填写编号。", field="code")
    if len(code) > 40:
        raise DomainError("编号不能超过40个字符。", field="code")
    if data.type != "section":
        owner = next((i for i in items if i["code"] == code and i["id"] != item_id and i["type"] != "section"), None)
        if owner is not None:
            raise DomainError(f"编号“{code}”已被“{owner['title']}”使用。", field="code")
    parent = None
    if data.parent:
        parent = _find(items, data.parent, "上级")
        if parent["id"] == item_id or parent["id"] in _descendants(items, item_id):
            raise DomainError("不能把条目移到它自己或它的下级之下。", field="parent")
    if (parent["type"] if parent else None) not in ITEM_PARENTS[data.type]:
        raise DomainError(PLACEMENT[data.type], field="parent")
    for child in items:
        if child["parent"] == item_id and data.type not in ITEM_PARENTS[child["type"]]:
            raise DomainError(f"该条目下有{_type_label(child['type'])}“{child['title'][:20]}”，不能改为"
                              f"{_type_label(data.type)}。", field="type")
    try:
        kind = TaskKind(data.kind)
    except ValueError:
        raise DomainError("请选择任务类型。", field="kind") from None
    lead = _department(session, document.region_id, data.lead, "lead", "牵头单位")
    co = [d.id for d in (_department(session, document.region_id, i, "co", "配合单位") for i in dict.fromkeys(data.co))
          if d is not None and d is not lead]
    before = {k: item.get(k) for k in ("type", "code", "title", "parent", "kind", "lead", "co")}
    item.update(type=data.type, code=code, title=title, description=_clean(data.description), kind=kind.value,
                parent=parent["id"] if parent else None, lead=lead.id if lead else None, co=co, unsure=False,
                checked=True)
    # keep the document order: a moved item goes after its new parent's last descendant
    if parent is not None and before["parent"] != item["parent"]:
        items.remove(item)
        family = {parent["id"]} | _descendants(items, parent["id"])
        at = max(i for i, it in enumerate(items) if it["id"] in family) + 1
        items.insert(at, item)
    after = {k: item.get(k) for k in before}
    _save(session, actor, document, draft, f"修改草稿条目 {code} {title[:30]}", audit.diff(before, after))
    return item


def delete_item(session: Session, actor: User, document: ImportDocument, item_id: str, *, with_children: bool,
                rev: int | None) -> int:
    """Remove an item; its children go with it or move up to its parent. Returns how many items went."""
    draft = _working_copy(actor, document, rev)
    items = draft["items"]
    item = _find(items, item_id)
    gone = {item_id} | (_descendants(items, item_id) if with_children else set())
    parent = next((i for i in items if i["id"] == item["parent"]), None)
    for child in items:
        if child["parent"] == item_id and child["id"] not in gone:
            child["parent"] = item["parent"]
            if (parent["type"] if parent else None) not in ITEM_PARENTS[child["type"]]:
                if child["type"] == "measure":
                    child["type"] = "key_task"
                child["unsure"] = True
                child["reason"] = "上级已删除，请核对它的位置和类型"
    draft["items"] = [i for i in items if i["id"] not in gone]
    for candidate in draft.get("candidates", []):
        if candidate.get("item") in gone:
            candidate["item"] = None
    _save(session, actor, document, draft, f"删除草稿条目 {item['code']} {item['title'][:30]}"
          + (f"（连同 {len(gone) - 1} 项下级）" if len(gone) > 1 else ""))
    return len(gone)


def merge_item(session: Session, actor: User, document: ImportDocument, item_id: str, rev: int | None) -> dict[str, Any]:
    """Fold an item into the one before it with the same parent (a task the document split in two)."""
    draft = _working_copy(actor, document, rev)
    items = draft["items"]
    item = _find(items, item_id)
    siblings = [i for i in items if i["parent"] == item["parent"]]
    at = siblings.index(item)
    if at == 0:
        raise DomainError("该条目前面没有同级条目，无法合并。")
    target = siblings[at - 1]
    text = item["title"] + ("。" + item["description"] if item.get("description") else "")
    target["description"] = "\n".join(t for t in (target.get("description"), text) if t)
    target["box_items"] = list(target.get("box_items") or []) + list(item.get("box_items") or [])
    for child in items:
        if child["parent"] == item_id:
            child["parent"] = target["id"]
    draft["items"] = [i for i in items if i["id"] != item_id]
    for candidate in draft.get("candidates", []):
        if candidate.get("item") == item_id:
            candidate["item"] = target["id"]
    _save(session, actor, document, draft, f"把“{item['title'][:30]}”并入“{target['title'][:30]}”")
    return target


# -- indicators, candidates, projects -------------------------------------------------------------------


@dataclass
class IndicatorInput:
    number: int
    name: str
    target: str
    category: str | None = None
    unit: str | None = None
    baseline: str | None = None
    baseline_year: int | None = None
    target_year: int | None = None
    nature: str | None = None
    lead: int | None = None
    definition: str | None = None


def _check_indicator(draft: dict[str, Any], data: IndicatorInput, indicator_id: str | None) -> dict[str, Any]:
    name = _clean(data.name)
    target = _clean(data.target)
    if not name:
        raise DomainError("请填写指标名称。", field="name")
    if len(name) > 120:
        raise DomainError("指标名称不能超过120字。", field="name")
    if not target:
        raise DomainError("请填写目标值（按规划原文）。", field="target")
    if len(target) > 60:
        raise DomainError("目标值不能超过60字。", field="target")
    if not 1 <= data.number <= 999:
        raise DomainError("序号须为1到999之间的整数。", field="number")
    owner = next((i for i in draft["indicators"] if i["number"] == data.number and i["id"] != indicator_id), None)
    if owner is not None:
        raise DomainError(f"序号 {data.number} 已被指标“{owner['name']}”使用。", field="number")
    if data.nature and data.nature not in {n.value for n in IndicatorNature}:
        raise DomainError("请选择指标属性。", field="nature")
    if data.baseline_year and data.target_year and data.target_year < data.baseline_year:
        raise DomainError("目标年份不能早于基期年份。", field="target_year")
    return {"number": data.number, "name": name, "target": target, "category": _clean(data.category) or None,
            "unit": _clean(data.unit) or None, "baseline": _clean(data.baseline) or None,
            "baseline_year": data.baseline_year, "target_year": data.target_year, "nature": data.nature or None,
            "definition": _clean(data.definition) or None}


def update_indicator(session: Session, actor: User, document: ImportDocument, indicator_id: str,
                     data: IndicatorInput, rev: int | None) -> dict[str, Any]:
    draft = _working_copy(actor, document, rev)
    indicator = _find(draft["indicators"], indicator_id, "指标")
    values = _check_indicator(draft, data, indicator_id)
    lead = _department(session, document.region_id, data.lead, "lead", "牵头单位")
    before = {k: indicator.get(k) for k in values}
    indicator.update(values, lead=lead.id if lead else None, unsure=False, reason=None, checked=True)
    if not indicator["nature"]:
        _doubt_nature(indicator)
    _save(session, actor, document, draft, f"修改草稿指标 {values['number']}. {values['name'][:30]}",
          audit.diff(before, {k: indicator.get(k) for k in values}))
    return indicator


def set_missing_natures(session: Session, actor: User, document: ImportDocument, nature: str | None,
                        rev: int | None) -> int:
    """The planner gives every indicator the document left without a nature the one they choose (the
    others keep theirs). Returns how many were set."""
    draft = _working_copy(actor, document, rev)
    try:
        chosen = IndicatorNature(nature or "")
    except ValueError:
        raise DomainError("请选择指标属性（约束性或预期性）。", field="nature") from None
    missing = missing_natures(draft)
    if not missing:
        raise DomainError("所有指标都已注明属性。", field="nature")
    for indicator in missing:
        _nature_chosen(indicator, chosen.value)
    _save(session, actor, document, draft, f"把未注明属性的 {len(missing)} 项指标设为{chosen.label}指标",
          {"nature": [None, chosen.label]})
    return len(missing)


def delete_indicator(session: Session, actor: User, document: ImportDocument, indicator_id: str,
                     rev: int | None) -> None:
    draft = _working_copy(actor, document, rev)
    indicator = _find(draft["indicators"], indicator_id, "指标")
    draft["indicators"] = [i for i in draft["indicators"] if i["id"] != indicator_id]
    _save(session, actor, document, draft, f"删除草稿指标 {indicator['number']}. {indicator['name'][:30]}")


def promote_candidate(session: Session, actor: User, document: ImportDocument, candidate_id: str,
                      rev: int | None) -> dict[str, Any]:
    """A target found in the prose becomes an indicator of the draft (still to be checked)."""
    draft = _working_copy(actor, document, rev)
    candidate = _find(draft["candidates"], candidate_id, "候选目标")
    if not candidate.get("target"):
        raise DomainError("该条目没有目标值，不能直接作为指标；请先在指标表中新增。")
    number = max((i["number"] for i in draft["indicators"]), default=0) + 1
    indicator = {
        "id": _new_id(draft, "i"), "category": None, "number": number, "name": candidate["name"][:120],
        "unit": None, "baseline": None, "baseline_year": None, "target": candidate["target"][:60],
        "target_year": candidate.get("year"), "nature": None, "source": candidate.get("text"), "lead": None,
        "definition": None, "notes": ["由正文中的目标语句转为指标"], "unsure": True,
        "reason": "由正文语句转来，请核对名称、单位和目标值",
    }
    _doubt_nature(indicator)
    draft["indicators"].append(indicator)
    draft["candidates"] = [c for c in draft["candidates"] if c["id"] != candidate_id]
    _save(session, actor, document, draft, f"把正文目标“{candidate['name'][:30]}”转为指标 {number}")
    return indicator


def delete_candidate(session: Session, actor: User, document: ImportDocument, candidate_id: str,
                     rev: int | None) -> None:
    draft = _working_copy(actor, document, rev)
    candidate = _find(draft["candidates"], candidate_id, "候选目标")
    draft["candidates"] = [c for c in draft["candidates"] if c["id"] != candidate_id]
    _save(session, actor, document, draft, f"忽略正文目标“{candidate['name'][:30]}”")


@dataclass
class ProjectInput:
    name: str
    unit: str
    content: str | None = None
    total: str | None = None
    period: str | None = None
    owner: str | None = None
    remarks: str | None = None
    start_year: int | None = None
    end_year: int | None = None
    lead: int | None = None


def update_project(session: Session, actor: User, document: ImportDocument, project_id: str, data: ProjectInput,
                   rev: int | None) -> dict[str, Any]:
    draft = _working_copy(actor, document, rev)
    project = _find(draft["projects"], project_id, "项目")
    name = _clean(data.name)
    if not name:
        raise DomainError("请填写项目名称。", field="name")
    if len(name) > 300:
        raise DomainError("项目名称不能超过300字。", field="name")
    try:
        unit = InvestmentUnit.from_label(data.unit)
    except ValueError:
        raise DomainError("请选择金额单位。", field="unit") from None
    for field_name in ("total", "period"):
        try:
            amounts.parse(getattr(data, field_name), unit, allow_tbd=True)  # type: ignore[arg-type]
        except amounts.AmountError as exc:
            raise DomainError(str(exc), field=field_name) from None
    if data.start_year and data.end_year and data.end_year < data.start_year:
        raise DomainError("结束年份不能早于开始年份。", field="end_year")
    lead = _department(session, document.region_id, data.lead, "lead", "建设（牵头）单位")
    project.update(name=name, unit=unit.label, content=_clean(data.content) or None, total=_clean(data.total) or None,
                   period=_clean(data.period) or None, owner=_clean(data.owner) or None,
                   remarks=_clean(data.remarks) or None, start_year=data.start_year, end_year=data.end_year,
                   lead=lead.id if lead else None, unsure=False, checked=True)
    _save(session, actor, document, draft, f"修改草稿项目“{name[:30]}”")
    return project


def delete_project(session: Session, actor: User, document: ImportDocument, project_id: str,
                   rev: int | None) -> None:
    draft = _working_copy(actor, document, rev)
    project = _find(draft["projects"], project_id, "项目")
    draft["projects"] = [p for p in draft["projects"] if p["id"] != project_id]
    _save(session, actor, document, draft, f"删除草稿项目“{project['name'][:30]}”")


# -- departments: keyword rules and bulk assignment ------------------------------------------------------


def keyword_rules(session: Session, region_id: int) -> list[KeywordRule]:
    return list(session.scalars(select(KeywordRule).where(KeywordRule.region_id == region_id)
                                .order_by(KeywordRule.keyword)))


def save_rule(session: Session, actor: User, keyword: str, department_id: int | None) -> KeywordRule:
    """A rule "titles holding this keyword go to this department" for the planner's region (replaced
    when the keyword already has one)."""
    require(can_import(actor), "只有规划处可以设置分配规则。")
    keyword = _clean(keyword)
    if not keyword:
        raise DomainError("请填写关键词。", field="keyword")
    if len(keyword) > 40:
        raise DomainError("关键词不能超过40个字。", field="keyword")
    if department_id is None:
        raise DomainError("请选择责任单位。", field="department_id")
    dept = _department(session, actor.region_id, department_id, "department_id", "责任单位")
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


def _matches(rules: list[tuple[str, int]], text: str) -> list[tuple[int, int]]:
    """(position, department) of every rule keyword in the text, earliest first, longest keyword first."""
    found = []
    for keyword, dept_id in rules:
        at = text.find(keyword)
        if at >= 0:
            found.append((at, -len(keyword), dept_id))
    return [(at, dept) for at, _length, dept in sorted(found)]


@dataclass
class Assignment:
    leads: int = 0
    co: int = 0
    unmatched: list[str] = field(default_factory=list)


def apply_rules(session: Session, actor: User, document: ImportDocument, *, overwrite: bool,
                rev: int | None) -> Assignment:
    """Assign departments by the region's keyword rules, read in what names the work — a task's title (a
    专栏's title and items), an indicator's name, a project's name and owner: the first keyword found
    leads, the departments of the other keywords found co-operate. Long descriptions are not read: they
    mention many units in passing."""
    draft = _working_copy(actor, document, rev)
    rules = [(r.keyword, r.department_id) for r in keyword_rules(session, document.region_id)]
    if not rules:
        raise DomainError("还没有分配规则。请先添加“关键词 → 责任单位”规则。", field="keyword")
    result = Assignment()
    targets = [i for i in draft["items"] if i["type"] in ("key_task", "measure", "box")]
    for item in targets + draft.get("projects", []) + draft.get("indicators", []):
        names = [item.get("title") or item.get("name") or ""]
        if item.get("type") == "box":
            names += list(item.get("box_items") or [])
        found = _matches(rules, names[0]) or _matches(rules, " ".join(filter(None, [*names[1:], item.get("owner")])))
        if not found:
            if item.get("lead") is None and "type" in item:
                result.unmatched.append(f"{item['code']} {names[0][:20]}")
            continue
        if item.get("lead") is None or overwrite:
            if item.get("lead") != found[0][1]:
                result.leads += 1
            item["lead"] = found[0][1]
        if "co" in item:
            co = [d for _at, d in found if d != item["lead"]]
            merged = list(dict.fromkeys([*(item.get("co") or []), *co])) if not overwrite else list(dict.fromkeys(co))
            merged = [d for d in merged if d != item["lead"]]
            if merged != item.get("co"):
                result.co += 1
            item["co"] = merged
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
    lead = _department(session, document.region_id, lead_id, "lead", "牵头单位")
    co = [d.id for d in (_department(session, document.region_id, i, "co", "配合单位") for i in co_ids) if d]
    chosen = [i for i in draft["items"] if i["id"] in set(item_ids) and i["type"] != "section"]
    for item in chosen:
        if lead is not None:
            item["lead"] = lead.id
        item["co"] = [d for d in dict.fromkeys([*(item.get("co") or []), *co]) if d != item["lead"]]
    _save(session, actor, document, draft, f"批量分配责任单位：{len(chosen)} 项")
    return len(chosen)


def discard(session: Session, actor: User, document: ImportDocument) -> None:
    require(can_work_on_import(actor, document), NOT_YOURS)
    if document.state != ImportState.DRAFT:
        raise InvalidTransition(f"该导入{document.state.label}。")
    document.state = ImportState.DISCARDED
    audit.record(session, actor, document, "discard", {"state": ["待确认", "已放弃"]}, "放弃导入")
    session.flush()


# ------------------------------------------------------------------------------------------- confirming


@dataclass
class ConfirmInput:
    title: str
    short_name: str
    start_year: int
    end_year: int
    parent_id: int | None = None
    issuing_body: str | None = None
    doc_number: str | None = None
    investment_unit: InvestmentUnit = InvestmentUnit.WAN
    stage: PlanStage = PlanStage.ISSUED
    stage_date: date | None = None
    default_lead_id: int | None = None
    update: bool = False  # update the plan this document was imported into before


@dataclass
class Confirmed:
    plan: Plan
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    untouched: list[str] = field(default_factory=list)
    defaulted: int = 0


_TASK_LEVEL = {"chapter": TaskLevel.CHAPTER, "key_task": TaskLevel.KEY_TASK, "measure": TaskLevel.MEASURE}


def _placed(draft: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any] | None, TaskLevel]]:
    """Every item that becomes a task with the item it goes under and its level (sections only group)."""
    by_id = {i["id"]: i for i in draft["items"]}
    out = []
    for item in draft["items"]:
        if item["type"] == "section":
            continue
        parent = by_id.get(item["parent"]) if item["parent"] else None
        while parent is not None and parent["type"] == "section":
            parent = by_id.get(parent["parent"]) if parent["parent"] else None
        if item["type"] == "box":
            if parent is not None and parent["type"] == "measure":
                parent = by_id.get(parent["parent"]) if parent["parent"] else None
            level = TaskLevel.MEASURE if parent is not None and parent["type"] == "key_task" else TaskLevel.KEY_TASK
        else:
            level = _TASK_LEVEL[item["type"]]
        out.append((item, parent, level))
    return out


def _match_owner(departments: list[Department], owner: str | None) -> Department | None:
    if not owner:
        return None
    text = owner.strip()
    for dept in departments:
        if dept.name == text:
            return dept
    found = [d for d in departments if d.name in text or (len(text) >= 2 and text in d.name)]
    return max(found, key=lambda d: len(d.name)) if len(found) >= 1 else None


def _check_draft(document: ImportDocument, data: ConfirmInput, existing: set[str],
                 existing_indicators: set[int]) -> None:
    """Everything that would stop the confirmation, before anything is created. (Tasks and indicators the
    plan already has, when it is updated, keep their departments and nature.)"""
    draft = document.draft
    placed = _placed(draft)
    if not placed and not draft.get("indicators") and not draft.get("projects"):
        raise DomainError("草稿是空的：没有任务、指标或项目可以导入。")
    codes: dict[str, str] = {}
    for item, parent, level in placed:
        if level == TaskLevel.MEASURE and (parent is None or parent["type"] != "key_task"):
            raise DomainError(f"工作举措 {item['code']}“{item['title'][:20]}”不在重点任务之下，请调整后再确认。")
        if item["code"] in codes:
            raise DomainError(f"编号“{item['code']}”重复（“{codes[item['code']][:20]}”和“{item['title'][:20]}”），"
                              "请修改后再确认。")
        codes[item["code"]] = item["title"]
    # (tasks the plan already has keep their departments when it is updated)
    unassigned = [i for i, _p, level in placed
                  if level != TaskLevel.CHAPTER and not i.get("lead") and i["code"] not in existing]
    unassigned += [p for p in draft.get("projects", []) if not p.get("lead")]
    if unassigned and data.default_lead_id is None:
        raise DomainError(f"有 {len(unassigned)} 项任务或项目还没有牵头单位。请按规则分配，或在此选择一个默认牵头单位。",
                          field="default_lead_id")
    numbers: set[int] = set()
    for indicator in draft.get("indicators", []):
        if not indicator.get("target"):
            raise DomainError(f"指标 {indicator['number']}“{indicator['name'][:20]}”没有目标值，请补充或删除后再确认。")
        if indicator["number"] in numbers:
            raise DomainError(f"指标序号 {indicator['number']} 重复，请修改后再确认。")
        numbers.add(indicator["number"])
    no_nature = [i for i in missing_natures(draft) if i["number"] not in existing_indicators]
    if no_nature:
        first = no_nature[0]
        more = f"等 {len(no_nature)} 项指标" if len(no_nature) > 1 else ""
        raise DomainError(f"指标 {first['number']}“{first['name'][:20]}”{more}未注明属性（约束性或预期性）。"
                          "属性决定指标滞后时是否预警，不能默认，请在草稿的指标表中选择后再确认。")
    for project in draft.get("projects", []):
        unit = InvestmentUnit.from_label(project.get("unit") or "万元")
        for field_name in ("total", "period"):
            try:
                amounts.parse(project.get(field_name), unit, allow_tbd=True)  # type: ignore[arg-type]
            except amounts.AmountError as exc:
                raise DomainError(f"项目“{project['name'][:20]}”：{exc}") from None
    if data.start_year > data.end_year:
        raise DomainError("结束年份不能早于起始年份。", field="end_year")


def confirm(session: Session, actor: User, document: ImportDocument, data: ConfirmInput) -> Confirmed:
    """Create (or update) the plan from the draft: tasks, indicators and key projects, in one transaction."""
    from ..planning import indicators as planning_indicators
    from ..planning import services as planning

    require(can_work_on_import(actor, document), NOT_YOURS)
    if document.state != ImportState.DRAFT:
        raise InvalidTransition(f"该导入{document.state.label}，不能再次确认。")
    if data.update and document.plan is None:
        raise DomainError("原规划已不存在，请选择新建规划。", field="update")
    target = document.plan if data.update else None
    if target is not None:
        require(can_edit_plan(actor, target), "只有本地区的规划处可以更新该规划。")
    _check_draft(document, data,
                 set(session.scalars(select(Task.code).where(Task.plan_id == target.id))) if target else set(),
                 set(session.scalars(select(Indicator.number).where(Indicator.plan_id == target.id)))
                 if target else set())
    departments = region_departments(session, document.region_id)
    default_lead = _department(session, document.region_id, data.default_lead_id, "default_lead_id", "默认牵头单位")

    if target is None:
        region = actor.department.region
        plan = planning.create_plan(session, actor, planning.PlanData(
            title=data.title, short_name=data.short_name, level=PlanLevel(region.level.value),
            start_year=data.start_year, end_year=data.end_year, parent_id=data.parent_id,
            issuing_body=data.issuing_body, doc_number=data.doc_number, investment_unit=data.investment_unit,
            description=None), stage=data.stage, stage_date=data.stage_date,
            stage_note=f"由文档《{document.filename}》导入")
    else:
        plan = target
    result = Confirmed(plan)
    start, deadline = date(plan.start_year, 1, 1), date(plan.end_year, 12, 31)
    existing = {t.code: t for t in session.scalars(select(Task).where(Task.plan_id == plan.id))}
    made: dict[str, Task] = {}

    def bump(bucket: dict[str, int], key: str) -> None:
        bucket[key] = bucket.get(key, 0) + 1

    for item, parent, level in _placed(document.draft):
        parent_task = made.get(parent["id"]) if parent else None
        kind = TaskKind(item.get("kind") or TaskKind.TASK.value) if level != TaskLevel.CHAPTER else TaskKind.TASK
        description = item.get("description") or None
        lead_id = item.get("lead")
        if lead_id is None and level != TaskLevel.CHAPTER and default_lead is not None:
            lead_id = default_lead.id
        task = existing.get(item["code"])
        try:
            if task is None:
                task = planning.create_task(session, actor, plan, parent_task.id if parent_task else None,
                                            planning.TaskData(
                                                level=level, code=item["code"], title=item["title"][:300],
                                                description=description, kind=kind, lead_department_id=lead_id,
                                                co_department_ids=list(item.get("co") or []),
                                                start_date=None if level == TaskLevel.CHAPTER else start,
                                                deadline=None if level == TaskLevel.CHAPTER else deadline))
                bump(result.created, "任务")
                if level != TaskLevel.CHAPTER and not item.get("lead"):
                    result.defaulted += 1
                if item["type"] == "box" and kind in PROJECT_KINDS:
                    _add_project(session, actor, task, plan, content=description, items=item.get("box_items") or [])
            elif _update_from_item(session, actor, task, item, kind, lead_id):
                bump(result.updated, "任务")
        except DomainError as exc:
            raise DomainError(f"{item['code']}“{item['title'][:20]}”：{exc.message}") from None
        made[item["id"]] = task
    if target is not None:
        seen = {i["code"] for i, _p, _l in _placed(document.draft)}
        result.untouched = [f"{t.code} {t.title}" for code, t in existing.items() if code not in seen]

    _confirm_projects(session, actor, document, plan, departments, default_lead, result)
    _confirm_indicators(session, actor, document, plan, planning_indicators, result)

    roll_up_plan(session, plan.id, actor)  # parents from the children just made or changed
    document.state = ImportState.CONFIRMED
    document.plan_id = plan.id
    document.confirmed_at = now()
    summary = "，".join(f"新建{k} {v}" for k, v in result.created.items() if v)
    summary += "".join(f"，更新{k} {v}" for k, v in result.updated.items() if v)
    audit.record(session, actor, document, "confirm", {"state": ["待确认", "已导入"]},
                 f"确认导入到《{plan.title}》：{summary or '没有变化'}")
    audit.record(session, actor, plan, "import", {}, f"从文档《{document.filename}》导入：{summary or '没有变化'}")
    session.flush()
    return result


def _add_project(session: Session, actor: User, task: Task, plan: Plan, *, content: str | None,
                 items: list[str], total: amounts.Entered | None = None, period: amounts.Entered | None = None,
                 start_year: int | None = None, end_year: int | None = None) -> KeyProject:
    total = total or amounts.Entered()
    period = period or amounts.Entered()
    project = KeyProject(task=task, region_id=plan.region_id, kind=ProjectKind.OTHER, status=ProjectStatus.PREPARING,
                         content=content, items=list(items), total_investment=total.wan, total_tbd=total.tbd,
                         period_investment=period.wan, period_tbd=period.tbd, start_year=start_year,
                         end_year=end_year)
    session.add(project)
    session.flush()
    unit = plan.investment_unit
    audit.record(session, actor, project, "create", {
        "total_investment": [None, amounts.as_text(total.wan, unit, tbd=total.tbd) or None],
        "period_investment": [None, amounts.as_text(period.wan, unit, tbd=period.tbd) or None],
        "items": [None, "、".join(items) or None],
    }, f"导入重大项目信息（{task.code} {task.title[:30]}）")
    return project


def _update_from_item(session: Session, actor: User, task: Task, item: dict[str, Any], kind: TaskKind,
                      lead_id: int | None) -> bool:
    """Bring an existing task in line with the document: title, text and kind; departments where the draft
    names them. Deadlines, status and progress stay as they are."""
    from ..planning import services as planning

    title = item["title"][:300]
    description = item.get("description") or None
    new_lead = item.get("lead") or task.lead_department_id or lead_id
    new_co = list(item.get("co") or []) or [d.id for d in task.co_departments]
    same = (task.title == title and (task.description or None) == description and task.kind == kind
            and task.lead_department_id == new_lead and sorted(d.id for d in task.co_departments) == sorted(new_co))
    if same:
        return False
    planning.update_task(session, actor, task, planning.TaskData(
        level=task.level, code=task.code, title=title, description=description, kind=kind,
        lead_department_id=new_lead, co_department_ids=new_co, responsible_person=task.responsible_person,
        start_date=task.start_date, deadline=task.deadline, year=task.year, weight=task.weight,
        upstream_task_id=task.upstream_task_id, indicator_ids=[i.id for i in task.indicators]), task.version_id)
    return True


def _confirm_projects(session: Session, actor: User, document: ImportDocument, plan: Plan,
                      departments: list[Department], default_lead: Department | None, result: Confirmed) -> None:
    from ..planning import services as planning

    projects = document.draft.get("projects", [])
    if not projects:
        return
    existing = {t.code for t in session.scalars(select(Task).where(Task.plan_id == plan.id))}
    start, deadline = date(plan.start_year, 1, 1), date(plan.end_year, 12, 31)
    for n, project in enumerate(projects, start=1):
        code = f"项目{n}"
        if code in existing:
            continue
        unit = InvestmentUnit.from_label(project.get("unit") or "万元")
        lead = project.get("lead") or (_match_owner(departments, project.get("owner")) or default_lead)
        lead_id = lead if isinstance(lead, int) else (lead.id if lead else None)
        description = "\n".join(filter(None, [project.get("content"), project.get("owner") and
                                              f"建设单位：{project['owner']}", project.get("remarks") and
                                              f"备注：{project['remarks']}"])) or None
        try:
            task = planning.create_task(session, actor, plan, None, planning.TaskData(
                level=TaskLevel.KEY_TASK, code=code, title=project["name"][:300], description=description,
                kind=TaskKind.PROJECT, lead_department_id=lead_id, start_date=start, deadline=deadline))
        except DomainError as exc:
            raise DomainError(f"项目“{project['name'][:20]}”：{exc.message}") from None
        _add_project(session, actor, task, plan, content=project.get("content"), items=[],
                     total=amounts.parse(project.get("total"), unit, allow_tbd=True),
                     period=amounts.parse(project.get("period"), unit, allow_tbd=True),
                     start_year=project.get("start_year"), end_year=project.get("end_year"))
        result.created["重大项目"] = result.created.get("重大项目", 0) + 1


def _confirm_indicators(session: Session, actor: User, document: ImportDocument, plan: Plan, planning_indicators: Any,
                        result: Confirmed) -> None:
    """Create the draft's indicators, or update the plan's indicator of the same number. A new indicator has
    the nature the document or the planner gave it (``_check_draft`` refused any without); an existing
    one keeps its own unless the draft names one."""
    existing = {i.number: i for i in session.scalars(select(Indicator).where(Indicator.plan_id == plan.id))}
    for item in document.draft.get("indicators", []):
        current = existing.get(item["number"])
        nature = IndicatorNature(item["nature"]) if item.get("nature") else current.nature if current else None
        if nature is None:
            raise DomainError(f"指标 {item['number']}“{item['name'][:20]}”未注明属性（约束性或预期性）。")
        data = planning_indicators.IndicatorData(
            number=item["number"], name=item["name"][:120], target_text=item["target"][:60], nature=nature,
            category=(item.get("category") or None) and item["category"][:40], unit=item.get("unit"),
            baseline_text=item.get("baseline"), baseline_year=item.get("baseline_year"),
            target_year=item.get("target_year") or plan.end_year, lead_department_id=item.get("lead"),
            definition=item.get("definition"))
        try:
            if current is None:
                planning_indicators.create_indicator(session, actor, plan, data)
                result.created["指标"] = result.created.get("指标", 0) + 1
            elif name_key(current.name) == name_key(data.name) and current.target_text == data.target_text and \
                    (current.baseline_text or None) == (data.baseline_text or None):
                continue
            else:
                data.lead_department_id = data.lead_department_id or current.lead_department_id
                data.definition = data.definition or current.definition
                planning_indicators.update_indicator(session, actor, current, data, current.version_id)
                result.updated["指标"] = result.updated.get("指标", 0) + 1
        except DomainError as exc:
            raise DomainError(f"指标 {item['number']}“{item['name'][:20]}”：{exc.message}") from None


# ------------------------------------------------------------------------------------------- reading helpers


def _type_label(item_type: str) -> str:
    return TYPE_LABELS.get(item_type, item_type)


def imports_of_region(region_id: int) -> Any:
    """The region's imports, newest first (a statement for the paginated list)."""
    return select(ImportDocument).where(ImportDocument.region_id == region_id).order_by(ImportDocument.id.desc())


def suggested_short_name(title: str | None) -> str:
    if not title:
        return ""
    short = re.sub(r"[“”\"《》]", "", title)
    short = short.replace("卫生健康事业发展", "卫健").replace("规划", "")
    return short[:60]
