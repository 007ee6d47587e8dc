"""规划衔接 rules: who starts the next plan and from what, what is carried (only what the planner chose), the
baselines (the final confirmed values) and one successor per plan."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker import audit
from tracker.db import unit_of_work
from tracker.errors import DomainError, InvalidTransition, PermissionDenied
from tracker.evaluations.models import Evaluation, EvaluationKind
from tracker.indicators.models import Indicator, IndicatorValue, ValueState
from tracker.planning.models import Plan, PlanStage
from tracker.succession import services
from tracker.succession.models import Succession
from tracker.succession.services import CARRY, CLOSE, Choices, TaskChoice
from tracker.tasks.models import Task, TaskLevel, TaskStatus

from .conftest import PROBLEMS, evaluation_of, final_evaluation, user


def decide(p: services.Proposal, *, carry: dict[int, int | None] | None = None, close: str = "不再作为重点任务",
           chapters: list[int] | None = None, indicators: list[int] | None = None,
           undecided: set[int] = frozenset()) -> Choices:  # type: ignore[assignment]
    """Every listed task closed (with ``close`` as the note) unless carried ({task id: old chapter id or None})
    or left undecided."""
    carry = carry or {}
    tasks = {u.task.id: (TaskChoice(CARRY, carry[u.task.id]) if u.task.id in carry
                         else TaskChoice(CLOSE, note=close, version=u.task.version_id))
             for u in p.unfinished if u.task.id not in undecided}
    return Choices(p.title, p.short_name, p.start_year, p.end_year, chapter_ids=chapters or [], tasks=tasks,
                   indicator_ids=indicators or [])


def plans(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Plan)) or 0


def test_the_proposal_is_the_next_period_with_the_names_moved_on(db: Session, final: Evaluation, planner) -> None:
    p = services.proposal(db, planner, final)
    assert (p.title, p.short_name, p.start_year, p.end_year) == (
        "浙江省卫生健康事业发展“十五五”规划", "省卫健十五五", 2026, 2030)
    assert p.background == PROBLEMS
    assert p.chapters and all(c.level == TaskLevel.CHAPTER for c in p.chapters)
    # the key tasks the evaluation recorded as unfinished, whatever they became since
    assert p.unfinished and all(u.task.level == TaskLevel.KEY_TASK for u in p.unfinished)
    assert all(u.status_then not in (TaskStatus.DONE, TaskStatus.TERMINATED) for u in p.unfinished)
    assert any(u.closed_since for u in p.unfinished)  # done after the evaluation's date
    defaults = services.default_choices(p)
    assert defaults.chapter_ids == [c.id for c in p.chapters]  # chapters are ticked to start with…
    assert defaults.indicator_ids == [] and all(c.action is None for c in defaults.tasks.values())  # …nothing else


def test_an_annual_plan_moves_its_years_on(db: Session) -> None:
    plan = db.scalars(select(Plan).where(Plan.code == "wl-2021")).one()
    assert services.next_period(plan) == (2022, 2022)
    assert services.renamed(plan.title, plan, 2022, 2022) == "温岭市卫生健康2022年“十大行动”计划"
    db.rollback()


def test_the_new_plan_carries_what_was_chosen_and_nothing_else(db: Session, final: Evaluation, planner) -> None:
    p = services.proposal(db, planner, final)
    first, second, *rest = p.unfinished
    chapter = first.chapter_id
    assert chapter is not None
    life = next(c for c in p.indicators if c.indicator.name == "人均预期寿命")
    before = plans(db)
    succession = services.start_next_plan(db, planner, final, decide(
        p, carry={first.task.id: chapter, second.task.id: None}, chapters=[chapter], indicators=[life.indicator.id]))
    db.commit()
    plan = succession.plan
    assert plans(db) == before + 1
    assert (plan.stage, plan.start_year, plan.end_year, plan.region_id) == (PlanStage.DRAFTING, 2026, 2030,
                                                                            final.plan.region_id)
    tasks = db.scalars(select(Task).where(Task.plan_id == plan.id).order_by(Task.id)).all()
    old_chapter = db.get(Task, chapter)
    assert [(t.level, t.code, t.title) for t in tasks] == [
        (TaskLevel.CHAPTER, "一", old_chapter.title),  # type: ignore[union-attr]
        (TaskLevel.KEY_TASK, "1", first.task.title), (TaskLevel.KEY_TASK, "2", second.task.title)]
    assert tasks[1].parent_id == tasks[0].id and tasks[2].parent_id is None
    assert tasks[1].lead_department_id == first.task.lead_department_id
    assert (tasks[1].start_date.isoformat(), tasks[1].deadline.isoformat()) == ("2026-01-01", "2030-12-31")  # type: ignore[union-attr]
    assert [i.name for i in plan.indicators] == ["人均预期寿命"]
    # the rest were closed in the old plan with the planner's note (or, done since, only recorded)
    for u in rest:
        db.refresh(u.task)
        assert u.task.status in (TaskStatus.TERMINATED, TaskStatus.DONE)
        if not u.closed_since:
            assert "不再作为重点任务" in (u.task.status_note or "")
    assert [c["task_id"] for c in succession.not_carried] == [u.task.id for u in rest]
    assert succession.background == PROBLEMS
    assert services.predecessor_of(db, plan).evaluation.plan_id == final.plan_id  # type: ignore[union-attr]
    assert services.successor_of(db, final.plan).plan_id == plan.id  # type: ignore[union-attr]
    entries = audit.history(db, ("plans", plan.id))
    assert any(e.action == "succession" and e.changes.get("background") == [None, PROBLEMS] for e in entries)
    assert any(e.action == "succession" for e in audit.history(db, ("plans", final.plan_id)))


def test_baselines_are_the_final_confirmed_values(db: Session, final: Evaluation, planner) -> None:
    p = services.proposal(db, planner, final)
    by_name = {c.indicator.name: c for c in p.indicators}
    life = by_name["人均预期寿命"]
    assert (life.baseline_text, life.baseline_year, life.from_confirmed) == ("80.43", 2025, True)
    funds = by_name["人均基本公共卫生服务经费"]  # no value at all: the old baseline, and it says so
    assert not funds.from_confirmed and funds.baseline_year == funds.indicator.baseline_year
    succession = services.start_next_plan(db, planner, final, decide(
        p, indicators=[life.indicator.id, funds.indicator.id]))
    db.flush()
    new = {i.name: i for i in succession.plan.indicators}
    assert (new["人均预期寿命"].baseline_text, new["人均预期寿命"].baseline_value,
            new["人均预期寿命"].baseline_year) == ("80.43", Decimal("80.43"), 2025)
    assert new["人均预期寿命"].target_year == 2030 and new["人均预期寿命"].number == 1
    assert new["人均基本公共卫生服务经费"].baseline_text == funds.indicator.baseline_text
    db.rollback()


def test_returned_and_unconfirmed_values_are_not_baselines(db: Session, final: Evaluation, planner) -> None:
    life = db.scalars(select(Indicator).where(Indicator.plan_id == final.plan_id, Indicator.name == "人均预期寿命")).one()
    values = {v.year: v for v in life.values}
    returned = values[2025]
    returned.state, returned.return_reason, returned.returned_at = ValueState.RETURNED, "口径有误", datetime.now(UTC)
    values[2024].state = ValueState.ENTERED
    db.commit()
    p = services.proposal(db, planner, final)
    carry = next(c for c in p.indicators if c.indicator.id == life.id)
    assert (carry.baseline_text, carry.baseline_year) == ("80.02", 2023)  # the latest still confirmed
    services.start_next_plan(db, planner, final, decide(p, indicators=[life.id]))
    db.flush()
    new = db.scalars(select(Indicator).join(Plan).where(Plan.short_name == "省卫健十五五")).one()
    assert (new.baseline_text, new.baseline_year) == ("80.02", 2023)
    db.rollback()


def test_an_undecided_task_refuses_the_start_and_lists_it(db: Session, final: Evaluation, planner) -> None:
    p = services.proposal(db, planner, final)
    left = p.unfinished[0].task
    before = plans(db)
    with pytest.raises(DomainError) as refused:
        services.start_next_plan(db, planner, final, decide(p, undecided={left.id}))
    assert "尚未选择" in refused.value.message and left.code in refused.value.message
    db.rollback()
    assert plans(db) == before


def test_a_task_cannot_go_under_a_chapter_not_carried_nor_close_without_a_note(db: Session, final: Evaluation,
                                                                             planner) -> None:
    p = services.proposal(db, planner, final)
    first = p.unfinished[0]
    with pytest.raises(DomainError, match="没有勾选转入"):
        services.start_next_plan(db, planner, final, decide(p, carry={first.task.id: first.chapter_id}, chapters=[]))
    db.rollback()
    open_one = next(u for u in p.unfinished if not u.closed_since)
    with pytest.raises(DomainError, match="须写明说明"):
        services.start_next_plan(db, planner, final, decide(p, close=" ", carry={
            u.task.id: None for u in p.unfinished if u is not open_one}))
    db.rollback()


def test_only_the_planner_of_the_region_starts_it(db: Session, final: Evaluation) -> None:
    for username in ("zj_evaluator", "zj_head_jk", "hz_planner", "wz_planner", "zj_leader"):
        with pytest.raises(PermissionDenied):
            services.proposal(db, user(db, username), final)
    db.rollback()


def test_only_a_locked_latest_final_evaluation_is_a_basis(later: Flask, db: Session, planner) -> None:
    with pytest.raises(InvalidTransition, match="只有总结评估"):
        services.proposal(db, planner, evaluation_of(db, "zj-14", EvaluationKind.ANNUAL))
    from tracker.evaluations import services as evaluations
    first = final_evaluation(db)
    draft = evaluations.reopen(db, user(db, "admin"), first, "更正")
    with pytest.raises(InvalidTransition, match="尚未锁定"):
        services.proposal(db, planner, draft)
    with pytest.raises(InvalidTransition, match="第2版"):  # the version reopened is superseded
        services.proposal(db, planner, first)
    db.rollback()


def test_a_plan_has_one_successor(db: Session, final: Evaluation, planner) -> None:
    p = services.proposal(db, planner, final)
    made = services.start_next_plan(db, planner, final, decide(p))
    db.commit()
    with pytest.raises(services.SuccessionExists) as again:
        services.start_next_plan(db, planner, final, decide(p))
    assert again.value.link == (f"查看《{made.plan.title}》", "plans.show", {"plan_id": made.plan_id})
    db.rollback()


def test_the_duplicate_plan_rule_applies(db: Session, planner) -> None:
    """省“十三五”'s next period is 2021–2025, and 省卫健十四五 is already there."""
    old = evaluation_of(db, "zj-13")
    p = services.proposal(db, planner, old)
    assert (p.short_name, p.start_year, p.end_year) == ("省卫健十四五", 2021, 2025)
    with pytest.raises(DomainError) as refused:
        services.start_next_plan(db, planner, old, decide(p))
    assert refused.value.field == "short_name"
    db.rollback()


def test_two_starts_at_once_make_one_plan(later: Flask, db: Session) -> None:
    final = final_evaluation(db)
    factory = later.extensions["tracker.sessions"]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def start() -> None:
        barrier.wait(timeout=10)  # (on SQLite the second then queues for the write lock at its first statement)
        try:
            with unit_of_work(factory) as session:
                evaluation = session.get(Evaluation, final.id)
                planner = user(session, "zj_planner")
                p = services.proposal(session, planner, evaluation)
                services.start_next_plan(session, planner, evaluation, decide(p))
            outcomes.append("made")
        except (services.SuccessionExists, IntegrityError):
            outcomes.append("refused")
        except DomainError as exc:  # the duplicate-plan rule, if the second read the first's plan first
            outcomes.append(f"refused: {exc.message}")
        except Exception as exc:  # noqa: BLE001  (shown by the assertion below)
            outcomes.append(f"failed: {exc!r}")

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(o.split(":")[0] for o in outcomes) == ["made", "refused"]
    assert db.scalar(select(func.count()).select_from(Succession)) == 1
    assert db.scalar(select(func.count()).select_from(Plan).where(Plan.short_name == "省卫健十五五")) == 1


def test_ids_not_of_the_plan_are_refused(db: Session, final: Evaluation, planner) -> None:
    p = services.proposal(db, planner, final)
    other = db.scalar(select(Task.id).where(Task.plan_id != final.plan_id, Task.level == TaskLevel.CHAPTER))
    choices = decide(p, chapters=[other])  # type: ignore[list-item]
    with pytest.raises(DomainError, match="不属于原规划"):
        services.start_next_plan(db, planner, final, choices)
    db.rollback()
    assert db.scalar(select(func.count()).select_from(IndicatorValue)) > 0
