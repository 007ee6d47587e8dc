from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import DUPLICATE, Base, LabeledEnum, enum_type

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

    @property
    def authority(self) -> str:
        """The health authority of the region in full, as documents name it (浙江省卫生健康委员会; a county's is a
        卫生健康局)."""
        return self.name + ("卫生健康局" if self.level == RegionLevel.COUNTY else "卫生健康委员会")

    @property
    def authority_short(self) -> str:
        """Its short name, as a reader expects before a department's (省卫健委疾控处, 温州市卫健委疾控处)."""
        if self.level == RegionLevel.PROVINCE:
            return "省卫健委"
        return self.name + ("卫健局" if self.level == RegionLevel.COUNTY else "卫健委")


class Department(Base):
    """责任单位: a unit that owns or co-operates on work, in one region."""

    __tablename__ = "departments"
    __table_args__ = (
        UniqueConstraint("region_id", "name"),
        UniqueConstraint("doc_prefix", info={DUPLICATE: "该文号前缀已被其他督查部门使用。"}),
        Index("ix_departments_region_kind", "region_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[DepartmentKind] = mapped_column(enum_type(DepartmentKind, "department_kind"))
    is_active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=0)
    # a supervising office's 文号 prefix (浙卫督): its 督办单 are numbered 浙卫督〔2026〕1号, 2号, … each year
    doc_prefix: Mapped[str | None] = mapped_column(String(20))

    region: Mapped[Region] = relationship(back_populates="departments")
    users: Mapped[list[User]] = relationship(back_populates="department")

    def __str__(self) -> str:
        return self.name

    @property
    def full_name(self) -> str:
        """The department as a reader of a document expects it: 省卫健委疾控处, 乐清市卫健局疾控科."""
        return self.region.authority_short + self.name
