"""Deleting a plan (删除规划): allowed only while nothing depends on it.

What *depends* on a plan is defined once, in :func:`plan_dependents`, and used both by the confirmation page
(to say whether 删除 is possible and why not) and by :func:`delete_plan` (to refuse). A dependent is anything
other people made or decided about the plan: a child plan, another plan's task implementing one of its
tasks, progress reports, indicator values, evaluations, supervision cases, alerts a case was filed from,
adjustment requests, confirmed imports, files, completed nodes, tasks with recorded progress, and the
completed investment the owner units reported. What the plan itself defines — its tasks, milestones,
indicators without values, key projects with their register entry (funding, yearly planned investment),
its lifecycle steps, the alerts the scan raised on it and the link of a draft import — goes with it.

The deletion is set-based SQL, child tables first, and leaves one audit entry naming the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.orm import Session

from .. import audit, versioning
from ..adjustments.models import AdjustmentRequest
from ..alerts.models import Alert
from ..attachments.models import Attachment
from ..auth.models import User
from ..errors import DomainError
from ..evaluations.models import Evaluation, IndicatorResult
from ..imports.models import ImportDocument, ImportKind, ImportState
from ..indicators.models import Indicator, IndicatorValue
from ..notifications.models import Event
from ..permissions import can_edit_plan, require
from ..projects.models import KeyProject, ProjectFunding, ProjectInvestment
from ..supervision.models import SupervisionCase
from ..tasks.models import (
    Milestone,
    MilestoneStatus,
    ProgressReport,
    ReportState,
    Task,
    TaskStatus,
    task_co_departments,
    task_indicators,
)
from .models import Plan, PlanStageEvent
from .services import NOT_YOURS, PLAN_FIELDS

# (link text, endpoint, URL arguments), as DomainError.link
Link = tuple[str, str, dict[str, Any]]
MAX_LINKS = 5
STALE = "该规划在您打开确认页后已被他人修改，没有删除。请核对下方最新情况后再确认。"


@dataclass(frozen=True)
class Dependent:
    """One kind of record that depends on the plan: how many there are and where to see them."""

    what: str  # counted noun, read after the number: "份进展填报"
    count: int
    links: tuple[Link, ...] = ()

    @property
    def text(self) -> str:
        return f"{self.count} {self.what}"


class _Scope:
    """The plan's own rows, as subqueries (nothing is loaded)."""

    def __init__(self, plan_id: int) -> None:
        self.plan_id = plan_id
        self.tasks = select(Task.id).where(Task.plan_id == plan_id)
        self.milestones = select(Milestone.id).where(Milestone.task_id.in_(self.tasks))
        self.indicators = select(Indicator.id).where(Indicator.plan_id == plan_id)
        self.projects = select(KeyProject.id).where(KeyProject.task_id.in_(self.tasks))
        self.investments = select(ProjectInvestment.id).where(ProjectInvestment.project_id.in_(self.projects))
        self.reports = select(ProgressReport.id).where(ProgressReport.task_id.in_(self.tasks))


def _count(session: Session, stmt: Select[Any]) -> int:
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def _acted_alerts(scope: _Scope) -> Select[Any]:
    """Alerts of the plan someone acted on: a supervision case was filed from them."""
    return select(Alert.id).where(
        or_(Alert.task_id.in_(scope.tasks), Alert.indicator_id.in_(scope.indicators)),
        Alert.id.in_(select(SupervisionCase.alert_id).where(SupervisionCase.alert_id.is_not(None))))


def _figures(scope: _Scope) -> Select[Any]:
    """Yearly rows with completed investment reported by the owner unit (planned-only rows are the register's)."""
    return select(ProjectInvestment.id).where(
        ProjectInvestment.project_id.in_(scope.projects),
        or_(ProjectInvestment.completed.is_not(None), ProjectInvestment.state != ReportState.DRAFT))


def plan_dependents(session: Session, plan: Plan) -> list[Dependent]:
    """Everything that depends on the plan, kind by kind (empty: the plan may be deleted). Counts come from
    one aggregate query each; a few examples are linked where there is a page to see them on."""
    scope = _Scope(plan.id)
    found: list[Dependent] = []

    def add(what: str, stmt: Select[Any], links: tuple[Link, ...] = ()) -> None:
        n = _count(session, stmt)
        if n:
            found.append(Dependent(what, n, links))

    children = session.execute(select(Plan.id, Plan.title).where(Plan.parent_id == plan.id)
                               .order_by(Plan.id).limit(MAX_LINKS)).all()
    add("个下级规划（以本规划为上位规划）", select(Plan.id).where(Plan.parent_id == plan.id),
        tuple((title, "plans.show", {"plan_id": pid}) for pid, title in children))
    downstream = select(Task.id).where(Task.upstream_task_id.in_(scope.tasks), Task.plan_id != plan.id)
    examples = session.execute(select(Task.id, Task.code, Task.title, Plan.short_name).join(Plan, Task.plan_id == Plan.id)
                               .where(Task.id.in_(downstream)).order_by(Task.id).limit(MAX_LINKS)).all()
    add("项其他规划的任务承接本规划的任务", downstream,
        tuple((f"{short} {code} {title}", "tasks.show", {"task_id": tid}) for tid, code, title, short in examples))
    add("份进展填报", scope.reports)
    add("条指标监测值", select(IndicatorValue.id).where(IndicatorValue.indicator_id.in_(scope.indicators)),
        (("主要指标", "plans.show", {"plan_id": plan.id, "tab": "indicators"}),))
    add("次考核评估", select(Evaluation.id).where(or_(
        Evaluation.plan_id == plan.id,
        Evaluation.id.in_(select(IndicatorResult.evaluation_id).where(IndicatorResult.indicator_id.in_(scope.indicators))))))
    add("件督办件", select(SupervisionCase.id).where(SupervisionCase.task_id.in_(scope.tasks)))
    add("条已转为督办件的预警", _acted_alerts(scope))
    add("条调整申请", select(AdjustmentRequest.id).where(or_(
        AdjustmentRequest.task_id.in_(scope.tasks), AdjustmentRequest.milestone_id.in_(scope.milestones),
        AdjustmentRequest.indicator_id.in_(scope.indicators), AdjustmentRequest.project_id.in_(scope.projects))))
    imports = session.execute(select(ImportDocument.id, ImportDocument.filename).where(
        ImportDocument.plan_id == plan.id, ImportDocument.state == ImportState.CONFIRMED)
        .order_by(ImportDocument.id).limit(MAX_LINKS)).all()
    add("次已确认的导入", select(ImportDocument.id).where(ImportDocument.plan_id == plan.id,
                                                   ImportDocument.state == ImportState.CONFIRMED),
        tuple((name, "imports.show", {"document_id": did}) for did, name in imports))
    add("个附件（佐证材料）", select(Attachment.id).where(or_(
        Attachment.task_id.in_(scope.tasks), Attachment.milestone_id.in_(scope.milestones),
        Attachment.report_id.in_(scope.reports), Attachment.investment_id.in_(scope.investments))))
    add("个已办结的节点", select(Milestone.id).where(Milestone.task_id.in_(scope.tasks),
                                                Milestone.status == MilestoneStatus.DONE))
    add("项已有执行进度的任务", select(Task.id).where(Task.plan_id == plan.id,
                                                 or_(Task.progress > 0, Task.status == TaskStatus.DONE)))
    add("个年度的项目完成投资填报", _figures(scope),
        (("重大项目库", "projects.index", {"plan_id": plan.id}),))
    return found


def plan_contents(session: Session, plan: Plan) -> list[tuple[str, int]]:
    """What is deleted with the plan, as (what, how many), the empty kinds left out."""
    scope = _Scope(plan.id)
    rows = [
        ("项任务（章、重点任务、工作举措、年度任务）", _count(session, scope.tasks)),
        ("个节点", _count(session, scope.milestones)),
        ("项指标", _count(session, scope.indicators)),
        ("个重大项目（含资金来源和年度计划投资）", _count(session, scope.projects)),
        ("条阶段记录", _count(session, select(PlanStageEvent.id).where(PlanStageEvent.plan_id == plan.id))),
        ("条自动预警", _count(session, select(Alert.id).where(or_(
            Alert.task_id.in_(scope.tasks), Alert.indicator_id.in_(scope.indicators))))),
        ("份待确认的导入草稿（保留草稿，解除与本规划的关联）", _count(session, select(ImportDocument.id).where(
            ImportDocument.plan_id == plan.id, ImportDocument.state != ImportState.CONFIRMED))),
    ]
    return [(what, n) for what, n in rows if n]


def refusal(dependents: list[Dependent]) -> str:
    return "该规划有" + "、".join(d.text for d in dependents) + "，不能删除。不再执行的规划请记录“归档”阶段。"


def delete_plan(session: Session, actor: User, plan: Plan, version: int | None) -> str:
    """Delete the plan and what it defines, when nothing depends on it (else DomainError naming what does).
    ``version`` is the plan's version the confirmation page was loaded with. Returns the audit summary."""
    require(can_edit_plan(actor, plan), NOT_YOURS)
    versioning.check_version(session, plan, version, STALE, list_changes=False)
    dependents = plan_dependents(session, plan)
    if dependents:
        raise DomainError(refusal(dependents))
    contents = plan_contents(session, plan)
    summary = (f"删除规划《{plan.title}》（编号 {plan.code}，{plan.region.name}，{plan.period_label}）"
               + ("，连同" + "、".join(f"{n} {what.split('（')[0]}" for what, n in contents) if contents else ""))
    before = audit.snapshot(plan, [*PLAN_FIELDS, "code", "stage"])
    audit.record(session, actor, plan, "delete", {k: [v, None] for k, v in before.items() if v is not None}, summary)
    session.flush()
    _delete_rows(session, plan.id)
    session.expunge(plan)
    return summary


def _delete_rows(session: Session, plan_id: int) -> None:
    """The plan's rows, children first (foreign keys are enforced on SQLite too); nothing is loaded."""
    scope = _Scope(plan_id)
    quiet = {"synchronize_session": False}
    for stmt in (
        delete(Alert).where(or_(Alert.task_id.in_(scope.tasks), Alert.indicator_id.in_(scope.indicators))),
        delete(ProjectInvestment).where(ProjectInvestment.project_id.in_(scope.projects)),
        delete(ProjectFunding).where(ProjectFunding.project_id.in_(scope.projects)),
        delete(KeyProject).where(KeyProject.task_id.in_(scope.tasks)),
        delete(Milestone).where(Milestone.task_id.in_(scope.tasks)),
        task_co_departments.delete().where(task_co_departments.c.task_id.in_(scope.tasks)),
        task_indicators.delete().where(task_indicators.c.task_id.in_(scope.tasks)),
        # the tree points at itself: cut it first (parent_id is ON DELETE RESTRICT)
        update(Task).where(Task.plan_id == plan_id).values(parent_id=None, upstream_task_id=None),
        delete(Task).where(Task.plan_id == plan_id),
        delete(Indicator).where(Indicator.plan_id == plan_id),
        delete(PlanStageEvent).where(PlanStageEvent.plan_id == plan_id),
        # a staged task list cannot be applied without its plan; a document draft becomes one for a new plan
        update(ImportDocument).where(ImportDocument.plan_id == plan_id, ImportDocument.kind == ImportKind.TASKLIST,
                                     ImportDocument.state == ImportState.DRAFT).values(state=ImportState.DISCARDED),
        update(ImportDocument).where(ImportDocument.plan_id == plan_id).values(plan_id=None),
        update(Event).where(Event.plan_id == plan_id).values(plan_id=None),
        delete(Plan).where(Plan.id == plan_id),
    ):
        session.execute(stmt, execution_options=quiet)


def deleted_by(session: Session, plan_id: int, actor: User) -> audit.AuditEntry | None:
    """The entry of ``actor``'s own deletion of the plan (a second submission of the confirmation finds it)."""
    return session.scalar(select(audit.AuditEntry).where(
        audit.AuditEntry.object_type == Plan.__tablename__, audit.AuditEntry.object_id == plan_id,
        audit.AuditEntry.action == "delete", audit.AuditEntry.actor_id == actor.id)
        .order_by(audit.AuditEntry.id.desc()).limit(1))
