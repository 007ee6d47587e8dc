"""From a plan document to a draft the planner confirms.

The readers (:mod:`.docx`, :mod:`.text`) turn a file into a list of blocks — paragraphs and tables in
document order — and :func:`extract` turns the blocks into a draft: the chapter/key task/measure tree,
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
* 专栏 boxes (a 专栏N line, as a table or as paragraphs) attach to the key task they follow.
* Tables are read by their header: indicator tables (类别/序号/指标/单位/基期/目标/属性), review tables
  (规划目标 and 完成情况), key-project tables (项目/建设内容/总投资/期内投资/建设单位/备注, the unit taken
  from the caption). Blank category cells continue the category above; values marked * take the footnote
  that explains the mark.
* Bulleted goal lists ("- 城乡居民健康素养水平达到32%") become indicators; "…达到…" statements in the
  prose become candidate targets.
* Noise is dropped: [bookmark: …] markers, page numbers and repeated page headers, empty table rows.

Every item the extractor doubts carries ``unsure: True`` and a ``reason`` in Chinese. The result is the
draft's JSON form, read with :meth:`.draft.Draft.from_json`.

(Still over 600 lines: the three passes share the builder's state; splitting it by document structure
stage — blocks and headings, targets in prose, tables, the builder — is the next step.)
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..indicators.targets import parse_target
from ..text import clean
from .limits import MAX_HEADER_ROWS, MAX_QUOTE_CHARS, Budget

DRAFT_VERSION = 1

# ------------------------------------------------------------------------------------------- blocks


@dataclass
class Paragraph:
    """A paragraph as the reader found it."""

    text: str
    heading: int | None = None  # outline level the document itself gives (Word heading style, markdown #)
    bullet: bool = False  # a bulleted list item


@dataclass
class Table:
    """A table: rows of cell texts (a cell's paragraphs joined by newlines)."""

    rows: list[list[str]]


Block = Paragraph | Table

# ------------------------------------------------------------------------------------------- text

CN_DIGITS = "一二三四五六七八九十百零〇两"
_CN_VALUE = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
             "九": 9}

# (a marker's name stops at the next bracket: "[bookmark:" repeated without a "]" is read once, not once per start)
_BOOKMARK = re.compile(r"\[bookmark:[^\[\]]*\]|\[\]\{#[^{}]*\}|\{#[^{}\s]*\}")
_SPACES = re.compile(r"[ \t\u3000\u00a0]+")


def clean_text(text: str) -> str:
    """A paragraph without bookmark markers, invisible characters and runs of spaces."""
    text = clean(_BOOKMARK.sub("", text))
    return _SPACES.sub(" ", text).strip()


def compact(text: str) -> str:
    """A table cell on one line: Chinese text split over lines is joined without a gap."""
    out: list[str] = []
    for part in (clean_text(p) for p in text.splitlines()):
        if not part:
            continue
        if out and out[-1][-1].isascii() and part[0].isascii() and out[-1][-1].isalnum() and part[0].isalnum():
            out.append(" ")
        out.append(part)
    return "".join(out)


def cn_number(text: str) -> int | None:
    """一 → 1, 十一 → 11, 二十三 → 23, 12 → 12."""
    text = text.strip()
    if text.isdecimal():
        return int(text)
    total = current = 0
    for ch in text:
        if ch in _CN_VALUE:
            current = _CN_VALUE[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current or None


def cn_numeral(n: int) -> str:
    """1 → 一, 11 → 十一, 23 → 二十三 (chapter codes)."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")
    return str(n)


# ------------------------------------------------------------------------------------------- headings


@dataclass
class Heading:
    style: str  # the numbering style: cn, paren_cn, num_fw, ... ("h2" for an unnumbered heading level 2)
    number: int | None
    label: str  # the number as written ("1．", "（一）")
    text: str  # what follows the number


_C = CN_DIGITS
# Units after a figure: "1.5床/万人" and "2.61分钟" are figures, not outline numbers.
_UNIT_WORDS = "(?:分钟|小时|万|亿|千|百|床|人|岁|个|元|倍|米|张|名|所|家|项|天|年|月|周|次|kg|公斤|平方|亩|户|%|‰)"
# Where two runs of spaces meet around an optional mark the first is possessive (\s*+): a paragraph that fails
# after a long run of line breaks is then tried once, not once per way of splitting the run.
_HEADING_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("part", re.compile(rf"^(第([{_C}\d]{{1,4}})部分)\s*(.*)$")),
    ("chapter", re.compile(rf"^(第([{_C}\d]{{1,4}})章)\s*(.*)$")),
    ("section", re.compile(rf"^(第([{_C}\d]{{1,4}})节)\s*(.*)$")),
    ("cn", re.compile(rf"^(([{_C}]{{1,3}})\s*[、．.])\s*(.+)$")),
    ("paren_cn", re.compile(rf"^([（(]\s*+([{_C}]{{1,3}})\s*+[）)]\s*+[、．.]?)\s*(.+)$")),
    ("outline", re.compile(r"^((\d{1,2}(?:[.．]\d{1,2}){1,3})[、．.]?)(?![\d%‰．.])\s*"
                           rf"(?!{_UNIT_WORDS})(\D.*)$")),
    ("num_fw", re.compile(r"^((\d{1,3})．)\s*(.+)$")),
    ("num_dot", re.compile(r"^((\d{1,3})\.)(?![\d%])\s*(.+)$")),
    ("num_dun", re.compile(r"^((\d{1,3})、)\s*(.+)$")),
    ("paren_num", re.compile(r"^([（(]\s*+(\d{1,3})\s*+[）)]\s*+[、．.]?)\s*(.+)$")),
    ("circle", re.compile(r"^(([①-⑳]))\s*(.+)$")),
    ("paren_circle", re.compile(r"^(([⑴-⒇]))\s*(.+)$")),
]
# In a heading paragraph (Word heading style, markdown #) "1 健康温岭战略推进行动" is numbered too.
_SPACE_NUMBER = re.compile(r"^((\d{1,3}))\s+(\D.*)$")
FIXED_RANK = ("part", "chapter", "section")

STYLE_LABELS = {
    "part": "第一部分", "chapter": "第一章", "section": "第一节", "cn": "一、", "paren_cn": "（一）",
    "num_fw": "1．", "num_dot": "1.", "num_dun": "1、", "paren_num": "(1)", "circle": "①",
    "paren_circle": "⑴", "num_space": "1 标题", "outline2": "1.1", "outline3": "1.1.1", "outline4": "1.1.1.1",
}


def classify_heading(text: str, heading_level: int | None = None) -> Heading | None:
    """The numbering at the start of a paragraph, if any."""
    for style, pattern in _HEADING_PATTERNS:
        m = pattern.match(text)
        if not m:
            continue
        label, raw, rest = m.group(1), m.group(2), m.group(3).strip()
        if style == "outline":
            parts = re.split(r"[.．]", raw)
            return Heading(f"outline{len(parts)}", int(parts[-1]), label, rest)
        if style == "circle":
            number = ord(raw) - ord("①") + 1
        elif style == "paren_circle":
            number = ord(raw) - ord("⑴") + 1
        else:
            number = cn_number(raw)
        if number is None:
            continue
        if not rest and style not in FIXED_RANK:
            return None
        return Heading(style, number, label, rest)
    if heading_level is not None and (m := _SPACE_NUMBER.match(text)):
        return Heading("num_space", int(m.group(2)), m.group(1), m.group(3).strip())
    return None


def split_lead(text: str) -> tuple[str, str]:
    """(title, rest): the lead sentence of a heading and what follows it in the same paragraph."""
    text = text.strip()
    stop = text.find("。")
    colon = min((i for i in (text.find("："), text.find(":")) if i >= 0), default=-1)
    if 0 < colon <= 40 and (stop < 0 or colon < stop):
        stop = colon
    if stop < 0:
        return text.rstrip("；;，,"), ""
    return text[:stop].strip(), text[stop + 1:].strip()


# Words that start (or end) a heading describing work to be done.
TASK_VERBS = (
    "强化", "推进", "建设", "完善", "健全", "提升", "优化", "加强", "深化", "实施", "构建", "打造", "推动", "促进",
    "发展", "加快", "坚持", "持续", "提高", "创新", "落实", "开展", "建立", "筑牢", "聚力", "着眼", "注重", "突出",
    "统筹", "深入", "全面", "大力", "积极", "扎实", "做实", "做强", "做优", "夯实", "巩固", "培育", "支持", "保障",
    "改革", "规范", "鼓励", "引导", "探索", "实现", "增强", "扩大", "织密", "守牢", "补齐", "补强", "拓展", "激发",
    "营造", "传承", "弘扬", "维护", "防范", "应对", "防控", "治理", "整合", "融入", "接轨", "助推", "提供", "培养",
    "引进", "加大", "落细", "压实", "严格", "坚守", "将", "把", "围绕", "聚焦", "构筑", "做好", "抓好", "办好",
)
TASK_ENDINGS = ("行动", "工程", "计划", "专项", "攻坚", "项目")


def reads_like_task(title: str) -> bool:
    """"强化公共卫生安全防控体系建设" and "健康温岭战略推进行动" describe work; "现实基础" does not."""
    t = title.strip("“”\"《》 ")
    return t.startswith(TASK_VERBS) or t.endswith(TASK_ENDINGS)


# ------------------------------------------------------------------------------------------- markers

_BOX = re.compile(rf"^专栏\s*+([\d{_C}]{{1,3}})\s*+[：:．.、]?\s*(.*)$")
_CAPTION = re.compile(rf"^(?:附\s*表\s*(?:[\d{_C}]{{1,3}}(?:[-－—]\d+)?)?|表\s*[\d{_C}]{{1,3}}(?:[-－—]\d+)?)"
                      r"\s*[：:．.、]?\s*(.*)$")
_APPENDIX = re.compile(rf"^(附\s*$|附\s*[：:]|附件\s*[\d{_C}]*\s*([：:]|$)|附录|.{{0,30}}名词解释\s*$)")
_NOTE = re.compile(r"^注\s*+\d*+\s*+[：:．.]")
_PAGE_NUMBER = re.compile(r"^([-—–－~\s]*\d{1,4}[-—–－~\s]*|第\s*+\d++\s*+页(\s*+[,，/]?\s*+共\s*+\d++\s*+页)?"
                          r"|\d+\s*/\s*\d+)$")
# "1．名称：解释" (the rest is read by _definition, without a pattern that backtracks over runs of spaces)
_DEFINITION_NUMBER = re.compile(rf"^(?:[{_C}]{{1,3}}|\d{{1,3}})\s*+[、．.]")
_ISSUER = re.compile(r"(委员会|人民政府|办公室|办公厅|卫生健康局|卫健局|卫生健康委|发展和改革委员会|局|厅|委)$")
_MARKS = "*＊※△▲"


def is_noise(text: str) -> bool:
    return bool(_PAGE_NUMBER.match(text))


def _definition(text: str) -> tuple[str, str] | None:
    """(name, explanation) of a numbered "名称：解释" line: the name is what stands before the first colon
    (2 to 60 characters with the spaces around it, at most 60 without), the explanation one line after it."""
    m = _DEFINITION_NUMBER.match(text)
    if m is None:
        return None
    rest = text[m.end():]
    colon = min((i for i in (rest.find("："), rest.find(":")) if i >= 0), default=-1)
    if colon < 0:
        return None
    name, explanation = rest[:colon], rest[colon + 1:].lstrip()
    if explanation.endswith("\n"):
        explanation = explanation[:-1]
    if len(name) < 2 or len(name.strip()) > 60 or not explanation or "\n" in explanation:
        return None
    return name.strip(), explanation.strip()


# ------------------------------------------------------------------------------------------- targets in prose

_VALUE = r"[≥≤>＞<＜]?\s*\d+(?:\.\d+)?\s*(?:[:：∶]\s*\d+(?:\.\d+)?)?[^，,；;。、）)和]{0,10}?"
_GE_VERBS = ("达到", "达", "提高到", "提高至", "提升到", "提升至", "增加到", "增加至", "增至", "增长到", "巩固在",
             "保持在", "稳定在", "不低于", "不少于", "超过", "高于")
_LE_VERBS = ("控制在", "降低到", "降低至", "降至", "下降到", "下降至", "减少到", "减少至", "不高于", "不超过", "低于",
             "小于")
_VERBS = sorted(_GE_VERBS + _LE_VERBS, key=len, reverse=True)
_VERB_RE = "|".join(map(re.escape, _VERBS))
_CLAUSE = re.compile(rf"^(?P<name>.{{2,50}}?)(?:分别)?(?P<verb>{_VERB_RE})(?P<value>{_VALUE})(?P<tail>以上|以下|以内|左右)?$")
_QUALITATIVE = re.compile(rf"^(?P<name>.{{2,50}}?)(?P<verb>{_VERB_RE})(?P<value>[^\d，,；;。]{{2,20}})$")
_TREND = re.compile(r"^(?P<name>.{2,50}?)(?P<value>(?:稳步|持续|逐步|明显|大幅|显著|不断|进一步|有效)?"
                    r"(?:提高|提升|增加|增长|降低|下降|减少|改善|扩大|缩小))$")
_PAIR = re.compile(rf"^(?P<a>.{{2,40}}?)和(?P<b>.{{2,40}}?)分别(?:{_VERB_RE}|为)(?P<va>{_VALUE})和(?P<vb>{_VALUE})$")
_YEAR_LEAD = re.compile(r"^(?:到|至|截至)?\s*(20\d\d)\s*年(?:底|末)?\s*[，,]?\s*")
_LEAD_WORDS = re.compile(r"^(?:全省|全市|全县|全区|全域|我省|我市|我县|我区|力争|确保|其中|基本|努力|使|拥有)")
_UNIT_SUFFIX = re.compile(r"[（(]\s*(?P<ge>[≥≤])?\s*(?P<unit>[^（()）]{1,8})\s*[）)]$")
_PREFIXES = ("每千常住人口", "每千人口", "每千人", "每万常住人口", "每万人口", "每万人", "每十万人")


@dataclass
class _Target:
    name: str
    target: str
    year: int | None
    at: int = 0  # where in the text the statement names it


def _value_target(verb: str, value: str, tail: str | None) -> str:
    value = value.strip()
    tail = tail or ""
    if tail in ("以上", "以下", "以内"):
        return value + tail
    if verb in ("达到", "达", "提高到", "提高至", "提升到", "提升至", "增加到", "增加至", "增至", "增长到"):
        return value + tail
    return verb + value + tail


def _clean_name(name: str) -> str:
    name = _YEAR_LEAD.sub("", name.strip(" ，,：:"))
    name = _LEAD_WORDS.sub("", name).strip(" ，,")
    return name


def find_targets(text: str, *, bullet: bool = False) -> list[_Target]:
    """"…达到…" statements: each clause of the text whose end is a figure (or, in a goal list, a trend)."""
    found: list[_Target] = []
    sentence_at = 0
    for sentence in re.split(r"[。；;！!\n]", text):
        year = None
        if m := re.search(r"(?:到|至)\s*(20\d\d)\s*年", sentence):
            year = int(m.group(1))
        at = sentence_at
        sentence_at += len(sentence) + 1
        for raw in re.split(r"[，,]", sentence):
            clause = raw.strip()
            clause_at = at + len(raw) - len(raw.lstrip())
            at += len(raw) + 1
            if len(clause) < 4:
                continue

            def where(name: str, clause: str = clause, clause_at: int = clause_at) -> int:
                return clause_at + max(clause.find(name), 0)

            if m := _PAIR.match(clause):
                a, b = _clean_name(m["a"]), m["b"].strip()
                prefix = next((p for p in _PREFIXES if a.startswith(p)), "")
                b_at = where(b)
                if prefix and not b.startswith(prefix):
                    b = prefix + b
                found.append(_Target(a, m["va"].strip(), year, where(a)))
                found.append(_Target(b, m["vb"].strip(), year, b_at))
                continue
            m = _CLAUSE.match(clause)
            if m is None and bullet:
                m = _QUALITATIVE.match(clause)
            if m is not None:
                name = _clean_name(m["name"])
                if len(name) >= 2 and not name.endswith(("的", "和", "与")):
                    found.append(_Target(name, _value_target(m["verb"], m["value"], m.groupdict().get("tail")),
                                         year, where(name)))
                continue
            if bullet and (m := _TREND.match(clause)):
                name = _clean_name(m["name"])
                if len(name) >= 2:
                    found.append(_Target(name, m["value"], year, where(name)))
    return found


def name_key(name: str) -> str:
    """Names compared loosely: no spaces, no trailing unit in brackets, no quotes."""
    name = re.sub(r"\s+", "", name)
    name = _UNIT_SUFFIX.sub("", name)
    return name.strip("“”\"'")


# ------------------------------------------------------------------------------------------- tables

_ROLE_WORDS: list[tuple[str, tuple[str, ...]]] = [
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


# ------------------------------------------------------------------------------------------- the draft


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

    def doubt(self, reason: str) -> None:
        self.unsure = True
        self.reason = reason if not self.reason else f"{self.reason}；{reason}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "type": self.type, "code": self.code, "title": self.title,
            "description": "\n".join(d for d in self.description if d).strip(), "parent": self.parent,
            "kind": self.kind, "box_items": self.box_items, "lead": None, "co": [], "label": self.label,
            "unsure": self.unsure, "reason": self.reason,
        }


@dataclass
class _Event:
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
        starts_box = len(texts) == 1 and _BOX.match(clean_text(texts[0].splitlines()[0]))
        if starts_box and current:
            out.append(Table(current))
            current = []
        current.append(row)
    if current:
        out.append(Table(current))
    return out


def _title(blocks: list[Block]) -> tuple[dict[str, Any], int]:
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
    if not re.search(r"规划|计划|纲要|方案|意见|说明", title):
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


def _events(blocks: list[Block], budget: Budget) -> tuple[list[_Event], list[str]]:
    """Pass one: every block as an event, with noise dropped and appendices and boxes recognised."""
    cleaned = [clean_text(b.text) if isinstance(b, Paragraph) else "" for b in blocks]
    texts = Counter(t for b, t in zip(blocks, cleaned, strict=True) if isinstance(b, Paragraph))
    repeated = {t for t, n in texts.items() if n >= 3 and 0 < len(t) <= 40 and not classify_heading(t)}
    dropped: list[str] = []
    events: list[_Event] = []
    in_appendix = False
    box: _Event | None = None
    seen_styles: set[str] = set()
    for block, text in zip(blocks, cleaned, strict=True):
        budget.tick()
        if isinstance(block, Table):
            box = None
            for table in _split_tables(block):
                events.append(_Event("table", table=table))
            continue
        if not text:
            box = None
            events.append(_Event("blank"))
            continue
        if is_noise(text) or text in repeated:
            dropped.append(text)
            continue
        if len(text) <= 80 and _CAPTION.match(text) and not text.endswith("。"):
            if text.startswith("附"):
                in_appendix = True
            box = None
            events.append(_Event("caption", text))
            continue
        if len(text) <= 60 and _APPENDIX.match(text):
            in_appendix = True
            box = None
            events.append(_Event("appendix", text))
            continue
        if _NOTE.match(text):
            box = None
            events.append(_Event("note", text))
            continue
        if m := _BOX.match(text):
            box = _Event("box", m.group(2).strip(), number=cn_number(m.group(1)))
            events.append(box)
            continue
        if in_appendix:
            events.append(_Event("appendix", text))
            continue
        heading = classify_heading(text, block.heading)
        if box is not None and (heading is None or heading.style not in seen_styles) and block.heading is None:
            box.items.append(text)
            continue
        box = None
        if heading is not None:
            seen_styles.add(heading.style)
            events.append(_Event("heading", text, heading=heading, level=block.heading))
        elif block.heading is not None:
            events.append(_Event("plain_heading", text, level=block.heading))
        elif block.bullet:
            events.append(_Event("bullet", text))
        else:
            events.append(_Event("body", text))
    return events, dropped


def _roles(events: list[_Event]) -> dict[str, str]:
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


class _Builder:
    """Pass three: the draft, from the events in order."""

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

    # -- tree --------------------------------------------------------------------------------------

    def _nearest(self, *types: str) -> _Node | None:
        for _, node in reversed(self.open):
            if node.type in types:
                return node
        return None

    def heading(self, event: _Event) -> None:
        h = event.heading
        assert h is not None
        role = self.roles.get(h.style, "section")
        rank = self.rank.get(h.style, len(self.rank))
        while self.open and self.open[-1][0] >= rank:
            self.open.pop()
        title, rest = split_lead(h.text)
        node = _Node(self.ids("t"), role, title, number=h.number, style=h.style, label=h.label)
        if rest:
            node.description.append(rest)
        parent = self.open[-1][1] if self.open else None
        if role == "deep":
            node.type = "measure"
            parent = self._nearest("key_task")
            node.doubt(f"位于重点任务之下第三层及更深（{h.label}），已作为工作举措，请核对层级")
        if node.type == "measure" and self._nearest("key_task") is None:
            node.type = "key_task"
            node.doubt("未找到所属的重点任务，已作为重点任务")
        node.parent = parent.id if parent else None
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

    def _add(self, node: _Node) -> None:
        self.nodes.append(node)
        self.by_id[node.id] = node

    def plain_heading(self, event: _Event) -> None:
        self.context_heading = event.text[:40]

    def body(self, text: str) -> None:
        if self.current is None:
            self.preface.append(text)
            self._targets(text, None)
            return
        self.current.description.append(text)
        self._targets(text, self.current)

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

    # -- tables ------------------------------------------------------------------------------------

    def table(self, table: Table) -> None:
        rows = [[c if c is not None else "" for c in r] for r in table.rows]
        rows = [r for r in rows if any(compact(c) for c in r)]
        caption, self.caption = self.caption, None
        if not rows:
            return
        first_cells = [c for c in rows[0] if compact(c)]
        first_line = clean_text(first_cells[0].splitlines()[0]) if first_cells else ""
        if (m := _BOX.match(first_line)) and len(first_cells) == 1:
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
            if "name" in found and len(found) >= 2:
                header_at, roles = i, found
                break
        kind = "other"
        caption_text = caption or ""
        if header_at is not None:
            header = [compact(c) for c in rows[header_at]]
            body = rows[header_at + 1:]
            # A second header line (规划目标 / 完成情况 under a merged 2020年) joins the first.
            extra = 0
            while body and extra < MAX_HEADER_ROWS and _is_header_continuation(body[0], roles):
                extra += 1
                header = [f"{a}{compact(b)}" if compact(b) and compact(b) not in a else a
                          for a, b in zip(header, list(body[0]) + [""] * (len(header) - len(body[0])), strict=False)]
                body = body[1:]
                roles = _header_roles(header)
            if {"total", "period"} & set(roles) and ("项目" in header[roles["name"]] or "项目" in caption_text):
                kind = "projects"
            elif "target" in roles and "actual" in roles:
                kind = "review"
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
        if kind == "indicators":
            self._indicator_table(summary, header, roles, body)
        elif kind == "review":
            self._review_table(summary, header, roles, body)
        else:
            self._project_table(summary, header, roles, body, caption_text)

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
            if _NOTE.match(filled[0]):
                summary["notes"].append(filled[0])
                continue
            number_cell, name_cell = _at(cells, roles, "number"), _at(cells, roles, "name")
            if len(set(filled)) == 1 and not number_cell.isdigit() and (not name_cell or len(filled) > 1):
                # One text alone, or the same text across merged cells: a category line.
                category = filled[0]
                continue
            if _at(cells, roles, "category"):
                category = _at(cells, roles, "category")
            yield cells, category

    def _cell(self, cells: list[str], roles: dict[str, int], role: str) -> str | None:
        return _value(cells[roles[role]]) if role in roles and roles[role] < len(cells) else None

    def _indicator(self, **data: Any) -> dict[str, Any]:
        unsure, reason = data.pop("unsure", False), data.pop("reason", None)
        item = {"id": self.ids("i"), "lead": None, "definition": None, "notes": [], **data}
        target = item.get("target")
        if not target:
            unsure, reason = True, _join(reason, "缺少目标值")
        else:
            rule = parse_target(target, item["name"], unit=item.get("unit"), baseline=item.get("baseline"))
            if rule.op == "qualitative":
                unsure, reason = True, _join(reason, f"目标值“{target}”无法按数值理解，将由考核组评判")
            elif rule.review:
                unsure, reason = True, _join(reason, f"目标值“{target}”的方向（越高越好或越低越好）需要确认")
        if len(item["name"]) > 40:
            unsure, reason = True, _join(reason, "指标名称较长，请核对")
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
            if unit is None and (m := _UNIT_SUFFIX.search(name)):
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
        table = {"id": summary["id"], "caption": summary["caption"], "target_header": header[roles["target"]],
                 "actual_header": header[roles["actual"]], "year": _year_in(header[roles["actual"]]), "rows": []}
        for cells, category in self._data_rows(summary, roles, body):
            name = self._cell(cells, roles, "name")
            if not name:
                continue
            target, target_mark = _strip_marks(self._cell(cells, roles, "target") or "")
            actual, actual_mark = _strip_marks(self._cell(cells, roles, "actual") or "")
            number_text = self._cell(cells, roles, "number") or ""
            row = {"category": category, "number": int(number_text) if number_text.isdecimal() else None,
                   "name": name, "unit": self._cell(cells, roles, "unit"), "target": target or None,
                   "actual": actual or None, "notes": [], "year": table["year"]}
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
        for cells, _category in self._data_rows(summary, roles, body):
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
                    unsure, reason = True, _join(reason, f"金额“{raw}”不是数字或“待定”")
            start = end = None
            if years := self._cell(cells, roles, "years"):
                found = [int(y) for y in re.findall(r"(?:19|20)\d\d", years)]
                if found:
                    start, end = found[0], found[-1]
            self.projects.append({
                "id": self.ids("p"), "name": name, "content": self._cell(cells, roles, "content"),
                "total": amounts["total"], "period": amounts["period"], "owner": self._cell(cells, roles, "owner"),
                "remarks": self._cell(cells, roles, "remarks"), "unit": summary["unit"], "start_year": start,
                "end_year": end, "lead": None, "unsure": unsure, "reason": reason,
            })
            summary["rows"] += 1

    def note(self, text: str) -> None:
        if self.last_table is not None:
            self.last_table["notes"].append(text)
        else:
            self.notes.append(text)

    def appendix(self, text: str) -> None:
        if found := _definition(text):
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
                    row["unsure"], row["reason"] = True, _join(row.get("reason"), "有标记但没有找到注释")

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
                holder = ancestor(node, "key_task")
                code = f"{holder.code}.{number}" if holder else str(number)
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
            if node.type == "chapter" and node.id not in has_work:
                node.doubt("本章没有识别出任务（可能是背景、目标等叙述性内容），不需要的话可以删除")


def _at(cells: list[str], roles: dict[str, int], role: str) -> str:
    """The cell of a role's column ("" where the row has no such cell)."""
    i = roles.get(role)
    return cells[i] if i is not None and i < len(cells) else ""


def _is_header_continuation(row: list[str], roles: dict[str, int]) -> bool:
    cells = [compact(c) for c in row]
    if not any(cells):
        return False
    for role in ("number", "name"):
        if role in roles and roles[role] < len(cells) and cells[roles[role]]:
            return False
    return all(_no_figure_but_a_year(c) for c in cells) and any(re.search("目标|完成|现状|基期|年", c) for c in cells)


def _no_figure_but_a_year(cell: str) -> bool:
    """No digits in the cell, or only one year ("2020年")."""
    figures = re.findall(r"\d+", cell)
    return not figures or (len(figures) == 1 and re.fullmatch(r"(19|20)\d\d", figures[0]) is not None)


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


def _join(a: str | None, b: str) -> str:
    return f"{a}；{b}" if a else b


def _quote(text: str) -> str:
    """A text copied into more than one entry, at most MAX_QUOTE_CHARS long."""
    return text if len(text) <= MAX_QUOTE_CHARS else text[:MAX_QUOTE_CHARS] + "…"


# ------------------------------------------------------------------------------------------- entry point


def extract(blocks: list[Block], budget: Budget | None = None) -> dict[str, Any]:
    """The draft of a plan document (see the module docstring). The budget (by default the limits of
    :mod:`.limits`) counts the draft's entries and bounds the time; a document over it raises DomainError."""
    budget = budget or Budget()
    plan, used = _title(blocks)
    events, dropped = _events(blocks[used:], budget)
    roles = _roles(events)
    builder = _Builder(roles, plan, budget)
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
