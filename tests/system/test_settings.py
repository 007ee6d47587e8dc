"""Alert-rule settings: defaults, validation, the admin page and the audit trail."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.alerts.services import AlertRules
from tracker.audit import AuditEntry
from tracker.errors import DomainError, PermissionDenied
from tracker.system.models import Setting
from tracker.system.services import SETTINGS, all_settings, get_setting, update_settings

from ..alerts.world import World, build_world
from ..conftest import login


@pytest.fixture
def world(session: Session) -> World:
    w = build_world(session)
    session.commit()
    return w


def _form(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {}
    for key, spec in SETTINGS.items():
        if spec.kind is bool:
            if spec.default:
                data[key.replace(".", "__")] = "y"
        else:
            data[key.replace(".", "__")] = spec.default
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def test_defaults_without_rows(session: Session) -> None:
    assert AlertRules.load(session) == AlertRules(due_soon_working_days=5, severe_after_days=30,
                                                  holiday_rolls_forward=False, pace_enabled=False, pace_threshold=30)
    assert get_setting(session, "reports.period") == "quarter"
    assert session.scalar(select(Setting)) is None


def test_update_validates_and_audits(session: Session, world: World) -> None:
    admin = world.users["admin"]
    changes = update_settings(session, admin, {"alerts.due_soon_working_days": "3", "alerts.severe_after_days": 30})
    assert changes == {"alerts.due_soon_working_days": [5, 3]}
    assert all_settings(session)["alerts.due_soon_working_days"] == 3
    (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "settings")).all()
    assert entry.actor_id == admin.id and entry.changes == {"alerts.due_soon_working_days": [5, 3]}
    with pytest.raises(DomainError) as exc:
        update_settings(session, admin, {"alerts.severe_after_days": 0})
    assert exc.value.field == "alerts__severe_after_days"
    with pytest.raises(DomainError):
        update_settings(session, admin, {"reports.period": "weekly"})
    with pytest.raises(DomainError):
        update_settings(session, admin, {"no.such": 1})
    with pytest.raises(PermissionDenied):
        update_settings(session, world.users["supervisor"], {"alerts.severe_after_days": 20})


def test_the_settings_page(client: FlaskClient, session: Session, world: World) -> None:
    login(client, "adm")
    html = client.get("/system/settings").get_data(as_text=True)
    assert "临期预警（工作日）" in html and "严重逾期（自然日）" in html and 'value="30"' in html
    response = client.post("/system/settings", data=_form(alerts__severe_after_days="45",
                                                          alerts__holiday_rolls_forward="y"))
    assert response.status_code == 302
    assert "已保存" in client.get("/system/settings").get_data(as_text=True)
    session.rollback()
    assert AlertRules.load(session).severe_after_days == 45
    assert AlertRules.load(session).holiday_rolls_forward is True

    response = client.post("/system/settings", data=_form(alerts__due_soon_working_days="99"))
    assert response.status_code == 422
    assert "须在 0 到 30 之间。" in response.get_data(as_text=True)
    response = client.post("/system/settings", data=_form(alerts__due_soon_working_days="abc"))
    assert response.status_code == 422
