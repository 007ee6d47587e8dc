"""The draft of an imported plan document: its schema and the planner's edits to it.

:func:`.extract.extract` reads a document into the draft's JSON form; the draft is stored in
``ImportDocument.draft`` (a JSON column) and read back with :meth:`Draft.from_json`, which takes whatever
earlier versions stored (missing keys take their defaults, unknown keys are kept in ``extra`` and written
back). The planner's edits — an item changed, moved, merged or deleted, an indicator or project corrected,
a candidate target promoted, departments assigned — are the methods of :class:`Draft`: each checks its
input, changes the draft and raises ``DomainError(field=...)`` before changing anything when refused. Who
may edit, the revision check, the audit entry and the saving are :mod:`.services`' part; confirming a draft
into a plan is :mod:`.confirm`'s.

(About 600 lines: the schema and the operations on it are one idea — every edit's rules read the same
fields — and splitting them would put the rules of a field away from its declaration.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from datetime import date
from typing import Any, ClassVar, Self, TypeVar

from ..errors import DomainError
from ..indicators.models import IndicatorNature
from ..planning.models import InvestmentUnit
from ..projects import amounts
from ..tasks.models import TaskKind

TYPE_LABELS = {"chapter": "章", "section": "节", "key_task": "重点任务", "measure": "工作举措", "box": "专栏"}
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
# A document that does not say whether an indicator is 约束性 or 预期性 leaves it to the planner: the
# nature decides whether a lagging value raises an alert, so it is never guessed.
NATURE_MISSING = "文档未注明指标属性（约束性或预期性），请选择"

# (department id, form field, what it is called) -> the id, or DomainError when not of the draft's region
Departments = Callable[[int | None, str, str], int | None]
Changes = tuple[dict[str, Any], dict[str, Any]]  # the fields an edit watched, before and after


class _Entry:
    """JSON in and out: the dataclass fields by name; keys the class does not know are kept in ``extra``."""

    extra: dict[str, Any]
    _NESTED: ClassVar[dict[str, type[_Entry]]] = {}
    _LISTS: ClassVar[dict[str, type[_Entry]]] = {}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Self:
        data = dict(data or {})
        values: dict[str, Any] = {}
        for f in fields(cls):  # type: ignore[arg-type]
            if f.name == "extra" or f.name not in data:
                continue
            value = data.pop(f.name)
            if value is None and f.default_factory is not MISSING:
                continue  # (a list or section stored as null: its default)
            if f.name in cls._NESTED:
                value = cls._NESTED[f.name].from_json(value)
            elif f.name in cls._LISTS:
                value = [cls._LISTS[f.name].from_json(v) for v in value]
            elif isinstance(value, list):
                value = list(value)
            values[f.name] = value
        return cls(**values, extra=data)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            if f.name == "extra":
                continue
            value = getattr(self, f.name)
            if isinstance(value, _Entry):
                value = value.to_json()
            elif isinstance(value, list):
                value = [v.to_json() if isinstance(v, _Entry) else v for v in value]
            out[f.name] = value
        return {**self.extra, **out}


@dataclass
class PlanFacts(_Entry):
    """What the document's opening lines say about the plan."""

    title: str | None = None
    start_year: int | None = None
    end_year: int | None = None
    issuing_body: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Source(_Entry):
    """The uploaded file."""

    filename: str = ""
    size: int = 0
    type: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Item(_Entry):
    """A chapter, section (grouping only), key task, measure or 专栏 box of the tree; ``parent`` is an item id."""

    id: str
    type: str  # one of ITEM_TYPES
    code: str = ""
    title: str = ""
    description: str = ""
    parent: str | None = None
    kind: str = TaskKind.TASK.value
    box_items: list[str] = field(default_factory=list)
    lead: int | None = None
    co: list[int] = field(default_factory=list)
    label: str = ""
    unsure: bool = False
    reason: str | None = None
    checked: bool = False
    narrative: bool = False  # under a chapter that describes (发展基础, 保障措施 …): not a task
    deadline: str | None = None  # ISO date the text gives ("2027年底前"); the plan's end when None
    lead_text: str | None = None  # departments as the text names them ("责任单位：…")
    co_text: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def due(self) -> date | None:
        """The deadline the text gives, as a date (None when it gives none or it is not a date)."""
        try:
            return date.fromisoformat(self.deadline) if self.deadline else None
        except ValueError:
            return None


@dataclass
class DraftIndicator(_Entry):
    """A row of an indicator table (or a goal list, or a promoted candidate)."""

    id: str
    number: int
    name: str
    target: str | None = None
    category: str | None = None
    unit: str | None = None
    baseline: str | None = None
    baseline_year: int | None = None
    target_year: int | None = None
    nature: str | None = None  # an IndicatorNature value; None: the document did not say
    source: str | None = None
    lead: int | None = None
    definition: str | None = None
    notes: list[str] = field(default_factory=list)
    unsure: bool = False
    reason: str | None = None
    checked: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def doubt_nature(self) -> None:
        reasons = [r for r in (self.reason or "").split("；") if r and r != NATURE_MISSING]
        self.unsure, self.reason = True, "；".join([*reasons, NATURE_MISSING])

    def choose_nature(self, nature: str) -> None:
        """The planner chose the nature: the doubt about it goes, any other doubt stays."""
        self.nature = nature
        reasons = [r for r in (self.reason or "").split("；") if r and r != NATURE_MISSING]
        self.reason = "；".join(reasons) or None
        self.unsure = bool(reasons) and bool(self.unsure)


@dataclass
class DraftProject(_Entry):
    """A row of a key-project table; amounts as written, in ``unit`` (万元 or 亿元)."""

    id: str
    name: str
    unit: str = "万元"
    content: str | None = None
    total: str | None = None
    period: str | None = None
    owner: str | None = None
    remarks: str | None = None
    start_year: int | None = None
    end_year: int | None = None
    nature: str | None = None  # 建设性质: 新建, 续建, 改扩建 …
    category: str | None = None
    lead: int | None = None
    unsure: bool = False
    reason: str | None = None
    checked: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Candidate(_Entry):
    """A target found in the prose ("…达到…"), which the planner may make an indicator; ``item`` is where."""

    id: str
    name: str
    target: str | None = None
    year: int | None = None
    item: str | None = None
    text: str | None = None
    unsure: bool = True
    reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


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


def _clean(text: str | None) -> str:
    return (text or "").strip()


@dataclass
class Draft(_Entry):
    """A plan document as the extractor read it, as the planner has corrected it so far.

    ``reviews`` (the previous plan's 规划目标/完成情况 tables) and ``tables`` (what each table of the
    document was read as) are shown, never edited, and stay in their JSON form."""

    version: int = 1
    rev: int = 0  # raised by every saved edit: a form of an older revision is refused
    plan: PlanFacts = field(default_factory=PlanFacts)
    source: Source | None = None
    preface: str = ""
    items: list[Item] = field(default_factory=list)
    indicators: list[DraftIndicator] = field(default_factory=list)
    projects: list[DraftProject] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    tables: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    structure: dict[str, str] = field(default_factory=dict)  # numbering style -> role
    dropped: int = 0  # page headers and numbers left out
    next_id: int = 1
    message: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    _NESTED: ClassVar[dict[str, type[_Entry]]] = {"plan": PlanFacts, "source": Source}
    _LISTS: ClassVar[dict[str, type[_Entry]]] = {"items": Item, "indicators": DraftIndicator,
                                                  "projects": DraftProject, "candidates": Candidate}

    # -- reading

    def counts(self) -> dict[str, int]:
        """What the draft holds, by kind."""
        result = {label: sum(1 for i in self.items if i.type == t) for t, label in TYPE_LABELS.items()}
        result["指标"] = len(self.indicators)
        result["回顾表行"] = sum(len(t["rows"]) for t in self.reviews)
        result["重大项目"] = len(self.projects)
        result["候选目标"] = len(self.candidates)
        result["待核对"] = (sum(1 for i in self.items if i.unsure) + sum(1 for i in self.indicators if i.unsure)
                           + sum(1 for p in self.projects if p.unsure))
        return result

    def tree(self) -> list[tuple[int, Item]]:
        """The items in document order with their depth (for printing and the preview)."""
        children: dict[str | None, list[Item]] = {}
        ids = {i.id for i in self.items}
        for item in self.items:
            children.setdefault(item.parent if item.parent in ids else None, []).append(item)
        out: list[tuple[int, Item]] = []

        def walk(parent: str | None, depth: int) -> None:
            for item in children.get(parent, []):
                out.append((depth, item))
                walk(item.id, depth + 1)

        walk(None, 0)
        return out

    def descendants(self, item_id: str) -> set[str]:
        found: set[str] = set()
        frontier = {item_id}
        while frontier:
            frontier = {i.id for i in self.items if i.parent in frontier} - found
            found |= frontier
        return found

    def missing_natures(self) -> list[DraftIndicator]:
        return [i for i in self.indicators if not i.nature]

    def unassigned(self) -> int:
        """Tasks and projects without a lead department."""
        return sum(1 for i in self.items if i.type in ("key_task", "measure", "box") and not i.lead) \
            + sum(1 for p in self.projects if not p.lead)

    def investment_unit(self) -> InvestmentUnit:
        """The unit the project tables are in (万元 unless the first that says one says 亿元)."""
        units = [p.unit for p in self.projects if p.unit]
        return InvestmentUnit.YI if units and units[0] == "亿元" else InvestmentUnit.WAN

    def item(self, item_id: str) -> Item:
        return _find(self.items, item_id)

    def _new_id(self, prefix: str) -> str:
        n = self.next_id
        self.next_id = n + 1
        return f"{prefix}{n}"

    # -- the tree

    def update_item(self, item_id: str, data: ItemInput, department: Departments) -> tuple[Item, Changes]:
        """Change one item (type, code, title, text, kind, place, departments); it counts as checked. Returns
        the item and its fields before and after."""
        items = self.items
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
            owner = next((i for i in items if i.code == code and i.id != item_id and i.type != "section"), None)
            if owner is not None:
                raise DomainError(f"编号“{code}”已被“{owner.title}”使用。", field="code")
        parent = None
        if data.parent:
            parent = _find(items, data.parent, "上级")
            if parent.id == item_id or parent.id in self.descendants(item_id):
                raise DomainError("不能把条目移到它自己或它的下级之下。", field="parent")
        if (parent.type if parent else None) not in ITEM_PARENTS[data.type]:
            raise DomainError(PLACEMENT[data.type], field="parent")
        for child in items:
            if child.parent == item_id and data.type not in ITEM_PARENTS[child.type]:
                raise DomainError(f"该条目下有{TYPE_LABELS.get(child.type, child.type)}“{child.title[:20]}”，不能改为"
                                  f"{TYPE_LABELS.get(data.type, data.type)}。", field="type")
        try:
            kind = TaskKind(data.kind)
        except ValueError:
            raise DomainError("请选择任务类型。", field="kind") from None
        lead = department(data.lead, "lead", "牵头单位")
        co = [d for d in (department(i, "co", "配合单位") for i in dict.fromkeys(data.co)) if d is not None and d != lead]
        watched = ("type", "code", "title", "parent", "kind", "lead", "co")
        before = {k: getattr(item, k) for k in watched}
        item.type, item.code, item.title, item.description, item.kind = data.type, code, title, \
            _clean(data.description), kind.value
        item.parent, item.lead, item.co = parent.id if parent else None, lead, co
        item.unsure, item.checked = False, True
        # keep the document order: a moved item goes after its new parent's last descendant
        if parent is not None and before["parent"] != item.parent:
            items.remove(item)
            family = {parent.id} | self.descendants(parent.id)
            at = max(i for i, it in enumerate(items) if it.id in family) + 1
            items.insert(at, item)
        return item, (before, {k: getattr(item, k) for k in watched})

    def delete_item(self, item_id: str, *, with_children: bool) -> tuple[Item, int]:
        """Remove an item; its children go with it or move up to its parent. Returns it and how many went."""
        item = _find(self.items, item_id)
        gone = {item_id} | (self.descendants(item_id) if with_children else set())
        parent = next((i for i in self.items if i.id == item.parent), None)
        for child in self.items:
            if child.parent == item_id and child.id not in gone:
                child.parent = item.parent
                if (parent.type if parent else None) not in ITEM_PARENTS[child.type]:
                    if child.type == "measure":
                        child.type = "key_task"
                    child.unsure = True
                    child.reason = "上级已删除，请核对它的位置和类型"
        self._remember_deleted("item", [i for i in self.items if i.id in gone])
        self.items = [i for i in self.items if i.id not in gone]
        for candidate in self.candidates:
            if candidate.item in gone:
                candidate.item = None
        return item, len(gone)

    def _remember_deleted(self, what: str, entries: list[Item] | list[DraftIndicator] | list[DraftProject]) -> None:
        """What the planner deleted, as it was: a revised document that still has it leaves it deleted
        (:func:`.revision.merge`) until the planner restores it."""
        self.extra.setdefault("deleted", []).extend({"what": what, "entry": e.to_json()} for e in entries)

    def make_tasks(self, item_id: str) -> tuple[Item, int]:
        """A part the extractor judged narrative (发展基础, 保障措施 …) holds work after all: a chapter's headings
        become key tasks and theirs measures; a narrative heading under a chapter becomes a key task and its
        headings measures. Each is doubted for the planner to check. Returns the part and how many became tasks."""
        item = _find(self.items, item_id)
        if not item.narrative:
            raise DomainError("该条目不是叙述性章节。")
        under = self.descendants(item_id)
        parts = [i for i in self.items if i.id in under or i.id == item_id]
        by_id = {i.id: i for i in self.items}
        depth = {item_id: 0}
        made = 0
        for part in parts:  # document order: a parent before its children
            part.narrative = False
            if part.id != item_id:
                depth[part.id] = depth.get(part.parent or "", 0) + 1
            level = depth[part.id] + (0 if item.type == "chapter" else 1)
            if part.type != "section" or level == 0:
                continue
            task = part.parent if level > 1 else None
            while task is not None and by_id[task].type != "key_task":
                task = by_id[task].parent  # (deeper headings go under their key task)
            part.type, part.parent = ("measure", task) if task is not None else ("key_task", part.parent)
            part.unsure, part.reason = True, "由叙述性章节转为任务，请核对类型和层级"
            made += 1
        if made == 0:
            raise DomainError("该章节下没有小标题，无法转为任务；可编辑它下面的内容或新建条目。")
        return item, made

    def merge_item(self, item_id: str) -> tuple[Item, Item]:
        """Fold an item into the one before it with the same parent (a task the document split in two).
        Returns the item and the one it went into."""
        item = _find(self.items, item_id)
        siblings = [i for i in self.items if i.parent == item.parent]
        at = siblings.index(item)
        if at == 0:
            raise DomainError("该条目前面没有同级条目，无法合并。")
        target = siblings[at - 1]
        text = item.title + ("。" + item.description if item.description else "")
        target.description = "\n".join(t for t in (target.description, text) if t)
        target.box_items = [*target.box_items, *item.box_items]
        for child in self.items:
            if child.parent == item_id:
                child.parent = target.id
        self.items = [i for i in self.items if i.id != item_id]
        for candidate in self.candidates:
            if candidate.item == item_id:
                candidate.item = target.id
        return item, target

    def assign(self, item_ids: list[str], lead: int | None, co: list[int]) -> int:
        """Give the chosen items (not sections) one lead department and/or add co-operating departments."""
        chosen = [i for i in self.items if i.id in set(item_ids) and i.type != "section"]
        for item in chosen:
            if lead is not None:
                item.lead = lead
            item.co = [d for d in dict.fromkeys([*item.co, *co]) if d != item.lead]
        return len(chosen)

    def apply_rules(self, rules: list[tuple[str, int]], *, overwrite: bool) -> Assignment:
        """Assign departments by keyword rules, read in what names the work — a task's title (a 专栏's title
        and items), an indicator's name, a project's name and owner: the first keyword found leads, the
        departments of the other keywords found co-operate. Long descriptions are not read: they mention
        many units in passing."""
        result = Assignment()
        targets: list[Item | DraftProject | DraftIndicator] = [
            *(i for i in self.items if i.type in ("key_task", "measure", "box")), *self.projects, *self.indicators]
        for entry in targets:
            names = [entry.title if isinstance(entry, Item) else entry.name]
            if isinstance(entry, Item) and entry.type == "box":
                names += entry.box_items
            owner = entry.owner if isinstance(entry, DraftProject) else None
            found = _matches(rules, names[0]) or _matches(rules, " ".join(filter(None, [*names[1:], owner])))
            if not found:
                if entry.lead is None and isinstance(entry, Item):
                    result.unmatched.append(f"{entry.code} {names[0][:20]}")
                continue
            if entry.lead is None or overwrite:
                if entry.lead != found[0][1]:
                    result.leads += 1
                entry.lead = found[0][1]
            if isinstance(entry, Item):
                co = [d for _at, d in found if d != entry.lead]
                merged = list(dict.fromkeys([*entry.co, *co])) if not overwrite else list(dict.fromkeys(co))
                merged = [d for d in merged if d != entry.lead]
                if merged != entry.co:
                    result.co += 1
                entry.co = merged
        return result

    # -- indicators, candidates, projects

    def update_indicator(self, indicator_id: str, data: IndicatorInput,
                         department: Departments) -> tuple[DraftIndicator, Changes]:
        indicator = _find(self.indicators, indicator_id, "指标")
        values = self._check_indicator(data, indicator_id)
        lead = department(data.lead, "lead", "牵头单位")
        before = {k: getattr(indicator, k) for k in values}
        for k, v in values.items():
            setattr(indicator, k, v)
        indicator.lead, indicator.unsure, indicator.reason, indicator.checked = lead, False, None, True
        if not indicator.nature:
            indicator.doubt_nature()
        return indicator, (before, {k: getattr(indicator, k) for k in values})

    def _check_indicator(self, data: IndicatorInput, indicator_id: str | None) -> dict[str, Any]:
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
        owner = next((i for i in self.indicators if i.number == data.number and i.id != indicator_id), None)
        if owner is not None:
            raise DomainError(f"序号 {data.number} 已被指标“{owner.name}”使用。", field="number")
        if data.nature and data.nature not in {n.value for n in IndicatorNature}:
            raise DomainError("请选择指标属性。", field="nature")
        if data.baseline_year and data.target_year and data.target_year < data.baseline_year:
            raise DomainError("目标年份不能早于基期年份。", field="target_year")
        return {"number": data.number, "name": name, "target": target, "category": _clean(data.category) or None,
                "unit": _clean(data.unit) or None, "baseline": _clean(data.baseline) or None,
                "baseline_year": data.baseline_year, "target_year": data.target_year, "nature": data.nature or None,
                "definition": _clean(data.definition) or None}

    def set_missing_natures(self, nature: str | None) -> tuple[IndicatorNature, int]:
        """Every indicator the document left without a nature gets the one the planner chose (the others
        keep theirs). Returns the nature and how many were set."""
        try:
            chosen = IndicatorNature(nature or "")
        except ValueError:
            raise DomainError("请选择指标属性（约束性或预期性）。", field="nature") from None
        missing = self.missing_natures()
        if not missing:
            raise DomainError("所有指标都已注明属性。", field="nature")
        for indicator in missing:
            indicator.choose_nature(chosen.value)
        return chosen, len(missing)

    def delete_indicator(self, indicator_id: str) -> DraftIndicator:
        indicator = _find(self.indicators, indicator_id, "指标")
        self._remember_deleted("indicator", [indicator])
        self.indicators = [i for i in self.indicators if i.id != indicator_id]
        return indicator

    def promote_candidate(self, candidate_id: str) -> tuple[Candidate, DraftIndicator]:
        """A target found in the prose becomes an indicator of the draft (still to be checked)."""
        candidate = _find(self.candidates, candidate_id, "候选目标")
        if not candidate.target:
            raise DomainError("该条目没有目标值，不能直接作为指标；请先在指标表中新增。")
        number = max((i.number for i in self.indicators), default=0) + 1
        indicator = DraftIndicator(
            id=self._new_id("i"), number=number, name=candidate.name[:120], target=candidate.target[:60],
            target_year=candidate.year, source=candidate.text, notes=["由正文中的目标语句转为指标"], unsure=True,
            reason="由正文语句转来，请核对名称、单位和目标值")
        indicator.doubt_nature()
        self.indicators.append(indicator)
        self.candidates = [c for c in self.candidates if c.id != candidate_id]
        return candidate, indicator

    def delete_candidate(self, candidate_id: str) -> Candidate:
        candidate = _find(self.candidates, candidate_id, "候选目标")
        self.candidates = [c for c in self.candidates if c.id != candidate_id]
        return candidate

    def update_project(self, project_id: str, data: ProjectInput, department: Departments) -> DraftProject:
        project = _find(self.projects, project_id, "项目")
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
        lead = department(data.lead, "lead", "建设（牵头）单位")
        project.name, project.unit, project.content = name, unit.label, _clean(data.content) or None
        project.total, project.period = _clean(data.total) or None, _clean(data.period) or None
        project.owner, project.remarks = _clean(data.owner) or None, _clean(data.remarks) or None
        project.start_year, project.end_year, project.lead = data.start_year, data.end_year, lead
        project.unsure, project.checked = False, True
        return project

    def delete_project(self, project_id: str) -> DraftProject:
        project = _find(self.projects, project_id, "项目")
        self._remember_deleted("project", [project])
        self.projects = [p for p in self.projects if p.id != project_id]
        return project


_E = TypeVar("_E", Item, DraftIndicator, DraftProject, Candidate)


@dataclass
class Assignment:
    leads: int = 0
    co: int = 0
    unmatched: list[str] = field(default_factory=list)


def _find(entries: list[_E], entry_id: str, what: str = "条目") -> _E:
    for entry in entries:
        if entry.id == entry_id:
            return entry
    raise DomainError(f"草稿中没有这个{what}（可能已被删除），请刷新页面。")


def _matches(rules: list[tuple[str, int]], text: str) -> list[tuple[int, int]]:
    """(position, department) of every rule keyword in the text, earliest first, longest keyword first."""
    found = []
    for keyword, dept_id in rules:
        at = text.find(keyword)
        if at >= 0:
            found.append((at, -len(keyword), dept_id))
    return [(at, dept) for at, _length, dept in sorted(found)]
