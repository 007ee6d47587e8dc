"""Reads behind the project pages that are not the project's own rules (those are in services)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..attachments.models import Attachment
from ..permissions import region_ids_below
from ..plans.models import Plan
from ..regions.models import Region


def node_attachments(session: Session, node_ids: list[int]) -> list[Attachment]:
    """The files attached to the project's construction nodes."""
    if not node_ids:
        return []
    return list(session.scalars(select(Attachment).where(Attachment.milestone_id.in_(node_ids))))


def site_regions(session: Session, plan: Plan) -> list[Region]:
    """Where a project of the plan may be built: the plan's region and those below it."""
    return list(session.scalars(select(Region).where(Region.id.in_(region_ids_below(session, plan.region_id)))
                                .order_by(Region.code)))
