"""Departments: created and renamed by the administrator."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import or_, select

from .. import audit
from ..errors import DomainError
from .models import Department, DepartmentKind, Region

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..auth.models import User

DEPARTMENT_FIELDS = ["name", "kind", "is_active", "doc_prefix"]


def all_regions(session: Session) -> list[Region]:
    return list(session.scalars(select(Region).order_by(Region.code)))


def departments_of(session: Session, region_id: int) -> list[Department]:
    """A region's departments in their set order (inactive ones too)."""
    return list(session.scalars(select(Department).where(Department.region_id == region_id)
                                .order_by(Department.sort_order, Department.id)))


def department_choices(session: Session, region_ids: Iterable[int] | None = None, *,
                       active_only: bool = False) -> list[tuple[int, str]]:
    """Departments as "region · department" choices, region by region (all regions when ``region_ids`` is None)."""
    stmt = select(Department.id, Region.name, Department.name).join(Region)
    if region_ids is not None:
        stmt = stmt.where(Department.region_id.in_(list(region_ids)))
    if active_only:
        stmt = stmt.where(Department.is_active)
    rows = session.execute(stmt.order_by(Region.code, Department.sort_order, Department.id))
    return [(i, f"{r} · {d}") for i, r, d in rows]


class RegionChoice(NamedTuple):
    id: int
    name: str
    depth: int  # below the first choice

    @property
    def label(self) -> str:
        return "\u3000" * self.depth + self.name  # indented with full-width spaces, which a <select> keeps


def region_choices(session: Session, scope: Collection[int], home: int, chosen: int | None) -> list[RegionChoice]:
    """A region filter's choices as a tree opened down to the chosen region: the regions from the top of the
    ``scope`` to the reader's ``home`` region and on to ``chosen``, each with the children it has in the scope,
    in tree order. Some tens of choices however many regions the scope holds — a nation's 1,021 in one list
    is neither readable nor quick to send — and choosing a region opens its children."""
    from ..permissions import region_ids_above

    opened = {home} | region_ids_above(session, home)
    if chosen is not None and chosen in scope:
        opened |= {chosen} | region_ids_above(session, chosen)
    opened &= set(scope)
    rows = [r for r in session.execute(
        select(Region.id, Region.name, Region.parent_id, Region.code)
        .where(or_(Region.id.in_(opened), Region.parent_id.in_(opened)))
    ) if r.id in scope]
    shown = {r.id for r in rows}
    children: dict[int | None, list[Any]] = {}
    for r in sorted(rows, key=lambda r: r.code):
        children.setdefault(r.parent_id if r.parent_id in shown else None, []).append(r)
    choices: list[RegionChoice] = []

    def walk(parent: int | None, depth: int) -> None:
        for r in children.get(parent, []):
            choices.append(RegionChoice(r.id, r.name, depth))
            walk(r.id, depth + 1)

    walk(None, 0)
    return choices


def _check_unique(session: Session, region: Region, name: str, exclude: int | None = None) -> None:
    stmt = select(Department.id).where(Department.region_id == region.id, Department.name == name)
    if exclude is not None:
        stmt = stmt.where(Department.id != exclude)
    if session.scalar(stmt):
        raise DomainError(f"{region.name}已有名为“{name}”的部门。", field="name")


def _prefix(session: Session, text: str | None, exclude: int | None = None) -> str | None:
    """A supervising office's 文号 prefix: the issuing body's characters only, and no other office's."""
    prefix = (text or "").strip() or None
    if prefix is None:
        return None
    if any(c in prefix for c in "〔〕[]()（）0123456789"):
        raise DomainError("文号前缀只写机关代字，如“浙卫督”，不含年份、括号和序号。", field="doc_prefix")
    other = session.scalar(select(Department).where(Department.doc_prefix == prefix, Department.id != (exclude or 0)))
    if other is not None:
        raise DomainError(f"文号前缀“{prefix}”已由{other.region.name}{other.name}使用，两个部门的督办单编号会重复。",
                          field="doc_prefix")
    return prefix


def create_department(session: Session, actor: User, region: Region, name: str, kind: DepartmentKind,
                      doc_prefix: str | None = None) -> Department:
    name = name.strip()
    _check_unique(session, region, name)
    dept = Department(region=region, name=name, kind=kind, doc_prefix=_prefix(session, doc_prefix))
    session.add(dept)
    session.flush()
    audit.record(session, actor, dept, "create", audit.diff({}, audit.snapshot(dept, DEPARTMENT_FIELDS)),
                 f"新增部门 {region.name}·{name}")
    return dept


def update_department(session: Session, actor: User, dept: Department, name: str, kind: DepartmentKind,
                      is_active: bool, doc_prefix: str | None = None) -> None:
    """Rename, retype, (de)activate a department and set its 文号 prefix (督办单 issued before keep theirs)."""
    name = name.strip()
    _check_unique(session, dept.region, name, exclude=dept.id)
    prefix = _prefix(session, doc_prefix, exclude=dept.id)
    before = audit.snapshot(dept, DEPARTMENT_FIELDS)
    dept.name, dept.kind, dept.is_active, dept.doc_prefix = name, kind, is_active, prefix
    session.flush()
    audit.record(session, actor, dept, "update", audit.diff(before, audit.snapshot(dept, DEPARTMENT_FIELDS)),
                 f"修改部门 {dept.name}")
