"""The review lifecycle (tracker.review): one table and one function, for progress reports, a project's
yearly completed investment and indicator values — each with its own words, permissions and stamps."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import review
from tracker.audit import AuditEntry
from tracker.errors import DomainError, InvalidTransition, PermissionDenied, StaleObject
from tracker.indicators.models import ValueState
from tracker.indicators.services import VALUE_REVIEW, ValueInput, confirm_value, return_value, save_value
from tracker.projects import services as projects
from tracker.projects.services import INVESTMENT_REVIEW, transition_investment
from tracker.review import Stage
from tracker.tasks import services as tasks
from tracker.tasks.models import ReportState
from tracker.tasks.services import REPORT_REVIEW, transition_report
from tracker.timeutil import now

from .world import World, build_world

SPECS = {"report": REPORT_REVIEW, "investment": INVESTMENT_REVIEW, "value": VALUE_REVIEW}


@pytest.fixture
def w(session: Session) -> World:
    return build_world(session)


def entries(session: Session, record: object) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(
        AuditEntry.object_type == record.__tablename__, AuditEntry.object_id == record.id)  # type: ignore[attr-defined]
        .order_by(AuditEntry.id)))


# ------------------------------------------------------------------------------------------ the table


def test_the_lifecycle_is_one_table() -> None:
    assert review.TRANSITIONS == {
        (Stage.DRAFT, "submit"): Stage.SUBMITTED,
        (Stage.RETURNED, "submit"): Stage.SUBMITTED,
        (Stage.SUBMITTED, "confirm"): Stage.CONFIRMED,
        (Stage.SUBMITTED, "return"): Stage.RETURNED,
    }
    assert review.ACTION_LABELS == {"submit": "提交", "confirm": "确认", "return": "退回"}
    editable = {ReportState.DRAFT, ReportState.RETURNED}
    assert REPORT_REVIEW.editable == INVESTMENT_REVIEW.editable == editable
    assert tasks.EDITABLE_REPORT_STATES == projects.EDITABLE_STATES == editable


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_each_kind_moves_exactly_as_the_table_says(kind: str) -> None:
    spec = SPECS[kind]
    for stage, state in spec.states.items():
        for action in review.ACTION_LABELS:
            expected = review.TRANSITIONS.get((stage, action)) if action in spec.may else None
            assert spec.target(state, action) == (spec.states[expected] if expected else None), (state, action)


def test_an_indicator_value_has_no_draft_and_is_submitted_by_saving() -> None:
    assert VALUE_REVIEW.stage(ValueState.ENTERED) is Stage.SUBMITTED
    assert set(VALUE_REVIEW.may) == {"confirm", "return"}
    assert VALUE_REVIEW.target(ValueState.ENTERED, "confirm") is ValueState.CONFIRMED
    assert VALUE_REVIEW.target(ValueState.ENTERED, "return") is ValueState.RETURNED
    assert VALUE_REVIEW.target(ValueState.RETURNED, "submit") is None


# ------------------------------------------------------------------------------------------ progress reports


def test_a_progress_report_goes_round(session: Session, w: World) -> None:
    r = w.report
    with pytest.raises(InvalidTransition, match="^填报当前为“草稿”，不能确认。$"):
        transition_report(session, w.planner, r, "confirm", version=r.version_id)
    with pytest.raises(PermissionDenied, match="^填报须由本单位负责人提交。$"):
        transition_report(session, w.staff, r, "submit", version=r.version_id)
    with pytest.raises(StaleObject):
        transition_report(session, w.head, r, "submit", version=r.version_id - 1)
    assert r.state == ReportState.DRAFT and entries(session, r) == []

    transition_report(session, w.head, r, "submit", version=r.version_id)
    assert r.state == ReportState.SUBMITTED
    assert (r.submitted_at, r.submitted_by_id, r.reviewed_at, r.reviewed_by_id) == (now(), w.head.id, None, None)

    with pytest.raises(PermissionDenied, match="^只有本级规划处可以审核填报。$"):
        transition_report(session, w.outsider, r, "return", reason="x", version=r.version_id)
    with pytest.raises(DomainError, match="^退回须写明原因。$") as refused:
        transition_report(session, w.planner, r, "return", reason="  ", version=r.version_id)
    assert refused.value.field == "reason"
    transition_report(session, w.planner, r, "return", reason=" 请补充数据 ", version=r.version_id)
    assert (r.state, r.return_reason) == (ReportState.RETURNED, "请补充数据")
    assert (r.reviewed_at, r.reviewed_by_id) == (now(), w.planner.id)

    # a new submission empties the review
    transition_report(session, w.head, r, "submit", version=r.version_id)
    assert (r.return_reason, r.reviewed_at, r.reviewed_by_id) == (None, None, None)
    transition_report(session, w.planner, r, "confirm", version=r.version_id)
    assert (r.state, r.reviewed_by_id, r.return_reason) == (ReportState.CONFIRMED, w.planner.id, None)
    with pytest.raises(InvalidTransition, match="^填报当前为“已确认”，不能退回。$"):
        transition_report(session, w.planner, r, "return", reason="x", version=r.version_id)

    log = entries(session, r)
    assert [e.action for e in log] == ["submit", "return", "submit", "confirm"]
    assert [e.summary for e in log] == [f"{a}2025年度进展填报" for a in ("提交", "退回", "提交", "确认")]
    assert log[1].changes["state"] == ["已提交", "已退回"]
    assert log[1].changes["return_reason"] == [None, "请补充数据"]
    assert log[1].actor_id == w.planner.id
    # and the task's history tells the same story
    on_task = [e for e in entries(session, w.task) if e.action.startswith("report_")]
    assert [e.action for e in on_task] == ["report_submit", "report_return", "report_submit", "report_confirm"]
    assert on_task[1].summary == "退回医政处2025年度进展填报：请补充数据"


# ------------------------------------------------------------------------------------------ yearly investment


def test_a_year_of_completed_investment_goes_round(session: Session, w: World) -> None:
    inv = w.investment
    with pytest.raises(InvalidTransition, match="^2025年完成投资当前为“草稿”，不能确认。$"):
        transition_investment(session, w.planner, inv, "confirm", version=inv.version_id)
    with pytest.raises(PermissionDenied, match="^完成投资须由责任单位负责人提交。$"):
        transition_investment(session, w.staff, inv, "submit", version=inv.version_id)
    with pytest.raises(StaleObject):
        transition_investment(session, w.head, inv, "submit", version=inv.version_id + 1)

    # the project's own rules run inside the move: a figure, within the total
    inv.completed = Decimal(1200)
    session.flush()
    with pytest.raises(DomainError, match="超过项目总投资") as refused:
        transition_investment(session, w.head, inv, "submit", version=inv.version_id)
    assert refused.value.field == "completed"
    inv.completed = None
    session.flush()
    with pytest.raises(DomainError, match="^该年度尚未填写完成投资。$"):
        transition_investment(session, w.head, inv, "submit", version=inv.version_id)
    inv.completed = Decimal(300)
    session.flush()

    transition_investment(session, w.head, inv, "submit", version=inv.version_id)
    assert (inv.state, inv.confirmed_at, inv.return_reason) == (ReportState.SUBMITTED, None, None)

    # a return takes any confirmation stamp away (the report's kind keeps its review stamp instead)
    inv.confirmed_at, inv.confirmed_by_id = now(), w.planner.id
    session.flush()
    with pytest.raises(PermissionDenied, match="^只有本级规划处可以确认或退回完成投资。$"):
        transition_investment(session, w.head, inv, "return", reason="x", version=inv.version_id)
    with pytest.raises(DomainError, match="^退回须写明原因。$"):
        transition_investment(session, w.planner, inv, "return", version=inv.version_id)
    transition_investment(session, w.planner, inv, "return", reason="与统计不符", version=inv.version_id)
    assert (inv.state, inv.return_reason) == (ReportState.RETURNED, "与统计不符")
    assert (inv.confirmed_at, inv.confirmed_by_id) == (None, None)

    transition_investment(session, w.head, inv, "submit", version=inv.version_id)
    assert inv.return_reason is None
    transition_investment(session, w.planner, inv, "confirm", version=inv.version_id)
    assert (inv.state, inv.confirmed_at, inv.confirmed_by_id) == (ReportState.CONFIRMED, now(), w.planner.id)

    log = entries(session, inv)
    assert [e.action for e in log] == ["submit", "return", "submit", "confirm"]
    assert log[1].summary == "退回2025年完成投资300万元：与统计不符"
    assert log[3].summary == "确认2025年完成投资300万元"
    assert log[1].changes["state"] == ["已提交", "已退回"]


# ------------------------------------------------------------------------------------------ indicator values


def test_an_indicator_value_goes_round(session: Session, w: World) -> None:
    v = w.value
    with pytest.raises(PermissionDenied, match="^只有本级规划处可以确认监测值。$"):
        confirm_value(session, w.head, v, v.version_id)
    with pytest.raises(PermissionDenied, match="^只有本级规划处可以退回监测值。$"):
        return_value(session, w.outsider, v, "x", v.version_id)
    with pytest.raises(StaleObject):
        confirm_value(session, w.planner, v, v.version_id + 1)
    with pytest.raises(DomainError, match="^退回原因不能超过2000字。$") as refused:
        return_value(session, w.planner, v, "长" * 2001, v.version_id)
    assert refused.value.field == "reason"
    with pytest.raises(DomainError, match="^退回须写明原因。$"):
        return_value(session, w.planner, v, None, v.version_id)
    assert v.state == ValueState.ENTERED and entries(session, v) == []

    return_value(session, w.planner, v, "口径有误", v.version_id)
    assert (v.state, v.return_reason, v.returned_by_id, v.returned_at) == (
        ValueState.RETURNED, "口径有误", w.planner.id, now())
    assert v.confirmed_at is None
    with pytest.raises(InvalidTransition, match="^该监测值已退回，须由牵头单位修改并重新提交后才能确认。$"):
        confirm_value(session, w.planner, v, v.version_id)
    with pytest.raises(InvalidTransition, match="^该监测值已经退回，等待牵头单位修改。$"):
        return_value(session, w.planner, v, "再退", v.version_id)
    # the review has no submit for a value: saving it again submits it (and empties the return)
    with pytest.raises(InvalidTransition, match="^该监测值当前为“已退回”，不能提交。$"):
        review.move(session, w.head, VALUE_REVIEW, v, "submit", version=v.version_id)
    save_value(session, w.head, w.indicator, 2025, ValueInput("91", version=v.version_id))
    assert (v.state, v.return_reason, v.returned_by_id, v.returned_at) == (ValueState.ENTERED, None, None, None)

    confirm_value(session, w.planner, v, v.version_id)
    assert (v.state, v.confirmed_by_id, v.confirmed_at) == (ValueState.CONFIRMED, w.planner.id, now())
    with pytest.raises(InvalidTransition, match="^该监测值已经确认。$"):
        confirm_value(session, w.planner, v, v.version_id)
    with pytest.raises(InvalidTransition, match="^该监测值已经确认，不能退回；如需更正请直接修改。$"):
        return_value(session, w.planner, v, "x", v.version_id)

    log = entries(session, v)
    assert [e.action for e in log] == ["return", "update", "confirm"]
    assert log[0].summary == "退回疾控机构标准化率2025年监测值：口径有误"
    assert log[0].changes["state"] == ["已填报", "已退回"] and log[0].changes["return_reason"] == [None, "口径有误"]
    assert log[2].summary == "确认疾控机构标准化率2025年监测值"
    assert log[2].changes["state"] == ["已填报", "已确认"]
