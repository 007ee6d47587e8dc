"""Jinja filters and globals: dates in Chinese, enum labels, money, days left."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from urllib.parse import urlencode

from flask import Flask, request, url_for

from . import timeutil
from .audit import display_value, label_of


def label(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Enum):
        return getattr(value, "label", str(value.value))
    return str(value)


def days_left(deadline: date | None) -> int | None:
    if deadline is None:
        return None
    return (deadline - timeutil.today()).days


def days_left_text(deadline: date | None) -> str:
    n = days_left(deadline)
    if n is None:
        return ""
    if n > 0:
        return f"剩{n}天"
    if n == 0:
        return "今日到期"
    return f"逾期{-n}天"


def money(value: Decimal | None, unit: str = "亿元") -> str:
    """Format an amount stored in 万元 in the reader's unit."""
    if value is None:
        return "待定"
    amount = value / Decimal(10000) if unit == "亿元" else value
    text = f"{amount:,.4f}".rstrip("0").rstrip(".")
    return text


def url_with(**changes: Any) -> str:
    """The current URL with some query arguments replaced (for filters, sorting and paging)."""
    args = request.args.to_dict()
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return url_with_args(request.endpoint or "", args, **(request.view_args or {}))


def url_with_args(endpoint: str, args: Mapping[str, Any], **values: Any) -> str:
    """``url_for(endpoint, **values)`` with the query ``args`` appended as given. What a request carried in
    its query string never reaches url_for, where names such as ``endpoint``, ``_method`` or a view
    argument's would change the URL or fail."""
    url = url_for(endpoint, **values)
    query = urlencode([(k, str(v)) for k, v in args.items() if v is not None])
    return f"{url}?{query}" if query else url


# (endpoint, text) in menu order; who sees which entry is permissions.MENU_ROLES
NAV_ITEMS: list[tuple[str, str]] = [
    ("workspace.index", "我的工作台"),
    ("plans.index", "规划"),
    ("alerts.overdue", "逾期清单"),
    ("supervision.index", "督查督办"),
    ("tasks.reports", "进展填报"),
    ("adjustments.index", "调整申请"),
    ("indicators.index", "指标监测"),
    ("evaluations.index", "考核评估"),
    ("dashboard.index", "领导驾驶舱"),
    ("admin.index", "系统管理"),
]


def nav_items() -> list[tuple[str, str]]:
    """Menu entries the current user may open (only those whose pages exist)."""
    from flask import current_app
    from flask_login import current_user

    from .permissions import sees_menu_entry

    return [(endpoint, text) for endpoint, text in NAV_ITEMS
            if endpoint in current_app.view_functions and sees_menu_entry(current_user, endpoint)]


def has_endpoint(name: str) -> bool:
    from flask import current_app

    return name in current_app.view_functions


def register(app: Flask) -> None:
    app.jinja_env.globals["nav_items"] = nav_items
    app.jinja_env.globals["has_endpoint"] = has_endpoint
    from .permissions import can_update_task

    app.jinja_env.globals["can_update_task"] = can_update_task  # per row of the workspace
    app.jinja_env.filters["date"] = timeutil.format_date
    app.jinja_env.filters["datetime"] = timeutil.format_datetime
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["field_label"] = label_of
    app.jinja_env.filters["audit_value"] = display_value
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["days_left"] = days_left_text
    app.jinja_env.globals["url_with"] = url_with
    app.jinja_env.globals["url_with_args"] = url_with_args
    app.jinja_env.globals["today"] = timeutil.today
    app.jinja_env.globals["demo_clock_on"] = timeutil.demo_clock_on
    app.jinja_env.globals["days_left"] = days_left
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _now() -> dict[str, Any]:
        return {"now": timeutil.now, "isinstance": isinstance, "datetime": datetime}
