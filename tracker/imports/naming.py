"""Departments as a plan document's text names them ("牵头单位：县卫生健康局；配合单位：县医保局") matched to
the region's departments: a sure match (the name itself, or a name inside the text), a close match for the
planner to confirm (the text inside a name, or a name much like it), or none. Pure functions: the caller gives
the departments.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from ..regions.models import Department
from .blocks import join_reasons
from .draft import Draft

CLOSE_NAME = 0.75  # how alike a name the document writes and a department's must be to offer it


def department_match(departments: list[Department], name: str | None) -> tuple[Department | None, bool]:
    """The department a document names ("县卫生健康局" in "责任单位：县卫生健康局") and whether the match is
    sure: its name, or the longest name inside the text, is sure; the text inside a name ("疾控中心" for
    "县疾控中心") or a name much like it ("县卫健局" for "县卫生健康局") is a close match, for the planner to
    confirm."""
    if not name:
        return None, False
    text = name.strip()
    for dept in departments:
        if dept.name == text:
            return dept, True
    inside = [d for d in departments if d.name in text]
    if inside:
        return max(inside, key=lambda d: len(d.name)), True
    around = [d for d in departments if len(text) >= 2 and text in d.name]
    if around:
        return min(around, key=lambda d: len(d.name)), False
    scored = [(SequenceMatcher(None, text, d.name, autojunk=False).ratio(), d.id, d) for d in departments]
    best = max(scored, default=None, key=lambda s: (s[0], -s[1]))
    return (best[2], False) if best is not None and best[0] >= CLOSE_NAME else (None, False)


def match_department(departments: list[Department], name: str | None) -> Department | None:
    """The department a document names, sure or close (see :func:`department_match`)."""
    return department_match(departments, name)[0]


@dataclass
class NamedDepartment:
    """A department as the document's text names it, and what it was matched to."""

    text: str
    role: str  # lead | co
    department: Department | None
    sure: bool


def named_departments(draft: Draft, departments: list[Department]) -> dict[str, list[NamedDepartment]]:
    """For each item whose text names departments ("牵头单位：…；配合单位：…"), each name and its match (the
    draft page shows them: matched, close match to confirm, unknown)."""
    out: dict[str, list[NamedDepartment]] = {}
    for item in draft.items:
        names = [("lead", item.lead_text)] if item.lead_text else []
        names += [("co", n) for n in item.co_text]
        if names:
            out[item.id] = [NamedDepartment(text, role, *department_match(departments, text)) for role, text in names]
    return out


def assign_named_departments(draft: Draft, departments: list[Department]) -> None:
    """Lead and co-operating departments for the items whose text names them ("牵头单位：…；配合单位：…"):
    each name matched to one of the region's departments; a name that matches none stays as text, and one
    matched only closely is taken, the item doubted either way so that the planner chooses or confirms."""
    for item in draft.items:
        if not (item.lead_text or item.co_text) or item.lead is not None:
            continue
        unmatched, close = [], []
        if item.lead_text:
            lead, sure = department_match(departments, item.lead_text)
            if lead is not None:
                item.lead = lead.id
                if not sure:
                    close.append(f"“{item.lead_text}”按“{lead.name}”")
            else:
                unmatched.append(item.lead_text)
        for name in item.co_text:
            dept, sure = department_match(departments, name)
            if dept is None:
                unmatched.append(name)
            else:
                if dept.id != item.lead and dept.id not in item.co:
                    item.co.append(dept.id)
                if not sure:
                    close.append(f"“{name}”按“{dept.name}”")
        if unmatched:
            item.unsure = True
            item.reason = join_reasons(item.reason,
                                       f"文中的责任单位“{'、'.join(unmatched)}”未匹配到本地区的部门，请选择")
        if close:
            item.unsure = True
            item.reason = join_reasons(item.reason, f"文中的责任单位{'、'.join(close)}近似匹配，请确认")
