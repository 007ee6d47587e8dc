from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, LabeledEnum, enum_type

if TYPE_CHECKING:
    from ..auth.models import User


class RegionLevel(LabeledEnum):
    PROVINCE = "province", "省"
    CITY = "city", "市"
    COUNTY = "county", "县"


class DepartmentKind(LabeledEnum):
    DIVISION = "division", "内设处室"
    AFFILIATE = "affiliate", "直属单位"
    HOSPITAL = "hospital", "医疗机构"
    GOVERNMENT = "government", "政府部门"
    OTHER = "other", "其他"


class Region(Base):
    """行政区划: province > city > county."""

    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(40))
    level: Mapped[RegionLevel] = mapped_column(enum_type(RegionLevel, "region_level"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"), index=True)

    parent: Mapped[Region | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Region]] = relationship(back_populates="parent", order_by="Region.code")
    departments: Mapped[list[Department]] = relationship(back_populates="region", order_by="Department.id")

    def __str__(self) -> str:
        return self.name


class Department(Base):
    """责任单位: a unit that owns or co-operates on work, in one region."""

    __tablename__ = "departments"
    __table_args__ = (
        UniqueConstraint("region_id", "name"),
        Index("ix_departments_region_kind", "region_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[DepartmentKind] = mapped_column(enum_type(DepartmentKind, "department_kind"))
    is_active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=0)

    region: Mapped[Region] = relationship(back_populates="departments")
    users: Mapped[list[User]] = relationship(back_populates="department")

    def __str__(self) -> str:
        return self.name
