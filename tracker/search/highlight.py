"""Marking the words found: the text is escaped first, then each match is wrapped in ``<mark>``."""

from __future__ import annotations

import re
from collections.abc import Sequence

from markupsafe import Markup, escape


def spans(text: str, terms: Sequence[str]) -> list[tuple[int, int]]:
    """Where the terms occur in ``text`` (case-insensitive), overlapping and touching ones merged."""
    found: list[tuple[int, int]] = []
    for term in terms:
        if term:
            found += [(m.start(), m.end()) for m in re.finditer(re.escape(term), text, re.IGNORECASE)]
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str | None, terms: Sequence[str]) -> Markup:
    """``text`` as safe HTML with every occurrence of the terms marked."""
    if not text:
        return Markup("")
    out, at = [], 0
    for start, end in spans(text, terms):
        out.append(escape(text[at:start]))
        out.append(Markup("<mark>") + escape(text[start:end]) + Markup("</mark>"))
        at = end
    out.append(escape(text[at:]))
    return Markup("").join(out)
