"""Small helpers shared by the views: query arguments, pagination, form errors."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, flash, g, has_request_context, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from wtforms import FieldList, FormField, HiddenField, IntegerField, StringField

from .db import LabeledEnum
from .errors import DomainError, Refusal, Refusals, StaleObject
from .text import CONTROL_CHARACTERS, clean_value

E = TypeVar("E", bound=LabeledEnum)

# A record id in a URL: larger numbers do not fit the database's integer columns (a 404, not a 500).
ID = "int(max=2147483647)"


def enum_arg(enum_cls: type[E], name: str) -> E | None:
    """An enum from the query string; an unknown value is a 400, not a silent 'all'."""
    value = request.args.get(name) or None
    if value is None:
        return None
    try:
        return enum_cls(value)
    except ValueError:
        abort(400)


def int_arg(name: str, default: int | None = None, *, lo: int = 0, hi: int = 10**9) -> int | None:
    value = request.args.get(name) or None
    if value is None:
        return default
    if not (value.isascii() and value.isdigit()) or not lo <= int(value) <= hi:
        abort(400)
    return int(value)


def local_path(target: str | None) -> str | None:
    """A same-site path to go back to after a POST, or None: never another host, never a header-breaking
    character (a newline in a Location header is a 500)."""
    if not target or CONTROL_CHARACTERS.search(target) or "\n" in target or "\r" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


HIDDEN_CONTROL = "提交的内容包含控制字符，未保存。请刷新页面后重试。"
# The dates any form accepts (the years forms accept are 1990–2100 too); services narrow them further.
EARLIEST, LATEST = date(1990, 1, 1), date(2100, 12, 31)
DATE_RANGE = "日期须在1990年1月1日到2100年12月31日之间。"
# Whole numbers fit the database's integer columns (ids typed into a field included).
INTEGER_LIMIT = 2**31 - 1


def _leaf_fields(form: Any) -> Iterator[Any]:
    for field in form:
        if isinstance(field, FormField | FieldList):
            yield from _leaf_fields(field)
        else:
            yield field


class Form(FlaskForm):
    """Base form: WTForms' own messages in Chinese; control characters are refused in every field, dates
    outside 1990–2100 in every date field and integers beyond the database's in every integer field."""

    class Meta:
        locales = ("zh",)

        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
            """Every text field loses the characters nobody sees (tracker.text) before it is validated."""
            if issubclass(unbound_field.field_class, StringField):
                options["filters"] = (clean_value, *unbound_field.kwargs.get("filters", ()),
                                      *options.get("filters", ()))
            return unbound_field.bind(form=form, **options)

        def get_translations(self, form: Any) -> Any:
            from wtforms.i18n import get_translations

            return get_translations(self.locales)

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        for field in _leaf_fields(self):
            if isinstance(field.data, date) and not EARLIEST <= field.data <= LATEST and not field.errors:
                field.errors = [*field.errors, DATE_RANGE]
                valid = False
            if isinstance(field, IntegerField) and isinstance(field.data, int) and abs(field.data) > INTEGER_LIMIT \
                    and not field.errors:
                field.errors = [*field.errors, "数值过大。"]
                valid = False
            if not any(isinstance(v, str) and CONTROL_CHARACTERS.search(v) for v in field.raw_data or ()):
                continue
            valid = False
            if isinstance(field, StringField) and not isinstance(field, HiddenField):
                field.errors = [*field.errors, "不能包含控制字符。"]
            elif HIDDEN_CONTROL not in self.form_errors:  # a value no one types (hidden, a choice): above the form
                self.form_errors.append(HIDDEN_CONTROL)
        return valid


def form_version(form: FlaskForm) -> int | None:
    raw = form.data.get("version")
    try:
        return int(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        return None


def rollback_request() -> None:
    """Undo what this request wrote so far and have the request boundary commit nothing more: the page
    then shows what is stored, and a redirect after a refusal saves nothing half-done."""
    g.rollback_only = True
    session = g.get("db_session")
    if session is not None:
        session.rollback()


def refuse(form: FlaskForm | None, exc: DomainError, default_field: str | None = None) -> int:
    """The one way a view answers a refused save: the request is rolled back (rollback_request), the
    message goes next to its field on ``form`` (above it without a field; flashed when there is no form),
    and the status to send the page with is returned: 409 for a stale save, else 422.

    Not a form's error, so raised for the error page: a refusal of access (403, 404), and a conflict with
    no field (409: the record's state has moved on, so the form no longer applies) — except a stale save
    on a form, which keeps what was typed beside what changed."""
    rollback_request()
    stale_form = form is not None and isinstance(exc, StaleObject)
    if exc.status_code in (403, 404) or (exc.status_code == 409 and exc.field is None and not stale_form):
        raise exc
    if form is None:
        flash(exc.message, "error")
    else:
        fail_form(form, exc, default_field)
    return 409 if exc.status_code == 409 else 422


def fail_form(form: FlaskForm, exc: DomainError, default_field: str | None = None) -> None:
    """Show a refused save next to its field (or above the form); every one of several refusals at once."""
    if isinstance(exc, Refusals):
        for name, message in exc.errors:
            fail_form(form, DomainError(message, field=name), default_field)
        return
    name = exc.field or default_field
    field = getattr(form, name, None) if name else None
    message = exc.message
    if exc.link is not None:
        text, endpoint, values = exc.link
        message = Refusal(exc.message, (text, url_for(endpoint, **values)))
    if field is not None and hasattr(field, "errors"):
        if isinstance(field.errors, tuple):
            field.errors = list(field.errors)
        field.errors.append(message)
    else:
        form.form_errors.append(message)


def also_rule_errors(form: FlaskForm, check: Callable[[], object]) -> None:
    """A form whose own checks failed hears the service's rules too, so one submit shows every error: each
    refusal of ``check`` goes next to its field, unless the form already said something there."""
    try:
        check()
    except (Refusals, DomainError) as exc:
        if exc.status_code not in (400, 422):
            return  # access and state refusals belong to the save itself, not to the form's round of errors
        errors = exc.errors if isinstance(exc, Refusals) else [(exc.field, exc.message)]
        for name, message in errors:
            field = getattr(form, name, None) if name else None
            if field is None or not getattr(field, "errors", None):
                fail_form(form, DomainError(message, field=name))


# 打印全部: a list printed whole is one page of at most this many rows (narrow the filters to print more).
PRINT_ALL_LIMIT = 2000


def printing_all() -> bool:
    """The list is asked for whole, to print (``?print=all``)."""
    return has_request_context() and request.args.get("print") == "all"


def page_window(size: int) -> tuple[int, int]:
    """The page number asked for and the page size: (number, size); a list printed whole is its first page of up
    to PRINT_ALL_LIMIT rows."""
    if printing_all():
        return 1, PRINT_ALL_LIMIT
    return int_arg("page", 1, lo=1) or 1, size


@dataclass
class Page:
    items: list[Any]
    number: int
    size: int
    total: int
    whole: bool = dataclass_field(default_factory=printing_all)  # every row on one page, to print (up to the limit)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))


def paginate(session: Session, stmt: Select[Any], *, size: int = 50, scalars: bool = True) -> Page:
    number, size = page_window(size)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = stmt.limit(size).offset((number - 1) * size)
    items = list(session.scalars(rows)) if scalars else list(session.execute(rows))
    return Page(items, number, size, total)
