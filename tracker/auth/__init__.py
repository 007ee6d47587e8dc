"""Accounts: signing in and out, passwords, users."""

from __future__ import annotations

from sqlalchemy.orm import joinedload

from ..db import db_session
from ..extensions import login_manager
from .models import User, UserKind


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user of a session cookie ("id.epoch"): none once the account's sessions were ended, and never a
    service account (those act through the API's tokens only)."""
    user_id, _, epoch = session_id.partition(".")
    if not (user_id.isascii() and user_id.isdigit() and epoch.isascii() and epoch.isdigit()) or len(user_id) > 9:
        return None
    user = db_session().get(User, int(user_id), options=[joinedload(User.department)])
    if user is None or not user.is_active or user.kind != UserKind.PERSON or str(user.session_epoch) != epoch:
        return None
    return user
