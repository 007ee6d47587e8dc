"""What the words of a heading or a paragraph say beyond its structure.

:func:`is_narrative` tells a chapter or heading that describes rather than assigns work (发展基础, 面临形势,
指导思想, 发展目标, 保障措施 …): its sub-headings are not tasks unless the planner says so.
:func:`deadline` reads the date a task is due from "2027年底前", "到2029年", "2026年6月底前".
:func:`departments` reads "牵头单位：…；配合单位：…" and "责任单位：…" into a lead and co-operating
departments (names as written; the confirmation matches them to the region's departments).
:func:`ordinal_points` splits "一是……。二是……。" into the points a paragraph lists, each with a short title.
Nothing here imports another part of the extractor but :mod:`.blocks` and :mod:`.headings`.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

from .blocks import CN_DIGITS, cn_number
from .headings import reads_like_task

# ------------------------------------------------------------------------------------------- narrative

NARRATIVE_WORDS = (
    "发展基础", "发展成就", "发展回顾", "发展现状", "现实基础", "工作基础", "面临形势", "形势分析", "发展环境",
    "机遇和挑战", "机遇与挑战", "规划背景", "发展背景", "编制背景", "编制依据", "指导思想", "基本原则", "总体要求",
    "总体思路", "发展目标", "总体目标", "主要目标", "工作目标", "发展定位", "保障措施", "组织实施", "实施保障",
    "保障机制", "工作要求", "组织保障", "规划实施", "存在问题", "主要问题", "面临挑战", "人才队伍现状",
)


def is_narrative(title: str) -> bool:
    """"发展基础" and "指导思想、基本原则和发展目标" describe; "加强规划实施保障" (a verb first) assigns work."""
    t = title.strip("“”\"《》 ")
    if t.startswith(NARRATIVE_WORDS):  # (保障措施, 发展基础: 保障 and 发展 also start tasks)
        return True
    return any(w in t for w in NARRATIVE_WORDS) and not reads_like_task(t)


# ------------------------------------------------------------------------------------------- deadlines

_DEADLINE = re.compile(
    r"(?:(?P<by>到|至|截至|于)\s*)?(?P<year>20\d\d)\s*年\s*(?:(?P<month>\d{1,2})\s*月\s*)?"
    r"(?P<tail>底前|年底前|末前|前|底|年底|末|以前|上半年|下半年)?")


def deadline(text: str) -> str | None:
    """The first date the text gives a piece of work, as an ISO date: "2027年底前" → 2027-12-31,
    "2026年6月底前" → 2026-06-30, "到2029年" → 2029-12-31, "2026年上半年" → 2026-06-30. A bare year
    ("2025年，全县…") is a date only with 到/至 before it or 前/底 after it."""
    for m in _DEADLINE.finditer(text):
        if not (m["by"] or m["tail"] or m["month"]):
            continue
        if m["month"] and not m["tail"] and not m["by"]:
            continue  # "2026年3月，…" tells when, not by when
        year = int(m["year"])
        month = int(m["month"]) if m["month"] else 12
        if m["tail"] == "上半年":
            month = 6
        if not 1 <= month <= 12:
            continue
        day = calendar.monthrange(year, month)[1]
        return f"{year:04d}-{month:02d}-{day:02d}"
    return None


# ------------------------------------------------------------------------------------------- departments

# (a county's bureau writes 股室, a hospital 科室: 责任科室：公共卫生科)
_UNIT_WORDS = "单位|部门|科室|股室|处室"
_UNITS = re.compile(
    rf"[（(]?\s*(?P<label>(?P<role>牵头|责任|主责|配合|协同|参与)(?:{_UNIT_WORDS}))\s*[：:]\s*"
    r"(?P<names>[^；;。）)\n]*)")
_BRACKETED_UNITS = re.compile(rf"[（(][^（()）]{{0,200}}?(?:{_UNIT_WORDS})\s*[：:][^（()）]{{0,200}}[）)]")
_LEAD_ROLES = ("牵头", "责任", "主责")


@dataclass
class Departments:
    lead: str | None
    co: list[str]
    at: int  # where the first label starts (the text before it is the work itself)


def _names(text: str) -> list[str]:
    parts = re.split(r"[、，,/]|\s+|及|和(?=[^和]{2,}(?:局|委|办|院|中心|部|处|队|站|所|会|司|厅|室|公司|政府)$)", text)
    return [p.strip(" 等") for p in parts if p and p.strip(" 等")]


def departments(text: str) -> Departments | None:
    """"牵头单位：县卫生健康局；配合单位：县财政局、县医保局" → lead 县卫生健康局, co [县财政局, 县医保局].
    "责任单位：县卫生健康局、县发展改革局" → the first is the lead, the others co-operate."""
    lead: str | None = None
    co: list[str] = []
    at = None
    for m in _UNITS.finditer(text):
        names = _names(m["names"])
        if not names:
            continue
        at = m.start() if at is None else at
        if m["role"] in _LEAD_ROLES:
            if lead is None:
                lead, rest = names[0], names[1:]
                co.extend(n for n in rest if n not in co)
            else:
                co.extend(n for n in names if n not in co and n != lead)
        else:
            co.extend(n for n in names if n not in co and n != lead)
    if at is None:
        return None
    return Departments(lead, co, at)


def without_departments(text: str) -> str:
    """The text with its "责任单位：…" parts (and the brackets left empty) taken out."""
    text = _BRACKETED_UNITS.sub("", text)
    return _UNITS.sub("", text).replace("。。", "。").strip().rstrip("；;，,")


# ------------------------------------------------------------------------------------------- 一是/二是

_ORDINAL = re.compile(rf"(?:^|(?<=[。；;！!：:]))\s*([{CN_DIGITS}]{{1,3}})是\s*")
SHORT_TITLE = 30


@dataclass
class Point:
    title: str
    text: str


def ordinal_points(text: str) -> tuple[str, list[Point]]:
    """(the lead-in, the points) of "要……。一是加强……，……。二是……。": the points numbered 一是, 二是 … in
    order (at least two); each point's title is its first clause (at most 30 characters)."""
    marks = [(m.start(), m.end(), cn_number(m.group(1))) for m in _ORDINAL.finditer(text)]
    run: list[tuple[int, int]] = []
    expected = 1
    for start, end, number in marks:
        if number == expected:
            run.append((start, end))
            expected += 1
    if len(run) < 2:
        return text, []
    points = []
    for i, (_start, end) in enumerate(run):
        stop = run[i + 1][0] if i + 1 < len(run) else len(text)
        body = text[end:stop].strip()
        first = re.split(r"[，,；;。：:！!]", body, maxsplit=1)[0].strip()
        title = first if len(first) <= SHORT_TITLE else first[:SHORT_TITLE]
        points.append(Point(title, body))
    return text[:run[0][0]].strip(), points
