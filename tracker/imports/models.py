from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, LabeledEnum, enum_type

if TYPE_CHECKING:
    from ..auth.models import User
    from ..planning.models import Plan
    from ..regions.models import Department


class ImportState(LabeledEnum):
    DRAFT = "draft", "待确认"
    CONFIRMED = "confirmed", "已导入"
    DISCARDED = "discarded", "已放弃"


class ImportKind(LabeledEnum):
    """What was uploaded: a plan document (its draft is :class:`.draft.Draft`) or a task list (its draft holds
    the checked rows, see :mod:`.tasklist`)."""

    DOCUMENT = "document", "规划文档"
    TASKLIST = "tasklist", "任务分解表"


class ImportDocument(Base):
    """An uploaded plan document or task list and the draft extracted from it."""

    __tablename__ = "import_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id", ondelete="SET NULL"))
    kind: Mapped[ImportKind] = mapped_column(enum_type(ImportKind, "import_kind"))
    state: Mapped[ImportState] = mapped_column(enum_type(ImportState, "import_state"), default=ImportState.DRAFT)
    draft: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]

    plan: Mapped[Plan | None] = relationship()
    created_by: Mapped[User | None] = relationship()


class KeywordRule(Base):
    """A saved rule: tasks whose title holds the keyword go to the department."""

    __tablename__ = "keyword_rules"
    __table_args__ = (UniqueConstraint("region_id", "keyword"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"))
    keyword: Mapped[str] = mapped_column(String(40))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"))

    department: Mapped[Department] = relationship()
