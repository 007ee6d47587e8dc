"""Tables: which column holds what, and each kind of table read into the draft.

:func:`_header_roles` finds the columns from the header texts (类别/序号/指标/单位/基期/目标/属性, 规划目标 and
完成情况, 项目/建设内容/总投资/期内投资/建设单位/备注); the cell helpers strip footnote marks and empty values
and read natures, years and money units. :class:`TableReader` is the part of the builder that reads a table
event: a 专栏 box drawn as a table, a one-column text frame, an indicator table, a review table (the previous
plan's 规划目标 vs 完成情况), a key-project table, or a table it does not know (counted, not imported).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from ..indicators.targets import parse_target
from .blocks import UNIT_SUFFIX, Table, clean_text, cn_number, compact, join_reasons
from .headings import BOX, NOTE
from .limits import MAX_HEADER_ROWS, Budget

# the marks after (or before) a value that point to a footnote: "5.99*"
_MARKS = "*＊※△▲"

_ROLE_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("task", ("工作任务", "重点任务", "主要任务", "任务名称", "工作内容", "工作措施", "具体措施", "主要举措", "重点工作")),
    ("due", ("完成时限", "完成时间", "时间节点", "完成期限", "时限要求", "时间要求")),
    ("co", ("配合单位", "协同单位", "参与单位", "配合部门")),
    ("build", ("建设性质", "项目性质", "建设类型", "建设方式")),
    ("nature", ("属性", "性质")),
    ("category", ("类别", "领域", "分类", "类型")),
    ("number", ("序号", "编号")),
    ("owner", ("建设单位", "业主", "项目单位", "责任单位", "牵头单位", "实施单位", "承担单位", "主体")),
    ("unit", ("计量单位",)),
    ("content", ("建设内容", "主要内容", "建设规模")),
    ("total", ("总投资", "投资总额", "估算投资")),
    ("years", ("建设年限", "起止年限", "建设期限", "建设周期", "起止年份", "建设起止")),
    ("remarks", ("备注",)),
    ("actual", ("完成情况", "完成值", "实际", "完成")),
    ("baseline", ("基期", "现状", "基数", "基准", "基线")),
    ("target", ("目标",)),
    ("name", ("指标", "名称", "项目")),
]


def _header_roles(cells: list[str]) -> dict[str, int]:
    """Which column holds what, from the header texts."""
    roles: dict[str, int] = {}
    years: list[tuple[int, int]] = []
    for i, cell in enumerate(cells):
        text = re.sub(r"\s+", "", cell)
        if not text:
            continue
        role = None
        if text == "单位":
            role = "unit"
        elif "投资" in text and re.search(r"期内|期间|规划期|计划|十[二三四五六]五|年度", text):
            role = "period"
        else:
            for candidate, words in _ROLE_WORDS:
                if any(w in text for w in words):
                    role = candidate
                    break
        if role is None and re.fullmatch(r"(20|19)\d\d年?", text):
            years.append((int(text[:4]), i))
            continue
        if role is not None and role not in roles:
            roles[role] = i
    if years and "target" not in roles:
        years.sort()
        roles["target"] = years[-1][1]
        if len(years) > 1 and "baseline" not in roles:
            roles["baseline"] = years[0][1]
    return roles


def _year_columns(header: list[str]) -> list[tuple[int, int]]:
    """(year, column) of the header cells that name a year (2020年, 2025年目标, 2015年现状)."""
    out = []
    for i, cell in enumerate(header):
        if m := re.search(r"(19|20)\d\d", cell):
            out.append((int(m.group(0)), i))
    return out


# rows that add up others: not an indicator or a project of their own
_SUM_ROW = re.compile(r"^(合\s*计|小\s*计|总\s*计|共\s*计|总\s*额|合计\s*[（(].*|小计\s*[（(].*)$")
# what a unit column holds (never a category): 张, 人, %, 万元 …
_UNIT_LIKE = re.compile(r"^[^\d]{0,1}[张人个岁所家项床元次%‰]$|^(万元|亿元|/10万|‰|%|分钟|小时|平方米|万人)$")


def is_sum_row(cells: list[str]) -> bool:
    return any(_SUM_ROW.match(c) for c in cells[:3] if c)


def _year_in(text: str) -> int | None:
    m = re.search(r"(19|20)\d\d", text)
    return int(m.group(0)) if m else None


def _strip_marks(value: str) -> tuple[str, str]:
    """('5.99', '*') from '5.99*'."""
    value = value.strip()
    marks: list[str] = []
    end = len(value)
    while end and value[end - 1] in _MARKS:
        marks.append(value[end - 1])
        end -= 1
        while end and value[end - 1].isspace():
            end -= 1
    start = 0
    while start < end and value[start] in _MARKS:
        marks.append(value[start])
        start += 1
        while start < end and value[start].isspace():
            start += 1
    return value[start:end], "".join(marks)


_EMPTY_VALUES = {"", "—", "-", "/", "／", "－", "——", "无", "－－", "--"}


def _value(cell: str) -> str | None:
    cell = compact(cell)
    return None if cell in _EMPTY_VALUES else cell


NATURES = {"约束性": "binding", "预期性": "expected", "指导性": "guiding", "约束": "binding", "预期": "expected",
           "指导": "guiding"}
_NATURE_IN_NAME = re.compile(r"[（(〔\[]\s*(约束性|预期性|指导性)\s*[）)〕\]]")


def _nature(text: str | None) -> str | None:
    if not text:
        return None
    for word, value in NATURES.items():
        if word in text:
            return value
    return None


def _unit_from(text: str) -> str | None:
    if re.search(r"亿\s*元", text):
        return "亿元"
    if re.search(r"万\s*元", text):
        return "万元"
    return None


def _at(cells: list[str], roles: dict[str, int], role: str) -> str:
    """The cell of a role's column ("" where the row has no such cell)."""
    i = roles.get(role)
    return cells[i] if i is not None and i < len(cells) else ""


def _is_header_continuation(row: list[str], roles: dict[str, int], header: list[str]) -> bool:
    """A second header line: no number or name of its own (a Word cell merged down from the header repeats
    the header's text, which is no name either)."""
    cells = [compact(c) for c in row]
    if not any(cells):
        return False
    for role in ("number", "name"):
        i = roles.get(role)
        if i is not None and i < len(cells) and cells[i] and not (i < len(header) and cells[i] in header[i]):
            return False
    return all(_no_figure_but_a_year(c) for c in cells) and any(re.search("目标|完成|现状|基期|年", c) for c in cells)


def _no_figure_but_a_year(cell: str) -> bool:
    """No digits in the cell, or only one year ("2020年")."""
    figures = re.findall(r"\d+", cell)
    return not figures or (len(figures) == 1 and re.fullmatch(r"(19|20)\d\d", figures[0]) is not None)


class TableReader:
    """Pass three for a table (a part of :class:`.builder.Builder`, whose state below it reads and adds to).

    Indicator entries are made here (:meth:`_indicator`) for goal lists as well as for indicator tables."""

    budget: Budget
    plan: dict[str, Any]
    ids: Callable[[str], str]
    caption: str | None
    last_table: dict[str, Any] | None
    tables: list[dict[str, Any]]
    indicators: list[dict[str, Any]]
    reviews: list[dict[str, Any]]
    projects: list[dict[str, Any]]
    pending_marks: list[tuple[dict[str, Any], str, str]]  # (row, field, mark)

    def body(self, text: str) -> None:
        """A paragraph of body text (the builder's)."""
        raise NotImplementedError

    def box(self, title: str, number: int | None, lines: list[str]) -> None:
        """A 专栏 box (the builder's)."""
        raise NotImplementedError

    def task_row(self, number: int | None, text: str, lead: str | None, co: str | None, due: str | None) -> None:
        """A row of a table of tasks (the builder's)."""
        raise NotImplementedError

    def table(self, table: Table) -> None:
        rows = [[c if c is not None else "" for c in r] for r in table.rows]
        rows = [r for r in rows if any(compact(c) for c in r)]
        caption, self.caption = self.caption, None
        if not rows:
            return
        first_cells = [c for c in rows[0] if compact(c)]
        first_line = clean_text(first_cells[0].splitlines()[0]) if first_cells else ""
        if (m := BOX.match(first_line)) and len(first_cells) == 1:
            lines = first_cells[0].splitlines()[1:]
            for r in rows[1:]:
                for c in r:
                    lines.extend(c.splitlines())
            self.box(m.group(2).strip(), cn_number(m.group(1)), lines)
            self.last_table = None
            return
        if all(len([c for c in r if compact(c)]) <= 1 for r in rows) and not caption:
            # A one-column table with no caption is a text frame: read its lines as paragraphs.
            for r in rows:
                for c in r:
                    for line in c.splitlines():
                        line = clean_text(line)
                        if line:
                            self.body(line)
            return
        header_at, roles = None, {}
        for i, row in enumerate(rows[:4]):
            found = _header_roles([compact(c) for c in row])
            if ("name" in found or "task" in found) and len(found) >= 2:
                header_at, roles = i, found
                break
        kind = "other"
        caption_text = caption or ""
        if header_at is not None:
            header = [compact(c) for c in rows[header_at]]
            body = rows[header_at + 1:]
            # A second header line (规划目标 / 完成情况 under a merged 2020年) joins the first.
            extra = 0
            while body and extra < MAX_HEADER_ROWS and _is_header_continuation(body[0], roles, header):
                extra += 1
                header = [f"{a}{compact(b)}" if compact(b) and compact(b) not in a else a
                          for a, b in zip(header, list(body[0]) + [""] * (len(header) - len(body[0])), strict=False)]
                body = body[1:]
                roles = _header_roles(header)
            status = self._status_column(header, roles, caption_text)
            if "task" in roles and {"owner", "due"} & set(roles) and not {"total", "period", "target"} & set(roles):
                kind = "tasks"
            elif {"total", "period"} & set(roles) and ("项目" in header[roles["name"]] or "项目" in caption_text):
                kind = "projects"
            elif "target" in roles and "actual" in roles:
                kind = "review"
            elif status is not None:
                # a table of where things stood (现状, 2015年, 完成情况): achievements, never targets
                kind = "review"
                roles = {r: i for r, i in roles.items() if r not in ("target", "baseline", "actual")}
                roles["actual"] = status
            elif "target" in roles or "nature" in roles:
                kind = "indicators"
        summary = {"id": self.ids("x"), "kind": kind, "caption": caption_text, "rows": 0, "notes": [],
                   "unit": None, "unsure": False, "reason": None}
        self.tables.append(summary)
        self.last_table = summary
        if kind == "other" or header_at is None:
            summary["rows"] = len(rows)
            summary["unsure"] = True
            summary["reason"] = "未能识别的表格（不是指标表或项目表），内容未导入"
            return
        if kind == "tasks":
            self._task_table(summary, roles, body)
        elif kind == "indicators":
            self._indicator_table(summary, header, roles, body)
        elif kind == "review":
            self._review_table(summary, header, roles, body)
        else:
            self._project_table(summary, header, roles, body, caption_text)

    def _task_table(self, summary: dict[str, Any], roles: dict[str, int], body: list[list[str]]) -> None:
        """A table of tasks (序号 / 工作任务 / 责任单位 / 完成时限, as annual work points set them out): a task
        per row, its departments and deadline from their columns."""
        for cells in body:
            text = self._cell(cells, roles, "task")
            if not text or is_sum_row(cells):
                continue
            summary["rows"] += 1
            number = self._cell(cells, roles, "number")
            self.task_row(cn_number(number) if number else None, text, self._cell(cells, roles, "owner"),
                          self._cell(cells, roles, "co"), self._cell(cells, roles, "due"))

    def _status_column(self, header: list[str], roles: dict[str, int], caption: str) -> int | None:
        """The column of a status table's latest values: a table with no target column whose years all
        precede the plan (a 2015年/2020年 table in a plan from 2021), or whose header or caption says 现状 /
        完成 / 实际 without a target."""
        if any(re.search(r"目标|规划值|预期|20\d\d年?[（(]?(?:规划|计划)", h) for h in header):
            return None
        years = _year_columns(header)
        start = self.plan.get("start_year")
        if "actual" in roles:
            return roles["actual"]
        if years and start and max(y for y, _ in years) < start:
            return max(years)[1]
        if re.search(r"现状|完成情况|实现情况|回顾|发展情况", caption) and (years or "baseline" in roles):
            return max(years)[1] if years else roles["baseline"]
        return None

    def _data_rows(self, summary: dict[str, Any], roles: dict[str, int],
                   body: list[list[str]]) -> Iterator[tuple[list[str], str | None]]:
        """The data rows of a table, with the category carried down blank or merged cells."""
        category = None
        for row in body:
            self.budget.tick()
            cells = [compact(c) for c in row]  # (a row may be narrower than the header: see _at)
            filled = [c for c in cells if c]
            if not filled:
                continue
            if NOTE.match(filled[0]):
                summary["notes"].append(filled[0])
                continue
            number_cell, name_cell = _at(cells, roles, "number"), _at(cells, roles, "name")
            if len(set(filled)) == 1 and not number_cell.isdigit() and (not name_cell or len(filled) > 1):
                # One text alone, or the same text across merged cells: a category line — unless the text
                # stands in a column of values (a unit "张" alone under a merged name is not a category).
                where = next(i for i, c in enumerate(cells) if c)
                values = {roles[r] for r in ("unit", "target", "baseline", "actual", "total", "period", "nature")
                          if r in roles}
                if where not in values and not _UNIT_LIKE.match(filled[0]):
                    category = filled[0]
                continue
            if is_sum_row(cells):
                summary["notes"].append("合计、小计行未作为条目导入：" + "、".join(filled)[:60])
                continue
            if (found := _at(cells, roles, "category")) and not _UNIT_LIKE.match(found):
                category = found
            yield cells, category

    def _cell(self, cells: list[str], roles: dict[str, int], role: str) -> str | None:
        return _value(cells[roles[role]]) if role in roles and roles[role] < len(cells) else None

    def _indicator(self, **data: Any) -> dict[str, Any]:
        unsure, reason = data.pop("unsure", False), data.pop("reason", None)
        item = {"id": self.ids("i"), "lead": None, "definition": None, "notes": [], **data}
        target = item.get("target")
        if not target:
            unsure, reason = True, join_reasons(reason, "缺少目标值")
        else:
            rule = parse_target(target, item["name"], unit=item.get("unit"), baseline=item.get("baseline"))
            if rule.op == "qualitative":
                unsure, reason = True, join_reasons(reason, f"目标值“{target}”无法按数值理解，将由考核组评判")
            elif rule.review:
                unsure, reason = True, join_reasons(reason, f"目标值“{target}”的方向（越高越好或越低越好）需要确认")
        if len(item["name"]) > 40:
            unsure, reason = True, join_reasons(reason, "指标名称较长，请核对")
        item["unsure"], item["reason"] = unsure, reason
        return item

    def _indicator_table(self, summary: dict[str, Any], header: list[str], roles: dict[str, int],
                         body: list[list[str]]) -> None:
        target_year = _year_in(header[roles["target"]]) if "target" in roles else None
        baseline_year = _year_in(header[roles["baseline"]]) if "baseline" in roles else None
        natures_given = "nature" in roles
        auto = 0
        for cells, category in self._data_rows(summary, roles, body):
            name = self._cell(cells, roles, "name")
            if not name:
                summary["notes"].append("有一行没有指标名称，已忽略：" + "、".join(c for c in cells if c)[:60])
                continue
            unsure, reason = False, None
            notes: list[str] = []
            nature = _nature(self._cell(cells, roles, "nature"))
            if m := _NATURE_IN_NAME.search(name):
                nature = nature or NATURES[m.group(1)]
                name = _NATURE_IN_NAME.sub("", name).strip()
            unit = self._cell(cells, roles, "unit")
            target_raw = self._cell(cells, roles, "target") or ""
            target, target_mark = _strip_marks(target_raw)
            baseline_raw = self._cell(cells, roles, "baseline") or ""
            baseline, baseline_mark = _strip_marks(baseline_raw)
            if unit is None and (m := UNIT_SUFFIX.search(name)):
                unit = m["unit"].strip()
                if m["ge"] and target and not re.search(r"[≥≤]|以上|以下", target):
                    target = m["ge"] + target
                    notes.append(f"名称中的“{m['ge']}”已并入目标值")
                name = name[:m.start()].strip()
            number_text = self._cell(cells, roles, "number") or ""
            if number_text.isdecimal():
                number = int(number_text)
            else:
                auto += 1
                number = None
                if "number" in roles:
                    unsure, reason = True, "序号为空或不是数字，已按顺序编号"
            item = self._indicator(
                category=category, number=number, name=name, unit=unit, baseline=baseline or None,
                baseline_year=baseline_year if baseline else None, target=target or None, target_year=target_year,
                nature=nature, source=summary["caption"] or "指标表", unsure=unsure, reason=reason)
            item["notes"] = notes
            for mark, field_name in ((target_mark, "target"), (baseline_mark, "baseline")):
                if mark:
                    self.pending_marks.append((item, field_name, mark))
            if not natures_given and nature is None:
                item["nature"] = None
            self.indicators.append(item)
            summary["rows"] += 1
        if not natures_given:
            summary["notes"].append("表中没有指标属性（约束性/预期性）列，确认时默认按预期性导入，请逐项核对")

    def _review_table(self, summary: dict[str, Any], header: list[str], roles: dict[str, int],
                      body: list[list[str]]) -> None:
        table = {"id": summary["id"], "caption": summary["caption"],
                 "target_header": header[roles["target"]] if "target" in roles else None,
                 "actual_header": header[roles["actual"]], "year": _year_in(header[roles["actual"]]), "rows": []}
        earlier = [(y, i) for y, i in _year_columns(header) if i != roles["actual"] and i != roles.get("target")]
        for cells, category in self._data_rows(summary, roles, body):
            name = self._cell(cells, roles, "name")
            if not name:
                continue
            target, target_mark = _strip_marks(self._cell(cells, roles, "target") or "")
            actual, actual_mark = _strip_marks(self._cell(cells, roles, "actual") or "")
            number_text = self._cell(cells, roles, "number") or ""
            row = {"category": category, "number": int(number_text) if number_text.isdecimal() else None,
                   "name": name, "unit": self._cell(cells, roles, "unit"), "target": target or None,
                   "actual": actual or None, "notes": [], "year": table["year"],
                   "earlier": {str(y): _strip_marks(cells[i])[0] or None for y, i in earlier if i < len(cells)}}
            for mark, field_name in ((target_mark, "target"), (actual_mark, "actual")):
                if mark:
                    self.pending_marks.append((row, field_name, mark))
            self.budget.item()
            table["rows"].append(row)
            summary["rows"] += 1
        self.reviews.append(table)

    def _project_table(self, summary: dict[str, Any], header: list[str], roles: dict[str, int],
                       body: list[list[str]], caption: str) -> None:
        unit = _unit_from(caption) or next((u for u in (_unit_from(h) for h in header) if u), None)
        summary["unit"] = unit or "万元"
        if unit is None:
            summary["unsure"] = True
            summary["reason"] = "表题和表头都没有注明金额单位，按万元读取，请核对"
        for cells, category in self._data_rows(summary, roles, body):
            name = self._cell(cells, roles, "name")
            if not name:
                continue
            unsure, reason = unit is None, ("未注明金额单位" if unit is None else None)
            amounts = {}
            for role in ("total", "period"):
                raw, _mark = _strip_marks(self._cell(cells, roles, role) or "")
                raw = raw.replace(",", "").replace("，", "")
                amounts[role] = raw or None
                if raw and raw != "待定" and not re.fullmatch(r"\d+(\.\d+)?", raw):
                    unsure, reason = True, join_reasons(reason, f"金额“{raw}”不是数字或“待定”")
            start = end = None
            if years := self._cell(cells, roles, "years"):
                found = [int(y) for y in re.findall(r"(?:19|20)\d\d", years)]
                if found:
                    start, end = found[0], found[-1]
            self.projects.append({
                "id": self.ids("p"), "name": name, "content": self._cell(cells, roles, "content"),
                "total": amounts["total"], "period": amounts["period"], "owner": self._cell(cells, roles, "owner"),
                "remarks": self._cell(cells, roles, "remarks"), "unit": summary["unit"], "start_year": start,
                "end_year": end, "nature": self._cell(cells, roles, "build"), "category": category, "lead": None,
                "unsure": unsure, "reason": reason,
            })
            summary["rows"] += 1
