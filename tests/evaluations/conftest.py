from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from .world import World, build_world


@pytest.fixture
def world(app, session: Session) -> World:  # type: ignore[no-untyped-def]
    w = build_world(session)
    session.commit()
    return w
