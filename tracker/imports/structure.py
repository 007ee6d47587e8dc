"""Passes one and two of extraction: the plan's title, the blocks as events, the numbering styles' roles.

:func:`read_title` takes the plan's title, period and issuing body from the first lines. :func:`read_events`
turns every block into an :class:`Event` (heading, body, bullet, table, 专栏 box, caption, note, appendix),
dropping page numbers and repeated page headers. :func:`assign_roles` decides which numbering style holds the
chapters, the sections that only group, the key tasks and the measures.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .blocks import Block, Paragraph, Table, clean_text, cn_number
from .headings import (
    APPENDIX,
    BOX,
    CAPTION,
    FIXED_RANK,
    NOTE,
    Heading,
    classify_heading,
    is_noise,
    reads_like_task,
    split_lead,
)
from .limits import Budget


@dataclass
class Event:
    """A block as pass one read it."""

    kind: str  # heading | plain_heading | body | bullet | table | box | caption | note | blank | appendix
    text: str = ""
    heading: Heading | None = None
    level: int | None = None
    table: Table | None = None
    items: list[str] = field(default_factory=list)
    number: int | None = None


def _split_tables(table: Table) -> list[Table]:
    """A flattened run of one-cell rows (专栏 boxes one after another) is a table per box."""
    rows = [r for r in table.rows if any(c.strip() for c in r)]
    if not rows:
        return []
    out: list[Table] = []
    current: list[list[str]] = []
    for row in rows:
        texts = [c for c in row if c.strip()]
        starts_box = len(texts) == 1 and BOX.match(clean_text(texts[0].splitlines()[0]))
        if starts_box and current:
            out.append(Table(current))
            current = []
        current.append(row)
    if current:
        out.append(Table(current))
    return out


# the issuing body's name ends like this (a line under the title)
_ISSUER = re.compile(r"(委员会|人民政府|办公室|办公厅|卫生健康局|卫健局|卫生健康委|发展和改革委员会|局|厅|委)$")


def read_title(blocks: list[Block]) -> tuple[dict[str, Any], int]:
    """The plan's title, period and issuing body from the first lines; how many blocks they took."""
    info: dict[str, Any] = {"title": None, "start_year": None, "end_year": None, "issuing_body": None}
    paragraphs = []
    for i, block in enumerate(blocks[:8]):
        if isinstance(block, Table):
            break
        text = clean_text(block.text)
        if text:
            paragraphs.append((i, text))
        if len(paragraphs) >= 3:
            break
    if not paragraphs:
        return info, 0
    i, first = paragraphs[0]
    used = i + 1
    if classify_heading(first) or len(first) > 80 or first.endswith(("。", "；")):
        return info, 0
    if "《" in first and "》" not in first and len(paragraphs) > 1:
        j, second = paragraphs[1]
        first, used = first + second, j + 1
        paragraphs = paragraphs[1:]
    title = first
    # (searched up to the last closing mark: from an opening mark after it the search would scan to the end)
    if m := re.search(r"《([^》]{4,})》", first[:first.rfind("》") + 1]):
        title = m.group(1)
    if not re.search(r"规划|计划|纲要|方案|意见|说明|要点", title):
        return info, 0
    info["title"] = title[:200]
    info.update(_period(title))
    if len(paragraphs) > 1:
        j, second = paragraphs[1]
        if len(second) <= 40 and _ISSUER.search(second) and not classify_heading(second):
            info["issuing_body"] = second
            used = j + 1
    return info, used


_PERIODS = {"十二五": (2011, 2015), "十三五": (2016, 2020), "十四五": (2021, 2025), "十五五": (2026, 2030),
            "十六五": (2031, 2035)}


def _period(title: str) -> dict[str, int | None]:
    for word, (start, end) in _PERIODS.items():
        if word in title:
            return {"start_year": start, "end_year": end}
    if m := re.search(r"((?:19|20)\d\d)\s*[-—–~至－]\s*((?:19|20)\d\d)\s*年", title):
        return {"start_year": int(m.group(1)), "end_year": int(m.group(2))}
    if m := re.search(r"((?:19|20)\d\d)\s*年", title):
        return {"start_year": int(m.group(1)), "end_year": int(m.group(1))}
    return {"start_year": None, "end_year": None}


def read_events(blocks: list[Block], budget: Budget) -> tuple[list[Event], list[str]]:
    """Pass one: every block as an event, with noise dropped and appendices and boxes recognised."""
    cleaned = [clean_text(b.text) if isinstance(b, Paragraph) else "" for b in blocks]
    texts = Counter(t for b, t in zip(blocks, cleaned, strict=True) if isinstance(b, Paragraph))
    repeated = {t for t, n in texts.items() if n >= 3 and 0 < len(t) <= 40 and not classify_heading(t)}
    dropped: list[str] = []
    events: list[Event] = []
    in_appendix = False
    box: Event | None = None
    seen_styles: set[str] = set()
    for block, text in zip(blocks, cleaned, strict=True):
        budget.tick()
        if isinstance(block, Table):
            box = None
            for table in _split_tables(block):
                events.append(Event("table", table=table))
            continue
        if not text:
            box = None
            events.append(Event("blank"))
            continue
        if is_noise(text) or text in repeated:
            dropped.append(text)
            continue
        if len(text) <= 80 and CAPTION.match(text) and not text.endswith("。"):
            if text.startswith("附"):
                in_appendix = True
            box = None
            events.append(Event("caption", text))
            continue
        if len(text) <= 60 and APPENDIX.match(text):
            in_appendix = True
            box = None
            events.append(Event("appendix", text))
            continue
        if NOTE.match(text):
            box = None
            events.append(Event("note", text))
            continue
        if m := BOX.match(text):
            box = Event("box", m.group(2).strip(), number=cn_number(m.group(1)))
            events.append(box)
            continue
        if in_appendix:
            events.append(Event("appendix", text))
            continue
        heading = classify_heading(text, block.heading)
        if box is not None and (heading is None or heading.style not in seen_styles) and block.heading is None:
            box.items.append(text)
            continue
        box = None
        if heading is not None:
            seen_styles.add(heading.style)
            events.append(Event("heading", text, heading=heading, level=block.heading))
        elif block.heading is not None:
            events.append(Event("plain_heading", text, level=block.heading))
        elif block.bullet:
            events.append(Event("bullet", text))
        else:
            events.append(Event("body", text))
    return events, dropped


def assign_roles(events: list[Event]) -> dict[str, str]:
    """Pass two: which numbering style holds chapters, sections, key tasks and measures."""
    headings = [e.heading for e in events if e.kind == "heading" and e.heading is not None]
    if not headings:
        # No numbering anywhere: the document's own heading levels are the structure.
        for e in events:
            if e.kind == "plain_heading" and e.level is not None:
                e.kind = "heading"
                e.heading = Heading(f"h{e.level}", None, "", e.text)
        headings = [e.heading for e in events if e.kind == "heading" and e.heading is not None]
        order = sorted({h.style for h in headings}, key=lambda s: int(s[1:]))
    else:
        first_seen = list(dict.fromkeys(h.style for h in headings))
        order = [s for s in FIXED_RANK if s in first_seen] + [s for s in first_seen if s not in FIXED_RANK]
    if not order:
        return {}
    by_style: dict[str, list[str]] = {}
    for h in headings:
        by_style.setdefault(h.style, []).append(split_lead(h.text)[0])

    def task_like(style: str) -> bool:
        titles = by_style.get(style, [])
        return bool(titles) and sum(reads_like_task(t) for t in titles) / len(titles) >= 0.5

    roles: dict[str, str] = {}
    if len(order) == 1:
        roles[order[0]] = "key_task" if task_like(order[0]) else "chapter"
        return roles
    roles[order[0]] = "chapter"
    key = next((i for i, s in enumerate(order) if i > 0 and task_like(s)), None)
    for i, style in enumerate(order[1:], start=1):
        if key is None or i < key:
            roles[style] = "section"
        elif i == key:
            roles[style] = "key_task"
        elif i == key + 1:
            roles[style] = "measure"
        else:
            roles[style] = "deep"
    return roles
