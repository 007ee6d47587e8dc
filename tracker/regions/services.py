"""Departments: created and renamed by the administrator."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from .. import audit
from ..errors import DomainError
from .models import Department, DepartmentKind, Region

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..auth.models import User

DEPARTMENT_FIELDS = ["name", "kind", "is_active"]


def _check_unique(session: Session, region: Region, name: str, exclude: int | None = None) -> None:
    stmt = select(Department.id).where(Department.region_id == region.id, Department.name == name)
    if exclude is not None:
        stmt = stmt.where(Department.id != exclude)
    if session.scalar(stmt):
        raise DomainError(f"{region.name}已有名为“{name}”的部门。", field="name")


def create_department(session: Session, actor: User, region: Region, name: str, kind: DepartmentKind) -> Department:
    name = name.strip()
    _check_unique(session, region, name)
    dept = Department(region=region, name=name, kind=kind)
    session.add(dept)
    session.flush()
    audit.record(session, actor, dept, "create", audit.diff({}, audit.snapshot(dept, DEPARTMENT_FIELDS)),
                 f"新增部门 {region.name}·{name}")
    return dept


def update_department(session: Session, actor: User, dept: Department, name: str, kind: DepartmentKind,
                      is_active: bool) -> None:
    name = name.strip()
    _check_unique(session, dept.region, name, exclude=dept.id)
    before = audit.snapshot(dept, DEPARTMENT_FIELDS)
    dept.name, dept.kind, dept.is_active = name, kind, is_active
    session.flush()
    audit.record(session, actor, dept, "update", audit.diff(before, audit.snapshot(dept, DEPARTMENT_FIELDS)),
                 f"修改部门 {dept.name}")
