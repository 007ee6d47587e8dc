"""The search page: every kind's first hits grouped (``/search?q=…``), or one kind's full list a page at a time
(``/search?q=…&kind=tasks``). The box in the header (templates/search/_box.html) sends its query here."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from ..db import db_session
from ..errors import DomainError
from ..web import enum_arg, int_arg
from . import services
from .highlight import highlight
from .services import Kind

bp = Blueprint("search", __name__)


@bp.app_template_filter("highlight")
def _highlight(text: str | None, terms: list[str]) -> object:
    return highlight(text, terms)


@bp.route("/search")
@login_required
def index() -> tuple[str, int] | str:
    session = db_session()
    text = request.args.get("q", "")
    kind = enum_arg(Kind, "kind")
    number = int_arg("page", 1, lo=1) or 1
    try:
        if kind is None:
            results = services.search(session, current_user, text)
            return render_template("search/results.html", q=text, query=results.query, results=results,
                                   kind=None, page=None, kinds=Kind)
        query, page = services.search_kind(session, current_user, text, kind, number)
    except DomainError as exc:
        return render_template("search/results.html", q=text, query=None, results=None, kind=kind, page=None,
                               kinds=Kind, error=exc.message), 400
    return render_template("search/results.html", q=text, query=query, results=None, kind=kind, page=page,
                           kinds=Kind)
