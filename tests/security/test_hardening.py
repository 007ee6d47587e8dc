"""What an attacker and a crowd of double-clicks broke: cases addressed across regions, facts shown before
the permission check, lost races answered with a 500, request arguments passed into url_for, control and
invisible characters, production defaults, the demo's roll-up.

The double-submit cases send the same create from several clients at once (each its own connection); on
PostgreSQL the losers reach the unique constraint, on SQLite they queue behind the first writer and meet
the form's own check. Either way exactly one record is made and every other answer is the duplicate's
message, never a 500."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.auth.models import User
from tracker.db import DUPLICATE, Base, duplicate_message
from tracker.indicators.models import Indicator, IndicatorValue
from tracker.planning.models import Plan
from tracker.regions.models import Department, Region
from tracker.supervision.models import SupervisionCase
from tracker.tasks.models import ProgressReport, Task, TaskLevel

from ..conftest import PASSWORD, client_for, login

PARALLEL = 4


def _user(db: Session, username: str) -> User:
    return db.scalars(select(User).where(User.username == username)).one()


def _task_of_region(db: Session, code: str) -> Task:
    return db.scalars(select(Task).join(Plan).join(Region).where(
        Region.code == code, Task.level != TaskLevel.CHAPTER, Task.lead_department_id.is_not(None))
        .order_by(Task.id).limit(1)).one()


def _at_once(app: Flask, username: str, send: Any) -> list[tuple[int, str]]:
    clients = [client_for(app, username) for _ in range(PARALLEL)]
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        responses = list(pool.map(send, clients))
    return [(r.status_code, r.get_data(as_text=True)) for r in responses]


# ------------------------------------------------------------------ cases across regions (finding 3)


def test_a_case_on_a_task_goes_only_to_its_lead_or_co_departments(demo: Flask, db: Session) -> None:
    """A city office filing on a 乐清 task may not address a 鹿城 department (which could then read the task
    through the case), nor a department of 乐清 that is not on the task."""
    task = _task_of_region(db, "330382")
    lucheng = _user(db, "lc_head_jk").department
    yueqing_other = db.scalars(select(Department).where(
        Department.region_id == task.plan.region_id, Department.id != task.lead_department_id,
        Department.id.not_in([d.id for d in task.co_departments])).limit(1)).one()
    office = client_for(demo, "wz_supervisor")
    for department in (lucheng, yueqing_other):
        response = office.post("/supervision/new", data={
            "source": "routine", "department_id": department.id, "task_id": task.id, "title": "督办",
            "problem": "进度滞后", "response_days": 10})
        assert response.status_code == 422, response.status_code
        assert "不是该任务的牵头或配合单位" in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(SupervisionCase).where(SupervisionCase.task_id == task.id)) == 0
    response = office.post("/supervision/new", data={
        "source": "routine", "department_id": task.lead_department_id, "task_id": task.id, "title": "督办",
        "problem": "进度滞后", "response_days": 10})
    assert response.status_code == 302


# ------------------------------------------------------------------ facts before the check (finding 4)


def test_the_new_case_form_reads_nothing_of_a_task_out_of_scope(demo: Flask, db: Session) -> None:
    sibling = _task_of_region(db, "331081")  # 温岭, a sibling of 乐清's city
    wl_office = client_for(demo, "wl_supervisor")
    assert wl_office.post("/supervision/new", data={
        "source": "routine", "department_id": sibling.lead_department_id, "task_id": sibling.id, "title": "督办",
        "problem": "问题", "response_days": 10}).status_code == 302  # an open case on it now
    yq_office = client_for(demo, "yq_supervisor")
    response = yq_office.get(f"/supervision/new?task={sibling.id}")
    assert response.status_code == 403  # not a redirect to the open case, not the form filled in
    page = response.get_data(as_text=True)
    assert sibling.title not in page and sibling.plan.short_name not in page
    provincial = _task_of_region(db, "330000")  # a plan above: readable, not supervised from 乐清
    assert yq_office.get(f"/supervision/new?task={provincial.id}").status_code == 403


def test_the_overdue_export_names_no_filter_out_of_scope(demo: Flask, db: Session) -> None:
    wenling = db.scalars(select(Plan).join(Region).where(Region.code == "331081")).one()
    department = db.scalars(select(Department).join(Region).where(Region.code == "331081").limit(1)).one()
    office = client_for(demo, "yq_supervisor")
    response = office.get(f"/alerts/overdue/export.csv?plan={wenling.id}&department={department.id}")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert wenling.short_name not in text and department.name not in text and "不在您的管辖范围内" in text
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # the charset said once


def test_confirming_a_plans_values_is_refused_before_anything_is_read(demo: Flask, db: Session) -> None:
    plan = db.scalars(select(Plan).where(Plan.short_name == "温州卫健十四五")).one()
    for username in ("wz_head_jk", "wz_evaluator", "zj_planner", "yq_planner"):
        response = client_for(demo, username).post(f"/indicators/plans/{plan.id}/confirm?year=2025")
        assert response.status_code == 403, username
        assert "没有待确认的监测值" not in response.get_data(as_text=True)


# ------------------------------------------------------------------ 500s that must be answers (finding 5)


@pytest.mark.parametrize("query", ["endpoint=x", "_method=POST", "_external=1", "_anchor=x", "plan_id=1",
                                   "_scheme=https"])
def test_request_arguments_never_reach_url_for(demo: Flask, db: Session, query: str) -> None:
    plan = db.scalars(select(Plan).where(Plan.short_name == "省卫健十四五")).one()
    supervisor, planner = client_for(demo, "zj_supervisor"), client_for(demo, "zj_planner")
    for client, url in ((supervisor, "/alerts/overdue"), (planner, f"/plans/{plan.id}/projects"),
                        (planner, f"/plans/{plan.id}")):
        response = client.get(f"{url}?{query}")
        assert response.status_code in (200, 400), (url, query, response.status_code)


def test_a_control_character_in_a_query_is_a_400(demo: Flask, db: Session) -> None:
    plan = db.scalars(select(Plan).where(Plan.short_name == "省卫健十四五")).one()
    planner = client_for(demo, "zj_planner")
    for url in (f"/plans/{plan.id}?q=%00", f"/plans/{plan.id}?q=a%01b", "/supervision?q=%00", "/plans?%00=1"):
        assert planner.get(url).status_code == 400, url
    assert planner.get(f"/plans/{plan.id}?q=%E7%96%BE%E6%8E%A7").status_code == 200


def _plan_form(title: str) -> dict[str, Any]:
    return {"title": title, "short_name": title[:10], "level": "province", "start_year": 2026, "end_year": 2030,
            "parent_id": "", "investment_unit": "wan", "stage": "drafting", "stage_date": "2025-11-20"}


def test_a_plan_submitted_four_times_at_once_is_made_once(demo: Flask, db: Session) -> None:
    pages = _at_once(demo, "zj_planner",
                     lambda c: c.post("/planning/plans/new", data=_plan_form("浙江省卫生健康事业发展“十五五”规划")))
    assert [c for c, _ in pages].count(302) == 1, [c for c, _ in pages]
    assert all(code in (409, 422) and ("不能重复" in page or "本次没有保存" in page)
               for code, page in pages if code != 302), \
        [(code, re.findall(r"role=\"alert\">([^<]+)", page)) for code, page in pages]
    assert db.scalar(select(func.count()).select_from(Plan).where(Plan.title.like("%十五五%"))) == 1


def test_a_plan_of_the_same_name_over_an_overlapping_period_is_refused(demo: Flask, db: Session) -> None:
    planner = client_for(demo, "zj_planner")
    existing = db.scalars(select(Plan).where(Plan.short_name == "省卫健十四五")).one()
    form = _plan_form(existing.title) | {"short_name": "另一简称", "start_year": 2025, "end_year": 2029}
    response = planner.post("/planning/plans/new", data=form)
    assert response.status_code == 422 and "本地区已有同名规划" in response.get_data(as_text=True)
    form = _plan_form("另一名称") | {"short_name": existing.short_name, "start_year": 2021, "end_year": 2021}
    response = planner.post("/planning/plans/new", data=form)
    assert response.status_code == 422 and "本地区已有同简称规划" in response.get_data(as_text=True)
    assert planner.post("/planning/plans/new", data=_plan_form(existing.title) | {"short_name": "十五五"}).status_code == 302


def test_a_report_submitted_four_times_at_once_is_made_once(demo: Flask, db: Session) -> None:
    head = _user(db, "zj_head_jk")
    task = db.scalars(select(Task).where(Task.lead_department_id == head.department_id,
                                         Task.level == TaskLevel.ANNUAL, Task.year == 2025)
                      .order_by(Task.id).limit(1)).one()
    form = {"period": "month", "period_year": 2025, "period_no": 11, "progress": 50, "achievements": "推进中"}
    pages = _at_once(demo, "zj_head_jk", lambda c: c.post(f"/tasks/{task.id}/reports/new", data=form))
    assert sorted(code for code, _ in pages)[0] == 302 and [c for c, _ in pages].count(302) == 1, pages
    assert all(code in (409, 422) and "本单位该期的填报已存在" in page for code, page in pages if code != 302)
    db.rollback()  # a new read, after the requests
    assert db.scalar(select(func.count()).select_from(ProgressReport).where(
        ProgressReport.task_id == task.id, ProgressReport.period_year == 2025, ProgressReport.period_no == 11,
        ProgressReport.period == "month")) == 1


def test_a_case_filed_four_times_at_once_is_filed_once(demo: Flask, db: Session) -> None:
    task = _task_of_region(db, "330382")
    form = {"source": "routine", "department_id": task.lead_department_id, "task_id": task.id, "title": "督办",
            "problem": "进度滞后", "response_days": 10}
    pages = _at_once(demo, "yq_supervisor", lambda c: c.post("/supervision/new", data=form))
    assert [c for c, _ in pages].count(302) == 1, [c for c, _ in pages]
    assert all(code in (409, 422) and "未销号的督办件" in page for code, page in pages if code != 302), \
        [(code, re.findall(r"class=\"(?:field-)?errors?[^>]*>([^<]+)", page)) for code, page in pages if code != 302]
    db.rollback()  # a new read, after the requests
    assert db.scalar(select(func.count()).select_from(SupervisionCase).where(SupervisionCase.task_id == task.id)) == 1


def test_a_years_first_value_entered_four_times_at_once_is_kept_once(demo: Flask, db: Session) -> None:
    head = _user(db, "wz_head_jk")
    indicator = db.scalars(select(Indicator).where(
        Indicator.lead_department_id == head.department_id,
        ~Indicator.values.any(IndicatorValue.year == 2025)).order_by(Indicator.id).limit(1)).one()
    pages = _at_once(demo, "wz_head_jk", lambda c: c.post(f"/indicators/{indicator.id}/values/2025",
                                                          data={"value_text": "80", "source": "统计"}))
    assert 302 in [c for c, _ in pages] and all(code in (302, 409, 422) for code, _ in pages), \
        [c for c, _ in pages]
    db.rollback()  # a new read, after the requests
    assert db.scalar(select(func.count()).select_from(IndicatorValue).where(
        IndicatorValue.indicator_id == indicator.id, IndicatorValue.year == 2025)) == 1


def test_every_duplicate_message_is_found_from_its_violation(demo: Flask, db: Session) -> None:
    """Each unique constraint that carries a message is recognised from the database's own error (PostgreSQL
    names the constraint, SQLite its columns)."""
    carried = [(t, c) for t in Base.metadata.tables.values()
               for c in [*t.constraints, *t.indexes] if DUPLICATE in getattr(c, "info", {})]
    assert {t.name for t, _ in carried} >= {"plans", "progress_reports", "indicator_values", "supervision_cases",
                                            "evaluations"}
    plan = db.scalars(select(Plan).order_by(Plan.id).limit(1)).one()
    copy = Plan(code="copy", title=plan.title, short_name=plan.short_name + "x", level=plan.level,
                region_id=plan.region_id, start_year=plan.start_year, end_year=plan.end_year)
    db.add(copy)
    with pytest.raises(IntegrityError) as caught:
        db.flush()
    message = duplicate_message(caught.value)
    assert message is not None and "不能重复" in message
    db.rollback()
    report = db.scalars(select(ProgressReport).limit(1)).one()
    db.add(ProgressReport(task_id=report.task_id, department_id=report.department_id, period=report.period,
                          period_year=report.period_year, period_no=report.period_no, progress=0,
                          created_by_id=report.created_by_id))
    with pytest.raises(IntegrityError) as caught:
        db.flush()
    assert duplicate_message(caught.value) == "本单位该期的填报已存在，请打开原填报修改。"
    db.rollback()


# ------------------------------------------------------------------ text hygiene (finding 6)


def test_invisible_and_direction_characters_are_not_kept(demo: Flask, db: Session) -> None:
    planner = client_for(demo, "zj_planner")
    title = "\u202e规划\u200b测试\u2066名称\u2069\ufeff"
    response = planner.post("/planning/plans/new", data=_plan_form(title) | {"short_name": "\u200d简\u200e称"})
    assert response.status_code == 302
    plan = db.scalars(select(Plan).where(Plan.short_name == "简称")).one()
    assert plan.title == "规划测试名称"
    only_invisible = planner.post("/planning/plans/new", data=_plan_form("\u200b\u202e") | {"short_name": "另"})
    assert only_invisible.status_code == 422  # nothing visible left: as good as empty


# ------------------------------------------------------------------ production defaults (finding 8)


def test_production_makes_the_cookie_secure_unless_switched_off(migrated: str, tmp_path: Any,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.config import Config

    config = {"PRODUCTION": True, "SECRET_KEY": "x" * 32, "SESSION_COOKIE_SECURE": None}
    Config.finalise(config)
    assert config["SESSION_COOKIE_SECURE"] is True
    config = {"PRODUCTION": True, "SECRET_KEY": "x" * 32, "SESSION_COOKIE_SECURE": False}
    Config.finalise(config)
    assert config["SESSION_COOKIE_SECURE"] is False
    config = {"PRODUCTION": False, "SECRET_KEY": "x" * 32, "SESSION_COOKIE_SECURE": None}
    Config.finalise(config)
    assert config["SESSION_COOKIE_SECURE"] is False


def test_demo_users_do_not_share_a_password_hash(demo: Flask, db: Session) -> None:
    hashes = list(db.scalars(select(User.password_hash)))
    assert len(hashes) > 20 and len(set(hashes)) == len(hashes)
    login(demo.test_client(), "zj_planner", PASSWORD)


# ------------------------------------------------------------------ the demo rolled up (finding 9)


def test_every_parent_in_the_demo_is_its_childrens_weighted_roll_up(demo: Flask, db: Session) -> None:
    children: dict[int, list[Task]] = {}
    for task in db.scalars(select(Task).where(Task.parent_id.is_not(None))):
        children.setdefault(task.parent_id, []).append(task)  # type: ignore[arg-type]
    assert children
    for parent in db.scalars(select(Task).where(Task.id.in_(children))):
        counted = [c for c in children[parent.id] if c.status.value != "terminated"]
        weight = sum(c.weight for c in counted)
        if not weight:
            continue
        average = Decimal(str(sum(c.progress * c.weight for c in counted))) / Decimal(str(weight))
        expected = int(average.quantize(Decimal(1), ROUND_HALF_UP))  # as the databases round
        assert parent.progress == expected, (parent.code, parent.title, parent.progress, expected)
