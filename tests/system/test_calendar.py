"""The working-day calendar: the working-day functions (tracker.system.calendar) over the admin-edited table, seeded from chinese-calendar."""

from __future__ import annotations

from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.audit import AuditEntry
from tracker.errors import DomainError
from tracker.system import calendar as workdays
from tracker.system.models import CalendarDay, CalendarYear, DayKind
from tracker.system.services import (
    calendar_warnings,
    ensure_calendar_years,
    load_library_year,
    remove_calendar_day,
    set_calendar_day,
)

from ..alerts.world import World, build_world
from ..conftest import login


@pytest.fixture
def world(session: Session) -> World:
    w = build_world(session)
    session.commit()
    return w


def test_weekdays_are_working_days_when_a_year_has_no_data(session: Session) -> None:
    calendar = workdays.work_calendar(session)
    assert calendar.is_working_day(date(2026, 11, 20))  # Friday
    assert not calendar.is_working_day(date(2026, 11, 21))  # Saturday
    assert calendar.consulted_missing == {2026}
    assert calendar.add_working_days(date(2026, 11, 20), 1) == date(2026, 11, 23)
    assert calendar.add_working_days(date(2026, 11, 23), -1) == date(2026, 11, 20)
    assert calendar.add_working_days(date(2026, 11, 22), 0) == date(2026, 11, 22)


def test_the_functions_read_the_table(session: Session) -> None:
    assert load_library_year(session, None, 2025) == 33
    assert workdays.is_working_day(session, date(2025, 9, 28))  # make-up Sunday
    assert not workdays.is_working_day(session, date(2025, 10, 1))
    assert workdays.next_working_day(session, date(2025, 10, 1)) == date(2025, 10, 9)
    assert workdays.add_working_days(session, date(2025, 9, 26), 5) == date(2025, 10, 10)
    # (9-26, 10-12]: 9-28, 9-29, 9-30, 10-9, 10-10, 10-11
    assert workdays.working_days_between(session, date(2025, 9, 26), date(2025, 10, 12)) == 6
    assert workdays.working_days_between(session, date(2025, 10, 12), date(2025, 9, 26)) == -6
    assert workdays.work_calendar(session).consulted_missing == set()
    # 2025 had 248 working days (chinese-calendar agrees)
    assert workdays.working_days_between(session, date(2024, 12, 31), date(2025, 12, 31)) == 248


def test_chinese_calendar_seeds_known_years_and_warns_about_the_rest(session: Session) -> None:
    assert workdays.chinese_calendar_year(2027) is None
    days = workdays.chinese_calendar_year(2025)
    assert days is not None and (date(2025, 10, 1), "holiday", "国庆节") in days
    assert (date(2025, 10, 11), "workday", "国庆节") in days
    warnings = ensure_calendar_years(session, [2025, 2026, 2027])
    assert set(session.scalars(select(CalendarYear.year))) == {2025, 2026}
    assert len(warnings) == 1 and "2027年节假日数据缺失" in warnings[0]
    with pytest.raises(DomainError):
        load_library_year(session, None, 2027)


def test_admin_edits_survive_and_an_entered_year_counts_as_known(session: Session, world: World) -> None:
    admin = world.users["admin"]
    set_calendar_day(session, admin, date(2027, 1, 1), DayKind.HOLIDAY, "元旦")
    set_calendar_day(session, admin, date(2027, 2, 20), DayKind.WORKDAY, "春节")
    calendar = workdays.work_calendar(session)
    assert 2027 in calendar.known_years
    assert not calendar.is_working_day(date(2027, 1, 1)) and calendar.is_working_day(date(2027, 2, 20))
    assert session.get(CalendarYear, 2027).source == "manual"
    assert ensure_calendar_years(session, [2027]) == []  # kept, not replaced
    with pytest.raises(DomainError, match="调休上班日应为周六或周日"):
        set_calendar_day(session, admin, date(2027, 3, 3), DayKind.WORKDAY, None)
    remove_calendar_day(session, admin, date(2027, 2, 20))
    assert not workdays.work_calendar(session).is_working_day(date(2027, 2, 20))
    with pytest.raises(DomainError):
        remove_calendar_day(session, admin, date(2027, 2, 20))
    entries = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "calendar_days")).all()
    assert [e.action for e in entries] == ["set", "set", "remove"] and all(e.actor_id == admin.id for e in entries)


def test_only_admins_edit_the_calendar(session: Session, world: World) -> None:
    from tracker.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        set_calendar_day(session, world.users["planner"], date(2027, 1, 1), DayKind.HOLIDAY, "元旦")


def test_the_calendar_page_warns_about_a_year_without_data(client: FlaskClient, world: World) -> None:
    login(client, "adm")
    html = client.get("/system/calendar").get_data(as_text=True)
    assert "2027年节假日数据缺失" in html  # November: next year matters already
    assert "2026年节假日尚未载入" in html


def test_admin_loads_a_year_and_adds_and_removes_days(client: FlaskClient, session: Session,
                                                      world: World) -> None:
    login(client, "adm")
    response = client.post("/system/calendar/load", data={"year": "2025"})
    assert response.status_code == 302
    html = client.get("/system/calendar?year=2025").get_data(as_text=True)
    assert "国庆节" in html and "调休上班" in html and "2025年10月11日" in html
    assert "248" in html  # working days of the year

    response = client.post("/system/calendar/load", data={"year": "2027"})
    assert response.status_code == 422
    assert "chinese-calendar 没有2027年的数据" in response.get_data(as_text=True)

    response = client.post("/system/calendar/days", data={"day": "2027-10-01", "kind": "holiday", "name": "国庆节"})
    assert response.status_code == 302
    assert session.get(CalendarDay, date(2027, 10, 1)).name == "国庆节"
    response = client.post("/system/calendar/days", data={"day": "2027-10-13", "kind": "workday", "name": ""})
    assert response.status_code == 422 and "调休上班日应为周六或周日" in response.get_data(as_text=True)
    response = client.post("/system/calendar/days", data={"day": "not a date", "kind": "holiday"})
    assert response.status_code == 422
    response = client.post("/system/calendar/days/2027-10-01/delete")
    assert response.status_code == 302
    session.rollback()  # a fresh snapshot
    assert session.get(CalendarDay, date(2027, 10, 1)) is None
    assert calendar_warnings(session, [2027]) == []  # entered by hand: known


@pytest.mark.parametrize("user", ["sup", "planner", "head_jk"])
def test_non_admins_cannot_open_the_system_pages(client: FlaskClient, world: World, user: str) -> None:
    login(client, user)
    for url in ("/system/calendar", "/system/settings", "/system/jobs"):
        assert client.get(url).status_code == 403
    assert client.post("/system/calendar/load", data={"year": "2025"}).status_code == 403
