"""The closed loop: every (state, action, role) combination, numbering, outcomes, documents."""

from __future__ import annotations

import io
import shutil
import subprocess
import threading
from datetime import date

import pytest
from docx import Document
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.auth.models import User
from tracker.db import begin_write
from tracker.errors import DomainError, InvalidTransition, PermissionDenied
from tracker.regions.models import Department
from tracker.supervision.documents import notice_docx, notice_fields
from tracker.supervision.models import CaseAction, CaseOutcome, CaseSource, CaseState, SupervisionCase
from tracker.supervision.services import CaseInput, colour, file_case, perform, take_number
from tracker.tasks.models import Task, TaskLevel

from ..conftest import login

A, S = CaseAction, CaseState
ROLES = {"supervisor": "zj_supervisor", "head": "zj_head_jk", "staff": "zj_staff_jk", "other_head": "zj_head_yz",
         "planner": "zj_planner", "leader": "zj_leader", "evaluator": "zj_evaluator", "admin": "admin",
         "city_supervisor": "wz_supervisor"}

# What must succeed; everything else must be refused. Written out by hand, not derived from the code.
ALLOWED = {
    (S.FILED, A.ISSUE, "supervisor"),
    (S.ISSUED, A.ACKNOWLEDGE, "head"),
    (S.ISSUED, A.REMIND, "supervisor"), (S.ISSUED, A.INTERVIEW, "supervisor"), (S.ISSUED, A.CIRCULATE, "supervisor"),
    (S.ACKNOWLEDGED, A.PLAN, "head"), (S.ACKNOWLEDGED, A.PLAN, "staff"),
    (S.ACKNOWLEDGED, A.REMIND, "supervisor"), (S.ACKNOWLEDGED, A.INTERVIEW, "supervisor"),
    (S.ACKNOWLEDGED, A.CIRCULATE, "supervisor"),
    (S.RECTIFYING, A.PROGRESS, "head"), (S.RECTIFYING, A.PROGRESS, "staff"), (S.RECTIFYING, A.SUBMIT, "head"),
    (S.RECTIFYING, A.REMIND, "supervisor"), (S.RECTIFYING, A.INTERVIEW, "supervisor"),
    (S.RECTIFYING, A.CIRCULATE, "supervisor"),
    (S.SUBMITTED, A.CLOSE, "supervisor"), (S.SUBMITTED, A.RETURN, "supervisor"),
    (S.SUBMITTED, A.INTERVIEW, "supervisor"), (S.SUBMITTED, A.CIRCULATE, "supervisor"),
}
PATH = [(A.ISSUE, "supervisor"), (A.ACKNOWLEDGE, "head"), (A.PLAN, "head"), (A.SUBMIT, "head"), (A.CLOSE, "supervisor")]
STATE_AFTER = {S.FILED: 0, S.ISSUED: 1, S.ACKNOWLEDGED: 2, S.RECTIFYING: 3, S.SUBMITTED: 4, S.CLOSED: 5}
EXPECTED_STATE = {A.ISSUE: S.ISSUED, A.ACKNOWLEDGE: S.ACKNOWLEDGED, A.PLAN: S.RECTIFYING, A.SUBMIT: S.SUBMITTED,
                  A.CLOSE: S.CLOSED, A.RETURN: S.RECTIFYING}


def _users(session: Session) -> dict[str, User]:
    by_name = {u.username: u for u in session.scalars(select(User).where(User.username.in_(ROLES.values())))}
    return {role: by_name[name] for role, name in ROLES.items()}


def _task(session: Session, dept: str = "疾控处") -> Task:
    return session.scalars(select(Task).join(Task.lead_department).where(
        Department.name == dept, Department.region_id == 1, Task.level == TaskLevel.ANNUAL)
        .order_by(Task.id)).first()


def _kwargs(action: CaseAction) -> dict:  # type: ignore[type-arg]
    return {"comment": "说明", "outcome": CaseOutcome.ON_TIME if action == A.CLOSE else None,
            "rating": 4 if action == A.CLOSE else None, "response_days": 10}


def _case_in(session: Session, users: dict[str, User], state: CaseState, task: Task | None = None) -> SupervisionCase:
    dept = session.scalars(select(Department).where(Department.name == "疾控处", Department.region_id == 1)).one()
    case = file_case(session, users["supervisor"], CaseInput(source=CaseSource.ROUTINE, department=dept, task=task,
                                                             title="日常督查", problem="进度滞后"))
    for action, role in PATH[:STATE_AFTER[state]]:
        perform(session, users[role], case, action, version=case.version_id, **_kwargs(action))
    assert case.state == state
    return case


def test_every_state_action_role_combination(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    users = _users(session)
    session.commit()
    outcomes = {}
    for state in CaseState:
        for action in CaseAction:
            if action == A.FILE:
                continue
            for role in ROLES:
                case = _case_in(session, users, state)
                session.commit()
                try:
                    perform(session, users[role], case, action, version=case.version_id, **_kwargs(action))
                    session.commit()
                    ok = True
                    if action in EXPECTED_STATE:
                        assert case.state == EXPECTED_STATE[action], (state, action, role)
                    else:
                        assert case.state == state
                except (InvalidTransition, PermissionDenied):
                    session.rollback()
                    ok = False
                outcomes[(state, action, role)] = ok
    allowed = {k for k, ok in outcomes.items() if ok}
    assert allowed == ALLOWED


def test_required_fields_of_transitions(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    users = _users(session)
    case = _case_in(session, users, S.SUBMITTED)
    with pytest.raises(DomainError, match="退回须写明原因"):
        perform(session, users["supervisor"], case, A.RETURN, version=case.version_id)
    with pytest.raises(DomainError, match="整改结果"):
        perform(session, users["supervisor"], case, A.CLOSE, version=case.version_id, rating=3)
    with pytest.raises(DomainError, match="1 到 5"):
        perform(session, users["supervisor"], case, A.CLOSE, version=case.version_id, outcome=CaseOutcome.LATE,
                rating=9)
    perform(session, users["supervisor"], case, A.RETURN, version=case.version_id, comment="整改材料不全")
    assert case.state == S.RECTIFYING and case.return_count == 1
    # a reminder, an interview and a circular each need their words, as the office writes them to the department
    for action, message in ((A.REMIND, "请填写催办内容"), (A.INTERVIEW, "请记录约谈情况"), (A.CIRCULATE, "请记录通报内容")):
        with pytest.raises(DomainError, match=message) as refused:
            perform(session, users["supervisor"], case, action, version=case.version_id, comment="  ")
        assert refused.value.field == "comment"
    assert [s.action for s in case.steps][-1] == A.RETURN and case.steps[-1].comment == "整改材料不全"


def test_closed_case_cannot_be_changed(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    users = _users(session)
    case = _case_in(session, users, S.CLOSED)
    assert case.outcome == CaseOutcome.ON_TIME and case.closed_at is not None
    for action in CaseAction:
        if action == A.FILE:
            continue
        for role in ("supervisor", "head"):
            with pytest.raises((InvalidTransition, PermissionDenied)):
                perform(session, users[role], case, action, version=case.version_id, **_kwargs(action))


def test_one_open_case_per_task(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    users = _users(session)
    task = _task(session)
    _case_in(session, users, S.ISSUED, task)
    with pytest.raises(DomainError, match="已有未销号的督办件"):
        _case_in(session, users, S.FILED, task)


def test_response_deadline_counts_working_days(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    users = _users(session)
    case = _case_in(session, users, S.ISSUED)
    # issued on Saturday 2025-11-22: ten working days later is Friday 2025-12-05
    assert case.response_deadline == date(2025, 12, 5)
    assert case.number_label == f"浙卫督〔2025〕{case.number_seq}号"  # the province office's own prefix


def test_colour_follows_the_response(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    users = _users(session)
    case = _case_in(session, users, S.ISSUED)
    assert colour(case, date(2025, 11, 25)) == "blue"
    assert colour(case, date(2025, 12, 3)) == "yellow"
    assert colour(case, date(2025, 12, 6)) == "red"
    for action, role in PATH[1:4]:
        perform(session, users[role], case, action, version=case.version_id, **_kwargs(action))
    assert colour(case, date(2025, 12, 6)) == "blue"  # answered: waiting for the office


def test_numbers_are_gap_free_and_unique_under_concurrent_issuing(demo) -> None:  # type: ignore[no-untyped-def]
    factory = demo.extensions["tracker.sessions"]
    with factory() as s:
        users = _users(s)
        ids = [_case_in(s, users, S.FILED).id for _ in range(12)]
        s.commit()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def issue(case_ids: list[int]) -> None:
        try:
            barrier.wait(5)
            for case_id in case_ids:
                with begin_write(factory()) as s:
                    case = s.get(SupervisionCase, case_id)
                    perform(s, _users(s)["supervisor"], case, A.ISSUE, version=case.version_id, response_days=5)
                    s.commit()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=issue, args=(ids[i::2],)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with factory() as s:
        numbers = sorted(s.scalars(select(SupervisionCase.number_seq).where(SupervisionCase.id.in_(ids))))
    assert numbers == list(range(numbers[0], numbers[0] + 12))


def test_a_failed_issue_leaves_no_gap(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    office = _users(session)["supervisor"].department_id
    first = take_number(session, office, 2030)
    session.rollback()
    assert take_number(session, office, 2030) == first


def test_each_office_numbers_its_own_cases_under_its_prefix(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    """Two offices' first cases of a year are both number 1, each under its own 文号 prefix; the notice names
    the issuing body in full and the department as a reader expects it."""
    users = _users(session)
    province, city = users["supervisor"], users["city_supervisor"]
    dept = session.scalars(select(Department).where(Department.name == "疾控处", Department.region_id == 1)).one()
    wz_dept = session.scalars(select(Department).where(Department.name == "疾控处",
                                                       Department.region_id == city.department.region_id)).one()
    numbers = {}
    for office, department in ((province, dept), (city, wz_dept), (province, dept)):
        case = file_case(session, office, CaseInput(source=CaseSource.ROUTINE, department=department,
                                                    title="日常督查", problem="进度滞后"))
        perform(session, office, case, A.ISSUE, version=case.version_id, response_days=5)
        numbers.setdefault(office.username, []).append(case)
    session.commit()
    province_cases, city_cases = numbers[province.username], numbers[city.username]
    assert [c.number_seq for c in province_cases] == [n := province_cases[0].number_seq, n + 1]
    assert [c.number_label for c in city_cases] == [f"温卫督〔2025〕{city_cases[0].number_seq}号"]
    assert province_cases[0].number_label.startswith("浙卫督〔2025〕")
    # a fresh year starts each office at 1
    assert take_number(session, province.department_id, 2031) == 1
    assert take_number(session, city.department_id, 2031) == 1
    session.rollback()
    case = city_cases[0]
    assert case.issuing_body == "温州市卫生健康委员会督查室"
    fields = dict(notice_fields(case))
    assert fields["责任单位"] == "温州市卫健委疾控处" and fields["督办单编号"] == case.number_label
    assert province_cases[0].department.full_name == "省卫健委疾控处"


def test_notice_docx_reads_back_in_chinese(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    users = _users(session)
    case = _case_in(session, users, S.ISSUED, _task(session))
    data = notice_docx(case, "浙江省卫生健康委员会督查室")
    text = "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)
    cells = [c.text for t in Document(io.BytesIO(data)).tables for row in t.rows for c in row.cells]
    assert "督 办 单" in text and case.number_label in text
    assert "疾控处" in " ".join(cells) and "进度滞后" in cells and "2025年12月5日" in cells


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_notice_docx_converts_to_pdf(demo, session: Session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    users = _users(session)
    case = _case_in(session, users, S.ISSUED, _task(session))
    path = tmp_path / "notice.docx"
    path.write_bytes(notice_docx(case, "浙江省卫生健康委员会督查室"))
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                   check=True, capture_output=True, timeout=120)
    assert (tmp_path / "notice.pdf").stat().st_size > 1000


def test_pages_walk_the_loop(demo) -> None:  # type: ignore[no-untyped-def]
    with demo.extensions["tracker.sessions"]() as s:
        task = _task(s)
    sup, head = demo.test_client(), demo.test_client()
    login(sup, "zj_supervisor")
    login(head, "zj_head_jk")
    response = sup.post("/supervision/new", data={"source": "leader", "department_id": task.lead_department_id,
                                                  "task_id": task.id, "title": "领导批示督办", "problem": "进度滞后",
                                                  "instruction": "请抓紧推进", "response_days": 5})
    assert response.status_code == 302
    case_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    again = sup.get(f"/supervision/new?task={task.id}")
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/supervision/{case_id}")
    with demo.extensions["tracker.sessions"]() as s:
        version = s.get(SupervisionCase, case_id).version_id
    assert "待签收" in head.get("/workspace").get_data(as_text=True)
    assert head.post(f"/supervision/{case_id}/acknowledge", data={"version": version}).status_code == 302
    bad = head.post(f"/supervision/{case_id}/plan", data={"version": version + 1, "comment": ""})
    assert bad.status_code == 422 and "整改方案" in bad.get_data(as_text=True)
    assert head.post(f"/supervision/{case_id}/close", data={"version": version + 1}).status_code == 409
    for url in (f"/supervision/{case_id}", f"/supervision/{case_id}/notice", "/supervision/",
                f"/tasks/{task.id}"):
        assert head.get(url).status_code == 200, url
    with head.get(f"/supervision/{case_id}/notice.docx") as r:
        assert r.status_code == 200 and r.data[:2] == b"PK"
    outsider = demo.test_client()
    login(outsider, "hz_planner")
    assert outsider.get(f"/supervision/{case_id}").status_code == 403
    assert head.post("/supervision/new", data={}).status_code == 403
    assert sup.get("/supervision/999999").status_code == 404


def test_every_error_of_the_case_form_in_one_round(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    """An empty title and problem (the form's checks), a 领导批示件 without the instruction, a department that is
    neither lead nor co-operating on the task and the task's open case (the filing rules): one answer."""
    task = _task(session)
    other = session.scalars(select(Department).where(Department.name == "中医药管理处",
                                                     Department.region_id == 1)).one()
    sup = demo.test_client()
    login(sup, "zj_supervisor")
    first = {"source": "routine", "department_id": task.lead_department_id, "task_id": task.id, "title": "督办",
             "problem": "进度滞后", "response_days": 5}
    assert sup.post("/supervision/new", data=first).status_code == 302
    response = sup.post("/supervision/new", data={"source": "leader", "department_id": other.id, "task_id": task.id,
                                                  "title": "", "problem": "", "response_days": 5})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for message in ("请填写标题。", "请写明发现的问题。", "领导批示件须填写批示内容。", "不是该任务的牵头或配合单位",
                    "该任务已有未销号的督办件"):
        assert message in html, message


def test_task_page_shows_a_case_course_only_to_who_may_open_the_case(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    """A co-operating department sees that the task is under supervision, not the case's comments."""
    from tracker.tasks.models import task_co_departments

    users = _users(session)
    yz = session.scalars(select(Department).where(Department.name == "医政医管处", Department.region_id == 1)).one()
    task = _task(session)
    session.execute(task_co_departments.insert().values(task_id=task.id, department_id=yz.id))
    case = _case_in(session, users, S.ACKNOWLEDGED, task)
    perform(session, users["head"], case, A.PLAN, version=case.version_id, comment="整改方案：十二月底前补齐台账")
    session.commit()
    head, other = demo.test_client(), demo.test_client()
    login(head, "zj_head_jk")
    login(other, "zj_head_yz")
    own = head.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "十二月底前补齐台账" in own and f"/supervision/{case.id}" in own
    response = other.get(f"/tasks/{task.id}")
    assert response.status_code == 200 and other.get(f"/supervision/{case.id}").status_code == 403
    page = response.get_data(as_text=True)
    assert case.number_label in page and "办理过程仅承办单位和督查部门可见" in page
    assert "十二月底前补齐台账" not in page and f"/supervision/{case.id}" not in page


def test_the_case_page_leads_with_the_return_reason_and_the_departments_answer(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    """Whoever opens a returned case reads why it came back first, and the reviewer reads the department's
    answer before the forms to decide on it."""
    users = _users(session)
    case = _case_in(session, users, S.SUBMITTED)
    session.commit()
    supervisor = demo.test_client()
    login(supervisor, ROLES["supervisor"])
    html = supervisor.get(f"/supervision/{case.id}").get_data(as_text=True)
    assert 'id="return-reason"' not in html
    answer, forms = html.index('id="case-answer"'), html.index('id="case-actions"')
    assert answer < forms and "整改结果（提交复核）" in html[answer:forms] and "说明" in html[answer:forms]
    perform(session, users["supervisor"], case, A.RETURN, version=case.version_id, comment="佐证材料缺少验收单")
    session.commit()
    head = demo.test_client()
    login(head, ROLES["head"])
    html = head.get(f"/supervision/{case.id}").get_data(as_text=True)
    reason = html.index('id="return-reason"')
    assert "已退回（第1次）" in html and "佐证材料缺少验收单" in html[reason:html.index("发现的问题")]


def test_a_department_id_past_any_integer_is_refused_beside_the_field(demo) -> None:  # type: ignore[no-untyped-def]
    """A chosen id too large for the database is no choice: the form says so, it does not look the id up."""
    sup = demo.test_client()
    login(sup, "zj_supervisor")
    response = sup.post("/supervision/new", data={"source": "routine", "department_id": "1" + "0" * 30,
                                                  "title": "督办", "problem": "进度滞后", "response_days": 5})
    assert response.status_code == 422
    assert "责任单位" in response.get_data(as_text=True)
