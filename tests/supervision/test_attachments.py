"""Files on case steps and on adjustment requests: filed with the action through the same checks as
milestone evidence, listed where the step or request is shown, downloaded by exactly those who may see it."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.adjustments.models import AdjustmentRequest
from tracker.attachments.models import Attachment
from tracker.auth.models import User
from tracker.indicators.models import Indicator
from tracker.regions.models import Department
from tracker.supervision.models import CaseAction, CaseState, CaseStep, SupervisionCase
from tracker.supervision.services import TRANSITIONS

from ..conftest import client_for
from .test_cases import ROLES, _case_in, _task, _users

A, S = CaseAction, CaseState
PDF = b"%PDF-1.4\n% rectification plan\n"
# Who files each action in these tests (one of the roles allowed to), and the state it starts from.
ACTOR = {A.ISSUE: "supervisor", A.ACKNOWLEDGE: "head", A.PLAN: "staff", A.PROGRESS: "head", A.SUBMIT: "head",
         A.CLOSE: "supervisor", A.RETURN: "supervisor", A.REMIND: "supervisor", A.INTERVIEW: "supervisor",
         A.CIRCULATE: "supervisor"}
SOURCE = {A.ISSUE: S.FILED, A.ACKNOWLEDGE: S.ISSUED, A.PLAN: S.ACKNOWLEDGED, A.PROGRESS: S.RECTIFYING,
          A.SUBMIT: S.RECTIFYING, A.CLOSE: S.SUBMITTED, A.RETURN: S.SUBMITTED, A.REMIND: S.ISSUED,
          A.INTERVIEW: S.RECTIFYING, A.CIRCULATE: S.ACKNOWLEDGED}


def _pdf(name: str = "整改方案.pdf", data: bytes = PDF) -> tuple[io.BytesIO, str]:
    return io.BytesIO(data), name


def _form(action: CaseAction, version: int, **extra: object) -> dict[str, object]:
    data: dict[str, object] = {"version": version, "comment": f"{action.label}说明", **extra}
    if action == A.CLOSE:
        data.update(outcome="on_time", rating="4")
    if action == A.ISSUE:
        data["response_days"] = "10"
    return data


def _new_case(demo: Flask, state: CaseState, *, with_task: bool = True) -> int:
    with demo.extensions["tracker.sessions"]() as s:
        case = _case_in(s, _users(s), state, _task(s) if with_task else None)
        s.commit()
        return case.id


def _counts(demo: Flask) -> tuple[int, int]:
    with demo.extensions["tracker.sessions"]() as s:
        return (s.scalar(select(func.count()).select_from(CaseStep)) or 0,
                s.scalar(select(func.count()).select_from(Attachment)) or 0)


def _requests(demo: Flask) -> int:
    with demo.extensions["tracker.sessions"]() as s:
        return s.scalar(select(func.count()).select_from(AdjustmentRequest)) or 0


def _all_usernames(demo: Flask) -> list[str]:
    with demo.extensions["tracker.sessions"]() as s:
        return list(s.scalars(select(User.username).where(User.is_active).order_by(User.username)))


def test_every_action_form_files_its_attachments_with_its_step(demo: Flask) -> None:
    assert set(ACTOR) == set(TRANSITIONS)  # a new action needs a line here
    clients: dict[str, FlaskClient] = {}
    for action, role in ACTOR.items():
        case_id = _new_case(demo, SOURCE[action], with_task=False)  # one open case per task: none here
        client = clients.setdefault(role, client_for(demo, ROLES[role]))
        page = client.get(f"/supervision/{case_id}").get_data(as_text=True)
        form = re.search(rf'<form[^>]*action="/supervision/{case_id}/{action.value}"[^>]*>(.*?)</form>', page, re.S)
        assert form is not None, action
        assert 'enctype="multipart/form-data"' in form.group(0) and 'type="file" name="files" multiple' in form.group(1)
        with demo.extensions["tracker.sessions"]() as s:
            version = s.get(SupervisionCase, case_id).version_id
        response = client.post(f"/supervision/{case_id}/{action.value}", content_type="multipart/form-data",
                               data=_form(action, version, files=[_pdf(f"{action.label}.pdf"),
                                                                  (io.BytesIO("进展：已完成".encode()), "说明.txt")]))
        assert response.status_code == 302, (action, response.get_data(as_text=True)[:300])
        with demo.extensions["tracker.sessions"]() as s:
            step = s.scalars(select(CaseStep).where(CaseStep.case_id == case_id).order_by(CaseStep.id.desc())).first()
            assert step.action == action
            assert [(a.filename, a.size) for a in step.attachments] == [(f"{action.label}.pdf", len(PDF)),
                                                                        ("说明.txt", len("进展：已完成".encode()))]
            ids = [a.id for a in step.attachments]
        timeline = client.get(f"/supervision/{case_id}").get_data(as_text=True)
        for attachment_id in ids:
            assert f'href="/attachments/{attachment_id}"' in timeline
        with client.get(f"/attachments/{ids[0]}") as download:
            assert download.status_code == 200 and download.data == PDF


@pytest.mark.parametrize(("files", "message"), [
    ([("伪装.pdf", b"MZ\x90\x00 not a pdf")], "内容与扩展名不符"),
    ([("方案.pdf", PDF), ("工具.exe", b"MZ\x90\x00")], "不支持的文件类型"),
    ([("空.pdf", b"")], "是空的"),
])
def test_a_refused_file_refuses_the_whole_action(demo: Flask, files: list[tuple[str, bytes]], message: str) -> None:
    case_id = _new_case(demo, S.ACKNOWLEDGED)
    head = client_for(demo, "zj_head_jk")
    before = _counts(demo)
    with demo.extensions["tracker.sessions"]() as s:
        version = s.get(SupervisionCase, case_id).version_id
    response = head.post(f"/supervision/{case_id}/plan", content_type="multipart/form-data",
                         data=_form(A.PLAN, version, files=[(io.BytesIO(d), n) for n, d in files]))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and message in page
    assert f'action="/supervision/{case_id}/plan"' in page  # the form is shown again, with the message
    assert _counts(demo) == before
    with demo.extensions["tracker.sessions"]() as s:
        case = s.get(SupervisionCase, case_id)
        assert case.state == S.ACKNOWLEDGED and case.version_id == version
    again = head.post(f"/supervision/{case_id}/plan", content_type="multipart/form-data",
                      data=_form(A.PLAN, version, files=[_pdf()]))
    assert again.status_code == 302  # the refusal left nothing behind that stands in the way


@pytest.mark.parametrize("with_task", [True, False])
def test_a_case_file_is_downloaded_by_exactly_those_who_see_the_case(demo: Flask, with_task: bool) -> None:
    case_id = _new_case(demo, S.ISSUED, with_task=with_task)
    head = client_for(demo, "zj_head_jk")
    with demo.extensions["tracker.sessions"]() as s:
        version = s.get(SupervisionCase, case_id).version_id
    assert head.post(f"/supervision/{case_id}/acknowledge", content_type="multipart/form-data",
                     data={"version": version, "files": [_pdf("签收回执.pdf")]}).status_code == 302
    with demo.extensions["tracker.sessions"]() as s:
        attachment_id = s.scalars(select(Attachment.id).join(CaseStep).where(CaseStep.case_id == case_id)).one()
    answers = {}
    for username in _all_usernames(demo):
        client = client_for(demo, username)
        page = client.get(f"/supervision/{case_id}").status_code
        with client.get(f"/attachments/{attachment_id}") as download:
            answers[username] = (page, download.status_code)
    assert all(page == download for page, download in answers.values()), answers
    assert answers["zj_head_jk"] == (200, 200) and answers["zj_supervisor"] == (200, 200)
    assert answers["wz_supervisor"] == (403, 403) and answers["hz_planner"] == (403, 403)
    # another department of the same province sees the task, but not the case about it
    assert answers["zj_head_yz"] == (403, 403)


def _lead_indicator(session: Session) -> Indicator:
    indicator = session.scalars(select(Indicator).join(Indicator.lead_department).where(
        Department.name == "疾控处", Department.region_id == 1).order_by(Indicator.id)).first()
    assert indicator is not None, "the demo has an indicator led by the province's 疾控处"
    return indicator


def test_request_files_are_kept_listed_and_downloaded_by_those_who_see_the_request(demo: Flask) -> None:
    with demo.extensions["tracker.sessions"]() as s:
        task_id, indicator_id = _task(s).id, _lead_indicator(s).id
    head = client_for(demo, "zj_head_jk")
    form = head.get(f"/adjustments/task/{task_id}/new").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in form and 'name="files"' in form
    assert head.post(f"/adjustments/task/{task_id}/new", content_type="multipart/form-data", data={
        "milestone_id": 0, "new_date": "2027-03-31", "reason": "设备到货延迟",
        "files": [_pdf("延期说明.pdf"), (io.BytesIO(b"a,b\n1,2\n"), "测算.csv")]}).status_code == 302
    assert head.post(f"/adjustments/indicator/{indicator_id}/new", content_type="multipart/form-data", data={
        "new_value": "97", "reason": "已提前达标", "files": [_pdf("达标情况.pdf")]}).status_code == 302
    with demo.extensions["tracker.sessions"]() as s:
        deadline = s.scalars(select(AdjustmentRequest).where(AdjustmentRequest.task_id == task_id)).one()
        target = s.scalars(select(AdjustmentRequest).where(AdjustmentRequest.indicator_id == indicator_id)).one()
        assert [a.filename for a in deadline.attachments] == ["延期说明.pdf", "测算.csv"]
        assert [a.filename for a in target.attachments] == ["达标情况.pdf"]
        files = {deadline.id: [a.id for a in deadline.attachments], target.id: [a.id for a in target.attachments]}
    for request_id, ids in files.items():
        page = head.get(f"/adjustments/{request_id}").get_data(as_text=True)
        assert all(f'href="/attachments/{i}"' in page for i in ids)
    answers = {}
    for username in _all_usernames(demo):
        client = client_for(demo, username)
        for request_id, ids in files.items():
            page = client.get(f"/adjustments/{request_id}").status_code
            with client.get(f"/attachments/{ids[0]}") as download:
                answers[(username, request_id)] = (page, download.status_code)
    assert all(page == download for page, download in answers.values()), answers
    for request_id in files:  # the target request has no task: its files follow the request, not a task
        assert answers[("zj_head_jk", request_id)] == (200, 200)
        assert answers[("zj_planner", request_id)] == (200, 200)
        assert answers[("zj_head_yz", request_id)] == (403, 403)
        assert answers[("hz_planner", request_id)] == (403, 403)


def test_a_refused_file_refuses_the_request(demo: Flask) -> None:
    with demo.extensions["tracker.sessions"]() as s:
        task_id, indicator_id = _task(s).id, _lead_indicator(s).id
    head = client_for(demo, "zj_head_jk")
    before = _counts(demo), _requests(demo)
    bad = (io.BytesIO(b"MZ\x90\x00"), "说明.pdf")
    response = head.post(f"/adjustments/task/{task_id}/new", content_type="multipart/form-data", data={
        "milestone_id": 0, "new_date": "2027-03-31", "reason": "设备到货延迟", "files": [bad]})
    assert response.status_code == 422 and "内容与扩展名不符" in response.get_data(as_text=True)
    response = head.post(f"/adjustments/indicator/{indicator_id}/new", content_type="multipart/form-data", data={
        "new_value": "97", "reason": "已提前达标", "files": [(io.BytesIO(b"MZ"), "a.exe")]})
    assert response.status_code == 422 and "不支持的文件类型" in response.get_data(as_text=True)
    assert (_counts(demo), _requests(demo)) == before
