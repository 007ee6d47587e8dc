"""From a plan document to a draft the planner confirms.

The readers (:mod:`.docx`, :mod:`.text`, :mod:`.pdf`) turn a file into a list of blocks — paragraphs and
tables in document order — and :func:`extract` turns the blocks into a draft: the chapter/key task/measure tree,
the 专栏 boxes, the indicator tables, the review tables (规划目标 vs 完成情况 of the previous plan), the
key-project tables and candidate targets found in the prose. Everything here is a pure function of its
input: nothing touches the database.

How the structure is recognised
-------------------------------
* Numbered headings are recognised by their numbering, whatever the style: 第一部分 / 第一章 / 第一节 /
  一、 / （一） / 1.1 / 1． / 1. / 1、 / (1) / ① / ⑴, and by Word's automatic numbering (the reader puts
  the number Word would show in front of the text). Each numbering style is one level; levels are ranked
  by the order in which the styles first appear (第…部分/章/节 always rank first).
* The first level is the chapter. The first level below it whose headings read like work ("强化…",
  "推进…", "…行动") holds the key tasks, the level below that the measures; levels in between
  ("（一）现实基础") are sections that only group. A document with a single level of numbered headings
  has key tasks without chapters when those headings read like work.
* A heading's title is its lead sentence (up to the first 。); the rest of the paragraph and the body
  paragraphs that follow are its description.
* Chapters and headings that describe rather than assign work (发展基础, 面临形势, 指导思想, 发展目标, 保障措施,
  组织实施 …) hold no tasks: what lies under them stays in the draft as sections marked ``narrative``.
* A key task written as "一是……。二是……。" gets a measure per point (its first clause as the title); measures
  are coded within their key task whatever running numbers the document uses. A task's text gives its
  deadline ("2027年底前", "到2029年", "2026年6月底前") and departments ("牵头单位：…；配合单位：…").
* 专栏 boxes (a 专栏N line, as a table or as paragraphs) attach to the key task they follow.
* Tables are read by their header: indicator tables (类别/序号/指标/单位/基期/目标/属性), review tables
  (规划目标 and 完成情况), key-project tables (项目/建设内容/总投资/期内投资/建设单位/备注, the unit taken
  from the caption, with 建设性质 and 建设年限), task tables (序号/工作任务/责任单位/完成时限, as annual work
  points set them out: a key task per row, or a measure under an open key task). A table of where things stood (现状, years before the plan,
  完成情况 without targets) is a review table, never targets. Blank category cells continue the category
  above (never a unit); 合计/小计 rows are no entries; values marked * take the footnote that explains the
  mark.
* Bulleted goal lists ("- 城乡居民健康素养水平达到32%") become indicators; "…达到…" statements in the
  prose become candidate targets.
* Noise is dropped: [bookmark: …] markers, page numbers and repeated page headers, empty table rows.

Every item the extractor doubts carries ``unsure: True`` and a ``reason`` in Chinese. The result is the
draft's JSON form, read with :meth:`.draft.Draft.from_json`.

The work is split by stage:

* :mod:`.blocks` — the blocks the readers produce and the helpers every stage shares (cleaning, Chinese
  numerals, :func:`~.blocks.name_key`);
* :mod:`.headings` — numbered headings and marker lines (专栏, captions, notes, appendix, page numbers);
* :mod:`.structure` — passes one and two: the title, the blocks as events, the numbering styles' roles;
* :mod:`.targets` — "…达到…" targets found in the prose;
* :mod:`.prose` — narrative chapters, deadlines ("2027年底前"), departments ("责任单位：…") and 一是/二是 points;
* :mod:`.tables` — table headers and the reading of each kind of table;
* :mod:`.builder` — pass three: the draft assembled from the events;
* this module — :func:`extract`, which runs the three passes, and the names callers import from here.
"""

from __future__ import annotations

from typing import Any

from .blocks import Block, Paragraph, Table, cn_numeral
from .builder import Builder
from .headings import STYLE_LABELS, classify_heading
from .limits import Budget
from .structure import assign_roles, read_events, read_title
from .targets import find_targets

# (what callers import from here: the blocks, the numbering styles' labels, the parts the tests call)
__all__ = [
    "STYLE_LABELS", "Block", "Paragraph", "Table", "classify_heading", "cn_numeral", "extract", "find_targets",
]


def extract(blocks: list[Block], budget: Budget | None = None) -> dict[str, Any]:
    """The draft of a plan document (see the module docstring). The budget (by default the limits of
    :mod:`.limits`) counts the draft's entries and bounds the time; a document over it raises DomainError."""
    budget = budget or Budget()
    plan, used = read_title(blocks)
    events, dropped = read_events(blocks[used:], budget)
    roles = assign_roles(events)
    builder = Builder(roles, plan, budget)
    previous = None
    for event in events:
        budget.tick()
        match event.kind:
            case "heading":
                builder.heading(event)
            case "plain_heading":
                builder.plain_heading(event)
            case "body":
                builder.body(event.text)
            case "bullet":
                builder.bullet(event.text)
            case "table":
                assert event.table is not None
                builder.table(event.table)
            case "box":
                builder.box(event.text, event.number, event.items)
            case "caption":
                builder.caption = event.text
            case "note":
                if previous in ("table", "note"):
                    builder.note(event.text)
                else:
                    builder.notes.append(event.text)
            case "appendix":
                builder.appendix(event.text)
        if event.kind not in ("caption", "blank", "table"):
            builder.caption = None
        if event.kind != "blank":
            previous = event.kind
            if event.kind not in ("table", "note", "caption"):
                builder.last_table = None
    draft = builder.finish()
    draft["structure"] = {style: role for style, role in roles.items()}
    draft["dropped"] = len(dropped)
    return draft
