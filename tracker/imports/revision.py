"""A revised version of a plan document merged into the draft the planner has been correcting.

Every item, indicator and project of a draft remembers what the document said (``extra["extracted"]``,
written by :func:`remember_extraction` when the document is read), beside what the planner made of it.
:func:`merge` matches the new document's entries to the old draft's — items by the path of their codes and
their normalised title, then by title similarity under the same parent; indicators and projects by name,
then by similarity — and for each:

- the document did not change it: the planner's version is kept, corrections and departments included;
- the document changed it and the planner had not corrected it: the new text is taken (departments kept),
  marked ``changed``;
- the document changed it and the planner had corrected it: the correction is kept and the entry is marked
  ``conflict`` ("原文已修改") with the old and the new text, for the planner to decide (:func:`decide`);
- new in the document: added, marked ``added`` ("新增");
- gone from the document: left out of the draft and listed in ``extra["revision"]["removed"]`` ("已删除"),
  from where the planner may keep one anyway (:func:`restore`);
- deleted by the planner (the draft remembers what was deleted, ``extra["deleted"]``) and still in the
  document: it stays deleted — in its new text, so restoring it brings the document's present version — and
  is listed in ``extra["revision"]["deleted"]`` ("已删除（你删除的，新版仍有）"), from where the planner may
  restore it (:func:`restore`).

The comparison ("与上一版相比") is kept in the draft's ``extra["revision"]``. Everything here works on
:class:`.draft.Draft` objects only; the upload, the permission and the audit are :mod:`.services`' part.
"""

from __future__ import annotations

import re
from copy import deepcopy
from difflib import SequenceMatcher
from typing import Any

from ..errors import DomainError
from .draft import ITEM_PARENTS, TYPE_LABELS, Draft, DraftIndicator, DraftProject, Item

# What the document says of an entry (what a revision compares); departments are the planner's alone.
ITEM_TEXT = ("type", "code", "title", "description", "kind", "deadline")
INDICATOR_TEXT = ("number", "name", "target", "category", "unit", "baseline", "baseline_year", "target_year",
                    "nature", "definition")
PROJECT_TEXT = ("name", "unit", "content", "total", "period", "owner", "remarks", "start_year", "end_year")
FIELD_NAMES = {"type": "类型", "code": "编号", "title": "标题", "description": "内容", "kind": "任务类型",
               "deadline": "完成时限", "number": "序号", "name": "名称", "target": "目标值", "category": "类别",
               "unit": "单位", "baseline": "基期值", "baseline_year": "基期年份", "target_year": "目标年份",
               "nature": "属性", "definition": "名词解释", "content": "建设内容", "total": "总投资",
               "period": "期内投资", "owner": "建设单位", "remarks": "备注", "start_year": "开始年份",
               "end_year": "结束年份"}
WHAT_LABELS = {"item": "条目", "indicator": "指标", "project": "项目"}
STATUS_LABELS = {"added": "新增", "changed": "原文已修改", "conflict": "原文已修改", "removed": "已删除",
                 "deleted": "已删除（你删除的，新版仍有）"}
KINDS: dict[str, type[Item] | type[DraftIndicator] | type[DraftProject]] = {
    "item": Item, "indicator": DraftIndicator, "project": DraftProject}
SIMILAR = 0.6  # title similarity that still counts as the same entry
_PUNCT = re.compile(r"[\s\u3000，,。．.、；;：:（）()《》“”\"'！!？?—\-]+")

Entry = Item | DraftIndicator | DraftProject


def normalise(text: str | None) -> str:
    return _PUNCT.sub("", text or "").lower()


def similarity(a: str | None, b: str | None) -> float:
    a, b = normalise(a), normalise(b)
    if not a or not b:
        return 0.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def _fields(entry: Entry) -> tuple[str, ...]:
    if isinstance(entry, Item):
        return ITEM_TEXT
    return INDICATOR_TEXT if isinstance(entry, DraftIndicator) else PROJECT_TEXT


def snapshot(entry: Entry) -> dict[str, Any]:
    """The entry's document fields as they are now."""
    return {k: getattr(entry, k) for k in _fields(entry)}


def extracted(entry: Entry) -> dict[str, Any]:
    """What the document said of the entry (its present values for a draft read before this was kept)."""
    stored = entry.extra.get("extracted")
    return {k: stored.get(k) for k in _fields(entry)} if isinstance(stored, dict) else snapshot(entry)


def remember_extraction(draft: Draft) -> None:
    """Keep what the document says of each entry beside what the planner will make of it."""
    for entry in (*draft.items, *draft.indicators, *draft.projects):
        entry.extra["extracted"] = snapshot(entry)
        if isinstance(entry, Item):
            entry.extra["extracted"]["parent"] = entry.parent


def status(entry: Entry) -> str | None:
    return entry.extra.get("change")


def label(entry: Entry) -> str:
    if isinstance(entry, Item):
        return f"{TYPE_LABELS.get(entry.type, entry.type)} {entry.code} {entry.title}".strip()
    if isinstance(entry, DraftIndicator):
        return f"{entry.number}. {entry.name}"
    return entry.name


def revision_of(draft: Draft) -> dict[str, Any] | None:
    return draft.extra.get("revision")


def unresolved(draft: Draft) -> int:
    return sum(1 for e in (*draft.items, *draft.indicators, *draft.projects) if status(e) == "conflict")


# ------------------------------------------------------------------------------------------- matching


def _item_paths(draft: Draft, values: dict[str, dict[str, Any]]) -> dict[str, tuple[str, ...]]:
    by_id = {i.id: i for i in draft.items}
    paths: dict[str, tuple[str, ...]] = {}

    def path(item: Item) -> tuple[str, ...]:
        if item.id not in paths:
            paths[item.id] = ()  # (a cycle stops here)
            parent = by_id.get(item.parent or "")
            paths[item.id] = (*(path(parent) if parent else ()), normalise(values[item.id]["code"]))
        return paths[item.id]

    for item in draft.items:
        path(item)
    return paths


def match_items(old: Draft, new: Draft) -> dict[str, str]:
    """new item id -> old item id."""
    old_values = {i.id: extracted(i) for i in old.items}
    new_values = {i.id: snapshot(i) for i in new.items}
    old_paths, new_paths = _item_paths(old, old_values), _item_paths(new, new_values)
    by_key: dict[tuple[Any, ...], list[str]] = {}
    for item in old.items:
        by_key.setdefault((old_paths[item.id], normalise(old_values[item.id]["title"])), []).append(item.id)
    mapping: dict[str, str] = {}
    for item in new.items:
        found = by_key.get((new_paths[item.id], normalise(item.title)))
        if found:
            mapping[item.id] = found.pop(0)
    taken = set(mapping.values())
    for item in new.items:  # document order: a parent is matched before its children
        if item.id in mapping:
            continue
        parent = mapping.get(item.parent) if item.parent else None
        if item.parent and parent is None:
            continue  # under a new item: new as well
        best, score = None, 0.0
        for old_item in old.items:
            if old_item.id in taken or old_item.parent != parent or old_values[old_item.id]["type"] != item.type:
                continue
            value = similarity(old_values[old_item.id]["title"], item.title)
            if normalise(old_values[old_item.id]["code"]) == normalise(item.code):
                value += 0.25
            if value > score:
                best, score = old_item.id, value
        if best is not None and score >= SIMILAR:
            mapping[item.id] = best
            taken.add(best)
    return mapping


def _match_named(old: list[Any], new: list[Any]) -> dict[str, str]:
    """Indicators and projects: the same normalised name, then the most similar one."""
    mapping: dict[str, str] = {}
    by_name: dict[str, list[str]] = {}
    for entry in old:
        by_name.setdefault(normalise(extracted(entry)["name"]), []).append(entry.id)
    for entry in new:
        found = by_name.get(normalise(entry.name))
        if found:
            mapping[entry.id] = found.pop(0)
    taken = set(mapping.values())
    for entry in new:
        if entry.id in mapping:
            continue
        scored = [(similarity(extracted(o)["name"], entry.name), o.id) for o in old if o.id not in taken]
        if scored:
            score, best = max(scored)
            if score >= SIMILAR:
                mapping[entry.id] = best
                taken.add(best)
    return mapping


# ------------------------------------------------------------------------------------------- merging


def _deleted(draft: Draft, what: str, taken: set[str]) -> list[Any]:
    """The entries of one kind the planner deleted from the draft (as they were when deleted)."""
    out = [KINDS[what].from_json(deepcopy(r["entry"])) for r in draft.extra.get("deleted", [])
           if r.get("what") == what and isinstance(r.get("entry"), dict)]
    return [e for e in out if e.id not in taken]


def _keep_deleted(merged: Draft, what: str, entry_ids: list[str], summary: dict[str, Any]) -> None:
    """Entries the planner had deleted, back in the document: deleted again (so remembered again), listed."""
    rows = []
    for entry_id in reversed(entry_ids):  # children first: each is remembered where the document has it
        if what == "item":
            entry: Entry = merged.delete_item(entry_id, with_children=False)[0]
        else:
            entry = merged.delete_indicator(entry_id) if what == "indicator" else merged.delete_project(entry_id)
        rows.append({"what": what, "id": entry.id, "label": label(entry), "entry": entry.to_json()})
    summary["deleted"] += reversed(rows)


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


def _merge_entry(current: Entry, was: dict[str, Any], now: dict[str, Any], fresh: Entry,
                 summary: dict[str, Any], what: str) -> Entry:
    """One matched entry: the planner's version, the new text or both (see the module's rules)."""
    entry = deepcopy(current)
    entry.extra.pop("change", None)
    entry.extra.pop("proposed", None)
    changed = _diff(was, now)
    for key in ("code", "number"):  # renumbering (an item before it added or removed) is no change
        if key in changed:
            if getattr(current, key) == was[key]:
                setattr(entry, key, now[key])
            if len(changed) == 1:
                changed = {}
    if changed:
        corrected = {k: v for k, v in snapshot(current).items() if k not in ("code", "number")} \
            != {k: v for k, v in was.items() if k not in ("code", "number")}
        if corrected:
            entry.extra["change"] = "conflict"
            entry.extra["proposed"] = {k: now[k] for k in changed}  # what the document changed, no more
        else:
            for k, v in now.items():
                if k not in ("code", "number") or getattr(current, k) == was[k]:
                    setattr(entry, k, v)
            entry.extra["change"] = "changed"
            entry.checked = False
            entry.unsure, entry.reason = fresh.unsure, fresh.reason
        summary["changed"].append({"what": what, "id": entry.id, "label": label(entry), "conflict": corrected,
                                   "fields": {k: [FIELD_NAMES.get(k, k), *v] for k, v in changed.items()}})
    entry.extra["extracted"] = dict(now)
    return entry


def merge(old: Draft, new: Draft, *, previous_id: int, previous_filename: str) -> tuple[Draft, dict[str, Any]]:
    """The new document's draft with the planner's work on the old one carried over (the module's rules).
    The old draft is not changed. Returns the merged draft and the comparison (also kept in the draft)."""
    merged = deepcopy(new)
    merged.rev, merged.next_id = old.rev + 1, max(old.next_id, 1)
    summary: dict[str, Any] = {"previous_id": previous_id, "previous_filename": previous_filename,
                               "added": [], "changed": [], "removed": [], "deleted": []}
    # items (those the planner deleted are matched too, to stay deleted)
    gone_items = _deleted(old, "item", {i.id for i in old.items})
    mapping = match_items(Draft(items=[*old.items, *gone_items]), new)
    old_items = {i.id: i for i in old.items}
    still_deleted: list[str] = []
    ids = {n.id: (mapping[n.id] if n.id in mapping else merged._new_id("t")) for n in new.items}
    items: list[Item] = []
    for fresh in new.items:
        parent = ids.get(fresh.parent) if fresh.parent else None
        if fresh.id in mapping and mapping[fresh.id] not in old_items:
            item = deepcopy(fresh)
            item.id, item.parent = ids[fresh.id], parent
            item.extra["extracted"] = snapshot(fresh)
            still_deleted.append(item.id)
        elif fresh.id in mapping:
            current = old_items[mapping[fresh.id]]
            was = extracted(current)
            item = _merge_entry(current, was, snapshot(fresh), fresh, summary, "item")
            assert isinstance(item, Item)
            moved = current.extra.get("extracted", {}).get("parent", current.parent) != current.parent
            item.parent = current.parent if moved and current.parent in ids.values() else parent
            item.box_items = list(fresh.box_items) if status(item) != "conflict" else item.box_items
        else:
            item = deepcopy(fresh)
            item.id, item.parent = ids[fresh.id], parent
            item.extra["change"] = "added"
            item.extra["extracted"] = snapshot(fresh)
            summary["added"].append({"what": "item", "id": item.id, "label": label(item)})
        item.extra["extracted"]["parent"] = parent
        items.append(item)
    by_id = {i.id: i for i in items}
    for item in items:  # a planner's move under an item of another type: back to the document's place
        if (by_id[item.parent].type if item.parent in by_id else None) not in ITEM_PARENTS[item.type]:
            item.parent = item.extra["extracted"]["parent"]
    merged.items = items
    _keep_deleted(merged, "item", still_deleted, summary)
    for old_item in old.items:
        if old_item.id not in mapping.values():
            summary["removed"].append({"what": "item", "id": old_item.id, "label": label(old_item),
                                       "entry": old_item.to_json()})
    for candidate in merged.candidates:
        candidate.id = merged._new_id("c")
        candidate.item = ids.get(candidate.item) if candidate.item else None
    # indicators and projects
    for what, attr, prefix in (("indicator", "indicators", "i"), ("project", "projects", "p")):
        olds, news = getattr(old, attr), getattr(new, attr)
        pairs = _match_named([*olds, *_deleted(old, what, {e.id for e in olds})], news)
        old_by_id = {e.id: e for e in olds}
        entries = []
        still_deleted = []
        for fresh in news:
            if fresh.id in pairs and pairs[fresh.id] not in old_by_id:
                entry = deepcopy(fresh)
                entry.id = pairs[fresh.id]
                entry.extra["extracted"] = snapshot(fresh)
                entries.append(entry)
                still_deleted.append(entry.id)
            elif fresh.id in pairs:
                current = old_by_id[pairs[fresh.id]]
                entries.append(_merge_entry(current, extracted(current), snapshot(fresh), fresh, summary, what))
            else:
                entry = deepcopy(fresh)
                entry.id = merged._new_id(prefix)
                entry.extra["change"] = "added"
                entry.extra["extracted"] = snapshot(fresh)
                entries.append(entry)
                summary["added"].append({"what": what, "id": entry.id, "label": label(entry)})
        setattr(merged, attr, entries)
        _keep_deleted(merged, what, still_deleted, summary)
        for entry in olds:
            if entry.id not in pairs.values():
                summary["removed"].append({"what": what, "id": entry.id, "label": label(entry),
                                           "entry": entry.to_json()})
    _renumber(merged)
    merged.extra["revision"] = summary
    return merged, summary


def _renumber(draft: Draft) -> None:
    """Two indicators may not share a number: an added one that collides with a kept one gets the next free."""
    used: set[int] = set()
    for indicator in sorted(draft.indicators, key=lambda i: status(i) == "added"):
        if indicator.number in used:
            indicator.number = max(used) + 1
        used.add(indicator.number)


def same_plan(old: Draft, new: Draft) -> bool:
    """Whether the new document can be a version of the old one: the same title (or a similar one), else
    enough items in common."""
    if old.plan.title and new.plan.title:
        if similarity(old.plan.title, new.plan.title) >= 0.8:
            return True
    elif not old.items or not new.items:
        return True
    if len(old.items) < 3:
        return bool(match_items(old, new)) or not old.items
    return len(match_items(old, new)) >= max(2, len(old.items) // 3)


# ------------------------------------------------------------------------------------------- the planner decides


def proposal(draft: Draft, entry: Entry) -> list[dict[str, Any]]:
    """What a "原文已修改" entry the planner had corrected is waiting on, field by field (for its edit form): the
    previous document's text, the new document's and the planner's own."""
    if status(entry) != "conflict":
        return []
    row = next((r for r in (revision_of(draft) or {}).get("changed", []) if r["id"] == entry.id), None)
    fields = row["fields"] if row else {}
    return [{"key": k, "field": FIELD_NAMES.get(k, k), "previous": fields.get(k, [None, None, None])[1], "new": v,
             "yours": getattr(entry, k, None)} for k, v in (entry.extra.get("proposed") or {}).items()]


def _entries(draft: Draft, what: str) -> list[Any]:
    return {"item": draft.items, "indicator": draft.indicators, "project": draft.projects}[what]


def decide(draft: Draft, entry_id: str, accept: bool) -> Entry:
    """A "原文已修改" entry the planner had corrected: take what the document changed (``accept``; the
    planner's corrections of the other fields stay) or keep the correction. Either way the flag goes."""
    entry = next((e for e in (*draft.items, *draft.indicators, *draft.projects) if e.id == entry_id), None)
    if entry is None or status(entry) != "conflict":
        raise DomainError("该条目没有待处理的原文修改（可能已处理），请刷新页面。")
    if accept:
        for k, v in (entry.extra.get("proposed") or {}).items():
            if k in _fields(entry):
                setattr(entry, k, v)
    entry.extra.pop("proposed", None)
    entry.extra["change"] = "changed"
    for row in (revision_of(draft) or {}).get("changed", []):
        if row["id"] == entry_id:
            row["decided"] = "accept" if accept else "keep"
            row["label"] = label(entry)
    return entry


def restore(draft: Draft, entry_id: str) -> Entry:
    """Keep an entry the new document no longer has, or restore one the planner had deleted that the new
    document still has (in the new document's text): back into the draft, doubted."""
    summary = revision_of(draft) or {}
    rows = [*summary.get("removed", []), *summary.get("deleted", [])]
    row = next((r for r in rows if r["id"] == entry_id and not r.get("kept")), None)
    if row is None:
        raise DomainError("该条目不在“已删除”列表中（可能已保留或恢复），请刷新页面。")
    entry = KINDS[row["what"]].from_json(deepcopy(row["entry"]))
    entries = _entries(draft, row["what"])
    deleted_by_planner = row in summary.get("deleted", [])
    if deleted_by_planner:  # no longer to be kept deleted
        draft.extra["deleted"] = [r for r in draft.extra.get("deleted", [])
                                  if not (r.get("what") == row["what"] and (r.get("entry") or {}).get("id") == entry.id)]
    if any(e.id == entry.id for e in entries):
        entry.id = draft._new_id(entry.id[0])
    entry.extra.pop("proposed", None)
    entry.extra["change"] = "restored" if deleted_by_planner else "kept"
    entry.unsure, entry.reason = True, ("您曾删除此条目，已按新版原文恢复，请核对" if deleted_by_planner
                                        else "新版文档中已删除，按规划处决定保留，请核对")
    if isinstance(entry, Item):
        ids = {i.id: i for i in draft.items}
        parent = ids.get(entry.parent or "")
        if (parent.type if parent else None) not in ITEM_PARENTS[entry.type]:
            entry.parent = None
            if entry.type == "measure":
                entry.type = "key_task"
        if any(i.code == entry.code and i.type != "section" for i in draft.items) and entry.type != "section":
            entry.code = f"{entry.code}（旧）"[:40]
        at = max((n for n, i in enumerate(draft.items) if i.id == entry.parent
                  or i.id in draft.descendants(entry.parent or "")), default=len(draft.items) - 1) + 1
        draft.items.insert(at, entry)
    elif isinstance(entry, DraftIndicator):
        if any(i.number == entry.number for i in draft.indicators):
            entry.number = max(i.number for i in draft.indicators) + 1
        draft.indicators.append(entry)
    else:
        draft.projects.append(entry)
    row["kept"] = entry.id
    return entry
