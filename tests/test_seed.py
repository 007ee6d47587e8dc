"""The demo data loads from seeds/, completely, once, and refuses malformed files whole."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.indicators.models import Indicator
from tracker.plans.models import Plan
from tracker.projects.models import KeyProject
from tracker.regions.models import Department, Region
from tracker.seeding import SeedError, load_seeds
from tracker.tasks.models import Milestone, ProgressReport, Task, TaskLevel, TaskStatus

from .conftest import SEEDS


def _count(session: Session, stmt) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(stmt.subquery()))


def _plan(session: Session, code: str) -> Plan:
    return session.scalars(select(Plan).where(Plan.code == code)).one()


def test_provincial_plan_is_complete(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    zj14 = _plan(session, "zj-14")
    tasks = select(Task).where(Task.plan_id == zj14.id)
    assert _count(session, tasks.where(Task.level == TaskLevel.CHAPTER)) == 11
    key_codes = set(session.scalars(select(Task.code).where(Task.plan_id == zj14.id,
                                                            Task.level == TaskLevel.KEY_TASK)))
    assert key_codes == {str(n) for n in range(1, 34)}
    columns = set(session.scalars(select(Task.code).where(Task.plan_id == zj14.id, Task.code.like("专栏%"))))
    assert columns == {f"专栏{n}" for n in range(1, 18)}
    assert _count(session, select(KeyProject).join(Task).where(Task.plan_id == zj14.id)) == 17
    indicators = list(session.scalars(select(Indicator).where(Indicator.plan_id == zj14.id)))
    assert len(indicators) == 20
    assert sum(1 for i in indicators if i.definition) == 20
    life = next(i for i in indicators if i.name == "人均预期寿命")
    assert life.target_text == "80以上" and life.target_rule["op"] == "ge"


def test_thirteenth_plan_indicators_with_actuals(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    zj13 = _plan(session, "zj-13")
    indicators = list(session.scalars(select(Indicator).where(Indicator.plan_id == zj13.id)))
    assert len(indicators) == 16
    assert all(any(v.year == 2020 for v in i.values) for i in indicators)
    life = next(i for i in indicators if i.name == "人均预期寿命")
    assert (life.target_text, life.values[-1].value_text) == ("78.5", "79.47")


def test_city_and_county_plans_cascade(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    wz, yq, wl = (_plan(session, c) for c in ("wz-14", "yq-14", "wl-2021"))
    assert wz.parent.code == "zj-14" and yq.parent.code == "wz-14"
    wz_keys = list(session.scalars(select(Task).where(Task.plan_id == wz.id, Task.level == TaskLevel.KEY_TASK)))
    assert len(wz_keys) == 8
    assert all(t.upstream is not None and t.upstream.plan.code == "zj-14" for t in wz_keys)
    assert _count(session, select(Task).where(Task.plan_id == yq.id, Task.level == TaskLevel.KEY_TASK)) == 4
    assert _count(session, select(Indicator).where(Indicator.plan_id == yq.id)) > 0
    assert _count(session, select(Task).where(Task.plan_id == wl.id, Task.level == TaskLevel.KEY_TASK)) == 10
    assert (wl.start_year, wl.end_year) == (2021, 2021)


def test_demo_shows_done_in_progress_due_soon_and_overdue_work(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    from datetime import date, timedelta

    today = date(2026, 11, 22)
    leaf = select(Task).where(Task.level == TaskLevel.ANNUAL)
    assert _count(session, leaf.where(Task.status == TaskStatus.DONE)) >= 5
    open_ = leaf.where(Task.status.in_([TaskStatus.IN_PROGRESS, TaskStatus.NOT_STARTED]))
    assert _count(session, open_.where(Task.deadline < today)) >= 8
    assert _count(session, open_.where(Task.deadline < today - timedelta(days=30))) >= 1
    assert _count(session, open_.where(Task.deadline.between(today, today + timedelta(days=15)))) >= 3
    assert _count(session, select(Milestone)) >= 30
    states = set(session.scalars(select(ProgressReport.state).distinct()))
    assert {s.value for s in states} == {"draft", "submitted", "confirmed", "returned"}


def test_seeding_twice_changes_nothing(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    before = [_count(session, select(m)) for m in (Region, Department, Plan, Task, Indicator, Milestone)]
    assert load_seeds(session, SEEDS) == {}
    session.flush()
    after = [_count(session, select(m)) for m in (Region, Department, Plan, Task, Indicator, Milestone)]
    assert before == after


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("plans/030-wz-14.yaml", "level: 重点任务", "level: 大任务", "plans/030-wz-14.yaml · 规划 wz-14 任务 1 · level"),
        ("plans/040-yq-14.yaml", "deadline: 2025-12-31", "deadline: 2025-13-45", "· deadline：“2025-13-45”"),
        ("users.yaml", "role: 规划处", "role: 处长", "users.yaml · 用户"),
        ("plans/040-yq-14.yaml", "progress: ", "progress: 150 #", "超出范围"),
    ],
)
def test_malformed_seed_is_refused_whole(app, session: Session, tmp_path: Path,  # type: ignore[no-untyped-def]
                                         file: str, old: str, new: str, message: str) -> None:
    root = tmp_path / "seeds"
    shutil.copytree(SEEDS, root)
    path = root / file
    content = path.read_text(encoding="utf-8")
    assert old in content
    path.write_text(content.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(SeedError) as info:
        load_seeds(session, root)
    assert message in str(info.value)
    session.rollback()
    assert _count(session, select(Plan)) == 0
    assert _count(session, select(Region)) == 0
