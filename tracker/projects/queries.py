"""Reads behind the project pages that are not the project's own rules (those are in services)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..attachments.models import Attachment
from ..permissions import (
    region_ids_below,
)
from ..planning.models import Plan
from ..regions.models import Department, Region
from ..tasks.models import (
    ReportState,
    Task,
)
from . import amounts
from .figures import ZERO
from .models import KeyProject, ProjectKind, ProjectStatus


def node_attachments(session: Session, node_ids: list[int]) -> list[Attachment]:
    """The files attached to the project's construction nodes."""
    if not node_ids:
        return []
    return list(session.scalars(select(Attachment).where(Attachment.milestone_id.in_(node_ids))))


def site_regions(session: Session, plan: Plan) -> list[Region]:
    """Where a project of the plan may be built: the plan's region and those below it."""
    return list(session.scalars(select(Region).where(Region.id.in_(region_ids_below(session, plan.region_id)))
                                .order_by(Region.code)))


# ------------------------------------------------------------------------------------------ the register


@dataclass
class RegisterFilters:
    status: ProjectStatus | None = None
    owner_id: int | None = None
    kind: ProjectKind | None = None
    region_id: int | None = None

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.status, self.owner_id, self.kind, self.region_id))


def register(session: Session, plan: Plan, filters: RegisterFilters) -> list[KeyProject]:
    """The plan's projects matching the filters, in document order, with what the page and the export need."""
    stmt = (
        select(KeyProject)
        .join(KeyProject.task)
        .where(Task.plan_id == plan.id)
        .options(
            selectinload(KeyProject.task).selectinload(Task.lead_department),
            selectinload(KeyProject.task).selectinload(Task.milestones),  # the 开工 node, for the cross-checks
            selectinload(KeyProject.region),
            selectinload(KeyProject.investments),
            selectinload(KeyProject.funding),
        )
        .order_by(Task.id)
    )
    if filters.status is not None:
        stmt = stmt.where(KeyProject.status == filters.status)
    if filters.owner_id is not None:
        stmt = stmt.where(Task.lead_department_id == filters.owner_id)
    if filters.kind is not None:
        stmt = stmt.where(KeyProject.kind == filters.kind)
    if filters.region_id is not None:
        stmt = stmt.where(KeyProject.region_id == filters.region_id)
    return list(session.scalars(stmt))


def filter_choices(session: Session, plan: Plan) -> dict[str, list[Any]]:
    """Owners and locations that occur among the plan's projects (for the filter menus)."""
    owners = list(session.scalars(
        select(Department).where(Department.id.in_(
            select(Task.lead_department_id).join(KeyProject, KeyProject.task_id == Task.id)
            .where(Task.plan_id == plan.id))).order_by(Department.sort_order, Department.id)))
    regions = list(session.scalars(
        select(Region).where(Region.id.in_(
            select(KeyProject.region_id).join(Task, KeyProject.task_id == Task.id).where(Task.plan_id == plan.id)))
        .order_by(Region.code)))
    return {"owners": owners, "regions": regions}


def register_years(projects: Iterable[KeyProject], plan: Plan) -> list[int]:
    """The columns of the yearly table: the plan period and every year any project has figures for."""
    years = set(range(plan.start_year, plan.end_year + 1))
    for p in projects:
        years |= {i.year for i in p.investments}
    return sorted(years)


def load_project(session: Session, project_id: int) -> KeyProject | None:
    return session.get(KeyProject, project_id, options=[
        selectinload(KeyProject.task).selectinload(Task.milestones),
        selectinload(KeyProject.task).selectinload(Task.co_departments),
        selectinload(KeyProject.investments),
        selectinload(KeyProject.funding),
    ])


# ------------------------------------------------------------------------------------------ for evaluations


@dataclass
class DepartmentInvestment:
    department: Department
    projects: int = 0
    planned: Decimal = ZERO
    confirmed: Decimal = ZERO

    @property
    def rate(self) -> Decimal | None:
        return amounts.share(self.confirmed, self.planned)


def investment_by_department(session: Session, plan: Plan, year: int | None = None) -> list[DepartmentInvestment]:
    """Planned and confirmed completed investment per owner unit of a plan — for one year, or over the
    whole plan period — for the evaluation."""
    first, last = (year, year) if year is not None else (plan.start_year, plan.end_year)
    result: dict[int, DepartmentInvestment] = {}
    for p in register(session, plan, RegisterFilters()):
        dept = p.task.lead_department
        if dept is None:
            continue
        row = result.setdefault(dept.id, DepartmentInvestment(dept))
        row.projects += 1
        for inv in p.investments:
            if not first <= inv.year <= last:
                continue
            if inv.planned is not None:
                row.planned += inv.planned
            if inv.completed is not None and inv.state == ReportState.CONFIRMED:
                row.confirmed += inv.completed
    return sorted(result.values(), key=lambda r: (r.department.sort_order, r.department.id))
