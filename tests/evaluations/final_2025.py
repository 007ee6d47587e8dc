"""The 省“十四五” 总结评估 2025 as it is made after the demo's day (the demo data stop on 2025-11-22, before the
plan's last year is closed): key task 13 reported done in January 2026, the 2025 monitoring values entered and
confirmed by the planner in March, then the final evaluation computed, written and locked by the evaluator."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import timeutil
from tracker.auth.models import User
from tracker.evaluations import services as evaluations
from tracker.evaluations.models import Evaluation, EvaluationKind
from tracker.indicators import services as indicators
from tracker.indicators.models import Indicator
from tracker.planning.models import Plan
from tracker.tasks.models import Task, TaskLevel, TaskStatus
from tracker.tasks.services import StatusUpdate, update_task_status

# 省“十四五”'s 2025 monitoring values by indicator number (no. 17 has none), as the year's statistics gave them.
VALUES_2025 = {1: "80.43", 2: "1.65", 3: "3.18", 4: "41.52", 5: "85.3", 6: "4.22", 7: "5.03", 8: "6.78", 9: "5.12",
               10: "95.4", 11: "4.58", 12: "96.1", 13: "73.5", 14: "106.3", 15: "8.51", 16: "90.4", 18: "24.2",
               19: "342", 20: "91.6"}
DONE_AFTER_THE_YEAR = "2026-01-16"  # key task 13 健全中医药传承创新模式 (at 100%) is reported done, after the period
VALUES_CONFIRMED = "2026-03-02"
EVALUATED = "2026-03-16"  # the final evaluation is computed and locked


def user(session: Session, username: str) -> User:
    return session.scalars(select(User).where(User.username == username)).one()


def close_the_year(session: Session) -> None:
    """What happens to 省“十四五” after the demo's day: key task 13 is reported done by its lead department's
    head in January, the 2025 values are entered and confirmed by the planner in March."""
    planner = user(session, "zj_planner")
    plan = session.scalars(select(Plan).where(Plan.code == "zj-14")).one()
    with timeutil.frozen(DONE_AFTER_THE_YEAR):
        task = session.scalars(select(Task).where(Task.plan_id == plan.id, Task.level == TaskLevel.KEY_TASK,
                                                  Task.code == "13")).one()
        assert (task.status, task.progress) == (TaskStatus.IN_PROGRESS, 100)
        update_task_status(session, user(session, "zj_head_zy"), task,
                           StatusUpdate(TaskStatus.DONE, 100, None, task.version_id))
    with timeutil.frozen(VALUES_CONFIRMED):
        by_number = {i.number: i for i in session.scalars(select(Indicator).where(Indicator.plan_id == plan.id))}
        rows = [indicators.Row(n, by_number[n], indicators.ValueInput(text, "浙江省卫生健康统计年鉴"))
                for n, text in VALUES_2025.items()]
        assert indicators.save_values(session, planner, plan, 2025, rows) == len(VALUES_2025)
        assert indicators.confirm_year(session, planner, plan, 2025) == len(VALUES_2025)
    session.commit()


def final_evaluation(session: Session, problems: str | None = None) -> Evaluation:
    """The 2025 final evaluation of 省“十四五” after the year is closed: computed by the evaluator, with the
    evaluators' 存在问题 when given, locked (version 1)."""
    close_the_year(session)
    evaluator = user(session, "zj_evaluator")
    plan = session.scalars(select(Plan).where(Plan.code == "zj-14")).one()
    with timeutil.frozen(EVALUATED):
        evaluation = evaluations.run_evaluation(session, evaluator, plan, EvaluationKind.FINAL, 2025)
        if problems is not None:
            evaluations.write_conclusions(session, evaluator, evaluation, {"problems": problems})
        evaluations.lock(session, evaluator, evaluation, confirmed=True)
    session.commit()
    return evaluation
