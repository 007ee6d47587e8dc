from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base

if TYPE_CHECKING:
    from ..auth.models import User

OWNER_COLUMNS = ("task_id", "milestone_id", "report_id", "case_step_id", "adjustment_id", "investment_id")


class Attachment(Base):
    """An uploaded file, stored outside static/ under its checksum; belongs to exactly one record."""

    __tablename__ = "attachments"
    __table_args__ = (
        CheckConstraint(
            " + ".join(f"(CASE WHEN {c} IS NULL THEN 0 ELSE 1 END)" for c in OWNER_COLUMNS) + " = 1",
            name="exactly_one_owner",
        ),
        CheckConstraint("size >= 0", name="size_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    storage_key: Mapped[str] = mapped_column(String(255))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime]
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestones.id", ondelete="CASCADE"), index=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("progress_reports.id", ondelete="CASCADE"), index=True)
    case_step_id: Mapped[int | None] = mapped_column(ForeignKey("case_steps.id", ondelete="CASCADE"), index=True)
    adjustment_id: Mapped[int | None] = mapped_column(
        ForeignKey("adjustment_requests.id", ondelete="CASCADE"), index=True
    )
    investment_id: Mapped[int | None] = mapped_column(
        ForeignKey("project_investments.id", ondelete="CASCADE"), index=True
    )

    uploaded_by: Mapped[User | None] = relationship()
