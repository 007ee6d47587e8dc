"""Yearly completed investment: the owner unit enters it, the planner confirms or returns it; a figure
that would take the cumulative completion above the total is refused unless an approved adjustment
request raised the total first. Bad input is 422, stale saves 409, other people 403 — in Chinese."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import func, select

from tracker import timeutil
from tracker.adjustments.models import AdjustmentKind, AdjustmentRequest, AdjustmentState
from tracker.adjustments.services import request_deadline
from tracker.audit import AuditEntry
from tracker.auth.models import User
from tracker.planning.models import Plan
from tracker.projects.amounts import Entered
from tracker.projects.models import KeyProject
from tracker.projects.services import RegisterInput, update_register
from tracker.tasks.models import ReportState, Task

from .conftest import World, client_as, field_error, fresh, investment, project_of, table


def _confirmed_total(html: str) -> str:
    return re.search(r'<strong data-total="confirmed">([^<]*)</strong>', html).group(1)


@pytest.fixture
def in_2026(demo: Flask) -> Iterator[None]:
    """专栏4 (built until 2027) in mid-2026, after the demo's day: the planner has set the yearly plan of 2026 and
    2027 in the register (50 and 40 亿元), so 2026's row waits for the owner unit's figure; on record so far
    207.58 亿元 (2021–2024 confirmed, 2025 submitted)."""
    with timeutil.frozen("2026-06-30"):
        with demo.extensions["tracker.sessions"]() as s:
            project = s.scalars(select(KeyProject).join(Task).join(Plan)
                                .where(Plan.code == "zj-14", Task.code == "专栏4")).one()
            planner = s.scalars(select(User).where(User.username == "zj_planner")).one()
            planned = {i.year: Entered(i.planned) for i in project.investments}
            planned |= {2026: Entered(Decimal("500000")), 2027: Entered(Decimal("400000"))}
            update_register(s, planner, project, RegisterInput(
                project.kind, project.status, project.region_id, project.content, project.start_year,
                project.end_year, Entered(project.total_investment, project.total_tbd),
                Entered(project.period_investment, project.period_tbd),
                {f.source: Entered(f.amount, f.amount is None) for f in project.funding}, planned),
                project.version_id, acknowledged=True)
            s.commit()
        yield


def test_owner_enters_head_submits_planner_confirms_and_the_plan_totals_move(demo: Flask, in_2026: None) -> None:
    p = project_of(demo, "专栏4")
    plan_id = p.task.plan_id
    head, planner = client_as(demo, "zj_head_yz"), client_as(demo, "zj_planner")
    before = planner.get(f"/plans/{plan_id}/projects").get_data(as_text=True)
    row = investment(demo, p.id, 2026)
    assert row.state == ReportState.DRAFT and row.completed is None

    page = head.get(f"/projects/{p.id}/investments/2026")
    assert page.status_code == 200 and "填报2026年完成投资" in page.get_data(as_text=True)
    saved = head.post(f"/projects/{p.id}/investments/2026", data={
        "completed": "38.6", "note": "新院区桩基工程完成", "version": row.version_id, "action": "save"})
    assert saved.status_code == 302
    row = investment(demo, p.id, 2026)
    assert row.completed == Decimal("386000") and row.state == ReportState.DRAFT

    sent = head.post(f"/projects/investments/{row.id}/submit", data={"version": row.version_id})
    assert sent.status_code == 302
    row = investment(demo, p.id, 2026)
    assert row.state == ReportState.SUBMITTED
    middle = planner.get(f"/plans/{plan_id}/projects").get_data(as_text=True)
    assert _confirmed_total(middle) == _confirmed_total(before)  # not counted until confirmed

    review = planner.get(f"/projects/investments/{row.id}").get_data(as_text=True)
    assert "确认" in review and "38.6" in review
    done = planner.post(f"/projects/investments/{row.id}/confirm", data={"version": row.version_id})
    assert done.status_code == 302
    row = investment(demo, p.id, 2026)
    assert row.state == ReportState.CONFIRMED and row.confirmed_at is not None
    after = planner.get(f"/plans/{plan_id}/projects").get_data(as_text=True)
    as_number = lambda text: Decimal(text.replace(",", ""))  # noqa: E731
    assert as_number(_confirmed_total(after)) - as_number(_confirmed_total(before)) == Decimal("38.6")
    years = {r[0]: r for r in table(after, "year-totals")}
    assert years["2026"][2] == "38.6"

    html = head.get(f"/projects/{p.id}").get_data(as_text=True)
    assert "确认2026年完成投资38.6亿元" in html and "提交2026年完成投资38.6亿元" in html
    assert "填报2026年完成投资" not in html.split("<main")[1].split("年度投资")[0]  # confirmed: no entry button


def test_head_submits_directly_and_the_planner_returns_with_a_reason(demo: Flask, in_2026: None) -> None:
    p = project_of(demo, "专栏4")
    head, planner = client_as(demo, "zj_head_yz"), client_as(demo, "zj_planner")
    row = investment(demo, p.id, 2026)
    assert head.post(f"/projects/{p.id}/investments/2026", data={
        "completed": "12", "version": row.version_id, "action": "submit"}).status_code == 302
    row = investment(demo, p.id, 2026)
    assert row.state == ReportState.SUBMITTED
    no_reason = planner.post(f"/projects/investments/{row.id}/return", data={"version": row.version_id, "reason": ""})
    assert no_reason.status_code == 422 and "退回须写明原因。" in field_error(no_reason.get_data(as_text=True))
    back = planner.post(f"/projects/investments/{row.id}/return",
                        data={"version": row.version_id, "reason": "请附资金拨付凭证"})
    assert back.status_code == 302
    row = investment(demo, p.id, 2026)
    assert row.state == ReportState.RETURNED and row.return_reason == "请附资金拨付凭证"
    html = head.get(f"/projects/{p.id}").get_data(as_text=True)
    assert "退回原因：请附资金拨付凭证" in html
    again = head.post(f"/projects/{p.id}/investments/2026",
                      data={"completed": "12.5", "version": row.version_id, "action": "submit"})
    assert again.status_code == 302
    row = investment(demo, p.id, 2026)
    assert row.state == ReportState.SUBMITTED and row.completed == Decimal("125000") and row.return_reason is None
    # a figure under review cannot be changed
    locked = head.post(f"/projects/{p.id}/investments/2026", data={"completed": "13", "version": row.version_id})
    assert locked.status_code == 409 and "已提交，不能再修改" in locked.get_data(as_text=True)


def test_completion_above_the_total_is_refused_until_an_adjustment_is_approved(demo: Flask, in_2026: None) -> None:
    p = project_of(demo, "专栏4")
    head, planner = client_as(demo, "zj_head_yz"), client_as(demo, "zj_planner")
    row = investment(demo, p.id, 2026)
    # 207.58 on record so far; 95 more would make 302.58 > 300
    refused = head.post(f"/projects/{p.id}/investments/2026",
                        data={"completed": "95", "version": row.version_id, "action": "submit"})
    assert refused.status_code == 422
    [message] = field_error(refused.get_data(as_text=True))
    assert "累计完成投资将达到302.58亿元，超过项目总投资300亿元" in message and "投资调整申请" in message
    assert 'value="95"' in refused.get_data(as_text=True)  # the entry is kept in the form
    assert investment(demo, p.id, 2026).completed is None
    assert head.post(f"/projects/{p.id}/investments/2026",
                     data={"completed": "92.42", "version": row.version_id}).status_code == 302  # exactly 300

    # an adjustment request: validated, one pending at a time, decided by the planner only
    row = investment(demo, p.id, 2026)
    assert head.get(f"/projects/{p.id}/adjustments/new").status_code == 200
    low = head.post(f"/projects/{p.id}/adjustments/new", data={"new_total": "250", "reason": "压缩"})
    assert low.status_code == 422 and "不能低于已填报的累计完成投资（300亿元）" in low.get_data(as_text=True)
    blank = head.post(f"/projects/{p.id}/adjustments/new", data={"new_total": "", "reason": ""})
    assert blank.status_code == 422 and {"请填写金额。", "请写明调整理由。"} <= set(field_error(blank.get_data(as_text=True)))
    asked = head.post(f"/projects/{p.id}/adjustments/new",
                      data={"new_total": "330.5", "reason": "概算调整：新增儿童重症医学中心"})
    assert asked.status_code == 302
    twice = head.post(f"/projects/{p.id}/adjustments/new", data={"new_total": "340", "reason": "再次"})
    assert twice.status_code == 409 and "已有待审批的投资调整申请" in twice.get_data(as_text=True)
    with demo.extensions["tracker.sessions"]() as s:
        req = s.scalars(select(AdjustmentRequest).where(AdjustmentRequest.project_id == p.id)).one()
        assert (req.kind, req.state, req.old_value, req.new_value) == (
            AdjustmentKind.INVESTMENT, AdjustmentState.PENDING, "3000000.0000", "3305000.0000")
    assert head.post(f"/projects/adjustments/{req.id}/approve", data={}).status_code == 403
    # still refused while the request waits
    more = head.post(f"/projects/{p.id}/investments/2026", data={"completed": "100", "version": row.version_id})
    assert more.status_code == 422
    rejected_without_reason = planner.post(f"/projects/adjustments/{req.id}/reject", data={"comment": ""})
    assert rejected_without_reason.status_code == 422
    assert "驳回须写明理由。" in field_error(rejected_without_reason.get_data(as_text=True))
    approved = planner.post(f"/projects/adjustments/{req.id}/approve", data={"comment": "同意"})
    assert approved.status_code == 302
    assert fresh(demo, KeyProject, p.id).total_investment == Decimal("3305000")
    assert planner.post(f"/projects/adjustments/{req.id}/approve", data={}).status_code == 409
    ok = head.post(f"/projects/{p.id}/investments/2026", data={"completed": "100", "version": row.version_id})
    assert ok.status_code == 302 and investment(demo, p.id, 2026).completed == Decimal("1000000")
    html = head.get(f"/projects/{p.id}").get_data(as_text=True)
    assert "批准投资调整申请 #" in html and "总投资调整为330.5亿元" in html and "已批准" in html


def test_a_rejected_or_withdrawn_request_changes_nothing(demo: Flask) -> None:
    p = project_of(demo, "专栏4")
    head, planner = client_as(demo, "zj_head_yz"), client_as(demo, "zj_planner")
    head.post(f"/projects/{p.id}/adjustments/new", data={"new_total": "320", "reason": "涨价"})
    with demo.extensions["tracker.sessions"]() as s:
        req_id = s.scalar(select(AdjustmentRequest.id).where(AdjustmentRequest.project_id == p.id))
    assert planner.post(f"/projects/adjustments/{req_id}/reject", data={"comment": "依据不足"}).status_code == 302
    assert fresh(demo, KeyProject, p.id).total_investment == Decimal("3000000")
    head.post(f"/projects/{p.id}/adjustments/new", data={"new_total": "320", "reason": "补充概算批复"})
    with demo.extensions["tracker.sessions"]() as s:
        second = s.scalar(select(AdjustmentRequest.id).where(AdjustmentRequest.state == AdjustmentState.PENDING))
    assert head.post(f"/projects/adjustments/{second}/withdraw", data={}).status_code == 302
    assert fresh(demo, KeyProject, p.id).total_investment == Decimal("3000000")
    # the project pages decide investment requests only: a deadline request of the project's task is not theirs
    with demo.extensions["tracker.sessions"]() as s:
        project = s.get(KeyProject, p.id)
        asker = s.scalar(select(User).where(User.username == "zj_head_yz"))
        deadline = request_deadline(s, asker, project.task, project.task.deadline + timedelta(days=30), "征地延后")
        s.commit()
        deadline_id = deadline.id
    for action, who in (("approve", planner), ("reject", planner), ("withdraw", head)):
        assert who.post(f"/projects/adjustments/{deadline_id}/{action}", data={"comment": "同意"}).status_code == 404
    with demo.extensions["tracker.sessions"]() as s:
        assert s.get(AdjustmentRequest, deadline_id).state == AdjustmentState.PENDING


def test_bad_input_is_422_next_to_the_field(demo: Flask, in_2026: None) -> None:
    p = project_of(demo, "专栏4")
    head = client_as(demo, "zj_head_yz")
    row = investment(demo, p.id, 2026)
    url = f"/projects/{p.id}/investments/2026"
    for value, message in [("abc", "不是有效金额"), ("-5", "不能为负数"), ("1.123456789", "最多保留8位小数"),
                           ("", "请填写金额。"), ("待定", "不能填“待定”"), ("９" * 20, "金额过大")]:
        response = head.post(url, data={"completed": value, "version": row.version_id})
        assert response.status_code == 422, value
        assert any(message in e for e in field_error(response.get_data(as_text=True))), (value, message)
    long_note = head.post(url, data={"completed": "1", "note": "长" * 2001, "version": row.version_id})
    assert long_note.status_code == 422
    assert head.get(f"/projects/{p.id}/investments/2027").status_code == 404  # not yet
    assert head.get(f"/projects/{p.id}/investments/2015").status_code == 404  # before the project
    assert head.get(f"/projects/{p.id}/investments/99999").status_code == 404
    assert head.get("/projects/99999999999/investments/2026").status_code == 404
    assert head.post(f"/projects/investments/{row.id}/approve", data={}).status_code == 404
    assert investment(demo, p.id, 2026).completed is None


def test_a_stale_save_is_409_and_says_what_changed(demo: Flask, in_2026: None) -> None:
    p = project_of(demo, "专栏4")
    first, second = client_as(demo, "zj_head_yz"), client_as(demo, "zj_head_yz")
    row = investment(demo, p.id, 2026)
    assert first.post(f"/projects/{p.id}/investments/2026",
                      data={"completed": "30", "version": row.version_id}).status_code == 302
    late = second.post(f"/projects/{p.id}/investments/2026", data={"completed": "31", "version": row.version_id})
    assert late.status_code == 409
    html = late.get_data(as_text=True)
    assert "已被他人修改" in html and "徐海涛" in html and "completed" in html and "300000" in html
    assert investment(demo, p.id, 2026).completed == Decimal("300000")
    # a second planner confirming on an old page
    row = investment(demo, p.id, 2026)
    client_as(demo, "zj_head_yz").post(f"/projects/investments/{row.id}/submit", data={"version": row.version_id})
    stale = client_as(demo, "zj_planner").post(f"/projects/investments/{row.id}/confirm",
                                               data={"version": row.version_id})
    assert stale.status_code == 409


def test_a_new_year_row_created_meanwhile_is_a_conflict(world: World, app: Flask) -> None:
    """The form for a year with no row carries version 0; if someone creates the row first, the save is refused."""
    head = client_as(app, world.users["head"])
    staff = client_as(app, world.users["staff"])
    with app.extensions["tracker.sessions"]() as s:
        s.delete(s.get(KeyProject, world.project_id).investments[-1])  # no 2026 row
        s.commit()
    url = f"/projects/{world.project_id}/investments/2026"
    assert staff.post(url, data={"completed": "1", "version": "0"}).status_code == 302
    late = head.post(url, data={"completed": "2", "version": "0"})
    assert late.status_code == 409


def test_who_may_do_what(world: World, app: Flask) -> None:
    pid = world.project_id
    staff, head = client_as(app, world.users["staff"]), client_as(app, world.users["head"])
    other, planner = client_as(app, world.users["other_head"]), client_as(app, world.users["planner"])
    outsider, leader = client_as(app, world.users["outsider"]), client_as(app, world.users["leader"])
    # everyone in scope reads; the other city's planner does not
    for client in (staff, head, other, planner, leader):
        assert client.get(f"/projects/{pid}").status_code == 200
    denied = outsider.get(f"/projects/{pid}")
    assert denied.status_code == 403 and "无权访问" in denied.get_data(as_text=True)
    assert "该项目不在您的管辖范围内" in denied.get_data(as_text=True)
    assert outsider.get(f"/plans/{world.plan_id}/projects").status_code == 403
    # entering: the owner unit only; staff save drafts, only the head submits
    for client in (other, planner, leader):
        response = client.get(f"/projects/{pid}/investments/2026")
        assert response.status_code == 403 and "只有项目责任单位可以填报完成投资" in response.get_data(as_text=True)
    row = investment(app, pid, 2026)
    assert staff.post(f"/projects/{pid}/investments/2026", data={"completed": "3", "version": row.version_id,
                                                                 "action": "submit"}).status_code == 403
    drafted = staff.post(f"/projects/{pid}/investments/2026", data={"completed": "3", "version": row.version_id},
                         follow_redirects=True)
    assert "2026年完成投资已保存为草稿。请本单位负责人审阅后提交。" in drafted.get_data(as_text=True)
    row = investment(app, pid, 2026)
    assert staff.post(f"/projects/investments/{row.id}/submit", data={"version": row.version_id}).status_code == 403
    assert head.post(f"/projects/investments/{row.id}/submit", data={"version": row.version_id}).status_code == 302
    row = investment(app, pid, 2026)
    # reviewing: the planner of the plan's region only
    for client in (head, other, leader, outsider):
        assert client.post(f"/projects/investments/{row.id}/confirm", data={"version": row.version_id}).status_code == 403
    assert planner.post(f"/projects/investments/{row.id}/confirm", data={"version": row.version_id}).status_code == 302
    # the register and adjustments
    for client in (head, staff, other, leader):
        assert client.get(f"/projects/{pid}/edit").status_code == 403
    for client in (staff, other, planner, leader):
        response = client.get(f"/projects/{pid}/adjustments/new")
        assert response.status_code == 403 and "无权访问" in response.get_data(as_text=True)
    with app.extensions["tracker.sessions"]() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)
                        .where(AuditEntry.object_type == "project_investments")) == 3



def test_a_figure_under_review_opens_read_only(demo: Flask, in_2026: None) -> None:
    p = project_of(demo, "专栏4")
    head = client_as(demo, "zj_head_yz")
    row = investment(demo, p.id, 2026)
    head.post(f"/projects/{p.id}/investments/2026", data={"completed": "20", "version": row.version_id,
                                                          "action": "submit"})
    response = head.get(f"/projects/{p.id}/investments/2026")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/projects/investments/{row.id}")
    html = head.get(response.headers["Location"]).get_data(as_text=True)
    assert "2026年完成投资已已提交" not in html and "2026年完成投资已提交，不能再修改。" in html
    assert f'action="/projects/investments/{row.id}/confirm"' not in html  # the head cannot confirm
