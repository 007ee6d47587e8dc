"""Hostile form values (hypothesis strategies), raw form bodies, and what a refusal must look like."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote_from_bytes, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import strategies as st
from sqlalchemy import Date, Enum, Numeric, String, Text, func, literal_column, or_, select
from werkzeug.test import TestResponse

from tracker.db import Base

from .formcrawl import Field, Form, alerts, parse

XSS = ['<script>alert("x")</script>', '"><img src=x onerror=alert(1)>', "javascript:alert(1)",
       "<svg/onload=alert(1)>", "{{ 7*7 }}{% debug %}", "=HYPERLINK(\"http://x\")", "' OR 1=1 --"]
NUMBERS = ["1e308", "-1e308", "-1", "0", str(10**30), str(-(10**30)), str(2**31), str(2**63), str(-(2**63) - 1),
           "NaN", "inf", "-0", "0x1F", "1_000", " 7 ", "3.5", "١٢", "²", "１２", "12abc"]
DATES = ["0001-01-01", "9999-12-31", "2026-02-30", "2026-13-01", "2026-00-10", "20261122", "2026/11/22",
         "+002026-11-22", "１９９０-01-01", "2026-11-22T00:00", "10000-01-01", "1900-01-01", "2100-12-31", "-1-01-01"]
IDS = ["0", "-1", "999999", str(2**31 - 1), str(2**31), str(2**63), str(10**30), "abc", "1.5", "1,2", "t999", "None"]
EMPTY = ["", " ", "\t\n", "\u3000"]
ODD = ["\u202eevil", "a\u200bb", "\ufeffBOM", "\U0001f600😀", "e\u0301\u0301\u0301", "\uffff\ufffe", "\ud800",
       "\udfff lone", "\U00020000𠀀", "\u0085\u2028\u2029", "ﷺ" * 50]

CONTROL = st.text(st.characters(categories=["Cc"]), min_size=1, max_size=12)
ANY_TEXT = st.text(st.characters(codec=None, categories=["L", "M", "N", "P", "S", "Z", "C"]), max_size=60)


def _long(n: int, char: str) -> str:
    return (char * n)[:n]


LONG = st.builds(_long, st.integers(10_000, 100_000), st.sampled_from(["a", "长", "a\u0000", "ab "]))

HOSTILE_TEXT = st.one_of(
    LONG,
    CONTROL,
    st.builds(lambda a, b: a + "\x00" + b, st.text(max_size=5), st.text(max_size=5)),
    st.sampled_from(ODD),
    st.sampled_from(XSS),
    st.sampled_from(NUMBERS),
    st.sampled_from(DATES),
    st.sampled_from(IDS),
    st.sampled_from(EMPTY),
    ANY_TEXT,
)


def hostile_value(field: Field) -> st.SearchStrategy[str]:
    """A value a person (or a script) might send in this field: mostly bad for its kind, sometimes anything."""
    by_kind: dict[str, list[st.SearchStrategy[str]]] = {
        "number": [st.sampled_from(NUMBERS), st.integers().map(str)],
        "date": [st.sampled_from(DATES), st.dates(date(1, 1, 1), date(9999, 12, 31)).map(date.isoformat)],
        "select": [st.sampled_from(IDS)] + ([st.sampled_from(field.options)] if field.options else []),
        "checkbox": [st.sampled_from(IDS)] + ([st.sampled_from(field.options)] if field.options else []),
        "radio": [st.sampled_from(IDS)] + ([st.sampled_from(field.options)] if field.options else []),
        "hidden": [st.sampled_from(IDS + NUMBERS), st.integers().map(str)],
    }
    return st.one_of(*by_kind.get(field.kind, []), HOSTILE_TEXT)


@st.composite
def hostile_post(draw: st.DrawFn, form: Form) -> list[tuple[str, str]]:
    """The form as the page would send it, with one to three fields replaced by hostile values
    (sometimes twice over), or an unknown field added."""
    data = form.valid_data()
    names = [n for n, f in form.fields.items() if f.kind not in ("file", "submit")]
    if names:
        for name in draw(st.lists(st.sampled_from(names), min_size=1, max_size=min(3, len(names)), unique=True)):
            data[name] = draw(st.lists(hostile_value(form.fields[name]), min_size=1, max_size=2))
    if not names or draw(st.booleans()):
        data[draw(st.sampled_from(["id", "version", "rev", "__proto__", "action", "x" * 300]))] = [
            draw(HOSTILE_TEXT)]
    for f in form.fields.values():
        if f.kind == "submit" and f.options:
            data[f.name] = [draw(st.sampled_from(f.options))]
    return [(name, value) for name, values in data.items() for value in values]


def encode(pairs: list[tuple[str, str]]) -> bytes:
    """An urlencoded body as a browser would send it; lone surrogates go out as the bytes a broken client
    would produce (CESU-8), which the server decodes as replacement characters."""
    return b"&".join(quote_from_bytes(k.encode("utf-8", "surrogatepass")).encode() + b"="
                     + quote_from_bytes(v.encode("utf-8", "surrogatepass")).encode() for k, v in pairs)


def post(client: FlaskClient, url: str, pairs: list[tuple[str, str]]) -> TestResponse:
    return client.post(url, data=encode(pairs), content_type="application/x-www-form-urlencoded")


def check_refusal_shown(response: TestResponse, form: Form | str) -> None:
    """No 5xx; a refusal says why: an error page, or the form again with its error next to it (or, when
    the record has moved on, a page that no longer offers the form)."""
    assert response.status_code < 500, (form, response.status_code, response.get_data(as_text=True)[-2000:])
    if response.status_code == 302 or response.mimetype != "text/html":
        return
    html = response.get_data(as_text=True)
    if "error-page" in html or alerts(html):
        return
    action = form.action if isinstance(form, Form) else form
    offered = any(urlsplit(a).path in ("", action) for a, _ in parse(html))
    if response.status_code >= 400:
        assert not offered, (form, response.status_code, html[-1500:])
    else:  # 200 answers a POST only with a page of its own result
        assert 'role="status"' in html or not offered, (form, html[-1500:])


CONTROL_CLASS = "[\x01-\x08\x0b\x0c\x0e-\x1f]"


def stored_problems(app: Flask) -> list[str]:
    """Stored values no form may produce: text longer than its column, control characters (NUL and other
    C0 characters but tab and line breaks), dates outside 1900–2199, numbers too large for their column.
    One query per table."""
    problems = []
    with app.extensions["tracker.sessions"]() as s:
        sqlite = s.bind.dialect.name == "sqlite"
        for table in Base.metadata.sorted_tables:
            checks = []
            for column in table.columns:
                if isinstance(column.type, String | Text) and not isinstance(column.type, Enum):
                    length = getattr(column.type, "length", None)
                    if length:
                        checks.append((column, func.length(column) > length))
                    if sqlite:  # PostgreSQL refuses NUL by itself
                        checks.append((column, func.instr(column, literal_column("char(0)")) > 0))
                        checks.append((column, column.op("GLOB")(f"*{CONTROL_CLASS}*")))
                    else:
                        checks.append((column, column.op("~")(CONTROL_CLASS)))
                elif isinstance(column.type, Date):
                    checks.append((column, or_(column < date(1900, 1, 1), column > date(2199, 12, 31))))
                elif isinstance(column.type, Numeric) and column.type.precision and column.type.scale is not None:
                    # what PostgreSQL refuses to store (SQLite keeps any number)
                    checks.append((column, func.abs(column) >= 10 ** (column.type.precision - column.type.scale)))
            if not checks:
                continue
            key = table.primary_key.columns.values()[0]
            rows = s.execute(select(key, *{c for c, _ in checks}).where(or_(*(w for _, w in checks))).limit(3)).all()
            for row in rows:
                problems.append(f"{table.name} #{row[0]}: " + ", ".join(
                    f"{k}={str(v)[:60]!r} (len {len(str(v))})" for k, v in row._mapping.items() if v is not None))
    return problems
