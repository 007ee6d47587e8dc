"""The overdue list (逾期清单): the rows, counts, filters and export rows behind the page, its JSON and its
spreadsheets — one set of functions, so the page and the export never disagree on what is overdue."""

from __future__ import annotations

import secrets
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable, Sequence
from dataclasses import astuple, dataclass, field, replace
from datetime import date, timedelta
from itertools import chain
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import CTE, ColumnElement, Select, and_, case, event, func, inspect, or_, select, true, tuple_
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, load_only

from .. import timeutil
from ..auth.models import User
from ..permissions import every_region, in_regions, overdue_region_ids
from ..planning.models import Plan
from ..regions.models import Department, Region
from ..regions.services import region_choices
from ..tasks.models import Milestone, Task
from .models import (
    LEVEL_RANK,
    Alert,
    AlertDepartmentTally,
    AlertLevel,
    AlertStatus,
    AlertTally,
    AlertTarget,
    OverdueListVersion,
)
from .services import ACTIVE_STAGES

SORTS = {"days": "逾期天数", "department": "责任单位", "deadline": "截止日期"}
DEFAULT_DIRECTION = {"days": "desc", "department": "asc", "deadline": "asc"}


@dataclass
class OverdueFilters:
    plan_id: int | None = None
    region_id: int | None = None
    department_id: int | None = None
    level: AlertLevel | None = None
    target: AlertTarget | None = None
    days_min: int | None = None
    days_max: int | None = None
    due_from: date | None = None
    due_to: date | None = None
    sort: str = "days"
    direction: str = "desc"

    def __post_init__(self) -> None:
        if self.sort not in SORTS:
            self.sort = "days"
        if self.direction not in ("asc", "desc"):
            self.direction = DEFAULT_DIRECTION[self.sort]


@dataclass
class OverdueRow:
    alert: Alert
    task: Task
    plan: Plan
    region: Region
    department: Department | None
    milestone: Milestone | None
    today: date

    @property
    def days_overdue(self) -> int:
        """Calendar days past the deadline (negative: days left)."""
        return (self.today - self.alert.due_date).days if self.alert.due_date else 0

    @property
    def days_text(self) -> str:
        n = self.days_overdue
        if n > 0:
            return f"逾期{n}天"
        if n == 0:
            return "今日到期"
        return f"剩{-n}天"

    @property
    def deadline(self) -> date | None:
        return self.alert.due_date


@dataclass
class OverdueCounts:
    by_level: dict[AlertLevel, int] = field(default_factory=dict)
    worst: list[dict[str, Any]] = field(default_factory=list)  # the most severe departments first
    departments: int = 0  # lead departments with alerts in the list
    options: list[dict[str, Any]] = field(default_factory=list)  # the department filter's choices

    @property
    def rest(self) -> int:
        """Alerts of the departments not among ``worst``."""
        return self.total - sum(d["total"] for d in self.worst)

    @property
    def total(self) -> int:
        return sum(self.by_level.values())


# ---------------------------------------------------------------------------------------------------
# What is kept between requests: the list's counts, order and filter choices, under its version
# ---------------------------------------------------------------------------------------------------

# The columns the list counts, orders or offers choices by (None: every column). Committing a change to one
# of them, or adding or deleting such a row, gives the list a new version; other changes (a task's title or
# progress) leave it, as the rows themselves are read afresh on every request.
LIST_COLUMNS: dict[type[Any], frozenset[str] | None] = {
    Alert: None,
    Task: frozenset({"status", "lead_department_id", "plan_id"}),
    Milestone: frozenset({"status", "task_id"}),
    Plan: frozenset({"region_id", "stage", "short_name", "level", "start_year"}),
    Department: frozenset({"name", "region_id", "sort_order"}),
    Region: frozenset({"name", "code", "parent_id"}),
}
_LIST_TABLES: dict[str, type[Any]] = {model.__table__.name: model for model in LIST_COLUMNS}
CHANGED = "overdue_list_changed"  # session.info: the transaction changed what the list shows
VERSION = "overdue_list_version"  # session.info: (transaction, version token) read in it
KEPT_ENTRIES = 128  # results kept per process (the longest, a province's order, is some 110 kB)

T = TypeVar("T")
_kept: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()
_kept_lock = threading.Lock()


def _changes_list(instance: object, *, dirty: bool) -> bool:
    if type(instance) not in LIST_COLUMNS:
        return False
    columns = LIST_COLUMNS[type(instance)]
    if not dirty or columns is None:
        return True
    attrs = inspect(instance).attrs
    return any(attrs[name].history.has_changes() for name in columns)


@event.listens_for(Session, "after_flush")
def _note_flushed(session: Session, _context: Any) -> None:
    if session.info.get(CHANGED):
        return
    if any(_changes_list(o, dirty=False) for o in chain(session.new, session.deleted)) \
            or any(_changes_list(o, dirty=True) for o in session.dirty):
        session.info[CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    """INSERT and DELETE statements on the list's tables (a plan's deletion), and UPDATE statements that set one
    of the list's columns (the scan's; not a roll-up of progress)."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    model = _LIST_TABLES.get(getattr(getattr(state.statement, "table", None), "name", ""))
    if model is None:
        return
    columns = LIST_COLUMNS[model]
    if state.is_update and columns is not None:
        # the SET clause's names (SQLAlchemy keeps them in _values / _ordered_values; unknown: a change)
        values = getattr(state.statement, "_values", None) or dict(getattr(state.statement, "_ordered_values", None)
                                                                   or ())
        if values and not columns & {getattr(key, "key", key) for key in values}:
            return
    state.session.info[CHANGED] = True


@event.listens_for(Session, "before_commit")
def _new_version(session: Session) -> None:
    """The transaction that changed the list commits a new version token with its changes (last, so the
    token's row lock is held only for the commit)."""
    session.flush()
    if session.info.pop(CHANGED, False):
        token = secrets.token_hex(16)
        session.execute(_upsert(session).values(id=1, token=token)
                        .on_conflict_do_update(index_elements=["id"], set_={"token": token}))


@event.listens_for(Session, "after_rollback")
def _forget_changes(session: Session) -> None:
    session.info.pop(CHANGED, None)


def _upsert(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(OverdueListVersion)


def list_version(session: Session) -> str | None:
    """The list's version as this transaction sees it, read once per transaction; None while the session
    holds changes of its own not yet committed (or before the first change ever): nothing is kept then."""
    if session.info.get(CHANGED) or session.new or session.dirty or session.deleted:
        return None
    transaction: SessionTransaction | None = session.get_transaction()
    seen = session.info.get(VERSION)
    if seen is not None and transaction is not None and seen[0] is transaction:
        return seen[1]
    token = session.scalar(select(OverdueListVersion.token).where(OverdueListVersion.id == 1))
    session.info[VERSION] = (session.get_transaction(), token)
    return token


def kept(session: Session, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    """``compute()``, computed once per list version in this process (the result is shared: read it only).

    Under read committed a result computed after reading the version is at least as new as that version,
    so a result is never older than the version it is kept under."""
    version = list_version(session)
    if version is None:
        return compute()
    full = (version, *key)
    with _kept_lock:
        if full in _kept:
            _kept.move_to_end(full)
            return _kept[full]  # type: ignore[no-any-return]
    value = compute()
    with _kept_lock:
        _kept[full] = value
        while len(_kept) > KEPT_ENTRIES:
            _kept.popitem(last=False)
    return value


def list_scope(session: Session, user: User) -> frozenset[int]:
    """The regions of the user's list (permissions.overdue_region_ids), kept with the list."""
    return kept(session, ("scope", user.region_id), lambda: frozenset(overdue_region_ids(session, user)))


def _overdue_base(session: Session, stmt: Select[Any], scope: Collection[int], filters: OverdueFilters,
                  today: date, *, names: bool = False) -> Select[Any]:
    """The filtered list's open alerts, shared by the list, its counts and the export.

    An open alert is always of an open item and stands where its task stands (``services.keep_in_step``): the
    list reads the alerts alone, from an index of open alerts. ``names`` joins the task, plan, region, lead
    department and milestone rows for display."""
    stmt = stmt.select_from(Alert).where(Alert.status == AlertStatus.OPEN, *_placed(session, Alert, scope, filters))
    if names:
        stmt = _overdue_joins(stmt)
    f = filters
    if f.plan_id:
        stmt = stmt.where(Alert.plan_id == f.plan_id)
    if f.department_id:
        stmt = stmt.where(Alert.department_id == f.department_id)
    # days overdue = today - due date, so a range of days is a range of due dates
    if f.days_min is not None:
        stmt = stmt.where(Alert.due_date <= today - timedelta(days=f.days_min))
    if f.days_max is not None:
        stmt = stmt.where(Alert.due_date >= today - timedelta(days=f.days_max))
    if f.due_from:
        stmt = stmt.where(Alert.due_date >= f.due_from)
    if f.due_to:
        stmt = stmt.where(Alert.due_date <= f.due_to)
    return stmt


def _placed(session: Session, alerts: type[Alert] | type[AlertTally], scope: Collection[int],
            filters: OverdueFilters) -> list[ColumnElement[bool]]:
    """The list's kinds (a task's or a milestone's alerts) and its region, level and kind filters, on the alerts
    or on their tallies (which hold those columns alike)."""
    f = filters
    where = [alerts.target.in_([AlertTarget.TASK.value, AlertTarget.MILESTONE.value]),
             alerts.region_id == (f.region_id if f.region_id in scope else -1) if f.region_id
             else in_regions(session, alerts.region_id, scope)]
    if f.level:
        where.append(alerts.level == AlertLevel(f.level).value)
    if f.target:
        where.append(alerts.target == AlertTarget(f.target).value)
    return where


def _tallied(filters: OverdueFilters) -> bool:
    """Whether the filtered list's counts can be read from the tallies: filtered by nothing they do not hold (a
    plan, days overdue or due dates; a department is picked from the counted rows)."""
    f = filters
    return f.plan_id is None and f.days_min is None and f.days_max is None and f.due_from is None \
        and f.due_to is None


def _overdue_joins(stmt: Select[Any]) -> Select[Any]:
    """An alert's task, plan, region, lead department and milestone, for display."""
    return (stmt.join(Task, Task.id == Alert.task_id).join(Plan, Plan.id == Alert.plan_id)
            .join(Region, Region.id == Alert.region_id)
            .outerjoin(Department, Department.id == Alert.department_id)
            .outerjoin(Milestone, Milestone.id == Alert.milestone_id))


def _order(stmt: Select[Any], filters: OverdueFilters, *, reverse: bool = False) -> Select[Any]:
    """Most days overdue = earliest deadline; ties by alert id, so the order is stable across pages
    (and the partial index on open alerts' due dates serves it). ``reverse`` is the exact opposite order."""
    return stmt.order_by(*_order_keys(filters, reverse=reverse))


def _order_keys(filters: OverdueFilters, *, reverse: bool = False) -> list[Any]:
    desc = filters.direction == "desc"
    keys: list[tuple[Any, bool]]  # (column, ascending)
    if filters.sort == "department":
        keys = [(Department.name, not desc), (Department.id, not desc), (Alert.due_date, True), (Alert.id, True)]
    else:
        earliest_first = desc if filters.sort == "days" else not desc
        keys = [(Alert.due_date, earliest_first), (Alert.id, earliest_first)]
    return [column.asc() if ascending != reverse else column.desc() for column, ascending in keys]


def overdue_rows(session: Session, user: User, filters: OverdueFilters, *, limit: int | None = None,
                 offset: int = 0, today: date | None = None, total: int | None = None) -> list[OverdueRow]:
    """One page of the list: the page's alert ids first, then their rows.

    A page's ids are read with LIMIT and OFFSET from the index of open alerts alone — given the list's
    ``total``, a page in the second half from the end in the opposite order — and kept per list version
    (``kept``), as is the whole order when no ``limit`` is given; while nothing can be kept (the session holds
    changes of its own) they are read afresh."""
    today = today or timeutil.today()
    scope = list_scope(session, user)
    key = (scope, astuple(filters), today, limit, offset, total)
    ids = kept(session, ("page", *key),
               lambda: array("q", _page_ids(session, scope, filters, today, limit, offset, total)))
    return _rows_of(session, list(ids), today)


def _ids_statement(session: Session, scope: frozenset[int], filters: OverdueFilters, today: date) -> Select[Any]:
    stmt = _overdue_base(session, select(Alert.id), scope, filters, today)
    if filters.sort == "department":
        stmt = stmt.outerjoin(Department, Department.id == Alert.department_id)
    return stmt


def _page_ids(session: Session, scope: frozenset[int], filters: OverdueFilters, today: date, limit: int | None,
              offset: int, total: int | None) -> list[int]:
    from_end = limit is not None and total is not None and offset > total // 2
    ids_stmt = _order(_ids_statement(session, scope, filters, today), filters, reverse=from_end)
    if limit is not None and total is not None and from_end:
        limit = max(0, min(limit, total - offset))
        ids_stmt = ids_stmt.limit(limit).offset(max(0, total - offset - limit))
    elif limit is not None:
        ids_stmt = ids_stmt.limit(limit).offset(offset)
    elif offset:
        ids_stmt = ids_stmt.offset(offset)
    ids = list(session.scalars(ids_stmt))
    if from_end:
        ids.reverse()
    return ids


# The columns a row shows (the page, its JSON): the rest of a task's or plan's many columns are not loaded.
ROW_COLUMNS = (
    load_only(Task.id, Task.code, Task.title, Task.status, Task.progress, Task.plan_id, Task.lead_department_id),
    load_only(Plan.id, Plan.short_name, Plan.region_id),
    load_only(Region.id, Region.name),
    load_only(Department.id, Department.name),
    load_only(Milestone.id, Milestone.title, Milestone.status),
)


def _rows_of(session: Session, ids: list[int], today: date) -> list[OverdueRow]:
    """The rows of the given alerts, in the given order."""
    if not ids:
        return []
    rows = session.execute(
        _overdue_joins(select(Alert, Task, Plan, Region, Department, Milestone).select_from(Alert))
        .where(Alert.id.in_(ids))
        .options(*ROW_COLUMNS)
    ).all()
    position = {alert_id: i for i, alert_id in enumerate(ids)}
    return [OverdueRow(*row, today=today) for row in sorted(rows, key=lambda r: position[r[0].id])]


def export_statement(session: Session, user: User, filters: OverdueFilters, cells: Sequence[Any],
                     today: date | None = None) -> Select[Any]:
    """Every row of the filtered list in the list's order: its number in that order, then ``cells`` (column
    expressions over the list's alert, task, plan, region, milestone and lead department)."""
    today = today or timeutil.today()
    keys = _order_keys(filters)
    number = func.row_number().over(order_by=keys)
    return _overdue_base(session, select(number, *cells), overdue_region_ids(session, user), filters, today,
                         names=True).order_by(*keys)


def overdue_counts(session: Session, user: User, filters: OverdueFilters, today: date | None = None, *,
                   worst: int = 15, options_region: int | None = None) -> OverdueCounts:
    """Counts of the filtered list by level, and by lead department, in one grouped query.

    A province's list spans some two thousand departments, so the database ranks them and returns only
    the ``worst`` most severe (most 严重逾期, then most alerts), the filtered department, and those of
    ``options_region`` (the department filter's choices), with the totals over all of them beside each
    row. The department filter is applied to the ranked rows rather than before grouping, so the choices
    still list every department the other filters leave."""
    today = today or timeutil.today()
    scope = list_scope(session, user)
    key = ("counts", scope, astuple(replace(filters, sort="days", direction="desc")), today, worst, options_region)
    return kept(session, key, lambda: _counts(session, scope, filters, today, worst, options_region))


def lists_anything(session: Session, user: User) -> bool:
    """Whether the user's overdue list holds anything at all (the counts of the unfiltered list, kept)."""
    return overdue_counts(session, user, OverdueFilters()).total > 0


def _counts(session: Session, scope: frozenset[int], filters: OverdueFilters, today: date, worst: int,
            options_region: int | None) -> OverdueCounts:
    levels = list(AlertLevel)
    grouped = _grouped(session, scope, replace(filters, department_id=None), today)
    severe, total = grouped.c[AlertLevel.SEVERE.value], grouped.c.total
    # Only the departments that can rank among the ``worst`` are ranked (and joined to their names): those at or
    # above the ``worst``-th by severity and size, ties included; the ranking's later keys decide among them.
    cut = select(severe.label("severe"), total.label("total")).order_by(severe.desc(), total.desc()) \
        .limit(1).offset(worst - 1).subquery("cut")
    candidate = or_(cut.c.total.is_(None), tuple_(severe, total) >= tuple_(cut.c.severe, cut.c.total))
    everything = select(func.count().label("departments"),
                        *(func.sum(grouped.c[level.value]).label(f"all_{level.value}") for level in levels)) \
        .subquery("everything")
    # the names of the rows wanted only (some tens, not every department counted): looked up row by row
    department = grouped.c.department_id

    def of_department(column: Any) -> Any:
        return select(column).where(Department.id == department).scalar_subquery()

    def of_region(column: Any) -> Any:
        return select(column).join(Department, Department.region_id == Region.id) \
            .where(Department.id == department).scalar_subquery()

    region_code = func.coalesce(of_region(Region.code), "")
    sort_order = func.coalesce(of_department(Department.sort_order), 0)
    rank = case((candidate, func.row_number().over(
        partition_by=candidate, order_by=(severe.desc(), total.desc(), region_code, sort_order, department))))
    wanted = [candidate] if not filters.department_id else [department == filters.department_id]
    if options_region is not None:
        wanted.append(department.in_(select(Department.id).where(Department.region_id == options_region)))
    rows = session.execute(
        select(grouped, of_department(Department.name).label("name"),
               of_department(Department.region_id).label("region_id"), of_region(Region.name).label("region"),
               region_code.label("region_code"), sort_order.label("sort_order"), rank.label("rank"), everything)
        .select_from(grouped)
        .join(everything, true())
        .outerjoin(cut, true())
        .where(or_(*wanted))
        .order_by(rank.label("rank"))
    ).mappings().all()

    counts = OverdueCounts()
    entries = [{
        "id": r["department_id"], "name": r["name"] or "（未指定）", "region_id": r["region_id"],
        "region": r["region"] or "", "total": r["total"], "rank": r["rank"],
        "order": (r["region_code"], r["sort_order"], r["department_id"] or 0),
        "levels": {level: r[level.value] for level in levels if r[level.value]},
    } for r in rows]
    if filters.department_id:
        counts.worst = [e for e in entries if e["id"] == filters.department_id]
        counts.departments = len(counts.worst)
        counts.by_level = counts.worst[0]["levels"] if counts.worst else {}
    elif rows:
        counts.worst = [e for e in entries if e["rank"] is not None and e["rank"] <= worst]
        counts.departments = rows[0]["departments"]
        counts.by_level = {level: int(n) for level in levels if (n := rows[0][f"all_{level.value}"])}
    counts.by_level = dict(sorted(counts.by_level.items(), key=lambda kv: -LEVEL_RANK[kv[0]]))
    counts.options = sorted((e for e in entries if e["id"] and (e["region_id"] == options_region
                                                                  or e["id"] == filters.department_id)),
                            key=lambda e: e["order"])
    return counts


def _grouped(session: Session, scope: frozenset[int], filters: OverdueFilters, today: date) -> CTE:
    """The filtered list's open alerts by lead department: how many, and how many at each level — read from the
    departments' tallies for a reader of every region, unfiltered; summed from the tallies by place (some tens of
    thousands at nation scale) when filtered by region, level or kind; counted from the alerts (ten times as
    many) when filtered by what the tallies do not hold."""
    levels = list(AlertLevel)
    f, tallies = filters, _tallied(filters)
    if tallies and every_region(session, scope) and not (f.region_id or f.level or f.target):
        d = AlertDepartmentTally  # one row a department: nothing to sum
        stmt = select(func.nullif(d.department_id, 0).label("department_id"), d.total.label("total"),
                      *(getattr(d, level.value).label(level.value) for level in levels)).where(d.total > 0)
    elif tallies:
        t = AlertTally
        stmt = select(func.nullif(t.department_id, 0).label("department_id"), func.sum(t.n).label("total"),
                      *(func.sum(case((t.level == level.value, t.n), else_=0)).label(level.value) for level in levels)) \
            .where(t.n > 0, *_placed(session, t, scope, filters)).group_by(t.department_id)
    else:
        stmt = _overdue_base(
            session,
            select(Alert.department_id.label("department_id"), func.count().label("total"),
                   *(func.sum(case((Alert.level == level, 1), else_=0)).label(level.value) for level in levels)),
            scope, filters, today,
        ).group_by(Alert.department_id)
    return stmt.cte("grouped")


class Choice(NamedTuple):
    id: int
    label: str


def filter_choices(session: Session, user: User, filters: OverdueFilters | None = None) -> dict[str, list[Any]]:
    """The region filter's choices (the tree opened down to the chosen region: ``region_choices``) and the plans
    being carried out in those regions (and the chosen plan), kept with the list."""
    f = filters or OverdueFilters()
    scope = list_scope(session, user)
    return kept(session, ("choices", scope, user.region_id, f.region_id, f.plan_id),
                lambda: _choices(session, scope, user.region_id, f.region_id, f.plan_id))


def _choices(session: Session, scope: frozenset[int], home: int, region_id: int | None,
             plan_id: int | None) -> dict[str, list[Any]]:
    regions = region_choices(session, scope, home, region_id)
    plans = session.execute(
        select(Plan.id, Plan.short_name)
        .where(in_regions(session, Plan.region_id, scope),
               or_(Plan.id == (plan_id or -1),
                   and_(Plan.region_id.in_([r.id for r in regions]), Plan.stage.in_(ACTIVE_STAGES))))
        .order_by(Plan.level, Plan.region_id, Plan.start_year.desc(), Plan.id)
    )
    return {"plans": [Choice(*row) for row in plans], "regions": regions}


OUT_OF_SCOPE = "不在您的管辖范围内"


def describe_filters(session: Session, user: User, filters: OverdueFilters) -> list[str]:
    """The filters in words (the export's title row). A plan, region or department outside the user's
    scope is not named (its rows are not listed either)."""
    f, scope = filters, overdue_region_ids(session, user)
    parts = []
    if f.plan_id and (plan := session.get(Plan, f.plan_id)):
        parts.append(f"规划：{plan.short_name if plan.region_id in scope else OUT_OF_SCOPE}")
    if f.region_id and (region := session.get(Region, f.region_id)):
        parts.append(f"地区：{region.name if region.id in scope else OUT_OF_SCOPE}")
    if f.department_id and (dept := session.get(Department, f.department_id)):
        parts.append(f"牵头单位：{dept.name if dept.region_id in scope else OUT_OF_SCOPE}")
    if f.level:
        parts.append(f"预警等级：{f.level.label}")
    if f.target:
        parts.append(f"类型：{f.target.label}")
    if f.days_min is not None or f.days_max is not None:
        lo = "" if f.days_min is None else f"{f.days_min}天"
        hi = "" if f.days_max is None else f"{f.days_max}天"
        parts.append(f"逾期天数：{lo}至{hi}" if lo and hi else f"逾期天数：{'不少于' + lo if lo else '不超过' + hi}")
    if f.due_from or f.due_to:
        parts.append(f"截止日期：{timeutil.format_date(f.due_from) or '不限'}至{timeutil.format_date(f.due_to) or '不限'}")
    direction = "从多到少" if f.sort == "days" and f.direction == "desc" else (
        "从少到多" if f.sort == "days" else ("降序" if f.direction == "desc" else "升序"))
    parts.append(f"排序：{SORTS[f.sort]}{direction}")
    return parts
