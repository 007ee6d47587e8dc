"""Pass three of extraction: the draft assembled from the events, in document order.

:class:`Builder` keeps the open headings and builds the chapter / section / key task / measure tree, attaches
专栏 boxes to their key task, makes candidate targets of the prose and indicators of goal lists, reads tables
through :class:`.tables.TableReader`, and finally gives footnote marks their notes, definitions and review
baselines their indicators, numbers the indicators and codes the tree (measures numbered within their key
task), reads each task's deadline and departments from its text, and returns the draft's JSON form. Headings
under a narrative chapter (发展基础, 保障措施 …, see :func:`.prose.is_narrative`) stay sections, and a key
task's "一是……二是……" sentences become its measures.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .blocks import clean_text, cn_number, cn_numeral, join_reasons, name_key
from .headings import definition, split_lead
from .limits import MAX_QUOTE_CHARS, Budget
from .prose import deadline, departments, is_narrative, ordinal_points, without_departments
from .structure import Event
from .tables import TableReader
from .targets import find_targets

DRAFT_VERSION = 1


class _Ids:
    """The ids of the draft's entries; each new entry counts against the budget."""

    def __init__(self, budget: Budget) -> None:
        self.n = 0
        self.budget = budget

    def __call__(self, prefix: str) -> str:
        self.budget.item()
        self.n += 1
        return f"{prefix}{self.n}"


@dataclass
class _Node:
    id: str
    type: str  # chapter | section | key_task | measure | box
    title: str
    number: int | None = None
    style: str | None = None
    label: str = ""
    description: list[str] = field(default_factory=list)
    parent: str | None = None
    kind: str = "task"
    box_items: list[str] = field(default_factory=list)
    unsure: bool = False
    reason: str | None = None
    code: str = ""
    raw: str = ""  # the heading's paragraph as written
    narrative: bool = False  # a chapter that describes (发展基础, 保障措施 …) and what lies under it
    deadline: str | None = None
    lead_text: str | None = None
    co_text: list[str] = field(default_factory=list)

    def doubt(self, reason: str) -> None:
        self.unsure = True
        self.reason = reason if not self.reason else f"{self.reason}；{reason}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "type": self.type, "code": self.code, "title": self.title,
            "description": "\n".join(d for d in self.description if d).strip(), "parent": self.parent,
            "kind": self.kind, "box_items": self.box_items, "lead": None, "co": [], "label": self.label,
            "unsure": self.unsure, "reason": self.reason, "narrative": self.narrative, "deadline": self.deadline,
            "lead_text": self.lead_text, "co_text": self.co_text,
        }


class Builder(TableReader):
    """Pass three: the draft, from the events in order (tables read by :class:`.tables.TableReader`)."""

    def __init__(self, roles: dict[str, str], plan: dict[str, Any], budget: Budget) -> None:
        self.budget = budget
        self.ids = _Ids(budget)
        self.roles = roles
        self.rank = {s: i for i, s in enumerate(roles)}
        self.plan = plan
        self.nodes: list[_Node] = []
        self.by_id: dict[str, _Node] = {}
        self.open: list[tuple[int, _Node]] = []  # (rank, node), outermost first
        self.current: _Node | None = None  # the node body text belongs to
        self.indicators: list[dict[str, Any]] = []
        self.reviews: list[dict[str, Any]] = []
        self.projects: list[dict[str, Any]] = []
        self.tables: list[dict[str, Any]] = []
        self.candidates: list[dict[str, Any]] = []
        self.definitions: list[tuple[str, str]] = []
        self.notes: list[str] = []
        self.preface: list[str] = []
        self.last_number: dict[str, int] = {}
        self.caption: str | None = None
        self.last_table: dict[str, Any] | None = None
        self.context_heading: str | None = None  # the latest unnumbered heading (a goal list's category)
        self.pending_marks: list[tuple[dict[str, Any], str, str]] = []  # (row, field, mark)
        self.measured: set[str] = set()  # key tasks with numbered measures (their 一是/二是 are not measures)

    # -- tree --------------------------------------------------------------------------------------

    def _nearest(self, *types: str) -> _Node | None:
        for _, node in reversed(self.open):
            if node.type in types:
                return node
        return None

    def heading(self, event: Event) -> None:
        h = event.heading
        assert h is not None
        role = self.roles.get(h.style, "section")
        rank = self.rank.get(h.style, len(self.rank))
        while self.open and self.open[-1][0] >= rank:
            self.open.pop()
        title, rest = split_lead(without_departments(h.text))
        node = _Node(self.ids("t"), role, title, number=h.number, style=h.style, label=h.label, raw=h.text)
        if rest:
            node.description.append(rest)
        parent = self.open[-1][1] if self.open else None
        if (parent is not None and parent.narrative) or is_narrative(title):
            # 发展基础, 指导思想, 保障措施 … and what lies under them describe: no tasks
            node.narrative = True
            if role in ("key_task", "measure", "deep"):
                role = node.type = "section"
        if role == "deep":
            node.type = "measure"
            parent = self._nearest("key_task")
            node.doubt(f"位于重点任务之下第三层及更深（{h.label}），已作为工作举措，请核对层级")
        if node.type == "measure" and self._nearest("key_task") is None:
            node.type = "key_task"
            node.doubt("未找到所属的重点任务，已作为重点任务")
        node.parent = parent.id if parent else None
        if node.type == "measure" and parent is not None:
            self.measured.add(parent.id)
        if h.number is not None:
            last = self.last_number.get(h.style)
            if last is not None and h.number not in (last + 1, 1):
                node.doubt(f"编号不连续（上一项为 {last}，本项为 {h.number}）")
            elif last is None and h.number != 1:
                node.doubt(f"编号没有从 1 开始（本项为 {h.number}）")
            self.last_number[h.style] = h.number
        if not title:
            node.doubt("标题为空")
        elif len(title) > 50:
            node.doubt("标题较长，可能把正文也当成了标题，请核对")
        if node.type in ("key_task", "measure") and rest:
            self._targets(rest, node)
        self._add(node)
        self.open.append((rank, node))
        self.current = node
        if node.type == "key_task" and rest:
            self._points(node, rest, replace=True)

    def _points(self, node: _Node, text: str, *, replace: bool = False) -> bool:
        """"一是……。二是……。" in a key task's text: a measure for each point (not when the key task has
        numbered measures of its own)."""
        if node.type != "key_task" or node.id in self.measured:
            return False
        lead, points = ordinal_points(text)
        if not points:
            return False
        if replace:
            node.description[-1] = lead
        elif lead:
            node.description.append(lead)
        for point in points:
            measure = _Node(self.ids("t"), "measure", point.title, parent=node.id)
            measure.description.append(point.text)
            if len(point.title) >= 30:
                measure.doubt("由“一是、二是”语句拆出，标题取首句前30字，请核对")
            self._add(measure)
        return True

    def _add(self, node: _Node) -> None:
        self.nodes.append(node)
        self.by_id[node.id] = node

    def task_row(self, number: int | None, text: str, lead: str | None, co: str | None, due: str | None) -> None:
        """A row of a table of tasks: a key task where the table stands (a measure under an open key task),
        its deadline and departments from their columns ("2026年12月" in a 完成时限 column is a deadline)."""
        title, rest = split_lead(text)
        task = self._nearest("key_task")
        parent = task or self._nearest("chapter", "section")
        node = _Node(self.ids("t"), "measure" if task else "key_task", title, number=number, raw=title,
                     parent=parent.id if parent else None)
        if rest:
            node.description.append(rest)
        node.deadline = deadline(due or "") or deadline(f"{due}前") if due else None
        named = departments("；".join(filter(None, [lead and f"牵头单位：{lead}", co and f"配合单位：{co}"])))
        if named:
            node.lead_text, node.co_text = named.lead, named.co
        if not title:
            node.doubt("标题为空")
        elif len(title) > 50:
            node.doubt("标题较长，可能把正文也当成了标题，请核对")
        if task is not None:
            self.measured.add(task.id)
        self._add(node)

    def plain_heading(self, event: Event) -> None:
        self.context_heading = event.text[:40]

    def body(self, text: str) -> None:
        if self.current is None:
            self.preface.append(text)
            self._targets(text, None)
            return
        self._targets(text, self.current)
        if not self._points(self.current, text):
            self.current.description.append(text)

    def _targets(self, text: str, node: _Node | None) -> None:
        for t in find_targets(text):
            self.candidates.append({
                "id": self.ids("c"), "name": t.name, "target": t.target, "year": t.year,
                "item": node.id if node else None, "text": text if len(text) <= 200 else _around(text, t.at),
                "unsure": True, "reason": "从正文语句中识别，请确认是否作为指标",
            })

    def bullet(self, text: str) -> None:
        targets = find_targets(text, bullet=True)
        if not targets:
            self.candidates.append({
                "id": self.ids("c"), "name": text[:60], "target": None, "year": None,
                "item": self.current.id if self.current else None, "text": text, "unsure": True,
                "reason": "目标清单中的条目，没有可以读出的目标值",
            })
            return
        category = self.context_heading or (self.current.title[:40] if self.current else None)
        for t in targets:
            reason = "从目标清单的条目中识别，请核对名称和目标值"
            if len(targets) > 1:
                reason = "一句中含多个指标，已按“分别”拆分，请核对"
            self.indicators.append(self._indicator(
                category=category, number=None, name=t.name, unit=None, baseline=None, baseline_year=None,
                target=t.target, target_year=t.year, nature=None, source=_quote(text), unsure=True, reason=reason))

    def box(self, title: str, number: int | None, lines: list[str]) -> None:
        items = []
        for line in lines:
            for part in line.splitlines():
                part = clean_text(part)
                if part:
                    items.append(part)
        node = _Node(self.ids("t"), "box", title or f"专栏{number or ''}", number=number, label=f"专栏{number or ''}")
        node.kind = _box_kind(title, items)
        node.box_items = [_item_title(i) for i in items]
        node.description = items
        holder = self._nearest("key_task", "measure")
        if holder is not None and holder.type == "measure":
            holder = self.by_id.get(holder.parent or "", holder)
        if holder is None:
            holder = self._nearest("chapter", "section")
            node.doubt("前面没有重点任务，专栏挂在所在章下，请核对归属")
        node.parent = holder.id if holder else None
        if not items:
            node.doubt("专栏没有识别出条目")
        if number is not None:
            last = self.last_number.get("box")
            if last is not None and number != last + 1:
                node.doubt(f"专栏编号不连续（上一个为专栏{last}）")
            self.last_number["box"] = number
        self._add(node)

    def note(self, text: str) -> None:
        if self.last_table is not None:
            self.last_table["notes"].append(text)
        else:
            self.notes.append(text)

    def appendix(self, text: str) -> None:
        if found := definition(text):
            self.definitions.append(found)

    # -- finishing ---------------------------------------------------------------------------------

    def finish(self) -> dict[str, Any]:
        if self.plan.get("start_year") is None:
            # an annual plan says its year in the opening lines: "2021年，…制定了“十大行动”计划"
            for text in self.preface[:5]:
                if m := re.search(r"((?:19|20)\d\d)\s*年[^。]{0,40}?(?:行动计划|计划|规划|方案)", text):
                    self.plan["start_year"] = self.plan["end_year"] = int(m.group(1))
                    break
        self._apply_marks()
        self._apply_definitions()
        self._baselines_from_reviews()
        self._number_indicators()
        self._codes()
        self._empty_chapters()
        self._dates_and_departments()
        names = {name_key(i["name"]) for i in self.indicators}
        candidates = [c for c in self.candidates if name_key(c["name"]) not in names]
        items = [n.to_json() for n in self.nodes]
        draft = {
            "version": DRAFT_VERSION,
            "plan": self.plan,
            "preface": "\n".join(self.preface)[:2000],
            "items": items,
            "indicators": self.indicators,
            "reviews": self.reviews,
            "projects": self.projects,
            "candidates": candidates,
            "tables": self.tables,
            "notes": self.notes,
            "next_id": self.ids.n + 1,
            "message": None,
        }
        if not (items or self.indicators or self.projects or self.reviews):
            draft["message"] = ("没有识别出章节、任务、专栏或指标表。请确认上传的是规划正文（带有“一、”“（一）”“1．”"
                                "等编号或 Word 标题样式），扫描件需先转成文字；也可以改用任务分解表（Excel）导入。")
        elif not any(i["type"] in ("key_task", "measure", "box") for i in items) and items:
            draft["message"] = "只识别出章节，没有识别出重点任务。请核对各章，必要时把章节改为重点任务。"
        return draft

    def _apply_marks(self) -> None:
        notes = [n for t in self.tables for n in t["notes"]] + self.notes
        explaining: dict[frozenset[str], str | None] = {}  # the first note that has one of the marks
        for row, field_name, mark in self.pending_marks:
            self.budget.tick()
            marks = frozenset(mark)
            if marks not in explaining:
                explaining[marks] = next((n for n in notes if any(m in n for m in marks)), None)
            explained = explaining[marks]
            label = {"target": "目标值", "baseline": "基期值", "actual": "完成值"}[field_name]
            if explained:
                row["notes"].append(f"{label}标有“{mark}”：{_quote(explained)}")
                year = re.search(r"(19|20)\d\d\s*年", explained)
                if year and field_name in ("baseline", "actual"):
                    row[f"{field_name}_year" if field_name == "baseline" else "year"] = int(year.group(0)[:4])
            else:
                row["notes"].append(f"{label}标有“{mark}”，但没有找到对应的注释")
                if "unsure" in row:
                    row["unsure"], row["reason"] = True, join_reasons(row.get("reason"), "有标记但没有找到注释")

    def _apply_definitions(self) -> None:
        by_name = {name_key(i["name"]): i for i in self.indicators}
        for name, text in self.definitions:
            indicator = by_name.get(name_key(name))
            if indicator is not None and not indicator["definition"]:
                indicator["definition"] = text

    def _baselines_from_reviews(self) -> None:
        rows = {name_key(r["name"]): (r, t) for t in self.reviews for r in t["rows"]}
        for item in self.indicators:
            if item["baseline"]:
                continue
            found = rows.get(name_key(item["name"]))
            if found is None or not found[0]["actual"]:
                continue
            row, table = found
            item["baseline"] = row["actual"]
            item["baseline_year"] = row.get("year") or table["year"]
            item["notes"].append(f"基期值取自{table['caption'] or '回顾表'}的“{table['actual_header']}”")

    def _number_indicators(self) -> None:
        numbers = [i["number"] for i in self.indicators if i["number"] is not None]
        if len(numbers) != len(set(numbers)):
            for n, item in enumerate(self.indicators, start=1):
                if item["number"] != n:
                    item["notes"].append(f"原序号 {item['number']}，因与其他表重复已重新编号")
                item["number"] = n
            return
        taken = set(numbers)
        n = max(taken, default=0)
        for item in self.indicators:
            if item["number"] is None:
                n += 1
                while n in taken:
                    n += 1
                item["number"] = n
                taken.add(n)

    def _codes(self) -> None:
        """Codes the planner can recognise: 一 二 for chapters, the document's numbers below."""
        key_numbers = [n.number for n in self.nodes if n.type == "key_task" and n.number is not None]
        key_unique = len(key_numbers) == len(set(key_numbers))
        by_id = self.by_id
        taken: set[str] = set()
        counters: Counter[str] = Counter()
        # the suffix to try next for a code already taken: every smaller one is taken (and stays taken), so
        # each suffix is tried once for the whole document instead of from 2 again for each repeat
        next_suffix: dict[str, int] = {}

        def ancestor(node: _Node, *types: str) -> _Node | None:
            parent = by_id.get(node.parent) if node.parent else None
            while parent is not None and parent.type not in types:
                parent = by_id.get(parent.parent) if parent.parent else None
            return parent

        for node in self.nodes:
            self.budget.tick()
            counters[f"{node.type}:{node.parent}"] += 1
            position = counters[f"{node.type}:{node.parent}"]
            number = node.number if node.number is not None else position
            if node.type == "chapter":
                code = cn_numeral(number)
            elif node.type == "section":
                node.code = node.label or f"（{cn_numeral(number)}）"
                continue
            elif node.type == "box":
                code = f"专栏{node.number}" if node.number is not None else f"专栏{position}"
            elif node.type == "key_task":
                chapter = ancestor(node, "chapter")
                if key_unique or chapter is None:
                    code = str(number)
                else:
                    code = f"{cn_number(chapter.code) or chapter.code}.{number}"
            else:
                # numbered within the key task, whatever running numbers the document uses
                holder = ancestor(node, "key_task")
                code = f"{holder.code}.{position}" if holder else str(number)
            base, n = code, 1
            if code in taken:
                n = next_suffix.get(base, 2)
                code = f"{base}-{n}"
                while code in taken:
                    n += 1
                    code = f"{base}-{n}"
                next_suffix[base] = n + 1
            if n > 1:
                node.doubt(f"编号“{base}”重复，已改为“{code}”")
            taken.add(code)
            node.code = code

    def _dates_and_departments(self) -> None:
        """The deadline and departments each task's own text gives (“2027年底前”, “责任单位：…”)."""
        for node in self.nodes:
            if node.type not in ("key_task", "measure"):
                continue
            text = "\n".join([node.raw or node.title, *node.description])
            node.deadline = deadline(text) or node.deadline  # (a task table's row has its own)
            if found := departments(text):
                node.lead_text, node.co_text = found.lead, found.co
                node.description = [without_departments(d) for d in node.description]

    def _empty_chapters(self) -> None:
        by_id = self.by_id
        has_work: set[str] = set()
        for node in self.nodes:
            if node.type in ("key_task", "measure", "box"):
                parent = by_id.get(node.parent) if node.parent else None
                while parent is not None and parent.id not in has_work:
                    has_work.add(parent.id)
                    parent = by_id.get(parent.parent) if parent.parent else None
        if not has_work:
            return
        for node in self.nodes:
            if node.type == "chapter" and node.id not in has_work and node.narrative:
                node.doubt("叙述性章节（背景、目标、保障措施等），本章没有识别出任务：其中的小标题保留为节；"
                           "需要作为任务的，请把它改为重点任务")
            elif node.type == "chapter" and node.id not in has_work:
                node.doubt("本章没有识别出任务（可能是背景、目标等叙述性内容），不需要的话可以删除")


def _box_kind(title: str, items: list[str]) -> str:
    if "改革" in title:
        return "reform"
    if "政策" in title:
        return "policy"
    if "项目" in title or sum("项目" in i[:30] for i in items) * 2 > max(len(items), 1):
        return "project"
    return "engineering"


def _item_title(text: str) -> str:
    title, _rest = split_lead(text)
    return title if len(title) <= 40 else text[:60]


def _around(text: str, at: int) -> str:
    return ("…" if at > 40 else "") + text[max(at - 40, 0):at + 120] + ("…" if at + 120 < len(text) else "")


def _quote(text: str) -> str:
    """A text copied into more than one entry, at most MAX_QUOTE_CHARS long."""
    return text if len(text) <= MAX_QUOTE_CHARS else text[:MAX_QUOTE_CHARS] + "…"
