"""Cases from the overdue list (several rows at once), 建议督办, the case list filters, and the SQL colour rule
against the Python one."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tracker import timeutil
from tracker.alerts.models import Alert, AlertLevel, AlertStatus, AlertTarget
from tracker.alerts.services import scan
from tracker.auth.models import User
from tracker.errors import DomainError, PermissionDenied
from tracker.permissions import region_ids_below
from tracker.planning.models import Plan
from tracker.regions.models import Department
from tracker.supervision.models import CaseAction, CaseSource, CaseState, SupervisionCase
from tracker.supervision.services import (
    COLOUR_LABELS,
    CaseInput,
    cases_from_alerts,
    colour,
    colour_condition,
    file_case,
    perform,
    suggested_alerts,
)
from tracker.system.calendar import add_working_days
from tracker.tasks.models import Task
from tracker.timeutil import today

from ..conftest import client_for
from .test_cases import PATH, _case_in, _kwargs, _users

A, S = CaseAction, CaseState
DAY = date(2025, 11, 22)


def _user(session: Session, username: str) -> User:
    return session.scalars(select(User).where(User.username == username)).one()


def _scanned(session: Session) -> None:
    scan(session, DAY)
    session.commit()


def _open_alerts_by_task(session: Session, region_id: int = 1) -> dict[int, list[Alert]]:
    """The demo's open alerts of the region's own plans, by task, in id order."""
    alerts = session.scalars(select(Alert).join(Alert.task).join(Task.plan).where(
        Alert.status == AlertStatus.OPEN, Plan.region_id == region_id).order_by(Alert.id))
    by_task: dict[int, list[Alert]] = defaultdict(list)
    for alert in alerts:
        by_task[alert.task_id].append(alert)  # type: ignore[index]
    return dict(by_task)


def _three_tasks(by_task: dict[int, list[Alert]]) -> tuple[int, int, int]:
    """A task with a milestone alert beside another alert (the selection names it twice), and two more."""
    twice = [t for t, alerts in by_task.items()
             if len(alerts) >= 2 and any(a.target == AlertTarget.MILESTONE for a in alerts)]
    assert twice, "the demo has a task with a milestone alert and another open alert"
    others = [t for t in by_task if t != twice[0]]
    assert len(others) >= 2
    return twice[0], others[0], others[1]


def _dept(session: Session, name: str, region_id: int = 1) -> Department:
    return session.scalars(select(Department).where(Department.name == name, Department.region_id == region_id)).one()


def _open_cases(session: Session, task_id: int) -> int:
    return session.scalar(select(func.count()).select_from(SupervisionCase).where(
        SupervisionCase.task_id == task_id, SupervisionCase.state != S.CLOSED)) or 0


def _walk(session: Session, users: dict[str, User], case: SupervisionCase, until: CaseState, head: str = "head") -> None:
    """Take the case along the usual path until it reaches ``until`` (``head`` acts for the department)."""
    for action, role in PATH:
        if case.state == until:
            return
        actor = users[head] if role == "head" else users[role]
        perform(session, actor, case, action, version=case.version_id, **_kwargs(action))
    assert case.state == until


# ---------------------------------------------------------------- from the overdue list


def test_several_rows_make_one_case_per_task_and_skip_tasks_with_an_open_case(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    _scanned(session)
    by_task = _open_alerts_by_task(session)
    twice, fresh, busy = _three_tasks(by_task)
    supervisor = _user(session, "zj_supervisor")
    busy_task = session.get(Task, busy)
    existing = file_case(session, supervisor, CaseInput(source=CaseSource.ROUTINE, department=busy_task.lead_department,
                                                        task=busy_task, title="日常督查", problem="进度滞后"))
    selected = by_task[twice] + by_task[fresh][:1] + by_task[busy][:1]
    before = session.scalar(select(func.count()).select_from(SupervisionCase))

    result = cases_from_alerts(session, supervisor, [a.id for a in reversed(selected)], requirements="限期整改到位",
                               response_days=5)

    assert sorted(c.task_id for c in result.created) == sorted([twice, fresh])
    assert [(t.id, c.id) for t, c in result.skipped] == [(busy, existing.id)]
    assert session.scalar(select(func.count()).select_from(SupervisionCase)) == before + 2
    for case in result.created:
        task = session.get(Task, case.task_id)
        first = by_task[case.task_id][0]
        assert case.source == CaseSource.ALERT and case.alert_id == first.id
        assert case.state == S.ISSUED and case.department_id == task.lead_department_id
        assert case.requirements == "限期整改到位" and task.title in case.problem
        assert case.response_deadline == add_working_days(session, today(), 5)
        assert _open_cases(session, case.task_id) == 1
    numbers = sorted(c.number_seq for c in result.created)
    assert numbers == [numbers[0], numbers[0] + 1]
    assert _open_cases(session, busy) == 1

    again = cases_from_alerts(session, supervisor, [a.id for a in selected], requirements=None, response_days=5)
    assert again.created == []
    assert sorted(t.id for t, _ in again.skipped) == sorted([twice, fresh, busy])


def test_the_batch_refuses_what_it_cannot_file(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    _scanned(session)
    by_task = _open_alerts_by_task(session)
    some = next(iter(by_task.values()))[0]
    supervisor = _user(session, "zj_supervisor")
    with pytest.raises(DomainError, match="请至少选择一条未解除的预警"):
        cases_from_alerts(session, supervisor, [], requirements=None, response_days=5)
    resolved = session.scalars(select(Alert).where(Alert.status != AlertStatus.OPEN)).first()
    if resolved is not None:
        with pytest.raises(DomainError, match="请至少选择一条未解除的预警"):
            cases_from_alerts(session, supervisor, [resolved.id], requirements=None, response_days=5)
    before = session.scalar(select(func.count()).select_from(SupervisionCase))
    with pytest.raises(PermissionDenied):  # a city office does not file on the province's tasks
        cases_from_alerts(session, _user(session, "wz_supervisor"), [some.id], requirements=None, response_days=5)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(SupervisionCase)) == before


def _flashes(page: str) -> list[str]:
    return re.findall(r'<div class="flash flash-\w+" role="status">(.*?)</div>', page, re.S)


def test_post_from_alerts(demo: Flask, db: Session) -> None:
    _scanned(db)
    by_task = _open_alerts_by_task(db)
    twice, fresh, busy = _three_tasks(by_task)
    supervisor = client_for(demo, "zj_supervisor")
    head = client_for(demo, "zj_head_jk")

    one = supervisor.post("/supervision/from-alerts", data={"alert_ids": [str(by_task[busy][0].id)],
                                                            "response_days": "10"})
    assert one.status_code == 302 and re.search(r"/supervision/\d+$", one.headers["Location"])
    db.rollback()  # a new transaction, to see what the requests saved
    busy_case = db.scalars(select(SupervisionCase).where(SupervisionCase.task_id == busy)).one()

    ids = [str(a.id) for a in by_task[twice] + by_task[fresh] + by_task[busy]]
    assert head.post("/supervision/from-alerts", data={"alert_ids": ids, "response_days": "10"}).status_code == 403
    refused = supervisor.post("/supervision/from-alerts", data={"alert_ids": ids, "response_days": "0",
                                                                "back": "/alerts/overdue"})
    assert refused.status_code == 302 and refused.headers["Location"] == "/alerts/overdue"
    assert any("1 到 60 个工作日" in m for m in _flashes(supervisor.get("/supervision/").get_data(as_text=True)))
    db.rollback()
    assert _open_cases(db, twice) == _open_cases(db, fresh) == 0

    many = supervisor.post("/supervision/from-alerts", data={"alert_ids": ids, "response_days": "10",
                                                             "requirements": "请于答复期限前报送整改方案"})
    assert many.status_code == 302 and many.headers["Location"] == "/supervision/"
    messages = _flashes(supervisor.get("/supervision/").get_data(as_text=True))
    db.rollback()
    created = list(db.scalars(select(SupervisionCase).where(SupervisionCase.task_id.in_([twice, fresh]))))
    assert len(created) == 2 and all(c.requirements == "请于答复期限前报送整改方案" for c in created)
    assert any(m.startswith("已立案并下发 2 件督办单") and all(c.number_label in m for c in created) for m in messages)
    busy_title = db.get(Task, busy).title
    assert any(busy_title in m and busy_case.number_label in m and "未重复立案" in m for m in messages)
    assert _open_cases(db, busy) == 1

    outside = supervisor.post("/supervision/from-alerts", data={"alert_ids": ids, "response_days": "10",
                                                                "back": "//elsewhere.example/x"})
    assert outside.headers["Location"] == "/supervision/"  # nothing new, and never an outside address


# ---------------------------------------------------------------- 建议督办


def _expected_suggestions(session: Session, user: User) -> set[int]:
    scope = region_ids_below(session, user.region_id)
    open_tasks = set(session.scalars(select(SupervisionCase.task_id).where(SupervisionCase.state != S.CLOSED)))
    return {a.id for a in session.scalars(select(Alert))
            if a.status == AlertStatus.OPEN and a.level == AlertLevel.SEVERE and a.task is not None
            and a.task.plan.region_id in scope and a.task_id not in open_tasks}


def test_suggestions_are_severe_alerts_without_an_open_case(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    _scanned(session)
    users = _users(session)
    supervisor, city = users["supervisor"], users["city_supervisor"]
    assert session.scalars(select(Alert).where(Alert.status == AlertStatus.OPEN,
                                               Alert.level != AlertLevel.SEVERE)).first() is not None
    suggested = suggested_alerts(session, supervisor)
    assert suggested and {a.id for a in suggested} == _expected_suggestions(session, supervisor)
    assert [a.due_date for a in suggested] == sorted(a.due_date for a in suggested)
    city_suggested = suggested_alerts(session, city)
    assert city_suggested and {a.id for a in city_suggested} == _expected_suggestions(session, city)
    assert {a.id for a in city_suggested} < {a.id for a in suggested}

    jk = _dept(session, "疾控处")
    task = next((a.task for a in suggested if a.task.lead_department_id == jk.id), None)
    assert task is not None, "the demo has a severely overdue task of the province's 疾控处"
    case = file_case(session, supervisor, CaseInput(source=CaseSource.ALERT, department=task.lead_department,
                                                    task=task, title="督办", problem="严重逾期"))
    without = {a.id for a in suggested_alerts(session, supervisor)}
    assert without == _expected_suggestions(session, supervisor)
    assert without == {a.id for a in suggested if a.task_id != task.id}
    _walk(session, users, case, S.CLOSED)
    assert {a.id for a in suggested_alerts(session, supervisor)} == {a.id for a in suggested}  # closed: suggested again


def test_suggestions_page_issues_nothing_by_itself(demo: Flask, db: Session) -> None:
    _scanned(db)
    before = db.scalar(select(func.count()).select_from(SupervisionCase))
    page = client_for(demo, "zj_supervisor").get("/supervision/").get_data(as_text=True)
    section = page.split('id="suggestions"', 1)[1].split("</section>", 1)[0]
    expected = {a.id for a in suggested_alerts(db, _user(db, "zj_supervisor"))}
    assert {int(i) for i in re.findall(r'name="alert_ids" value="(\d+)"', section)} == expected
    assert "建议督办" not in client_for(demo, "zj_head_jk").get("/supervision/").get_data(as_text=True)
    db.rollback()
    assert db.scalar(select(func.count()).select_from(SupervisionCase)) == before


# ---------------------------------------------------------------- the list and its filters


def _listed(client, query: str) -> set[int]:  # type: ignore[no-untyped-def]
    response = client.get(f"/supervision/?{query}")
    assert response.status_code == 200, query
    table = response.get_data(as_text=True).split('id="cases"', 1)[1]
    return {int(i) for i in re.findall(r'href="/supervision/(\d+)"', table)}


def test_list_filters(demo: Flask, db: Session) -> None:
    users = _users(db)
    users["head_yz"] = _user(db, "zj_head_yz")
    jk, yz, jc = _dept(db, "疾控处"), _dept(db, "医政医管处"), _dept(db, "基层卫生处")
    city_jk = _dept(db, "疾控处", users["city_supervisor"].region_id)

    def new(source: CaseSource, dept: Department, by: str = "supervisor") -> SupervisionCase:
        return file_case(db, users[by], CaseInput(source=source, department=dept, title=f"{source.label}督办",
                                                  problem="进度滞后", instruction="请抓紧推进"))

    cases = {"filed": new(CaseSource.ROUTINE, jk), "issued": new(CaseSource.ROUTINE, jk),
             "rectifying_yz": new(CaseSource.SPECIAL, yz), "submitted": new(CaseSource.ALERT, jk),
             "closed": new(CaseSource.LEADER, jk), "city": new(CaseSource.ROUTINE, city_jk, "city_supervisor")}
    _walk(db, users, cases["issued"], S.ISSUED)
    _walk(db, users, cases["rectifying_yz"], S.RECTIFYING, head="head_yz")
    _walk(db, users, cases["submitted"], S.SUBMITTED)
    _walk(db, users, cases["closed"], S.CLOSED)
    perform(db, users["city_supervisor"], cases["city"], A.ISSUE, version=cases["city"].version_id)
    with timeutil.frozen("2024-06-03"):
        cases["last_year"] = new(CaseSource.SPECIAL, jc)
        perform(db, users["supervisor"], cases["last_year"], A.ISSUE, version=cases["last_year"].version_id)
    # the colours of the answers due: late, due today, in two days, in three
    for key, days in (("issued", -1), ("rectifying_yz", 0), ("submitted", -5), ("city", 3)):
        db.execute(update(SupervisionCase).where(SupervisionCase.id == cases[key].id)
                   .values(response_deadline=DAY + timedelta(days=days)))
    db.commit()
    for c in cases.values():
        db.refresh(c)
    ids = {k: c.id for k, c in cases.items()}
    everything = set(ids.values())

    def expected(**match: object) -> set[int]:
        chosen = set()
        for c in cases.values():
            years = {c.number_year, timeutil.to_local(c.created_at).year}
            if (match.get("state") in (None, c.state) and match.get("source") in (None, c.source)
                    and match.get("department") in (None, c.department_id) and match.get("year") in (None, *years)
                    and match.get("colour") in (None, colour(c, DAY))):
                chosen.add(c.id)
        return chosen

    supervisor = client_for(demo, "zj_supervisor")
    assert _listed(supervisor, "") == everything
    for state in CaseState:
        assert _listed(supervisor, f"state={state.value}") == expected(state=state), state
    for source in CaseSource:
        assert _listed(supervisor, f"source={source.value}") == expected(source=source), source
    for dept in (jk, yz, jc, city_jk):
        assert _listed(supervisor, f"department={dept.id}") == expected(department=dept.id), dept.name
    # by the responsible department's region; the department filter lists that region's departments with cases
    province, city_region = users["supervisor"].region_id, users["city_supervisor"].region_id
    assert _listed(supervisor, f"region={city_region}") == {ids["city"]}
    assert _listed(supervisor, f"region={province}") == everything - {ids["city"]}
    assert _listed(supervisor, f"region={city_region}&department={jk.id}") == set()

    def department_choices(query: str) -> set[int]:
        page = supervisor.get(f"/supervision/?{query}").get_data(as_text=True)
        field = page.split('name="department"', 1)[1].split("</select>", 1)[0]
        return {int(i) for i in re.findall(r'value="(\d+)"', field)}

    def region_choices(query: str) -> list[str]:
        page = supervisor.get(f"/supervision/?{query}").get_data(as_text=True)
        field = page.split('name="region"', 1)[1].split("</select>", 1)[0]
        return re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', field)

    # the region filter: the province and its cities, and a chosen city's counties under it
    first = region_choices("")
    assert first[0] == "浙江省" and all(name.startswith("\u3000") for name in first[1:]) and len(first) == 4
    opened = region_choices(f"region={city_region}")
    assert len(opened) > len(first) and any(name.startswith("\u3000\u3000") for name in opened)
    assert department_choices("") == {jk.id, yz.id, jc.id}  # the office's own region
    assert department_choices(f"region={city_region}") == {city_jk.id}
    assert department_choices(f"region={city_region}&department={jk.id}") == {city_jk.id, jk.id}
    for year in (2024, 2025, 2023):
        assert _listed(supervisor, f"year={year}") == expected(year=year), year
    for name in COLOUR_LABELS:
        assert _listed(supervisor, f"colour={name}") == expected(colour=name), name
    # what the colours are, written out: late, due today, answered, closed; the rest on time
    assert expected(colour="red") == {ids["issued"], ids["last_year"]}
    assert expected(colour="yellow") == {ids["rectifying_yz"]}
    assert expected(colour="grey") == {ids["closed"]}
    assert expected(colour="blue") == {ids["filed"], ids["submitted"], ids["city"]}
    assert _listed(supervisor, f"state=issued&department={jk.id}&year=2025&colour=red&source=routine") == {ids["issued"]}
    assert _listed(supervisor, "state=issued&year=2024") == {ids["last_year"]}
    assert _listed(supervisor, "state=closed&colour=red") == set()

    head = client_for(demo, "zj_head_jk")  # a department sees its own cases, and filters within them
    own = {c.id for c in cases.values() if c.department_id == jk.id}
    assert _listed(head, "") == own
    assert _listed(head, f"department={yz.id}") == set()
    assert _listed(head, "colour=red") == {ids["issued"]}
    assert 'name="region"' not in head.get("/supervision/").get_data(as_text=True)  # nothing to choose between
    city = client_for(demo, "wz_supervisor")  # a city office sees its region, not the province's
    assert _listed(city, "") == {ids["city"]}
    for bad in ("state=open", "colour=green", "source=x", "year=20x6", "department=abc", "region=abc"):
        assert supervisor.get(f"/supervision/?{bad}").status_code == 400, bad


# ---------------------------------------------------------------- colour in SQL and in Python


def test_sql_colour_agrees_with_python_colour_on_each_side_of_every_boundary(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    users = _users(session)
    cases = [_case_in(session, users, state) for state in CaseState]
    returned = _case_in(session, users, S.SUBMITTED)  # back to 整改中 with its earlier submission time kept
    perform(session, users["supervisor"], returned, A.RETURN, version=returned.version_id, comment="材料不全")
    assert returned.state == S.RECTIFYING and returned.submitted_at is not None
    cases.append(returned)
    session.commit()
    deadline = cases[1].response_deadline
    assert deadline is not None and all(c.response_deadline in (None, deadline) for c in cases)
    ids = [c.id for c in cases]
    seen: dict[tuple[int, int], str] = {}
    for offset in range(-4, 3):  # four days before the answer is due to two days after it
        day = deadline + timedelta(days=offset)
        by_sql: dict[int, str] = {}
        for name in COLOUR_LABELS:
            for case_id in session.scalars(select(SupervisionCase.id).where(SupervisionCase.id.in_(ids),
                                                                           colour_condition(name, day))):
                assert case_id not in by_sql, (case_id, day, name, by_sql.get(case_id))
                by_sql[case_id] = name
        by_python = {c.id: colour(c, day) for c in cases}
        assert by_sql == by_python, day
        seen.update({(c.id, offset): by_python[c.id] for c in cases})
    # and the rule itself, for a case still awaiting the department's answer
    for waiting in (cases[1], cases[2], cases[3], returned):
        assert [seen[(waiting.id, o)] for o in range(-4, 3)] == ["blue", "blue", "yellow", "yellow", "yellow",
                                                                 "red", "red"], waiting.state
    assert {seen[(cases[0].id, o)] for o in range(-4, 3)} == {"blue"}  # filed: no answer is due yet
    assert {seen[(cases[4].id, o)] for o in range(-4, 3)} == {"blue"}  # submitted: answered
    assert {seen[(cases[5].id, o)] for o in range(-4, 3)} == {"grey"}


def test_the_list_puts_what_awaits_the_department_first_and_reads_its_first_page_from_the_queue_index(
        demo: Flask, db: Session) -> None:
    """The database keeps each case's place in the queue from its state (a generated column): the department's
    cases first, then those awaiting the office's review, those not yet issued, the closed ones; by response
    deadline within each. A change of state moves the case at once, and the first page is read from the index
    on the queue and the deadline, not by sorting every case."""
    from tracker.supervision.models import QUEUE
    from tracker.supervision.services import CaseFilters, case_list

    office = db.scalars(select(User).where(User.username == "zj_supervisor")).one()
    users = _users(db)
    for state in CaseState:
        _case_in(db, users, state)
    db.commit()
    listed = list(db.scalars(case_list(db, office, CaseFilters(), today())))
    assert listed and [c.queue for c in listed] == sorted(c.queue for c in listed)
    assert all(c.queue == QUEUE[c.state] for c in listed)
    assert {c.state for c in listed if c.queue == 0} <= {CaseState.ISSUED, CaseState.ACKNOWLEDGED, CaseState.RECTIFYING}
    submitted = next(c for c in listed if c.state == CaseState.SUBMITTED)
    db.execute(update(SupervisionCase).where(SupervisionCase.id == submitted.id).values(state=CaseState.RECTIFYING))
    db.expire_all()
    assert db.get(SupervisionCase, submitted.id).queue == 0  # type: ignore[union-attr]

    first_page = case_list(db, office, CaseFilters(), today()).limit(50)
    compiled = first_page.compile(db.get_bind())
    conn = db.connection()
    if db.get_bind().dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params))
    else:
        plan = "\n".join(str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled),
                                                                   tuple(compiled.params.values())))
    assert "ix_supervision_cases_queue" in plan, plan
    db.rollback()
