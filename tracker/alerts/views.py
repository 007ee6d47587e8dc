from __future__ import annotations

import math
from datetime import date
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from ..db import db_session
from ..permissions import OVERDUE_LIST_ROLES, can_supervise, roles_required
from ..spreadsheets import CSV_MIMETYPE, XLSX_MIMETYPE, download
from ..supervision.forms import FromAlertsForm
from ..supervision.services import open_cases_by_task
from ..timeutil import format_date, now, today
from ..web import PRINT_ALL_LIMIT, Page, printing_all
from .exports import export_cells, overdue_csv, overdue_workbook
from .models import AlertLevel, AlertTarget
from .overdue import (
    DEFAULT_DIRECTION,
    SORTS,
    OverdueFilters,
    describe_filters,
    export_statement,
    filter_choices,
    overdue_counts,
    overdue_rows,
)
from .services import task_alerts

bp = Blueprint("alerts", __name__)

LEVELS = [AlertLevel.SEVERE, AlertLevel.OVERDUE, AlertLevel.DUE_SOON, AlertLevel.LAGGING]
MAX_DAYS = 100_000
DEPARTMENT_ROWS = 15  # the department counts table shows the worst ones


def parse_filters(args: MultiDict[str, str]) -> tuple[OverdueFilters, dict[str, str]]:
    """The list's filters from the query string; a bad value is ignored and explained next to its field."""
    errors: dict[str, str] = {}

    def integer(name: str, label: str, hi: int = 10**9) -> int | None:
        raw = (args.get(name) or "").strip()
        if not raw:
            return None
        if not (raw.isascii() and raw.isdigit()) or int(raw) > hi:
            errors[name] = f"{label}应为 0 到 {hi} 之间的整数。"
            return None
        return int(raw)

    def day(name: str, label: str) -> date | None:
        raw = (args.get(name) or "").strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            errors[name] = f"{label}应为日期（YYYY-MM-DD）。"
            return None

    def choice(name: str, enum_cls: Any, label: str) -> Any:
        raw = (args.get(name) or "").strip()
        if not raw:
            return None
        try:
            return enum_cls(raw)
        except ValueError:
            errors[name] = f"{label}的取值无效。"
            return None

    filters = OverdueFilters(
        plan_id=integer("plan", "规划"),
        region_id=integer("region", "地区"),
        department_id=integer("department", "牵头单位"),
        level=choice("level", AlertLevel, "预警等级"),
        target=choice("kind", AlertTarget, "类型"),
        days_min=integer("days_min", "最少逾期天数", MAX_DAYS),
        days_max=integer("days_max", "最多逾期天数", MAX_DAYS),
        due_from=day("due_from", "截止日期起"),
        due_to=day("due_to", "截止日期止"),
        sort=args.get("sort") or "days",
        direction=args.get("dir") or "",
    )
    if filters.days_min is not None and filters.days_max is not None and filters.days_min > filters.days_max:
        errors["days_max"] = "最多逾期天数不能小于最少逾期天数。"
        filters.days_max = None
    if filters.due_from and filters.due_to and filters.due_from > filters.due_to:
        errors["due_to"] = "截止日期止不能早于截止日期起。"
        filters.due_to = None
    return filters, errors


def _page_number(total: int, size: int) -> int:
    raw = "1" if printing_all() else request.args.get("page") or "1"
    number = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 9 else 1
    return min(max(number, 1), max(1, math.ceil(total / size)))


def _list_page(session: Any) -> tuple[Any, dict[str, str], Any, list[Any], int, int]:
    """The filtered, counted page of the overdue list that the HTML and the JSON views both show:
    (filters, filter errors, counts, rows, page number, page size).

    The department filter offers the chosen region's departments (the user's own region at first):
    a province has some two thousand."""
    filters, errors = parse_filters(request.args)
    counts = overdue_counts(session, current_user, filters, worst=DEPARTMENT_ROWS,
                            options_region=filters.region_id or current_user.region_id)
    size = PRINT_ALL_LIMIT if printing_all() else current_app.config["PAGE_SIZE"]
    number = _page_number(counts.total, size)
    rows = overdue_rows(session, current_user, filters, limit=size, offset=(number - 1) * size,
                        total=counts.total)
    return filters, errors, counts, rows, number, size


@bp.route("/alerts/overdue")
@login_required
@roles_required(*OVERDUE_LIST_ROLES)
def overdue() -> str:
    session = db_session()
    filters, errors, counts, rows, number, size = _list_page(session)
    return render_template(
        "alerts/overdue.html", page=Page(rows, number, size, counts.total), counts=counts, filters=filters,
        errors=errors, choices=filter_choices(session, current_user, filters), levels=LEVELS,
        kinds=[AlertTarget.TASK, AlertTarget.MILESTONE], sorts=SORTS, default_direction=DEFAULT_DIRECTION,
        export_args={k: v for k, v in request.args.items() if k not in ("fmt", "page")},
        open_cases=open_cases_by_task(session, [r.task.id for r in rows]),
        case_form=FromAlertsForm() if can_supervise(current_user) else None,
    )


EXPORT_FORMATS = {
    "xlsx": (overdue_workbook, XLSX_MIMETYPE),
    "csv": (overdue_csv, CSV_MIMETYPE),
}


@bp.route("/alerts/overdue/export.<any(xlsx, csv):fmt>")
@login_required
@roles_required(*OVERDUE_LIST_ROLES)
def export(fmt: str = "xlsx") -> Response:
    """The list exactly as filtered, every row, as an Excel workbook or CSV."""
    session = db_session()
    filters, _errors = parse_filters(request.args)
    region = current_user.department.region.name
    write, mimetype = EXPORT_FORMATS[fmt]
    statement = export_statement(session, current_user, filters, export_cells(session, today()))
    content = write(session, statement, describe_filters(session, current_user, filters), now(),
                    f"{region}及下辖地区")
    return download(content, f"逾期清单_{today():%Y%m%d}.{fmt}", mimetype)


@bp.route("/alerts/overdue.json")
@login_required
@roles_required(*OVERDUE_LIST_ROLES)
def overdue_json() -> Response:
    """The same list for other systems: one page of rows and the counts."""
    session = db_session()
    _filters, errors, counts, rows, number, size = _list_page(session)
    return jsonify({
        "total": counts.total,
        "page": number,
        "page_size": size,
        "errors": errors,
        "counts": {level.value: n for level, n in counts.by_level.items()},
        "rows": [{
            "alert_id": r.alert.id, "level": r.alert.level.value, "level_label": r.alert.level.label,
            "kind": r.alert.target.value, "plan": r.plan.short_name, "region": r.region.name,
            "task_id": r.task.id, "task_code": r.task.code, "task_title": r.task.title,
            "milestone": r.milestone.title if r.milestone else None,
            "department": r.department.name if r.department else None,
            "deadline": r.deadline.isoformat() if r.deadline else None, "deadline_text": format_date(r.deadline),
            "days_overdue": r.days_overdue, "status": r.task.status.value, "progress": r.task.progress,
        } for r in rows],
    })



@bp.app_template_global("task_alerts")
def _task_alerts(task: Any) -> Any:
    """The task page's alert badges (templates/alerts/_task_badges.html)."""
    return task_alerts(db_session(), task)
