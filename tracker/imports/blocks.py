"""The blocks the readers produce, and the small helpers every stage of extraction shares.

The readers (:mod:`.docx`, :mod:`.text`) turn a file into blocks — paragraphs and tables in document order —
which :func:`.extract.extract` turns into a draft. Here too: a paragraph or a table cell cleaned
(:func:`clean_text`, :func:`compact`), Chinese numerals (:func:`cn_number`, :func:`cn_numeral`), the loose
key indicator names are compared by (:func:`name_key`, also used when a confirmed draft is matched against
the plan) and doubts joined into one reason (:func:`join_reasons`). Nothing here imports another part of
the extractor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..text import clean

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


# ------------------------------------------------------------------------------------------- names

# (a unit in brackets at the end of a name: 床位数（张）, 达标率（≥%）)
UNIT_SUFFIX = re.compile(r"[（(]\s*(?P<ge>[≥≤])?\s*(?P<unit>[^（()）]{1,8})\s*[）)]$")


def name_key(name: str) -> str:
    """Names compared loosely: no spaces, no trailing unit in brackets, no quotes."""
    name = re.sub(r"\s+", "", name)
    name = UNIT_SUFFIX.sub("", name)
    return name.strip("“”\"'")


# ------------------------------------------------------------------------------------------- reasons


def join_reasons(a: str | None, b: str) -> str:
    """A doubt added to the reasons an entry already has."""
    return f"{a}；{b}" if a else b
