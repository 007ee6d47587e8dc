"""Accounts: signing in and out, passwords, users."""

from __future__ import annotations

from sqlalchemy.orm import joinedload

from ..db import db_session
from ..extensions import login_manager
from .models import User


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    user = db_session().get(User, int(user_id), options=[joinedload(User.department)])
    if user is None or not user.is_active:
        return None
    return user
