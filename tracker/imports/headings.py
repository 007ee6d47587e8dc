"""What a paragraph is, from its first characters: a numbered heading, or a marker line.

:func:`classify_heading` reads the numbering at the start of a paragraph (第一章, 一、, （一）, 1.1, 1．, ①, …)
into a :class:`Heading`; :func:`split_lead` splits a heading into its title and the rest; and
:func:`reads_like_task` tells a heading describing work ("强化…", "…行动") from one that only groups. The
marker patterns say which lines open a 专栏 box, caption a table, start the appendix, are a note or a page
number, and :func:`definition` reads a "名称：解释" line of a 名词解释 appendix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .blocks import CN_DIGITS, cn_number

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

BOX = re.compile(rf"^专栏\s*+([\d{_C}]{{1,3}})\s*+[：:．.、]?\s*(.*)$")
CAPTION = re.compile(rf"^(?:附\s*表\s*(?:[\d{_C}]{{1,3}}(?:[-－—]\d+)?)?|表\s*[\d{_C}]{{1,3}}(?:[-－—]\d+)?)"
                     r"\s*[：:．.、]?\s*(.*)$")
APPENDIX = re.compile(rf"^(附\s*$|附\s*[：:]|附件\s*[\d{_C}]*\s*([：:]|$)|附录|.{{0,30}}名词解释\s*$)")
NOTE = re.compile(r"^注\s*+\d*+\s*+[：:．.]")
_PAGE_NUMBER = re.compile(r"^([-—–－~\s]*\d{1,4}[-—–－~\s]*|第\s*+\d++\s*+页(\s*+[,，/]?\s*+共\s*+\d++\s*+页)?"
                          r"|\d+\s*/\s*\d+)$")
# "1．名称：解释" (the rest is read by definition, without a pattern that backtracks over runs of spaces)
_DEFINITION_NUMBER = re.compile(rf"^(?:[{_C}]{{1,3}}|\d{{1,3}})\s*+[、．.]")


def is_noise(text: str) -> bool:
    return bool(_PAGE_NUMBER.match(text))


def definition(text: str) -> tuple[str, str] | None:
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
