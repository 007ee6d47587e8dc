"""退回: the planner sends an entered value back with a reason; the lead department corrects and re-submits it."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.audit import AuditEntry
from tracker.indicators.models import ValueState

from .conftest import client_for, indicator_of, plan_of, value_of

# zj-14: 10 疾控机构标准化率 (疾控处, 95), 15 重大慢病过早死亡率 (疾控处, 8.5以下, seeded as confirmed)

REASON = "与省疾控中心年报口径不一致，请核实"


def _entered(demo: Flask, db: Session, text: str = "50"):  # type: ignore[no-untyped-def]
    ind = indicator_of(db, 10)
    assert client_for(demo, "zj_head_jk").post(f"/indicators/{ind.id}/values/2020",
                                               data={"value_text": text}).status_code == 302
    value = value_of(db, 10, 2020)
    assert value is not None and value.state == ValueState.ENTERED
    return ind, value


def _audit(db: Session, value_id: int) -> list[AuditEntry]:
    return list(db.scalars(select(AuditEntry).where(AuditEntry.object_type == "indicator_values",
                                                    AuditEntry.object_id == value_id).order_by(AuditEntry.id)))


def test_planner_returns_with_a_reason_and_the_department_resubmits(demo: Flask, db: Session) -> None:
    ind, value = _entered(demo, db)
    planner, head = client_for(demo, "zj_planner"), client_for(demo, "zj_head_jk")
    url = f"/indicators/values/{value.id}/return"

    # no reason: refused, nothing changes
    response = planner.post(url, data={"version": str(value.version_id), "reason": "  "}, follow_redirects=True)
    assert response.status_code == 200 and "退回须写明原因。" in response.get_data(as_text=True)
    assert value_of(db, 10, 2020).state == ValueState.ENTERED  # type: ignore[union-attr]

    response = planner.post(url, data={"version": str(value.version_id), "reason": REASON})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/indicators/{ind.id}")
    value = value_of(db, 10, 2020)
    assert value is not None and value.state == ValueState.RETURNED and value.return_reason == REASON
    assert value.returned_by is not None and value.returned_by.username == "zj_planner"
    assert value.returned_at is not None and value.confirmed_at is None

    # the reason is shown where the department looks: the indicator, the plan's year and the edit form
    for page in (f"/indicators/{ind.id}", f"/indicators/plans/{plan_of(db).id}?year=2020",
                 f"/indicators/{ind.id}/values/2020"):
        html = head.get(page).get_data(as_text=True)
        assert "已退回" in html and REASON in html, page
    # a returned value cannot be confirmed, nor returned twice
    version = str(value.version_id)
    assert planner.post(f"/indicators/values/{value.id}/confirm", data={"version": version}).status_code == 409
    assert planner.post(url, data={"version": version, "reason": "再退"}).status_code == 409

    # the department corrects it: back to 已填报, the reason cleared, ready for the planner again
    response = head.post(f"/indicators/{ind.id}/values/2020", data={"value_text": "52", "source": "省疾控中心年报",
                                                                   "version": version})
    assert response.status_code == 302
    value = value_of(db, 10, 2020)
    assert value is not None and value.state == ValueState.ENTERED and value.value_text == "52"
    assert (value.return_reason, value.returned_by_id, value.returned_at) == (None, None, None)
    assert planner.post(f"/indicators/values/{value.id}/confirm",
                        data={"version": str(value.version_id)}).status_code == 302
    assert value_of(db, 10, 2020).state == ValueState.CONFIRMED  # type: ignore[union-attr]

    entries = _audit(db, value.id)
    assert [e.action for e in entries] == ["create", "return", "update", "confirm"]
    returned, resubmitted = entries[1], entries[2]
    assert returned.actor.username == "zj_planner" and REASON in (returned.summary or "")
    assert returned.changes["state"] == ["已填报", "已退回"]
    assert returned.changes["return_reason"] == [None, REASON]
    assert resubmitted.actor.username == "zj_head_jk" and "重新提交" in (resubmitted.summary or "")
    assert resubmitted.changes["state"] == ["已退回", "已填报"]
    assert resubmitted.changes["value_text"] == ["50", "52"]


def test_an_unchanged_returned_value_can_be_resubmitted(demo: Flask, db: Session) -> None:
    """The department may check the figure and stand by it: saving it again re-submits it."""
    ind, value = _entered(demo, db)
    planner = client_for(demo, "zj_planner")
    assert planner.post(f"/indicators/values/{value.id}/return",
                        data={"version": str(value.version_id), "reason": REASON}).status_code == 302
    value = value_of(db, 10, 2020)
    assert value is not None
    response = client_for(demo, "zj_staff_jk").post(f"/indicators/{ind.id}/values/2020", data={
        "value_text": "50", "version": str(value.version_id)})
    assert response.status_code == 302
    value = value_of(db, 10, 2020)
    assert value is not None and value.state == ValueState.ENTERED and value.value_text == "50"
    assert [e.action for e in _audit(db, value.id)] == ["create", "return", "update"]


def test_only_the_planner_returns_and_a_stale_version_is_refused(demo: Flask, db: Session) -> None:
    _, value = _entered(demo, db)
    url = f"/indicators/values/{value.id}/return"
    data = {"version": str(value.version_id), "reason": REASON}
    for user in ("zj_head_jk", "zj_staff_jk", "zj_evaluator", "zj_leader", "wz_planner"):
        assert client_for(demo, user).post(url, data=data).status_code in (403, 404), user
    assert value_of(db, 10, 2020).state == ValueState.ENTERED  # type: ignore[union-attr]
    # without the version the planner saw, the return is refused as stale
    assert client_for(demo, "zj_planner").post(url, data={"reason": REASON}).status_code == 409
    # the department saved a new figure after the planner opened the page
    ind = indicator_of(db, 10)
    assert client_for(demo, "zj_head_jk").post(f"/indicators/{ind.id}/values/2020", data={
        "value_text": "51", "version": data["version"]}).status_code == 302
    response = client_for(demo, "zj_planner").post(url, data=data)
    assert response.status_code == 409 and "已被他人修改" in response.get_data(as_text=True)
    value = value_of(db, 10, 2020)
    assert value is not None and value.state == ValueState.ENTERED and value.return_reason is None


def test_a_confirmed_value_is_not_returned(demo: Flask, db: Session) -> None:
    value = value_of(db, 15, 2024)
    assert value is not None and value.state == ValueState.CONFIRMED
    response = client_for(demo, "zj_planner").post(f"/indicators/values/{value.id}/return",
                                                   data={"version": str(value.version_id), "reason": REASON})
    assert response.status_code == 409 and "已经确认，不能退回" in response.get_data(as_text=True)
    assert value_of(db, 15, 2024).state == ValueState.CONFIRMED  # type: ignore[union-attr]


def test_the_database_refuses_a_returned_value_without_a_reason(demo: Flask, db: Session) -> None:
    value = value_of(db, 15, 2024)
    assert value is not None
    value.state = ValueState.RETURNED
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
    else:
        raise AssertionError("a returned value without a reason was stored")
