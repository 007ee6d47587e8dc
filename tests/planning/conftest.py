"""Fixtures for the planner's pages: a logged-in provincial planner and ways to find demo records."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.audit import AuditEntry
from tracker.planning.models import Plan
from tracker.regions.models import Department, Region
from tracker.tasks.models import Task

from ..conftest import client_for, login  # noqa: F401


@pytest.fixture
def db(demo: Flask) -> Iterator[Session]:
    """A session of its own for looking at what the requests saved."""
    session = demo.extensions["tracker.sessions"]()
    try:
        yield session
    finally:
        session.close()


@pytest.fixture
def planner(demo: Flask) -> FlaskClient:
    client = demo.test_client()
    login(client, "zj_planner")
    return client



def plan_id(db: Session, code: str = "zj-14") -> int:
    value = db.scalar(select(Plan.id).where(Plan.code == code))
    assert value is not None
    return value


def fresh(db: Session) -> Session:
    """End the session's transaction so the next read sees what requests committed since."""
    db.rollback()
    return db


def task_of(db: Session, code: str, plan: str = "zj-14") -> Task:
    fresh(db)
    return db.scalars(select(Task).join(Plan).where(Plan.code == plan, Task.code == code)).one()


def dept_id(db: Session, name: str, region_code: str = "330000") -> int:
    value = db.scalar(select(Department.id).join(Region).where(Region.code == region_code, Department.name == name))
    assert value is not None
    return value


def audit_entries(db: Session, obj_type: str, obj_id: int, action: str | None = None) -> list[AuditEntry]:
    fresh(db)
    stmt = select(AuditEntry).where(AuditEntry.object_type == obj_type, AuditEntry.object_id == obj_id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return list(db.scalars(stmt.order_by(AuditEntry.id)))


def task_form(db: Session, **overrides: Any) -> dict[str, Any]:
    """A valid new key task of the provincial plan, under chapter 三."""
    data: dict[str, Any] = {
        "parent_id": str(task_of(db, "三").id), "level": "key_task", "code": "99", "title": "推进智慧医院建设",
        "description": "建设一批智慧医院。", "kind": "task", "lead_department_id": str(dept_id(db, "医政医管处")),
        "co_department_ids": [str(dept_id(db, "财务处")), str(dept_id(db, "省卫生健康信息中心"))],
        "responsible_person": "徐海涛", "start_date": "2025-01-01", "deadline": "2025-12-31", "year": "",
        "weight": "2", "upstream_task_id": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def edit_data(task: Task, **overrides: Any) -> dict[str, Any]:
    """The edit form of a task as the page would post it unchanged."""
    data: dict[str, Any] = {
        "level": task.level.value, "code": task.code, "title": task.title, "description": task.description or "",
        "kind": task.kind.value, "lead_department_id": str(task.lead_department_id or ""),
        "co_department_ids": [str(d.id) for d in task.co_departments],
        "responsible_person": task.responsible_person or "",
        "start_date": task.start_date.isoformat() if task.start_date else "",
        "deadline": task.deadline.isoformat() if task.deadline else "", "year": str(task.year or ""),
        "weight": str(task.weight), "upstream_task_id": str(task.upstream_task_id or ""),
        "indicator_ids": [str(i.id) for i in task.indicators], "version": str(task.version_id),
    }
    data.update(overrides)
    return data


def error_at(html: str, field: str, message: str) -> bool:
    """The message is shown next to the named field (in the same form row)."""
    for chunk in html.split('<div class="form-row')[1:]:
        if f'name="{field}"' in chunk:
            return any(message in error for error in re.findall(r'<div class="field-error" role="alert">([^<]*)', chunk))
    raise AssertionError(f"no field {field} on the page")
