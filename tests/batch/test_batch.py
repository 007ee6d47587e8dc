"""Batch work: the confirmation page says what will happen to each row, the run reports each row, a refused
row changes nothing, and running a batch twice does nothing the second time. Also the batch routes × roles
(tests/test_route_matrix.py's OWN_TABLES sends `batch.` here)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.auth.models import User
from tracker.indicators.models import IndicatorValue, ValueState
from tracker.indicators.services import ValueInput, save_value
from tracker.planning.models import Plan
from tracker.regions.models import Department
from tracker.supervision.models import CaseAction, CaseSource, CaseState, CaseStep, SupervisionCase
from tracker.supervision.services import CaseInput, file_case, perform
from tracker.tasks.models import ProgressReport, ReportState, Task, TaskLevel

from ..conftest import login

USERS = {"head": "zj_head_jk", "staff": "zj_staff_jk", "planner": "zj_planner", "supervisor": "zj_supervisor",
         "leader": "zj_leader", "admin": "admin", "outsider": "hz_planner"}
KIND_ROLES = {"cases-acknowledge": {"head"}, "cases-remind": {"supervisor"},
              "reports-confirm": {"planner", "outsider"}, "reports-return": {"planner", "outsider"},
              "values-confirm": {"planner", "outsider"}, "values-return": {"planner", "outsider"}}


def _user(db: Session, name: str) -> User:
    return db.scalars(select(User).where(User.username == name)).one()


def _issued_cases(db: Session, n: int) -> list[SupervisionCase]:
    """``n`` cases issued to the province's 疾控处, each on its own annual task."""
    office, dept = _user(db, "zj_supervisor"), db.scalars(
        select(Department).where(Department.name == "疾控处", Department.region_id == 1)).one()
    tasks = db.scalars(select(Task).where(Task.lead_department_id == dept.id, Task.level == TaskLevel.ANNUAL)
                       .order_by(Task.id).limit(n)).all()
    cases = []
    for task in tasks:
        case = file_case(db, office, CaseInput(source=CaseSource.ROUTINE, department=dept, task=task,
                                               title=f"督办 {task.code}", problem="进度滞后"))
        perform(db, office, case, CaseAction.ISSUE, version=case.version_id)
        cases.append(case)
    db.commit()
    return cases


def _form(ids: list[int], versions: dict[int, int] | None = None, **extra: str) -> dict[str, object]:
    data: dict[str, object] = {"ids": [str(i) for i in ids], **extra}
    for i, v in (versions or {}).items():
        data[f"version_{i}"] = str(v)
    return data


def _hidden(page: str) -> dict[str, object]:
    """The confirmation page's own form, as the browser would send it."""
    ids = re.findall(r'name="ids" value="(\d+)"', page)
    data: dict[str, object] = {"ids": ids}
    for i in ids:
        data[f"version_{i}"] = re.search(rf'name="version_{i}" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    return data


@pytest.mark.parametrize("role", ["anon", *USERS])
def test_batch_routes_by_role(demo: Flask, client, role: str) -> None:  # type: ignore[no-untyped-def]
    if role != "anon":
        login(client, USERS[role])
    for name, allowed in KIND_ROLES.items():
        for path in (f"/batch/{name}/preview", f"/batch/{name}"):
            response = client.post(path, data={})
            if role == "anon":
                assert response.status_code == 302 and "/login" in response.headers["Location"], path
            elif role in allowed:  # nothing chosen: back to the list with a message, nothing done
                assert response.status_code in (302, 422), (path, response.status_code)
            else:
                assert response.status_code == 403, (path, role)
            assert client.get(path).status_code in (302, 405) if role == "anon" else client.get(path).status_code == 405
    if role != "anon":
        assert client.post("/batch/no-such-kind/preview", data={}).status_code == 404


def test_batch_acknowledge_previews_runs_and_does_nothing_twice(demo: Flask, client, db: Session) -> None:  # type: ignore[no-untyped-def]
    cases = _issued_cases(db, 3)
    head = _user(db, "zj_head_jk")
    perform(db, head, cases[2], CaseAction.ACKNOWLEDGE, version=cases[2].version_id)  # already signed for
    db.commit()
    ids = [c.id for c in cases]
    login(client, "zj_head_jk")
    page = client.post("/batch/cases-acknowledge/preview", data=_form(ids)).get_data(as_text=True)
    assert page.count(">将签收</td>") == 2 and "不能签收" in page and "已签收" in page
    assert "共选择 3 项，其中 <strong>2</strong> 项将签收" in page
    db.rollback()
    assert [c.state for c in db.scalars(select(SupervisionCase).where(SupervisionCase.id.in_(ids))
                                        .order_by(SupervisionCase.id))] == [
        CaseState.ISSUED, CaseState.ISSUED, CaseState.ACKNOWLEDGED]  # the preview changed nothing
    steps_before = db.scalar(select(func.count()).select_from(CaseStep))
    form = _hidden(page)
    assert form["ids"] == [str(ids[0]), str(ids[1])]
    result = client.post("/batch/cases-acknowledge", data=form).get_data(as_text=True)
    assert result.count("已签收") >= 2 and "2 项已签收" in result
    db.rollback()
    assert db.scalar(select(func.count()).select_from(CaseStep)) == steps_before + 2
    # the same confirmation sent again (a double click, the back button): every row refused, nothing doubled
    again = client.post("/batch/cases-acknowledge", data=form).get_data(as_text=True)
    assert "未签收" in again and "0 项已签收" in again
    db.rollback()
    assert db.scalar(select(func.count()).select_from(CaseStep)) == steps_before + 2


def test_a_row_changed_since_the_preview_is_refused_and_the_rest_go_through(demo: Flask, client, db: Session) -> None:  # type: ignore[no-untyped-def]
    cases = _issued_cases(db, 2)
    # the first was shown at an earlier version: someone changed it after the confirmation page was made
    versions = {c.id: c.version_id - (1 if n == 0 else 0) for n, c in enumerate(cases)}
    login(client, "zj_head_jk")
    result = client.post("/batch/cases-acknowledge", data=_form(list(versions), versions)).get_data(as_text=True)
    assert "1 项已签收，1 项未办理" in result
    db.rollback()
    states = dict(db.execute(select(SupervisionCase.id, SupervisionCase.state)
                             .where(SupervisionCase.id.in_(list(versions)))).all())
    assert [states[c.id] for c in cases] == [CaseState.ISSUED, CaseState.ACKNOWLEDGED]


def test_a_batch_reminder_needs_its_words_and_refusing_it_changes_nothing(demo: Flask, client, db: Session) -> None:  # type: ignore[no-untyped-def]
    cases = _issued_cases(db, 2)
    versions = {c.id: c.version_id for c in cases}
    steps_before = db.scalar(select(func.count()).select_from(CaseStep))
    login(client, "zj_supervisor")
    refused = client.post("/batch/cases-remind", data=_form(list(versions), versions, text="  "))
    assert refused.status_code == 422 and "请填写催办内容" in refused.get_data(as_text=True)
    db.rollback()
    assert db.scalar(select(func.count()).select_from(CaseStep)) == steps_before
    done = client.post("/batch/cases-remind", data=_form(list(versions), versions, text="请于本周内报送整改方案"))
    assert "2 项已催办" in done.get_data(as_text=True)
    db.rollback()
    reminders = db.scalars(select(CaseStep).where(CaseStep.action == CaseAction.REMIND,
                                                  CaseStep.case_id.in_(list(versions)))).all()
    assert [r.comment for r in reminders] == ["请于本周内报送整改方案"] * 2


def test_planner_confirms_reports_in_scope_only(demo: Flask, client, db: Session) -> None:  # type: ignore[no-untyped-def]
    submitted = db.scalars(select(ProgressReport).where(ProgressReport.state == ReportState.SUBMITTED)
                           .order_by(ProgressReport.id)).all()
    assert submitted, "the demo has reports waiting for the planner"
    ids = [r.id for r in submitted]
    login(client, "hz_planner")  # 杭州's planner may read the province's plan but confirms none of its reports
    page = client.post("/batch/reports-confirm/preview", data=_form(ids)).get_data(as_text=True)
    assert page.count("不能确认：") == len(ids) and 'name="ids"' not in page
    client.post("/logout")
    login(client, "zj_planner")
    page = client.post("/batch/reports-confirm/preview", data=_form(ids)).get_data(as_text=True)
    form = _hidden(page)
    assert form["ids"], page[:2000]
    client.post("/batch/reports-confirm", data=form)
    db.rollback()
    confirmed = {r.id for r in db.scalars(select(ProgressReport).where(ProgressReport.id.in_(ids),
                                                                       ProgressReport.state == ReportState.CONFIRMED))}
    assert confirmed == {int(i) for i in form["ids"]}  # type: ignore[union-attr]


def test_planner_returns_values_with_one_reason(demo: Flask, client, db: Session) -> None:  # type: ignore[no-untyped-def]
    planner = _user(db, "zj_planner")
    plan = db.scalars(select(Plan).where(Plan.code == "zj-14")).one()
    have = set(db.execute(select(IndicatorValue.indicator_id, IndicatorValue.year)).all())
    fresh = [(i, y) for y in (2022, 2023, 2024) for i in plan.indicators
             if i.unit and i.target_rule and (i.id, y) not in have][:3]
    assert len(fresh) >= 2, "the plan has indicators without a value for some year"
    values = [save_value(db, planner, ind, year, ValueInput(value_text="12")) for ind, year in fresh]
    db.commit()
    ids = [v.id for v in values]
    login(client, planner.username)
    page = client.post("/batch/values-return/preview", data=_form(ids)).get_data(as_text=True)
    form = _hidden(page)
    assert form["ids"] == [str(i) for i in ids]
    refused = client.post("/batch/values-return", data=form)  # no reason: the whole batch is refused
    assert refused.status_code == 422 and "请填写退回原因" in refused.get_data(as_text=True)
    db.rollback()
    assert {v.state for v in db.scalars(select(IndicatorValue).where(IndicatorValue.id.in_(ids)))} == {
        ValueState.ENTERED}
    form["text"] = "口径与统计年鉴不一致，请核实后重报"
    assert f"{len(ids)} 项已退回" in client.post("/batch/values-return", data=form).get_data(as_text=True)
    db.rollback()
    returned = db.execute(select(IndicatorValue.state, IndicatorValue.return_reason)
                          .where(IndicatorValue.id.in_(ids))).all()
    assert set(returned) == {(ValueState.RETURNED, form["text"])}
