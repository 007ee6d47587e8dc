"""Text as it is kept: what people type, import or upload loses the characters nobody sees.

Bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069, the marks U+200E, U+200F, U+061C)
make "说明\u202efdp.exe" read as "说明exe.pdf" or reorder a title on screen; zero-width characters
(U+200B–U+200D, U+2060, U+FEFF) and the soft hyphen hide inside a word so that two equal-looking names
differ. Every form (the base form's filter), every import and every uploaded file name pass through
`clean`, the one rule for them all.
"""

from __future__ import annotations

import re

DIRECTION_MARKS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_UNSEEN = dict.fromkeys(map(ord, DIRECTION_MARKS + ZERO_WIDTH), None)
# C0 control characters but tab and line breaks, and DEL: nothing a person types; PostgreSQL refuses NUL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(text: str) -> str:
    """``text`` without direction marks and zero-width characters (nothing else changes)."""
    return text.translate(_UNSEEN)


def clean_value(value: object) -> object:
    """A form field's filter: strings cleaned, anything else (None, a number a hidden field holds) as it is."""
    return clean(value) if isinstance(value, str) else value
