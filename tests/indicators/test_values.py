"""Monitoring values: the lead department enters, the planner confirms, the evaluator judges what a number cannot."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.audit import AuditEntry
from tracker.indicators.models import Judgement, ValueState

from .conftest import client_for, field_errors, indicator_of, plan_of, value_of

# zj-14: 10 疾控机构标准化率 (疾控处, 95), 15 重大慢病过早死亡率 (疾控处, 8.5以下), 6 每千人执业（助理）医师数 (医政医管处)


def test_lead_department_enters_a_value_and_it_is_judged(demo: Flask, db: Session) -> None:
    head = client_for(demo, "zj_head_jk")
    ind = indicator_of(db, 10)
    response = head.post(f"/indicators/{ind.id}/values/2020", data={
        "value_text": "50.5", "source": "省疾控中心年报", "note": "按新标准统计"})
    assert response.status_code == 302, response.get_data(as_text=True)
    value = value_of(db, 10, 2020)
    assert value is not None and value.value_text == "50.5" and float(value.value) == 50.5
    assert value.state == ValueState.ENTERED and value.source == "省疾控中心年报"
    assert value.entered_by is not None and value.entered_by.username == "zj_head_jk"
    assert value.judgement == Judgement.ON_TRACK  # the first value starts the trajectory
    # The 2021 value (62.5) is now judged against the line from 2020 (50.5) to 95 in 2025 (59.4 in 2021).
    later = value_of(db, 10, 2021)
    assert later is not None and later.judgement == Judgement.ON_TRACK
    assert "2020年监测值" in (later.judgement_note or "")
    [entry] = db.scalars(select(AuditEntry).where(AuditEntry.object_type == "indicator_values",
                                                  AuditEntry.object_id == value.id)).all()
    assert entry.action == "create" and entry.changes["value_text"] == [None, "50.5"]


def test_department_staff_may_enter_their_own_indicators_only(demo: Flask, db: Session) -> None:
    staff = client_for(demo, "zj_staff_jk")
    own, other = indicator_of(db, 10), indicator_of(db, 6)
    assert staff.post(f"/indicators/{own.id}/values/2020", data={"value_text": "50"}).status_code == 302
    response = staff.post(f"/indicators/{other.id}/values/2020", data={"value_text": "3.7"})
    assert response.status_code == 403
    assert "只有指标“每千人执业（助理）医师数”的牵头单位或本级规划处可以填报监测值" in response.get_data(as_text=True)
    assert value_of(db, 6, 2020) is None
    assert client_for(demo, "zj_head_yz").get(f"/indicators/{own.id}/values/2020").status_code == 403


def test_other_regions_and_read_only_roles_cannot_enter(demo: Flask, db: Session) -> None:
    ind = indicator_of(db, 10)
    for user in ("wz_head_jk", "zj_leader", "zj_supervisor", "zj_evaluator"):
        response = client_for(demo, user).post(f"/indicators/{ind.id}/values/2020", data={"value_text": "50"})
        assert response.status_code in (403, 404) and "无权访问" in response.get_data(as_text=True), user
    assert client_for(demo, "wz_head_jk").get(f"/indicators/{ind.id}").status_code == 200  # a city reads upward
    assert client_for(demo, "wl_head_jk").get(f"/indicators/{ind.id}").status_code == 200
    wl_plan = plan_of(db, "wl-2021")
    assert client_for(demo, "zj_head_jk").get(f"/indicators/plans/{wl_plan.id}").status_code == 200
    yq_plan = plan_of(db, "yq-14")
    assert client_for(demo, "wl_head_jk").get(f"/indicators/plans/{yq_plan.id}").status_code == 403


def test_refused_input_is_shown_next_to_the_field(demo: Flask, db: Session) -> None:
    head = client_for(demo, "zj_head_jk")
    ind = indicator_of(db, 10)
    cases = [
        ({"value_text": "约九成五"}, "value_text", "无法识别为数值"),
        ({"value_text": ""}, "value_text", "请填写监测值。"),
        ({"value_text": "1" * 61}, "value_text", "监测值不能超过60字。"),
        ({"value_text": "90", "source": "源" * 201}, "source", "数据来源不能超过200字。"),
    ]
    for data, field, message in cases:
        response = head.post(f"/indicators/{ind.id}/values/2020", data=data)
        assert response.status_code == 422, data
        assert any(message in e for e in field_errors(response.get_data(as_text=True), field)), (data, field)
    assert value_of(db, 10, 2020) is None
    assert head.get(f"/indicators/{ind.id}/values/2030").status_code == 404
    assert head.get(f"/indicators/{ind.id}/values/1999").status_code == 404
    assert head.get("/indicators/99999999").status_code == 404


def test_qualitative_indicators_take_words(demo: Flask, db: Session) -> None:
    planner = client_for(demo, "zj_planner")
    ind = indicator_of(db, 17)  # 人均基本公共卫生服务经费 稳步提高
    assert planner.post(f"/indicators/{ind.id}/values/2025", data={"value_text": "较上年提高8元"}).status_code == 302
    value = value_of(db, 17, 2025)
    assert value is not None and value.value is None and value.judgement == Judgement.PENDING


def test_confirmed_values_are_locked_for_departments(demo: Flask, db: Session) -> None:
    """The seeded values are confirmed: the department cannot change them, the planner can (and must re-confirm)."""
    ind = indicator_of(db, 15)
    value = value_of(db, 15, 2024)
    assert value is not None and value.state == ValueState.CONFIRMED
    response = client_for(demo, "zj_head_jk").post(f"/indicators/{ind.id}/values/2024", data={
        "value_text": "8.4", "version": str(value.version_id)})
    assert response.status_code == 409 and "已由规划处确认" in response.get_data(as_text=True)
    planner = client_for(demo, "zj_planner")
    response = planner.post(f"/indicators/{ind.id}/values/2024", data={
        "value_text": "8.45", "source": "更正", "version": str(value.version_id)})
    assert response.status_code == 302
    value = value_of(db, 15, 2024)
    assert value is not None and value.state == ValueState.ENTERED and value.judgement == Judgement.ACHIEVED
    response = planner.post(f"/indicators/values/{value.id}/confirm", data={"version": str(value.version_id)})
    assert response.status_code == 302
    value = value_of(db, 15, 2024)
    assert value is not None and value.state == ValueState.CONFIRMED and value.confirmed_at is not None
    again = planner.post(f"/indicators/values/{value.id}/confirm", data={"version": str(value.version_id)})
    assert again.status_code == 409


def test_only_the_planner_confirms(demo: Flask, db: Session) -> None:
    head = client_for(demo, "zj_head_jk")
    ind = indicator_of(db, 10)
    head.post(f"/indicators/{ind.id}/values/2020", data={"value_text": "50"})
    value = value_of(db, 10, 2020)
    assert value is not None
    for user in ("zj_head_jk", "zj_evaluator", "wz_planner"):
        response = client_for(demo, user).post(f"/indicators/values/{value.id}/confirm",
                                               data={"version": str(value.version_id)})
        assert response.status_code == 403, user
    plan = plan_of(db)
    response = client_for(demo, "zj_planner").post(f"/indicators/plans/{plan.id}/confirm?year=2020")
    assert response.status_code == 302
    value = value_of(db, 10, 2020)
    assert value is not None and value.state == ValueState.CONFIRMED


def test_stale_save_is_refused(demo: Flask, db: Session) -> None:
    ind = indicator_of(db, 10)
    first, second = client_for(demo, "zj_head_jk"), client_for(demo, "zj_staff_jk")
    assert first.post(f"/indicators/{ind.id}/values/2020", data={"value_text": "50"}).status_code == 302
    response = second.post(f"/indicators/{ind.id}/values/2020", data={"value_text": "51"})  # opened before
    assert response.status_code == 422 and "已由他人填报" in response.get_data(as_text=True)
    value = value_of(db, 10, 2020)
    assert value is not None
    old = value.version_id
    assert first.post(f"/indicators/{ind.id}/values/2020", data={"value_text": "52", "version": str(old)}
                      ).status_code == 302
    response = second.post(f"/indicators/{ind.id}/values/2020", data={"value_text": "53", "version": str(old)})
    assert response.status_code == 409 and "已被他人修改" in response.get_data(as_text=True)
    assert value_of(db, 10, 2020).value_text == "52"  # type: ignore[union-attr]


def test_evaluator_judges_with_a_note(demo: Flask, db: Session) -> None:
    planner, evaluator = client_for(demo, "zj_planner"), client_for(demo, "zj_evaluator")
    ind = indicator_of(db, 17)
    planner.post(f"/indicators/{ind.id}/values/2025", data={"value_text": "较上年提高8元"})
    value = value_of(db, 17, 2025)
    assert value is not None
    url = f"/indicators/values/{value.id}/judge"
    response = evaluator.post(url, data={"judgement": "achieved", "note": "", "version": str(value.version_id)})
    assert response.status_code == 422
    assert "请写明评判依据。" in field_errors(response.get_data(as_text=True), "note")
    response = evaluator.post(url, data={"judgement": "sideways", "note": "x", "version": str(value.version_id)})
    assert response.status_code == 422
    response = evaluator.post(url, data={"judgement": "achieved", "note": "财政投入逐年增加",
                                         "version": str(value.version_id)})
    assert response.status_code == 302
    value = value_of(db, 17, 2025)
    assert value is not None and value.judgement == Judgement.ACHIEVED and value.judged_by_id is not None
    # A later automatic pass keeps a person's judgement.
    from tracker.indicators.services import rejudge_plan

    assert rejudge_plan(db, plan_of(db)) == 0
    assert client_for(demo, "zj_head_jk").get(url).status_code == 403
    assert client_for(demo, "zj_leader").post(url, data={"judgement": "lagging", "note": "x"}).status_code == 403


def test_bulk_entry_saves_all_or_nothing(demo: Flask, db: Session) -> None:
    planner = client_for(demo, "zj_planner")
    plan = plan_of(db)
    url = f"/indicators/plans/{plan.id}/entry?year=2020"
    page = planner.get(url)
    assert page.status_code == 200 and page.get_data(as_text=True).count('name="rows-') > 20
    ids = {n: indicator_of(db, n).id for n in (5, 6, 10)}
    bad = {"rows-0-indicator_id": ids[5], "rows-0-value_text": "80.1",
           "rows-1-indicator_id": ids[6], "rows-1-value_text": "三点六",
           "rows-2-indicator_id": ids[10], "rows-2-value_text": "50"}
    response = planner.post(url, data=bad)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "全部未保存" in html and "“三点六”无法识别为数值" in html
    assert value_of(db, 5, 2020) is None and value_of(db, 10, 2020) is None
    good = {**bad, "rows-1-value_text": "3.6"}
    assert planner.post(url, data=good).status_code == 302
    assert [value_of(db, n, 2020).value_text for n in (5, 6, 10)] == ["80.1", "3.6", "50"]  # type: ignore[union-attr]


def test_bulk_entry_for_a_department_holds_its_own_indicators(demo: Flask, db: Session) -> None:
    head = client_for(demo, "zj_head_jk")
    plan = plan_of(db)
    html = head.get(f"/indicators/plans/{plan.id}/entry?year=2020").get_data(as_text=True)
    assert html.count('name="rows-') // 5 == 2  # 疾控处 leads two indicators; five inputs a row
    other = indicator_of(db, 6)
    response = head.post(f"/indicators/plans/{plan.id}/entry?year=2020", data={
        "rows-0-indicator_id": other.id, "rows-0-value_text": "3.6"})
    assert response.status_code == 422 and "只有指标“每千人执业（助理）医师数”的牵头单位" in response.get_data(as_text=True)
    assert value_of(db, 6, 2020) is None
    assert client_for(demo, "zj_leader").get(f"/indicators/plans/{plan.id}/entry").status_code == 403


def test_values_are_escaped(demo: Flask, db: Session) -> None:
    planner = client_for(demo, "zj_planner")
    ind = indicator_of(db, 17)
    planner.post(f"/indicators/{ind.id}/values/2025", data={
        "value_text": "<script>alert(1)</script>", "source": "<img src=x onerror=alert(1)>"})
    for url in (f"/indicators/{ind.id}", f"/indicators/plans/{ind.plan_id}?year=2025"):
        html = planner.get(url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<img src=x" not in html


def test_plan_page_counts_and_bad_arguments(demo: Flask, db: Session) -> None:
    viewer = client_for(demo, "zj_leader")
    plan = plan_of(db, "zj-13")
    html = viewer.get(f"/indicators/plans/{plan.id}?year=2020").get_data(as_text=True)
    assert "人均预期寿命" in html and "79.47" in html and "已达成" in html
    assert viewer.get(f"/indicators/plans/{plan.id}?year=abc").status_code == 400
    assert viewer.get(f"/indicators/plans/{plan.id}?year=2031").status_code == 404
    assert viewer.get("/indicators/plans/99999999").status_code == 404
    assert viewer.get("/indicators").status_code == 200
