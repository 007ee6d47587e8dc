"""The supervision office's overdue list: who may open it, scope, filters, sorting, paging and counts."""

from __future__ import annotations

from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.alerts.models import AlertLevel
from tracker.alerts.overdue import OverdueFilters, overdue_counts

from ..conftest import login
from .html import overdue_rows, table_rows
from .world import World


@pytest.fixture
def listed(session: Session, world: World, run_scan) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Alerts across the province: ids of the tasks by name."""
    t = {
        "severe": world.task(session, date(2026, 9, 1), code="1.1", title="省级严重逾期任务"),
        "overdue": world.task(session, date(2026, 11, 10), code="1.2", lead="yz", title="省级逾期任务"),
        "soon": world.task(session, date(2026, 11, 25), code="1.3", title="省级临期任务"),
        "city": world.task(session, date(2026, 11, 1), plan="city", lead="city_jk", code="2.1", title="市级逾期任务"),
        "a": world.task(session, date(2026, 11, 1), plan="a", lead="a_jk", code="3.1", title="乐清逾期任务"),
        "b": world.task(session, date(2026, 11, 1), plan="b", lead="b_jk", code="4.1", title="鹿城逾期任务"),
    }
    holder = world.task(session, date(2026, 12, 31), code="1.4", title="含节点的任务")
    world.milestone(session, holder, date(2026, 11, 2), title="完成中期检查")
    session.commit()
    run_scan()
    ids = {k: v.id for k, v in t.items()}
    ids["holder"] = holder.id
    return ids


def _rows(client: FlaskClient, query: str = "") -> list[list[str]]:
    response = client.get("/alerts/overdue" + query)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return overdue_rows(response.get_data(as_text=True))


def _titles(rows: list[list[str]]) -> list[str]:
    return [r[5].split(" 节点：")[0] for r in rows]


@pytest.mark.parametrize("user,status", [("supervisor", 200), ("planner", 200), ("leader", 200), ("admin", 200),
                                         ("head_jk", 403), ("staff_jk", 403), ("evaluator", 403)])
def test_who_may_open_the_overdue_list(client: FlaskClient, world: World, user: str, status: int) -> None:
    login(client, world.users[user].username)
    assert client.get("/alerts/overdue").status_code == status
    assert client.get("/alerts/overdue/export.xlsx").status_code == status


def test_anonymous_users_are_sent_to_login(client: FlaskClient) -> None:
    response = client.get("/alerts/overdue")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_scope_is_the_users_region_and_below(client: FlaskClient, world: World, listed: dict[str, int]) -> None:
    login(client, "sup")
    assert len(_rows(client)) == 7
    client.post("/logout")
    login(client, "city_sup")
    assert sorted(_titles(_rows(client))) == sorted(["市级逾期任务", "乐清逾期任务", "鹿城逾期任务"])
    client.post("/logout")
    login(client, "a_sup")
    assert _titles(_rows(client)) == ["乐清逾期任务"]  # never the neighbouring county's
    # a filter naming another county's region shows nothing rather than leaking it
    assert _rows(client, f"?region={world.county_b.id}") == []


def test_default_order_is_most_days_overdue_first(client: FlaskClient, listed: dict[str, int]) -> None:
    login(client, "sup")
    rows = _rows(client)
    days = [r[8] for r in rows]
    assert days[0] == "逾期82天" and days[-1] == "剩3天"
    assert rows[0][0] == "严重逾期" and rows[0][5] == "省级严重逾期任务"
    asc = _rows(client, "?sort=days&dir=asc")
    assert [r[8] for r in asc] == list(reversed(days))


def test_filters(client: FlaskClient, world: World, listed: dict[str, int]) -> None:
    login(client, "sup")
    assert _titles(_rows(client, f"?plan={world.plans['province'].id}&level=severe")) == ["省级严重逾期任务"]
    assert _titles(_rows(client, f"?department={world.depts['yz'].id}")) == ["省级逾期任务"]
    assert sorted(_titles(_rows(client, f"?region={world.county_a.id}"))) == ["乐清逾期任务"]
    milestone_rows = _rows(client, "?kind=milestone")
    assert [(r[1], r[5]) for r in milestone_rows] == [("节点", "含节点的任务 节点：完成中期检查")]
    assert _titles(_rows(client, "?level=due_soon")) == ["省级临期任务"]
    # days overdue 12 … 21: deadlines 11-01 (21 days), 11-02 (20), 11-10 (12)
    assert sorted(_titles(_rows(client, "?days_min=12&days_max=21"))) == sorted(
        ["市级逾期任务", "乐清逾期任务", "鹿城逾期任务", "含节点的任务", "省级逾期任务"])
    assert _titles(_rows(client, "?days_min=60")) == ["省级严重逾期任务"]
    assert sorted(_titles(_rows(client, "?due_from=2026-11-05&due_to=2026-11-30"))) == ["省级临期任务", "省级逾期任务"]


def test_sort_by_department_and_deadline(client: FlaskClient, listed: dict[str, int]) -> None:
    login(client, "sup")
    by_dept = [r[6] for r in _rows(client, "?sort=department")]
    assert by_dept == sorted(by_dept)
    deadlines = [r[7] for r in _rows(client, "?sort=deadline&dir=desc")]
    assert deadlines[0] == "2026年11月25日" and deadlines[-1] == "2026年9月1日"


def test_paging_and_counts(app, client: FlaskClient, world: World, listed: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    app.config["PAGE_SIZE"] = 3
    login(client, "sup")
    pages = [_rows(client, f"?page={n}") for n in (1, 2, 3)]
    assert [len(p) for p in pages] == [3, 3, 1]
    assert len({r[5] for p in pages for r in p}) == 7
    html = client.get("/alerts/overdue?page=2").get_data(as_text=True)
    assert "第 2 / 3 页，共 7 条" in html
    assert _rows(client, "?page=99") == pages[2]  # past the end: the last page

    counts, _ = table_rows(html, "department-counts")
    by_name = {(r[0], r[1]): r for r in counts}
    # columns: name, region, 严重逾期, 逾期, 临期, 滞后, total; the department with severe items first
    assert counts[0][:2] == ["疾控处", "浙江省"]
    assert by_name["疾控处", "浙江省"][2:] == ["1", "1", "1", "", "3"]
    assert by_name["疾控处", "温州市"][-1] == "1" and by_name["医政医管处", "浙江省"][-1] == "1"
    assert '<a class="count black" data-level="severe"' in html
    assert 'data-level="severe" href="/alerts/overdue?page=2&amp;level=severe"' in html or "level=severe" in html


def test_bad_filter_values_are_explained_not_a_crash(client: FlaskClient, listed: dict[str, int]) -> None:
    login(client, "sup")
    response = client.get("/alerts/overdue?days_min=abc&due_from=2026-13-01&level=nonsense&days_max=1&due_to=x")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "最少逾期天数应为 0 到 100000 之间的整数。" in html
    assert "截止日期起应为日期（YYYY-MM-DD）。" in html
    assert "预警等级的取值无效。" in html
    response = client.get("/alerts/overdue?days_min=30&days_max=10")
    assert "最多逾期天数不能小于最少逾期天数。" in response.get_data(as_text=True)


def test_each_row_links_to_its_task(client: FlaskClient, listed: dict[str, int]) -> None:
    login(client, "sup")
    html = client.get("/alerts/overdue?kind=milestone").get_data(as_text=True)
    assert f'href="/tasks/{listed["holder"]}#milestone-' in html
    assert f'href="/tasks/{listed["severe"]}"' in client.get("/alerts/overdue").get_data(as_text=True)


def test_finished_items_leave_the_list_before_the_next_scan(client: FlaskClient, session: Session,
                                                           listed: dict[str, int]) -> None:
    from tracker.tasks.models import Task, TaskStatus

    task = session.get(Task, listed["severe"])
    task.status, task.completed_on, task.progress = TaskStatus.DONE, date(2026, 11, 22), 100
    session.commit()
    login(client, "sup")
    assert "省级严重逾期任务" not in _titles(_rows(client))


def test_the_list_follows_a_task_to_its_new_lead_department_and_plan_region(
        client: FlaskClient, session: Session, world: World, listed: dict[str, int]) -> None:
    """The list reads each alert's own copy of where its task stands; changing the task or its plan moves it."""
    from tracker.alerts.models import Alert
    from tracker.tasks.models import Task

    yz = world.depts["yz"]
    login(client, "sup")
    assert "省级严重逾期任务" not in _titles(_rows(client, f"?department={yz.id}"))
    session.rollback()  # a snapshot after the sign-in's writes
    session.get(Task, listed["severe"]).lead_department = yz
    session.commit()
    assert "省级严重逾期任务" in _titles(_rows(client, f"?department={yz.id}"))
    assert session.scalars(select(Alert.department_id).where(Alert.task_id == listed["severe"])).all() == [yz.id]

    world.plans["b"].region = world.county_a  # a plan moved to another region (as a correction)
    session.commit()
    assert "鹿城逾期任务" in _titles(_rows(client, f"?region={world.county_a.id}"))
    assert "鹿城逾期任务" not in _titles(_rows(client, f"?region={world.county_b.id}"))


def test_a_task_suspended_or_a_milestone_waived_closes_its_alerts_at_once(session: Session, world: World,
                                                                         listed: dict[str, int]) -> None:
    from tracker.alerts.models import Alert, AlertStatus
    from tracker.tasks.models import Milestone, MilestoneStatus, Task, TaskStatus

    sup = world.users["supervisor"]
    before = overdue_counts(session, sup, OverdueFilters()).total
    session.get(Task, listed["overdue"]).status = TaskStatus.SUSPENDED
    milestone = session.scalar(select(Milestone).where(Milestone.task_id == listed["holder"]))
    milestone.status = MilestoneStatus.WAIVED
    session.commit()
    assert overdue_counts(session, sup, OverdueFilters()).total == before - 2
    closed = session.scalars(select(Alert).where(Alert.status == AlertStatus.CANCELLED)).all()
    assert {(a.task_id, a.milestone_id) for a in closed} == {(listed["overdue"], None),
                                                             (listed["holder"], milestone.id)}


def test_the_list_as_json(client: FlaskClient, listed: dict[str, int]) -> None:
    login(client, "sup")
    data = client.get("/alerts/overdue.json?level=severe").get_json()
    assert data["total"] == 1 and data["counts"] == {"severe": 1}
    (row,) = data["rows"]
    assert row["task_title"] == "省级严重逾期任务" and row["days_overdue"] == 82 and row["deadline"] == "2026-09-01"


def test_the_department_filter_offers_the_chosen_regions_departments(client: FlaskClient, world: World,
                                                                    listed: dict[str, int]) -> None:
    import re

    def options(query: str = "") -> list[str]:
        html = client.get("/alerts/overdue" + query).get_data(as_text=True)
        select = html.split('<select name="department">')[1].split("</select>")[0]
        return re.findall(r">([^<]+)</option>", select)[1:]

    login(client, "sup")
    assert options() == ["浙江省 · 疾控处", "浙江省 · 医政医管处"]  # those with alerts, own region first
    assert options(f"?region={world.county_a.id}") == ["乐清市 · 疾控科"]
    assert options(f"?department={world.depts['b_jk'].id}") == [
        "浙江省 · 疾控处", "浙江省 · 医政医管处", "鹿城区 · 疾控科"]


def test_counts_rank_departments_in_the_database(session: Session, world: World, listed: dict[str, int]) -> None:
    """Only the worst departments, the filtered one and the chosen region's come back, with the totals
    over every department beside them."""
    sup, depts = world.users["supervisor"], world.depts
    counts = overdue_counts(session, sup, OverdueFilters(), worst=2, options_region=world.city.id)
    assert [d["id"] for d in counts.worst][0] == depts["jk"].id and len(counts.worst) == 2
    assert (counts.total, counts.departments, counts.rest) == (7, 5, 7 - 3 - counts.worst[1]["total"])
    assert counts.by_level == {AlertLevel.SEVERE: 1, AlertLevel.OVERDUE: 5, AlertLevel.DUE_SOON: 1}
    assert [d["id"] for d in counts.options] == [depts["city_jk"].id]

    # four departments tie on one 逾期 each: the province's comes first (region code), and every cut agrees
    assert counts.worst[1]["id"] == depts["yz"].id
    everyone = overdue_counts(session, sup, OverdueFilters(), worst=10).worst
    assert [d["id"] for d in everyone] == [depts[k].id for k in ("jk", "yz", "city_jk", "a_jk", "b_jk")]
    for n in range(1, 6):
        assert overdue_counts(session, sup, OverdueFilters(), worst=n).worst == everyone[:n]

    one = overdue_counts(session, sup, OverdueFilters(department_id=depts["yz"].id), worst=2,
                         options_region=world.province.id)
    assert [d["id"] for d in one.worst] == [depts["yz"].id] and one.departments == 1 and one.rest == 0
    assert one.by_level == {AlertLevel.OVERDUE: 1}
    assert {d["id"] for d in one.options} == {depts["jk"].id, depts["yz"].id}


@pytest.mark.parametrize("query", ["", "sort=days&dir=asc", "sort=deadline", "sort=deadline&dir=desc",
                                   "sort=department", "sort=department&dir=desc"])
def test_pages_read_from_the_end_keep_the_order(app, client: FlaskClient, listed: dict[str, int],  # type: ignore[no-untyped-def]
                                                query: str) -> None:
    """Pages past the middle are read backwards from the end: together the pages are the whole list."""
    login(client, "sup")
    whole = _rows(client, "?" + query)
    assert len(whole) == 7
    app.config["PAGE_SIZE"] = 2
    paged = [row for n in (1, 2, 3, 4) for row in _rows(client, f"?{query}&page={n}")]
    assert [r[5] for r in paged] == [r[5] for r in whole]


def test_the_region_filter_opens_the_tree_down_to_the_chosen_region(client: FlaskClient, session: Session,
                                                                      world: World, listed: dict[str, int]) -> None:
    """The region filter offers the reader's region and its children, and choosing one opens its own (a nation's
    thousand regions are not one list); the plans offered are those of the regions offered."""
    from tracker.alerts.overdue import filter_choices

    sup = world.users["supervisor"]
    first = filter_choices(session, sup)
    assert [(r.name, r.depth) for r in first["regions"]] == [("浙江省", 0), ("温州市", 1)]
    assert {p.label for p in first["plans"]} == {world.plans["province"].short_name, world.plans["city"].short_name}
    county = filter_choices(session, sup, OverdueFilters(region_id=world.county_a.id))
    assert [(r.name, r.depth) for r in county["regions"]] == [
        ("浙江省", 0), ("温州市", 1), ("乐清市", 2), ("鹿城区", 2)]
    assert [r.label for r in county["regions"]][2] == "\u3000\u3000乐清市"
    assert world.plans["a"].short_name in {p.label for p in county["plans"]}
    # a region outside the reader's scope opens nothing
    outside = filter_choices(session, world.users["city_supervisor"], OverdueFilters(region_id=world.province.id))
    assert [(r.name, r.depth) for r in outside["regions"]] == [("温州市", 0), ("乐清市", 1), ("鹿城区", 1)]
    login(client, "sup")
    html = client.get(f"/alerts/overdue?region={world.county_a.id}").get_data(as_text=True)
    options = html.split('name="region"')[1].split("</select>")[0]
    assert f'value="{world.county_a.id}" selected' in options and "鹿城区" in options
    assert _titles(_rows(client, f"?region={world.county_a.id}")) == ["乐清逾期任务"]


def _tallies_match(session: Session) -> None:
    """Every tally holds the number of open alerts at its place, level and kind — and nothing else is tallied."""
    from sqlalchemy import func

    from tracker.alerts.models import Alert, AlertDepartmentTally, AlertStatus, AlertTally

    session.expire_all()
    counted = session.execute(
        select(func.coalesce(Alert.region_id, 0), func.coalesce(Alert.department_id, 0), Alert.level, Alert.target,
               func.count())
        .where(Alert.status == AlertStatus.OPEN).group_by(Alert.region_id, Alert.department_id, Alert.level,
                                                         Alert.target)).all()
    tallied = session.execute(select(AlertTally.region_id, AlertTally.department_id, AlertTally.level,
                                     AlertTally.target, AlertTally.n).where(AlertTally.n != 0)).all()
    counted = [(r, d, str(getattr(level, "value", level)), str(getattr(target, "value", target)), n)
               for r, d, level, target, n in counted]
    assert sorted(counted) == sorted(tallied)
    assert counted  # the scenario has open alerts to count
    by_department: dict[int, dict[str, int]] = {}
    for _region, department, level, target, n in counted:
        if target in ("task", "milestone"):
            row = by_department.setdefault(department, dict.fromkeys(("total", *(v.value for v in AlertLevel)), 0))
            row["total"] += n
            row[level] += n
    assert {c.name for c in AlertDepartmentTally.__table__.columns} == {"department_id", *row}
    assert {d.department_id: {c: getattr(d, c) for c in row} for d in session.scalars(select(AlertDepartmentTally))
            if d.total} == by_department


def test_the_tallies_follow_every_writer_of_alerts(session: Session, world: World, listed: dict[str, int],
                                                   run_scan) -> None:  # type: ignore[no-untyped-def]
    """The database keeps the tallies in the statement that changes an alert: raised by the scan, closed with its
    task through the ORM, placed afresh, raised a level, closed or deleted by statements past the ORM."""
    from datetime import UTC, datetime

    from sqlalchemy import delete, update

    from tracker.alerts.models import Alert, AlertLevel, AlertStatus
    from tracker.tasks.models import Task, TaskStatus

    _tallies_match(session)
    session.get(Task, listed["overdue"]).status = TaskStatus.SUSPENDED  # closes its alert (the ORM listener)
    session.get(Task, listed["severe"]).lead_department = world.depts["yz"]  # moves its alert
    world.plans["b"].region = world.county_a
    session.commit()
    _tallies_match(session)
    session.execute(update(Alert).where(Alert.task_id == listed["city"]).values(level=AlertLevel.SEVERE))
    session.execute(update(Alert).where(Alert.task_id == listed["a"]).values(status=AlertStatus.RESOLVED,
                                                                                 resolved_at=datetime.now(UTC)))
    session.execute(delete(Alert).where(Alert.task_id == listed["soon"]))
    session.commit()
    _tallies_match(session)
    session.execute(update(Alert).where(Alert.task_id == listed["a"]).values(status=AlertStatus.OPEN,
                                                                                 resolved_at=None))
    session.execute(update(Task).where(Task.id == listed["b"]).values(status=TaskStatus.DONE, progress=100,
                                                                         completed_on=date(2026, 11, 21)))
    session.commit()
    run_scan()  # closes what the statement left open, raises the deleted alert again
    _tallies_match(session)


@pytest.mark.parametrize("filters", [
    OverdueFilters(), OverdueFilters(level=AlertLevel.OVERDUE), OverdueFilters(target="milestone"),
    OverdueFilters(region_id=-2), OverdueFilters(department_id=-1), OverdueFilters(level=AlertLevel.SEVERE,
                                                                                   region_id=-3)])
@pytest.mark.parametrize("reader", ["supervisor", "city_supervisor"])
def test_counts_from_the_tallies_are_the_counts_of_the_alerts(session: Session, world: World,
                                                             listed: dict[str, int], filters: OverdueFilters,
                                                             reader: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read from the departments' tallies (a reader of every region, unfiltered), from the tallies by place, or
    counted from the alerts, the counts are the same."""
    from dataclasses import replace

    from tracker.alerts import overdue
    from tracker.alerts.models import AlertTarget

    # the regions and department named by position: -2 the city, -3 the county, -1 the city's department
    places = {-2: world.city.id, -3: world.county_a.id, -1: world.depts["city_jk"].id}
    filters = replace(filters, region_id=places.get(filters.region_id or 0),
                      department_id=places.get(filters.department_id or 0),
                      target=AlertTarget(filters.target) if filters.target else None)
    assert overdue._tallied(filters)
    sup = world.users[reader]
    tallied = overdue._counts(session, overdue.list_scope(session, sup), filters, date(2026, 11, 22), 3,
                              world.city.id)
    monkeypatch.setattr(overdue, "_tallied", lambda _filters: False)
    counted = overdue._counts(session, overdue.list_scope(session, sup), filters, date(2026, 11, 22), 3,
                              world.city.id)
    assert tallied == counted
    assert tallied.total or filters.level or filters.target  # something was counted where alerts are listed
