"""督查督办: the closed loop of a supervision case.

The lifecycle is data (TRANSITIONS); `perform` is the one function that moves a case: it checks the
action is allowed from the case's state, that the actor has the role and stands on the right side
(the supervision office, or the responsible department), stamps the time, records a step and an
audit entry. 督办单 numbers are taken per year from a locked counter row, so they have no gaps
and no duplicates even when two supervisors issue at once.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Date, Select, and_, func, literal, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload
from werkzeug.datastructures import FileStorage

from .. import audit
from ..alerts.models import Alert, AlertLevel, AlertStatus, AlertTarget
from ..attachments.services import save_uploads
from ..auth.models import Role, User
from ..errors import Checks, DomainError, InvalidTransition, PermissionDenied
from ..notifications.outbox import emit, link_to
from ..permissions import DEPARTMENT_ROLES, can_supervise_task, every_region, in_regions, region_ids_below
from ..regions import services as regions
from ..regions.models import Department
from ..system.calendar import add_working_days
from ..tasks.models import Task
from ..timeutil import format_date, now, today
from ..versioning import check_version
from .documents import STEP_DOCUMENTS
from .models import (
    QUEUE,
    CaseAction,
    CaseNumberSequence,
    CaseOutcome,
    CaseSource,
    CaseState,
    CaseStep,
    SupervisionCase,
)

S = CaseState
OPEN_STATES = frozenset({S.FILED, S.ISSUED, S.ACKNOWLEDGED, S.RECTIFYING, S.SUBMITTED})
AWAITING_DEPARTMENT = frozenset(state for state, rank in QUEUE.items() if rank == 0)  # issued, acknowledged, rectifying
SUPERVISOR = frozenset({Role.SUPERVISOR})
DEPARTMENT_HEAD = frozenset({Role.DEPT_HEAD})
DEFAULT_RESPONSE_DAYS = 10
CASE_FIELDS = ["state", "response_deadline", "outcome", "rating", "return_count", "version_id"]


@dataclass(frozen=True)
class Transition:
    sources: frozenset[CaseState]
    target: CaseState | None  # None: a recorded step that keeps the state
    roles: frozenset[Role]
    side: str  # "office" (supervision office of the region) or "department" (the responsible department)
    needs_comment: str | None = None  # the message when a comment is required and missing


TRANSITIONS: dict[CaseAction, Transition] = {
    CaseAction.ISSUE: Transition(frozenset({S.FILED}), S.ISSUED, SUPERVISOR, "office"),
    CaseAction.ACKNOWLEDGE: Transition(frozenset({S.ISSUED}), S.ACKNOWLEDGED, DEPARTMENT_HEAD, "department"),
    CaseAction.PLAN: Transition(frozenset({S.ACKNOWLEDGED}), S.RECTIFYING, DEPARTMENT_ROLES, "department",
                                "请填写整改方案（措施、责任人、时限）。"),
    CaseAction.PROGRESS: Transition(frozenset({S.RECTIFYING}), None, DEPARTMENT_ROLES, "department",
                                    "请填写整改进展。"),
    CaseAction.SUBMIT: Transition(frozenset({S.RECTIFYING}), S.SUBMITTED, DEPARTMENT_HEAD, "department",
                                  "请说明整改结果，提交复核。"),
    CaseAction.CLOSE: Transition(frozenset({S.SUBMITTED}), S.CLOSED, SUPERVISOR, "office"),
    CaseAction.RETURN: Transition(frozenset({S.SUBMITTED}), S.RECTIFYING, SUPERVISOR, "office",
                                  "退回须写明原因。"),
    CaseAction.REMIND: Transition(frozenset(AWAITING_DEPARTMENT), None, SUPERVISOR, "office",
                                  "请填写催办内容（催办什么、何时前答复）。"),
    CaseAction.INTERVIEW: Transition(frozenset(OPEN_STATES - {S.FILED}), None, SUPERVISOR, "office",
                                     "请记录约谈情况。"),
    CaseAction.CIRCULATE: Transition(frozenset(OPEN_STATES - {S.FILED}), None, SUPERVISOR, "office",
                                     "请记录通报内容。"),
}


def allowed_actions(case: SupervisionCase, user: User) -> list[CaseAction]:
    return [a for a, t in TRANSITIONS.items() if case.state in t.sources and _may(user, case, t)]


def _may(user: User, case: SupervisionCase, t: Transition) -> bool:
    if user.role not in t.roles:
        return False
    if t.side == "department":
        return user.department_id == case.department_id
    return True  # the office's region scope is checked in `perform`


def _office_scope_ok(session: Session, user: User, case: SupervisionCase) -> bool:
    return case.department.region_id in region_ids_below(session, user.region_id)


# ---------------------------------------------------------------- numbering


def take_number(session: Session, office_id: int, year: int) -> int:
    """The office's next 督办单 number of the year: an atomic upsert on its counter row (gap-free: a failed
    issue rolls the counter back with it)."""
    dialect = session.get_bind().dialect.name
    ins = (postgresql if dialect == "postgresql" else sqlite).insert(CaseNumberSequence)
    stmt = ins.values(office_id=office_id, year=year, last_seq=1).on_conflict_do_update(
        index_elements=[CaseNumberSequence.office_id, CaseNumberSequence.year],
        set_={"last_seq": CaseNumberSequence.last_seq + 1},
    ).returning(CaseNumberSequence.last_seq)
    return int(session.execute(stmt).scalar_one())


# ---------------------------------------------------------------- filing


@dataclass
class CaseInput:
    source: CaseSource
    department: Department
    title: str
    problem: str
    requirements: str | None = None
    instruction: str | None = None
    task: Task | None = None
    alert: Alert | None = None


def open_case_for_task(session: Session, task_id: int) -> SupervisionCase | None:
    return session.scalar(select(SupervisionCase).where(SupervisionCase.task_id == task_id,
                                                        SupervisionCase.state != S.CLOSED))


def open_cases_by_task(session: Session, task_ids: list[int]) -> dict[int, SupervisionCase]:
    """The open case of each of these tasks (for lists that link to it instead of offering a new one)."""
    if not task_ids:
        return {}
    cases = session.scalars(select(SupervisionCase).where(SupervisionCase.task_id.in_(task_ids),
                                                          SupervisionCase.state != S.CLOSED))
    return {c.task_id: c for c in cases if c.task_id is not None}


def is_responsible_for(department: Department, task: Task) -> bool:
    """A case about a task is addressed to a department that answers for the task: its lead or one of its
    co-operating departments — never another department, of a sibling region or of the task's own: a
    department not on the task has nothing to rectify, and a case must not open the task to it."""
    return department.id == task.lead_department_id or any(d.id == department.id for d in task.co_departments)


def check_case(session: Session, actor: User, data: CaseInput) -> None:
    """Every rule of filing a case, every refusal at once (errors.Checks); refusals of access stop at once."""
    if actor.role not in SUPERVISOR:
        raise PermissionDenied("只有督查室可以立案。")
    if data.department.region_id not in region_ids_below(session, actor.region_id):
        raise PermissionDenied("只能对本级及下级地区的单位立案。")
    checks = Checks()
    if not data.title.strip():
        checks.fail("title", "请填写标题。")
    if not data.problem.strip():
        checks.fail("problem", "请写明发现的问题。")
    if data.source == CaseSource.LEADER and not (data.instruction or "").strip():
        checks.fail("instruction", "领导批示件须填写批示内容。")
    if data.task is not None:
        if not can_supervise_task(session, actor, data.task):
            raise PermissionDenied("该任务不在您的管辖范围内。")
        if not is_responsible_for(data.department, data.task):
            checks.fail("department_id", f"“{data.department.name}”不是该任务的牵头或配合单位，不能就此任务向其督办。"
                                         "如需其参与，请先由规划处将其列为配合单位。")
        existing = open_case_for_task(session, data.task.id)
        if existing is not None:
            checks.fail("task_id", f"该任务已有未销号的督办件 {existing.number_label}（#{existing.id}），不能重复立案。")
    checks.done()


def file_case(session: Session, actor: User, data: CaseInput) -> SupervisionCase:
    check_case(session, actor, data)
    title, problem = data.title.strip(), data.problem.strip()
    case = SupervisionCase(source=data.source, department=data.department, task=data.task, alert=data.alert,
                           title=title[:200], problem=problem, requirements=(data.requirements or "").strip() or None,
                           instruction=(data.instruction or "").strip() or None, created_by_id=actor.id)
    session.add(case)
    session.flush()
    _step(session, case, actor, CaseAction.FILE, None, S.FILED, f"{data.source.label}：{title}")
    audit.record(session, actor, case, "file", audit.diff({}, audit.snapshot(case, CASE_FIELDS)), "立案")
    if data.task is not None:
        audit.record(session, actor, data.task, "case_filed", {}, f"督查室立案督办：{title}")
    _announce(session, actor, case, CaseAction.FILE, f"{data.source.label}：{title}", office_id=actor.department_id)
    return case


def _announce(session: Session, actor: User | None, case: SupervisionCase, action: CaseAction | str,
              text: str | None, office_id: int | None = None) -> None:
    """Tell the people the recipient table names for this step of the case (see notifications.recipients)."""
    kind = action.value if isinstance(action, CaseAction) else action
    label = action.label if isinstance(action, CaseAction) else "督办件超期未答复"
    emit(session, f"case.{kind}", case, actor=actor, title=f"{label}：{case.number_label} {case.title}",
         body=text, link=link_to("supervision.show", case_id=case.id), department_id=case.department_id,
         office_id=office_id or case.office_id, plan_id=case.task.plan_id if case.task else None,
         data={"state": case.state.value, "number": case.number_label})


def _step(session: Session, case: SupervisionCase, actor: User | None, action: CaseAction,
          from_state: CaseState | None, to_state: CaseState | None, comment: str | None) -> CaseStep:
    step = CaseStep(case=case, action=action, from_state=from_state, to_state=to_state,
                    actor_id=actor.id if actor else None, comment=comment, created_at=now())
    session.add(step)
    session.flush()
    return step


# ---------------------------------------------------------------- the one transition function


def perform(session: Session, actor: User, case: SupervisionCase, action: CaseAction, *, comment: str | None = None,
            version: int | None = None, response_days: int | None = None, outcome: CaseOutcome | None = None,
            rating: int | None = None, files: Sequence[FileStorage] = ()) -> CaseStep:
    """Move the case (or record a step that keeps its state), with the files filed with the step. A refused
    file raises DomainError(field="files") and the caller rolls the whole action back."""
    t = TRANSITIONS.get(action)
    if t is None:
        raise InvalidTransition(f"不支持的操作：{action.label}")
    if case.state not in t.sources:
        raise InvalidTransition(f"督办件当前为“{case.state.label}”，不能{action.label}。")
    if actor.role not in t.roles:
        raise PermissionDenied(f"“{action.label}”只能由{'、'.join(r.label for r in t.roles)}办理。")
    if t.side == "department" and actor.department_id != case.department_id:
        raise PermissionDenied("只能办理本单位的督办件。")
    if t.side == "office" and not _office_scope_ok(session, actor, case):
        raise PermissionDenied("该督办件不在您的管辖范围内。")
    check_version(session, case, version)
    comment = (comment or "").strip() or None
    if t.needs_comment and not comment:
        raise DomainError(t.needs_comment, field="comment")

    before = audit.snapshot(case, CASE_FIELDS)
    current = now()
    if action == CaseAction.ISSUE:
        days = DEFAULT_RESPONSE_DAYS if response_days is None else response_days
        if not 1 <= days <= 60:
            raise DomainError("答复期限应为 1 到 60 个工作日。", field="response_days")
        day = today()
        deadline = add_working_days(session, day, days)
        office = actor.department
        seq = take_number(session, office.id, day.year)
        case.response_deadline, case.number_year, case.number_seq = deadline, day.year, seq
        case.office_id, case.number_prefix = office.id, office.doc_prefix
        case.issued_at, case.issued_by_id = current, actor.id
    elif action == CaseAction.ACKNOWLEDGE:
        case.acknowledged_at = current
    elif action == CaseAction.SUBMIT:
        case.submitted_at = current
    elif action == CaseAction.RETURN:
        case.return_count += 1
    elif action == CaseAction.CLOSE:
        if outcome is None:
            raise DomainError("销号须选择整改结果。", field="outcome")
        if rating is None or not 1 <= rating <= 5:
            raise DomainError("请给出 1 到 5 的评价等级。", field="rating")
        case.outcome, case.rating = outcome, rating
        case.closed_at, case.closed_by_id = current, actor.id

    from_state = case.state
    if t.target is not None:
        case.state = t.target
    session.flush()
    text = comment
    if action == CaseAction.ISSUE:
        text = f"下发督办单 {case.number_label}，请于{format_date(case.response_deadline)}前答复。" + (comment or "")
    elif action == CaseAction.CLOSE:
        text = f"销号：{outcome.label}，评价{rating}星。" + (comment or "")  # type: ignore[union-attr]
    step = _step(session, case, actor, action, from_state, case.state if t.target else None, text)
    if files:
        save_uploads(session, actor, list(files), case_step_id=step.id)
    audit.record(session, actor, case, action.value, audit.diff(before, audit.snapshot(case, CASE_FIELDS)),
                 action.label)
    if case.task is not None:
        audit.record(session, actor, case.task, f"case_{action.value}", {},
                     f"督办件 {case.number_label}：{action.label}" + (f"（{comment[:80]}）" if comment else ""))
    document = STEP_DOCUMENTS.get(action)
    if document is not None:  # the 约谈通知书 / 情况通报 goes with the message
        link = link_to("supervision.step_document", case_id=case.id, step_id=step.id, fmt="docx")
        text = f"{text}\n{document}：{link}" if link else text
    _announce(session, actor, case, action, text)
    return step


# ---------------------------------------------------------------- from alerts, suggestions, colour


@dataclass
class BatchResult:
    created: list[SupervisionCase]
    skipped: list[tuple[Task, SupervisionCase]]  # tasks that already have an open case


def cases_from_alerts(session: Session, actor: User, alert_ids: Iterable[int], *, requirements: str | None,
                      response_days: int, issue: bool = True) -> BatchResult:
    """One case per task among the selected alerts (a milestone alert counts for its task)."""
    alerts = list(session.scalars(
        select(Alert).where(Alert.id.in_(list(alert_ids)), Alert.status == AlertStatus.OPEN,
                            Alert.task_id.is_not(None))
        .options(selectinload(Alert.task).selectinload(Task.lead_department), selectinload(Alert.milestone))
        .order_by(Alert.id)
    ))
    if not alerts:
        raise DomainError("请至少选择一条未解除的预警。", field="alert_ids")
    result = BatchResult([], [])
    seen: set[int] = set()
    for alert in alerts:
        task = alert.task
        assert task is not None
        if task.id in seen:
            continue
        seen.add(task.id)
        existing = open_case_for_task(session, task.id)
        if existing is not None:
            result.skipped.append((task, existing))
            continue
        what = f"节点“{alert.milestone.title}”" if alert.target == AlertTarget.MILESTONE and alert.milestone else "任务"
        days_late = (today() - alert.due_date).days if alert.due_date else 0
        problem = (f"{task.plan.short_name} {task.code}“{task.title}”的{what}"
                   + (f"已逾期{days_late}天（截止{format_date(alert.due_date)}）" if days_late > 0
                      else f"将于{format_date(alert.due_date)}到期，存在逾期风险" if alert.due_date else "")
                   + f"，预警等级：{alert.level.label}。")
        case = file_case(session, actor, CaseInput(
            source=CaseSource.ALERT, department=task.lead_department, task=task, alert=alert,
            title=f"关于“{task.title}”{alert.level.label}的督办", problem=problem,
            requirements=requirements or "请立即组织整改，制定整改方案，明确责任人和完成时限，按期报送整改情况。"))
        if issue:
            perform(session, actor, case, CaseAction.ISSUE, version=case.version_id, response_days=response_days)
        result.created.append(case)
    return result


def suggested_alerts(session: Session, user: User, limit: int = 50) -> list[Alert]:
    """建议督办: severe alerts in scope whose task has no open case (nothing is filed automatically) — read, like
    the overdue list, from the open alerts' own place (their plan's region) in deadline order."""
    scope = region_ids_below(session, user.region_id)
    open_case = select(SupervisionCase.task_id).where(SupervisionCase.state != S.CLOSED,
                                                      SupervisionCase.task_id.is_not(None))
    return list(session.scalars(
        select(Alert)
        .where(Alert.status == AlertStatus.OPEN, Alert.level == AlertLevel.SEVERE,
               Alert.target.in_([AlertTarget.TASK, AlertTarget.MILESTONE]),
               in_regions(session, Alert.region_id, scope), Alert.task_id.not_in(open_case))
        .options(selectinload(Alert.task).selectinload(Task.lead_department), selectinload(Alert.milestone))
        .order_by(Alert.due_date, Alert.id).limit(limit)
    ))


YELLOW_WITHIN_DAYS = 2


def colour_bands(day: date) -> list[tuple[str, Callable[[Any, Any], Any], date]]:
    """The colour rule of a case waiting for the department's answer, most urgent first: (colour, comparison,
    bound) — its response deadline ``d`` takes the first colour whose ``comparison(d, bound)`` holds, else
    blue. A closed case is grey; a case not with the department (filed, or submitted for review) is blue.
    ``colour`` applies it to a case in Python and ``colour_expression`` to the columns in SQL."""
    return [("red", operator.lt, day), ("yellow", operator.le, day + timedelta(days=YELLOW_WITHIN_DAYS))]


def colour(case: SupervisionCase, on: date | None = None) -> str:
    """blue: on time; yellow: the response is due within two days; red: the response is late; grey: closed."""
    if case.state == S.CLOSED:
        return "grey"
    if case.state in AWAITING_DEPARTMENT and case.response_deadline is not None:
        for name, compare, bound in colour_bands(on or today()):
            if compare(case.response_deadline, bound):
                return name
    return "blue"


COLOUR_LABELS = {"blue": "正常", "yellow": "临近答复期限", "red": "超期未答复", "grey": "已销号"}


def colour_expression(day: date) -> Any:
    """The SQL form of ``colour``: a CASE over the state and the response deadline."""
    awaiting = SupervisionCase.state.in_([s.value for s in AWAITING_DEPARTMENT])
    return sql_case(
        (SupervisionCase.state == S.CLOSED, literal("grey")),
        *[(and_(awaiting, compare(SupervisionCase.response_deadline, literal(bound, Date))), literal(name))
          for name, compare, bound in colour_bands(day)],
        else_=literal("blue"))


def colour_condition(name: str, day: date) -> Any:
    """Cases of one colour on ``day``, for filtering lists."""
    return colour_expression(day) == name


# ------------------------------------------------------------------------------------------ the list of cases


@dataclass(frozen=True)
class CaseFilters:
    """The case list's filters (each None: all)."""

    state: CaseState | None = None
    source: CaseSource | None = None
    colour: str | None = None  # a key of COLOUR_LABELS
    department_id: int | None = None
    year: int | None = None  # the year of the case's number, or of its filing
    region_id: int | None = None  # the responsible department's region


def scoped(session: Session, user: User, stmt: Select[Any]) -> Select[Any]:
    """Departments see their own cases; the office, leaders and planners those of their region and below
    (the SQL form of `can_view_case`)."""
    regions = case_scope_regions(session, user)
    if regions is None:
        return stmt.where(SupervisionCase.department_id == user.department_id)
    if every_region(session, regions):  # the root region's office: every case, no join to say so
        return stmt
    return stmt.join(SupervisionCase.department).where(Department.region_id.in_(regions))


def case_scope_regions(session: Session, user: User) -> set[int] | None:
    """The regions whose departments' cases the user sees (its own and those below); None for a department,
    which sees its own cases."""
    return None if user.role in DEPARTMENT_ROLES else region_ids_below(session, user.region_id)


def case_list(session: Session, user: User, filters: CaseFilters, day: date) -> Select[Any]:
    """The cases the user sees, filtered, for paging: those awaiting the department first, then those
    awaiting the office, by response deadline (colours as on ``day``)."""
    stmt = scoped(session, user, select(SupervisionCase)).options(
        selectinload(SupervisionCase.department), selectinload(SupervisionCase.task).selectinload(Task.plan))
    if filters.state:
        stmt = stmt.where(SupervisionCase.state == filters.state)
    if filters.source:
        stmt = stmt.where(SupervisionCase.source == filters.source)
    if filters.colour:
        stmt = stmt.where(colour_condition(filters.colour, day))
    if filters.department_id:
        stmt = stmt.where(SupervisionCase.department_id == filters.department_id)
    if filters.region_id:
        stmt = stmt.where(SupervisionCase.department_id.in_(
            select(Department.id).where(Department.region_id == filters.region_id)))
    if filters.year:
        stmt = stmt.where(or_(SupervisionCase.number_year == filters.year,
                              func.extract("year", SupervisionCase.created_at) == filters.year))
    return stmt.order_by(SupervisionCase.queue, SupervisionCase.response_deadline, SupervisionCase.id.desc())


def state_counts(session: Session, user: User) -> dict[CaseState, int]:
    """How many of the cases the user sees are in each state."""
    return dict(session.execute(scoped(session, user, select(SupervisionCase.state, func.count()))
                                .group_by(SupervisionCase.state)).all())


def case_departments(session: Session, user: User, filters: CaseFilters) -> list[Department]:
    """The department filter's choices: the departments with cases the user sees in the chosen region (none
    chosen: the user's own) — a province's cases span some two thousand departments, a nation's twenty thousand
    — and the department filtered on."""
    wanted = Department.region_id == (filters.region_id or user.region_id)
    if filters.department_id:
        wanted = or_(wanted, Department.id == filters.department_id)
    return list(session.scalars(
        select(Department).where(wanted, Department.id.in_(scoped(session, user, select(SupervisionCase.department_id))))
        .options(selectinload(Department.region)).order_by(Department.region_id, Department.sort_order, Department.id)))


def case_regions(session: Session, user: User, chosen: int | None = None) -> list[regions.RegionChoice]:
    """The region filter's choices: the user's region and those below it, as a tree opened down to the chosen
    region (none for a department, which sees its own cases only)."""
    if user.role in DEPARTMENT_ROLES:
        return []
    return regions.region_choices(session, region_ids_below(session, user.region_id), user.region_id, chosen)


def department_choices(session: Session, user: User) -> list[tuple[int, str]]:
    """The active departments of the user's region and below (filing a case)."""
    return regions.department_choices(session, region_ids_below(session, user.region_id), active_only=True)
