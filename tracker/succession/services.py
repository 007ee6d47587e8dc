"""规划衔接: a locked final evaluation (总结评估) starts the next period's plan as a draft (起草).

The rules, in one place:

* The basis is a 总结评估 that is locked and is the latest version of its plan, kind and year: a final
  evaluation still being edited (a draft, or a locked version an administrator has reopened) is not one.
* Only the planner of the old plan's region starts it (the one who may edit that plan), and a plan has one
  successor: a second start, from the same evaluation or another of the plan's, is refused with a link to
  the plan already made. Two submissions at once queue on the old plan's row (FOR UPDATE), so the second
  sees the first; the unique constraints on ``plan_successions`` and the duplicate-plan rule stand behind it.
* The new plan is the next period of the same length (2021–2025 → 2026–2030), titled as the old one with
  十四五 → 十五五 and its years moved on, at the stage 起草; the planner may change all four before starting.
* Nothing is carried unless the planner chose it: the old plan's chapters (title only, numbered anew; the
  page ticks them to start with), the key tasks the evaluation recorded as unfinished (not 已完成 and not
  已终止 on its date), each either 转入下一期 (a key task of the new plan, under a carried chapter or at the
  top, over the whole new period) or 本期关闭 (terminated in the old plan with the planner's note, as the
  task pages close a task; one already closed since is only recorded) — an undecided one refuses the
  submit — and the indicators, whose new baseline is the latest confirmed value up to the evaluation's year
  as the evaluation reads it (:func:`tracker.evaluations.queries.courses`; entered and returned values never
  count); one without a confirmed figure keeps its old baseline, and the page says so.
* The evaluation's 存在问题 is attached as the drafting background (kept on the succession record and shown
  on the new plan's page).

Everything is created through the planning services (the same checks and audit entries as by hand) in the
caller's one transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .. import audit
from ..auth.models import User
from ..errors import Checks, DomainError, InvalidTransition
from ..evaluations import plan_review
from ..evaluations.models import Evaluation, EvaluationKind, EvaluationState
from ..evaluations.queries import courses
from ..evaluations.services import latest_version
from ..indicators.models import Indicator
from ..indicators.services import figure
from ..permissions import can_edit_plan, require
from ..planning import indicators as planning_indicators
from ..planning import services as planning
from ..planning import tree
from ..planning.models import Plan, PlanStage
from ..tasks.models import Task, TaskLevel, TaskStatus
from ..timeutil import now
from .models import Succession

NOT_YOURS = "只有本规划所在地区的规划处可以启动下一期规划。"
NOTE_LIMIT = 2000
CARRY, CLOSE = "carry", "close"
ACTIONS = {CARRY: "转入下一期", CLOSE: "本期关闭"}
# The five-year plans' names move on with the period.
FIVE_YEAR_NAMES = {"十二五": "十三五", "十三五": "十四五", "十四五": "十五五", "十五五": "十六五", "十六五": "十七五"}
_FIVE_YEAR = re.compile("|".join(FIVE_YEAR_NAMES))
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")


class SuccessionExists(DomainError):
    """The plan (or this evaluation) has already started its successor: a link to it, not a second one."""

    status_code = 409

    def __init__(self, succession: Succession) -> None:
        plan = succession.plan
        super().__init__(f"已启动下一期规划：《{plan.title}》（{plan.period_label}），不能重复启动。",
                         link=(f"查看《{plan.title}》", "plans.show", {"plan_id": plan.id}))
        self.succession = succession


# ---------------------------------------------------------------------------------------------------
# Who, from what, and what is there already
# ---------------------------------------------------------------------------------------------------


def successor_of(session: Session, plan: Plan) -> Succession | None:
    """The succession started from one of the plan's final evaluations, if any."""
    return session.scalar(select(Succession).join(Evaluation, Evaluation.id == Succession.evaluation_id)
                          .where(Evaluation.plan_id == plan.id).options(selectinload(Succession.plan))
                          .order_by(Succession.id).limit(1))


def predecessor_of(session: Session, plan: Plan) -> Succession | None:
    """The succession the plan was started by, if it was (its predecessor is ``evaluation.plan``)."""
    return session.scalar(select(Succession).where(Succession.plan_id == plan.id)
                          .options(selectinload(Succession.evaluation).selectinload(Evaluation.plan)))


def check_basis(session: Session, evaluation: Evaluation) -> None:
    """A locked final evaluation, the latest version of its plan, kind and year (else InvalidTransition)."""
    if evaluation.kind != EvaluationKind.FINAL:
        raise InvalidTransition(f"只有总结评估可以启动下一期规划，该评估为{evaluation.kind.label}。")
    if evaluation.state != EvaluationState.LOCKED:
        raise InvalidTransition("该总结评估尚未锁定：仍在修改中的评估不能作为下一期规划的依据，请待考核组锁定后再启动。")
    latest = latest_version(session, evaluation.plan, evaluation.kind, evaluation.year)
    if latest is not None and latest.id != evaluation.id:
        raise InvalidTransition(f"该总结评估已有第{latest.version}版，请从最新版本启动下一期规划。")


def is_basis(session: Session, evaluation: Evaluation) -> bool:
    try:
        check_basis(session, evaluation)
    except InvalidTransition:
        return False
    return True


@dataclass(frozen=True)
class Links:
    """What the evaluation and plan pages say of the succession: the plan started from this one, the plan
    this one was started from (with the drafting background), and whether the user may start one here."""

    successor: Succession | None = None
    predecessor: Succession | None = None
    can_start: bool = False
    awaiting_lock: bool = False  # a final evaluation not yet locked: the planner is told it will be possible


def evaluation_links(session: Session, user: User, evaluation: Evaluation) -> Links:
    if evaluation.kind != EvaluationKind.FINAL:
        return Links()
    successor = successor_of(session, evaluation.plan)
    planner = bool(user.is_authenticated and can_edit_plan(user, evaluation.plan))
    return Links(successor=successor, can_start=planner and successor is None and is_basis(session, evaluation),
                 awaiting_lock=planner and successor is None and evaluation.state == EvaluationState.DRAFT)


def plan_links(session: Session, plan: Plan) -> Links:
    return Links(successor=successor_of(session, plan), predecessor=predecessor_of(session, plan))


# ---------------------------------------------------------------------------------------------------
# What the selection page offers
# ---------------------------------------------------------------------------------------------------


def next_period(plan: Plan) -> tuple[int, int]:
    """The period after the plan's, of the same length: 2021–2025 → 2026–2030, 2021 → 2022."""
    length = plan.end_year - plan.start_year + 1
    return plan.end_year + 1, plan.end_year + length


def renamed(text: str, plan: Plan, start_year: int, end_year: int) -> str:
    """A title or short name moved on to the next period: 十四五 → 十五五, the old years to the new ones."""
    text = _FIVE_YEAR.sub(lambda m: FIVE_YEAR_NAMES[m.group()], text)
    years = {str(plan.start_year): str(start_year), str(plan.end_year): str(end_year)}
    return _YEAR.sub(lambda m: years.get(m.group(1), m.group(1)), text)


@dataclass(frozen=True)
class Unfinished:
    """A key task the evaluation recorded as unfinished, as it is now (``task``) and as it was (``status_then``)."""

    task: Task
    status_then: TaskStatus
    chapter_id: int | None  # its chapter in the old plan (the carried chapter it goes under by default)

    @property
    def closed_since(self) -> bool:
        return self.task.status in planning.CLOSED_STATUSES


@dataclass(frozen=True)
class IndicatorCarry:
    """An indicator as it would be carried: the new baseline is the latest confirmed figure up to the
    evaluation's year, or without one the old baseline."""

    indicator: Indicator
    latest: tuple[int, Decimal] | None

    @property
    def from_confirmed(self) -> bool:
        return self.latest is not None

    @property
    def baseline_text(self) -> str | None:
        return figure(self.latest[1]) if self.latest is not None else self.indicator.baseline_text

    @property
    def baseline_year(self) -> int | None:
        return self.latest[0] if self.latest is not None else self.indicator.baseline_year


@dataclass
class Proposal:
    evaluation: Evaluation
    plan: Plan
    title: str
    short_name: str
    start_year: int
    end_year: int
    chapters: list[Task]
    unfinished: list[Unfinished]
    indicators: list[IndicatorCarry]

    @property
    def background(self) -> str | None:
        return self.evaluation.problems


def ensure_can_start(session: Session, actor: User, evaluation: Evaluation) -> None:
    """The planner of the plan's region, from a locked final evaluation, when no successor exists yet."""
    require(can_edit_plan(actor, evaluation.plan), NOT_YOURS)
    check_basis(session, evaluation)
    existing = successor_of(session, evaluation.plan)
    if existing is not None:
        raise SuccessionExists(existing)


def proposal(session: Session, actor: User, evaluation: Evaluation) -> Proposal:
    """What the selection page offers: the new plan's title and period, the chapters, the unfinished key
    tasks and the indicators with their would-be baselines."""
    ensure_can_start(session, actor, evaluation)
    plan = evaluation.plan
    start, end = next_period(plan)
    chapters = list(session.scalars(select(Task).where(Task.plan_id == plan.id, Task.level == TaskLevel.CHAPTER)
                                    .order_by(Task.sort_order, Task.id)))
    review = plan_review.read(evaluation)
    then = {r.task_id: r.status for r in (review.key_tasks if review else [])
            if r.status not in planning.CLOSED_STATUSES}
    tasks = {t.id: t for t in session.scalars(
        select(Task).where(Task.id.in_(then), Task.plan_id == plan.id)
        .options(selectinload(Task.parent), selectinload(Task.lead_department), selectinload(Task.co_departments),
                 selectinload(Task.indicators)))}
    unfinished = [Unfinished(tasks[i], status, _chapter_of(tasks[i])) for i, status in then.items() if i in tasks]
    paths = courses(session, evaluation)
    indicators = [IndicatorCarry(i, paths[i.id].latest if i.id in paths else None) for i in session.scalars(
        select(Indicator).where(Indicator.plan_id == plan.id).order_by(Indicator.number)
        .options(selectinload(Indicator.lead_department)))]
    return Proposal(evaluation, plan, renamed(plan.title, plan, start, end), renamed(plan.short_name, plan, start, end),
                    start, end, chapters, unfinished, indicators)


def _chapter_of(task: Task) -> int | None:
    return task.parent_id if task.parent is not None and task.parent.level == TaskLevel.CHAPTER else None


# ---------------------------------------------------------------------------------------------------
# Starting it
# ---------------------------------------------------------------------------------------------------


@dataclass
class TaskChoice:
    action: str | None = None  # CARRY, CLOSE or None (undecided)
    chapter_id: int | None = None  # the old chapter (carried) it goes under; None: the top of the new plan
    note: str | None = None  # why it is closed
    version: int | None = None  # the task's version the page was drawn with (a close is refused if it moved)


@dataclass
class Choices:
    title: str
    short_name: str
    start_year: int
    end_year: int
    chapter_ids: list[int] = field(default_factory=list)
    tasks: dict[int, TaskChoice] = field(default_factory=dict)
    indicator_ids: list[int] = field(default_factory=list)


def default_choices(p: Proposal) -> Choices:
    """The page as first shown: the chapters ticked, nothing else chosen."""
    return Choices(p.title, p.short_name, p.start_year, p.end_year, chapter_ids=[c.id for c in p.chapters],
                   tasks={u.task.id: TaskChoice(chapter_id=u.chapter_id, version=u.task.version_id)
                          for u in p.unfinished})


def _label(task: Task) -> str:
    return f"{task.code} {task.title[:30]}"


def _check_choices(p: Proposal, choices: Choices) -> None:
    """Every refusal of the lists at once: unknown ids, undecided tasks, a chapter not carried, a note missing."""
    checks = Checks()
    chapters = {c.id: c for c in p.chapters}
    if set(choices.chapter_ids) - set(chapters):
        checks.fail("chapters", "所选的章不属于原规划，请刷新页面后重新选择。")
    if set(choices.indicator_ids) - {c.indicator.id for c in p.indicators}:
        checks.fail("indicators", "所选的指标不属于原规划，请刷新页面后重新选择。")
    listed = {u.task.id: u for u in p.unfinished}
    if set(choices.tasks) - set(listed):
        checks.fail("tasks", "所选的任务不在本期未完成任务之列，请刷新页面后重新选择。")
    undecided = [u.task for u in p.unfinished if (choices.tasks.get(u.task.id) or TaskChoice()).action is None]
    if undecided:
        checks.fail("tasks", f"以下 {len(undecided)} 项未完成任务尚未选择“转入下一期”或“本期关闭”："
                    + "；".join(_label(t) for t in undecided) + "。")
    for task_id, choice in choices.tasks.items():
        if task_id not in listed:
            continue
        task = listed[task_id].task
        if choice.action == CARRY and choice.chapter_id is not None and choice.chapter_id not in choices.chapter_ids:
            chapter = chapters.get(choice.chapter_id)
            checks.fail("tasks", f"任务 {_label(task)} 转入的章" + (f"“{chapter.title}”" if chapter else "")
                        + "没有勾选转入，请勾选该章或改为转入规划顶层。")
        if choice.action == CLOSE and not listed[task_id].closed_since:
            if not (choice.note or "").strip():
                checks.fail("tasks", f"本期关闭任务 {_label(task)} 须写明说明（终止原因）。")
            elif len(choice.note or "") > NOTE_LIMIT:
                checks.fail("tasks", f"任务 {_label(task)} 的说明不能超过{NOTE_LIMIT}字。")
    checks.done()


def start_next_plan(session: Session, actor: User, evaluation: Evaluation, choices: Choices) -> Succession:
    """Start the next period's plan from the final evaluation with the planner's choices (see the module)."""
    old = evaluation.plan
    require(can_edit_plan(actor, old), NOT_YOURS)
    # two starts at once queue here: the second then finds the first's succession
    session.scalar(select(Plan.id).where(Plan.id == old.id).with_for_update())
    p = proposal(session, actor, evaluation)
    _check_choices(p, choices)

    plan = planning.create_plan(session, actor, planning.PlanData(
        title=choices.title, short_name=choices.short_name, level=old.level, start_year=choices.start_year,
        end_year=choices.end_year, investment_unit=old.investment_unit),
        stage=PlanStage.DRAFTING, stage_note=f"由《{old.title}》{evaluation.year}年总结评估启动")

    new_chapters: dict[int, Task] = {}
    for chapter in p.chapters:
        if chapter.id in choices.chapter_ids:
            new_chapters[chapter.id] = planning.create_task(session, actor, plan, None, planning.TaskData(
                level=TaskLevel.CHAPTER, code=planning.suggest_code(session, plan, None, TaskLevel.CHAPTER),
                title=chapter.title))

    new_indicators: dict[int, Indicator] = {}
    for number, carry in enumerate((c for c in p.indicators if c.indicator.id in choices.indicator_ids), start=1):
        new_indicators[carry.indicator.id] = _carry_indicator(session, actor, plan, carry, number)

    start, deadline = date(plan.start_year, 1, 1), date(plan.end_year, 12, 31)
    carried, closed = [], []
    for item in p.unfinished:
        task, choice = item.task, choices.tasks[item.task.id]
        if choice.action == CARRY:
            parent = new_chapters[choice.chapter_id] if choice.chapter_id is not None else None
            try:
                carried.append(planning.create_task(session, actor, plan, parent.id if parent else None,
                                                    planning.TaskData(
                    level=TaskLevel.KEY_TASK, code=planning.suggest_code(session, plan, parent, TaskLevel.KEY_TASK),
                    title=task.title, description=task.description, kind=task.kind,
                    lead_department_id=task.lead_department_id, co_department_ids=[d.id for d in task.co_departments],
                    responsible_person=task.responsible_person, start_date=start, deadline=deadline,
                    weight=task.weight,
                    indicator_ids=[new_indicators[i.id].id for i in task.indicators if i.id in new_indicators])))
            except DomainError as exc:
                raise DomainError(f"转入任务 {_label(task)}：{exc.message}", field="tasks") from None
        else:
            note = (choice.note or "").strip() or None
            if not item.closed_since:
                try:
                    tree.close_task(session, actor, task, f"不再转入下一期规划《{plan.title}》：{note}", choice.version)
                except DomainError as exc:  # (a stale one stays stale: the page shows the task as it is now)
                    raise type(exc)(f"本期关闭任务 {_label(task)}：{exc.message}", field="tasks") from None
            closed.append({"task_id": task.id, "code": task.code, "title": task.title,
                           "note": note or f"评估后已{task.status.label}"})

    succession = Succession(evaluation=evaluation, plan=plan, background=p.background, not_carried=closed,
                            created_by_id=actor.id, created_at=now())
    session.add(succession)
    session.flush()
    not_carried = planning.listed([f"{c['code']} {c['title']}（{c['note']}）" for c in closed])
    what = (f"转入章 {len(new_chapters)} 个、任务 {len(carried)} 项、指标 {len(new_indicators)} 个"
            + (f"，本期关闭任务 {len(closed)} 项" if closed else ""))
    audit.record(session, actor, plan, "succession",
                 changes={"predecessor": [None, f"{old.title}（{old.period_label}）"],
                          "background": [None, p.background]},
                 summary=f"由上一期规划《{old.title}》{evaluation.year}年总结评估启动：{what}")
    audit.record(session, actor, old, "succession",
                 changes={"successor": [None, f"{plan.title}（{plan.period_label}）"],
                          "not_carried": [None, not_carried]},
                 summary=f"依据{evaluation.year}年总结评估（第{evaluation.version}版）启动下一期规划《{plan.title}》：{what}")
    session.flush()
    return succession


def _carry_indicator(session: Session, actor: User, plan: Plan, carry: IndicatorCarry, number: int) -> Indicator:
    """The indicator in the new plan: same name, unit, nature and department; the baseline moved on; the
    target as written before (for the planner to revise while drafting), for the new plan's last year."""
    old = carry.indicator
    direction = old.direction if old.target_rule.get("basis") == "planner" else None
    try:
        return planning_indicators.create_indicator(session, actor, plan, planning_indicators.IndicatorData(
            number=number, name=old.name, target_text=old.target_text, nature=old.nature, category=old.category,
            unit=old.unit, baseline_text=carry.baseline_text, baseline_year=carry.baseline_year,
            target_year=plan.end_year, lead_department_id=old.lead_department_id, definition=old.definition,
            data_source=old.data_source, direction=direction))
    except DomainError as exc:
        raise DomainError(f"转入指标 {old.number}. {old.name}：{exc.message}", field="indicators") from None
