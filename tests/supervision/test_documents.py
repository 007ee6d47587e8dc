"""督办单, 约谈通知书 and 情况通报 in the official layout, and the 督办单 as PDF."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from flask import Flask
from sqlalchemy.orm import Session

from tracker import documents
from tracker.supervision.documents import circular_docx, interview_notice_docx, notice_docx
from tracker.supervision.models import CaseState

from ..conftest import login
from ..test_documents import check_layout, check_pdf, needs_pdf_tools
from .test_cases import _case_in, _task, _users

ISSUER = "浙江省卫生健康委员会督查室"


def _issued(session: Session):  # type: ignore[no-untyped-def]
    case = _case_in(session, _users(session), CaseState.ISSUED, _task(session))
    session.commit()
    return case


def _text(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    return "\n".join([p.text for p in document.paragraphs]
                     + [c.text for t in document.tables for r in t.rows for c in r.cells])


def test_the_notice_is_a_formal_document(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    case = _issued(session)
    document = check_layout(notice_docx(case, ISSUER), "督 办 单", ISSUER, "2025年11月22日")
    assert document.paragraphs[1].text == case.number_label
    fields = {r.cells[0].text: r.cells[1].text for r in document.tables[0].rows}
    assert fields["责任单位"] == "省卫健委疾控处"
    assert fields["督办事项"].startswith(f"《{case.task.plan.title}》")  # the plan's full title
    assert "请省卫健委疾控处于答复期限前" in _text(notice_docx(case, ISSUER))


def test_interview_notice(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    case = _issued(session)
    data = interview_notice_docx(case, "约谈时间：2026年12月10日上午9时。\n\n约谈地点：委机关3楼会议室", date(2026, 12, 6))
    check_layout(data, "约谈通知书", ISSUER, "2026年12月6日")
    text = _text(data)
    assert "省卫健委疾控处：" in text and "决定对你单位进行约谈" in text
    assert "约谈时间：2026年12月10日上午9时。" in text and "约谈地点：委机关3楼会议室。" in text
    assert f"以{case.number_label}督办单督办" in text and f"《{case.task.plan.title}》" in text


def test_circular(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    case = _issued(session)
    case.problem = "进度滞后。"  # a problem written as a sentence is not stopped twice
    data = circular_docx(case, "经查，该单位未在答复期限内报送整改方案。", date(2026, 12, 6))
    check_layout(data, "关于省卫健委疾控处督办事项整改情况的通报", ISSUER, "2026年12月6日")
    text = _text(data)
    assert "各有关单位：" in text and "因进度滞后，" in text and "该督办件状态为“已下发”" in text
    assert "经查，该单位未在答复期限内报送整改方案。" in text


def test_pdf_route_without_libreoffice(demo: Flask, session: Session,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    case = _issued(session)
    monkeypatch.setattr(documents, "libreoffice", lambda: None)
    client = demo.test_client()
    login(client, "zj_supervisor")
    page = client.get(f"/supervision/{case.id}").get_data(as_text=True)
    assert "notice.docx" in page and "notice.pdf" not in page
    response = client.get(f"/supervision/{case.id}/notice.pdf")
    assert response.status_code == 404 and "没有安装 LibreOffice" in response.get_data(as_text=True)


@needs_pdf_tools[0]
@needs_pdf_tools[1]
def test_pdf_route(demo: Flask, session: Session, tmp_path: Path) -> None:
    case = _issued(session)
    client = demo.test_client()
    login(client, "zj_supervisor")
    assert f"/supervision/{case.id}/notice.pdf" in client.get(f"/supervision/{case.id}").get_data(as_text=True)
    response = client.get(f"/supervision/{case.id}/notice.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    check_pdf(response.data, tmp_path, "督办单")


def test_interview_and_circulation_steps_have_their_document(demo, db) -> None:  # type: ignore[no-untyped-def]
    """约谈 and 通报: the step's document is downloadable from the case, and its link goes with the message."""
    from io import BytesIO

    from docx import Document
    from sqlalchemy import select

    from tracker.notifications.models import Event, Notification
    from tracker.supervision.models import CaseAction, CaseState
    from tracker.supervision.services import perform

    from ..conftest import client_for
    from .test_cases import _case_in, _users

    with demo.app_context():
        users = _users(db)
        case = _case_in(db, users, CaseState.ISSUED)
        interview = perform(db, users["supervisor"], case, CaseAction.INTERVIEW, version=case.version_id,
                            comment="定于12月10日上午9时在委机关3楼会议室约谈。")
        circular = perform(db, users["supervisor"], case, CaseAction.CIRCULATE, version=case.version_id,
                           comment="全省通报，限期整改。")
        db.commit()
        body = db.scalars(select(Notification.body).join(Event).where(
            Event.kind == "case.interview", Notification.user_id == users["head"].id)).one()
    assert f"约谈通知书：/supervision/{case.id}/steps/{interview.id}.docx" in body
    client = client_for(demo, "zj_head_jk")
    answer = client.get(f"/supervision/{case.id}/steps/{interview.id}.docx")
    assert answer.status_code == 200
    text = "\n".join(p.text for p in Document(BytesIO(answer.data)).paragraphs)
    assert "约谈通知书" in text and "3楼会议室" in text
    answer = client.get(f"/supervision/{case.id}/steps/{circular.id}.docx")
    assert "情况通报" in answer.headers["Content-Disposition"] or answer.status_code == 200
    assert "全省通报" in "\n".join(p.text for p in Document(BytesIO(answer.data)).paragraphs)
    # a step without a document of its own has none
    issued = next(s for s in case.steps if s.action == CaseAction.ISSUE)
    assert client.get(f"/supervision/{case.id}/steps/{issued.id}.docx").status_code == 404
    assert client_for(demo, "zj_head_yz").get(f"/supervision/{case.id}/steps/{interview.id}.docx").status_code == 403


def test_the_case_page_links_each_escalation_document(demo, db) -> None:  # type: ignore[no-untyped-def]
    from tracker.supervision.models import CaseAction, CaseState
    from tracker.supervision.services import perform

    from ..conftest import client_for
    from .test_cases import _case_in, _users

    with demo.app_context():
        users = _users(db)
        case = _case_in(db, users, CaseState.ISSUED)
        step = perform(db, users["supervisor"], case, CaseAction.CIRCULATE, version=case.version_id,
                       comment="通报全省。")
        db.commit()
    html = client_for(demo, "zj_head_jk").get(f"/supervision/{case.id}").get_data(as_text=True)
    assert f'href="/supervision/{case.id}/steps/{step.id}.docx">下载情况通报（Word）</a>' in html
