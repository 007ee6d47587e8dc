"""The overdue list's counts, order and filter choices are kept per list version: every committed change to
what the list counts, orders or offers gives it a new version, and nothing else does."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from tracker import timeutil
from tracker.alerts.models import Alert, AlertStatus
from tracker.alerts.overdue import OverdueFilters, filter_choices, list_version, overdue_counts, overdue_rows
from tracker.planning.models import PlanStage
from tracker.tasks.models import Task, TaskStatus

from ..conftest import login
from .html import overdue_rows as page_rows
from .world import World


@pytest.fixture
def listed(session: Session, world: World, run_scan) -> dict[str, int]:  # type: ignore[no-untyped-def]
    t = {
        "severe": world.task(session, date(2026, 9, 1), code="1.1", title="省级严重逾期任务"),
        "overdue": world.task(session, date(2026, 11, 10), code="1.2", lead="yz", title="省级逾期任务"),
        "city": world.task(session, date(2026, 11, 1), plan="city", lead="city_jk", code="2.1", title="市级逾期任务"),
    }
    session.commit()
    run_scan()
    return {k: v.id for k, v in t.items()}


def _version(sessions) -> str | None:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return list_version(s)


def _titles(client: FlaskClient, query: str = "") -> list[str]:
    return [r[5] for r in page_rows(client.get("/alerts/overdue" + query).get_data(as_text=True))]


def test_reading_the_list_keeps_its_version(client: FlaskClient, sessions, listed: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    before = _version(sessions)
    assert before is not None
    login(client, "sup")
    assert len(_titles(client)) == 3 and len(_titles(client, "?page=1")) == 3
    assert _version(sessions) == before


def test_a_task_leaving_the_open_statuses_gives_a_new_version(client: FlaskClient, session: Session, sessions,  # type: ignore[no-untyped-def]
                                                             listed: dict[str, int]) -> None:
    login(client, "sup")
    assert "省级严重逾期任务" in _titles(client)
    before = _version(sessions)
    session.rollback()  # a snapshot after the sign-in's writes
    session.get(Task, listed["severe"]).status = TaskStatus.SUSPENDED
    session.commit()
    assert _version(sessions) != before
    assert _titles(client) == ["市级逾期任务", "省级逾期任务"]
    assert overdue_counts(session, _sup(session, listed), OverdueFilters()).total == 2


def test_a_change_the_list_does_not_show_keeps_the_version(session: Session, sessions,  # type: ignore[no-untyped-def]
                                                          listed: dict[str, int]) -> None:
    before = _version(sessions)
    task = session.get(Task, listed["severe"])
    task.progress, task.title = 40, "省级严重逾期任务（改名）"
    session.commit()
    assert _version(sessions) == before


def test_a_department_renamed_shows_in_the_counts(client: FlaskClient, session: Session, world: World,
                                                  listed: dict[str, int]) -> None:
    login(client, "sup")
    assert "医政医管处" in client.get("/alerts/overdue").get_data(as_text=True)
    session.rollback()  # a snapshot after the sign-in's writes
    world.depts["yz"].name = "医政处"
    session.commit()
    html = client.get("/alerts/overdue").get_data(as_text=True)
    table = html.split('id="department-counts"')[1].split("</table>")[0]
    assert "医政处" in table and "医政医管处" not in table


def test_a_plan_leaving_execution_leaves_the_filter_choices(session: Session, world: World,
                                                            listed: dict[str, int]) -> None:
    sup, in_b = world.users["supervisor"], OverdueFilters(region_id=world.county_b.id)
    assert "鹿城规划" in [p.label for p in filter_choices(session, sup, in_b)["plans"]]
    world.plans["b"].stage = PlanStage.ARCHIVED
    session.commit()
    assert "鹿城规划" not in [p.label for p in filter_choices(session, sup, in_b)["plans"]]


def test_a_statement_on_the_alerts_gives_a_new_version(session: Session, sessions,  # type: ignore[no-untyped-def]
                                                       listed: dict[str, int]) -> None:
    """The scan's UPDATE … WHERE statements, and any other, count as changes (not only the ORM's)."""
    before = _version(sessions)
    session.execute(update(Alert).where(Alert.task_id == listed["city"])
                    .values(status=AlertStatus.CANCELLED, resolved_at=timeutil.now()))
    session.commit()
    assert _version(sessions) != before
    assert [r.task.id for r in overdue_rows(session, _sup(session, listed), OverdueFilters())] == [
        listed["severe"], listed["overdue"]]


def test_a_statement_setting_other_columns_keeps_the_version(session: Session, sessions,  # type: ignore[no-untyped-def]
                                                             listed: dict[str, int]) -> None:
    """A roll-up of progress is not a change to the list."""
    before = _version(sessions)
    session.execute(update(Task).where(Task.id == listed["city"]).values(progress=Task.progress + 1))
    session.commit()
    assert _version(sessions) == before


def test_a_rolled_back_change_keeps_the_version(session: Session, sessions, listed: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    before = _version(sessions)
    session.get(Task, listed["severe"]).status = TaskStatus.SUSPENDED
    session.flush()
    session.rollback()
    session.get(Task, listed["overdue"]).progress = 10
    session.commit()
    assert _version(sessions) == before


def test_a_session_sees_its_own_changes_before_it_commits(session: Session, world: World,
                                                          listed: dict[str, int]) -> None:
    """Nothing kept is used while the session holds changes of its own."""
    sup = world.users["supervisor"]
    assert overdue_counts(session, sup, OverdueFilters()).total == 3
    session.get(Task, listed["severe"]).status = TaskStatus.SUSPENDED
    assert list_version(session) is None
    assert overdue_counts(session, sup, OverdueFilters()).total == 2
    assert len(overdue_rows(session, sup, OverdueFilters())) == 2
    session.rollback()
    assert overdue_counts(session, sup, OverdueFilters()).total == 3


@pytest.mark.parametrize("query", ["", "sort=days&dir=asc", "sort=deadline", "sort=department&dir=desc"])
def test_kept_and_read_pages_agree(app: Flask, session: Session, world: World, listed: dict[str, int],
                                   query: str) -> None:
    """A page sliced from the kept order is the page LIMIT and OFFSET read (from either end)."""
    from werkzeug.datastructures import MultiDict

    from tracker.alerts.views import parse_filters

    sup = world.users["supervisor"]
    filters, _ = parse_filters(MultiDict([tuple(kv.split("=")) for kv in query.split("&") if kv]))
    total = overdue_counts(session, sup, filters).total
    kept = [[r.alert.id for r in overdue_rows(session, sup, filters, limit=1, offset=n, total=total)]
            for n in range(total)]
    session.get(Task, listed["severe"]).progress = 5  # a change of its own: the session reads, keeps nothing
    assert list_version(session) is None
    read = [[r.alert.id for r in overdue_rows(session, sup, filters, limit=1, offset=n, total=total)]
            for n in range(total)]
    assert kept == read and len({i for (i,) in kept}) == total


def _sup(session: Session, listed: dict[str, int]):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from tracker.auth.models import User

    return session.scalars(select(User).where(User.username == "sup")).one()
