"""Reads the API has that no page has yet: every task the user may see, filtered, by id (for keyset paging).
The other lists are the pages' own queries (plans, the overdue list, cases, the inbox)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from ..auth.models import User
from ..errors import DomainError
from ..permissions import in_regions, visible_region_ids
from ..planning.models import Plan
from ..tasks.models import Task, TaskLevel, TaskStatus

# the workspace's one definition of "overdue" and "due soon", of a task's year and of lead / co-operating
from ..workspace.services import deadline_bucket, role_condition, year_condition


@dataclass
class TaskFilters:
    plan_id: int | None = None
    status: TaskStatus | None = None
    department_id: int | None = None  # the lead department
    level: TaskLevel | None = None
    overdue: bool | None = None  # open and past the deadline, as the workspace's 已逾期 bucket
    due: str | None = None  # "overdue" | "soon": the workspace's 期限 filter
    year: int | None = None
    role: str | None = None  # "lead" | "co": of the reader's own department, as on the workspace


def task_list(session: Session, user: User, filters: TaskFilters, today: date) -> Select[Any]:
    """Tasks of the plans the user may read (permissions.visible_region_ids), in id order."""
    stmt = (select(Task).join(Plan, Plan.id == Task.plan_id)
            .where(in_regions(session, Plan.region_id, visible_region_ids(session, user)))
            .options(selectinload(Task.lead_department)).order_by(Task.id))
    f = filters
    if f.plan_id:
        stmt = stmt.where(Task.plan_id == f.plan_id)
    if f.status:
        stmt = stmt.where(Task.status == f.status)
    if f.department_id:
        stmt = stmt.where(Task.lead_department_id == f.department_id)
    if f.level:
        stmt = stmt.where(Task.level == f.level)
    if f.overdue is not None:
        bucket = deadline_bucket(today)
        stmt = stmt.where(bucket == 0 if f.overdue else bucket != 0)
    if f.due:
        stmt = stmt.where(deadline_bucket(today) == (0 if f.due == "overdue" else 1))
    if f.year:
        stmt = stmt.where(year_condition(f.year))
    if f.role and user.department_id is not None:
        stmt = stmt.where(role_condition(user.department_id, f.role))
    return stmt


# ---------------------------------------------------------------- cursors

BAD_CURSOR = "游标无效或已失效，请从第一页重新读取。"


def encode_cursor(kind: str, value: int) -> str:
    """An opaque cursor: ``k`` after a task id (keyset), ``o`` an offset into a list with its own order."""
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode().rstrip("=")


def decode_cursor(raw: str | None, kind: str) -> int | None:
    if not raw:
        return None
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise DomainError(BAD_CURSOR, field="cursor") from None
    prefix, _, number = text.partition(":")
    if prefix != kind or not (number.isascii() and number.isdigit()) or len(number) > 10:
        raise DomainError(BAD_CURSOR, field="cursor")
    return int(number)


@dataclass
class Slice:
    items: list[Any]
    next_cursor: str | None


def keyset_page(session: Session, stmt: Select[Any], cursor: str | None, limit: int) -> Slice:
    """One page of tasks after the cursor's id: stable while rows are added or changed elsewhere."""
    after = decode_cursor(cursor, "k")
    if after is not None:
        stmt = stmt.where(Task.id > after)
    rows = list(session.scalars(stmt.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Slice(rows, encode_cursor("k", rows[-1].id) if more and rows else None)


def offset_page(session: Session, stmt: Select[Any], cursor: str | None, limit: int) -> Slice:
    """One page of a list whose order is not by id (cases, the inbox): the cursor carries the offset."""
    offset = decode_cursor(cursor, "o") or 0
    rows = list(session.scalars(stmt.limit(limit + 1).offset(offset)))
    more = len(rows) > limit
    return Slice(rows[:limit], encode_cursor("o", offset + limit) if more else None)
