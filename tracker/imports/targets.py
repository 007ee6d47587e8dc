"""Targets stated in the prose: "城乡居民健康素养水平达到32%" → (name, target, year).

:func:`find_targets` reads each clause of a text whose end is a figure after a verb such as 达到 / 控制在 /
不低于 (and, in a bulleted goal list, a qualitative value or a trend such as "稳步提高"), splitting
"…和…分别达到…和…" into two. The builder makes candidate targets of what it finds in body text and
indicators of what it finds in goal lists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
_PREFIXES = ("每千常住人口", "每千人口", "每千人", "每万常住人口", "每万人口", "每万人", "每十万人")


@dataclass
class Target:
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


def find_targets(text: str, *, bullet: bool = False) -> list[Target]:
    """"…达到…" statements: each clause of the text whose end is a figure (or, in a goal list, a trend)."""
    found: list[Target] = []
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
                found.append(Target(a, m["va"].strip(), year, where(a)))
                found.append(Target(b, m["vb"].strip(), year, b_at))
                continue
            m = _CLAUSE.match(clause)
            if m is None and bullet:
                m = _QUALITATIVE.match(clause)
            if m is not None:
                name = _clean_name(m["name"])
                if len(name) >= 2 and not name.endswith(("的", "和", "与")):
                    found.append(Target(name, _value_target(m["verb"], m["value"], m.groupdict().get("tail")),
                                         year, where(name)))
                continue
            if bullet and (m := _TREND.match(clause)):
                name = _clean_name(m["name"])
                if len(name) >= 2:
                    found.append(Target(name, m["value"], year, where(name)))
    return found
