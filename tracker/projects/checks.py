"""Investment cross-checks of a key project's register entry: warnings the planner must see and acknowledge,
never errors (the figures may be right and the plan document wrong, or the other way round).

The checks are in :func:`cross_check` alone, used by the register form (on what was typed), the project page
and the register list (on what is stored):

(a) a year's planned investment above the project's total investment;
(b) the yearly planned investment together above the total;
(c) the funding sources, when every one listed has an amount (none 待定), not adding up to the total;
(d) the project 在建 while its 开工 node is not done (overdue, or not yet due).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ..errors import DomainError
from ..planning.models import InvestmentUnit, Plan
from ..tasks.models import Milestone, MilestoneStatus, ProjectNode
from ..timeutil import format_date, today
from .figures import shown, total_of
from .models import KeyProject, ProjectStatus

ACKNOWLEDGE = "我已核对以上提示，仍然保存"
ACKNOWLEDGE_FIELD = "acknowledge_warnings"


@dataclass(frozen=True)
class RegisterFacts:
    """What the checks read of a register entry, stored or typed. Amounts in 万元."""

    unit: InvestmentUnit
    total: Decimal | None  # None: 待定 or not given
    planned: dict[int, Decimal]  # year → planned investment (the years given)
    funding: list[Decimal | None]  # each source listed; None is 待定
    status: ProjectStatus
    groundbreaking: Milestone | None  # the 开工 node, if the project has one


def stored_facts(project: KeyProject) -> RegisterFacts:
    """The facts of a project as saved."""
    return RegisterFacts(
        unit=project.task.plan.investment_unit, total=project.total_investment,
        planned={i.year: i.planned for i in project.investments if i.planned is not None},
        funding=[f.amount for f in project.funding], status=project.status,
        groundbreaking=groundbreaking_node(project))


def groundbreaking_node(project: KeyProject | None) -> Milestone | None:
    if project is None:
        return None
    return next((m for m in sorted(project.task.milestones, key=lambda m: (m.due_date, m.id))
                 if m.node == ProjectNode.GROUNDBREAKING), None)


def cross_check(facts: RegisterFacts, on: date | None = None) -> list[str]:
    """Every warning of the register entry, in the order (a)–(d); empty when the figures agree."""
    unit, total = facts.unit, facts.total
    warnings: list[str] = []
    if total is not None:
        for year, planned in sorted(facts.planned.items()):
            if planned > total:
                warnings.append(f"{year}年计划投资（{shown(planned, unit)}）超过项目总投资（{shown(total, unit)}）。")
        planned_sum = total_of(facts.planned.values())
        if planned_sum > total:
            warnings.append(f"各年度计划投资合计（{shown(planned_sum, unit)}）超过项目总投资（{shown(total, unit)}），"
                            f"超出{shown(planned_sum - total, InvestmentUnit.WAN)}。")
        if facts.funding and all(a is not None for a in facts.funding):
            funded = total_of(facts.funding)
            if funded != total:
                gap = abs(total - funded)
                warnings.append(f"各渠道资金合计（{shown(funded, unit)}）与项目总投资（{shown(total, unit)}）不一致，"
                                f"{'尚差' if funded < total else '超出'}{shown(gap, InvestmentUnit.WAN)}。")
    node = facts.groundbreaking
    if facts.status == ProjectStatus.BUILDING and node is not None and node.status in (
            MilestoneStatus.PENDING, MilestoneStatus.OVERDUE):
        when = on or today()
        state = "已逾期未办结" if node.due_date < when else "尚未办结"
        warnings.append(f"项目状态为“在建”，但“开工”节点（计划{format_date(node.due_date)}）{state}，"
                        "请办结开工节点或核对项目状态。")
    return warnings


def project_warnings(project: KeyProject, on: date | None = None) -> list[str]:
    """The current warnings of a saved project (the project page and the register list show them)."""
    return cross_check(stored_facts(project), on)


class WarningsToAcknowledge(DomainError):
    """A register entry whose figures do not agree is saved only once the planner has acknowledged every
    warning; the form shows them all beside the checkbox."""

    status_code = 422

    def __init__(self, warnings: list[str]) -> None:
        super().__init__(f"请核对以上{len(warnings)}条提示，确认无误后勾选“{ACKNOWLEDGE}”。", field=ACKNOWLEDGE_FIELD)
        self.warnings = warnings


def warning_key(warning: str) -> str:
    """A short fingerprint of a warning: the form sends back those it showed beside the box."""
    return hashlib.sha256(warning.encode()).hexdigest()[:16]


def require_acknowledged(warnings: list[str], acknowledged: bool | Collection[str]) -> None:
    """``acknowledged`` is True (every warning, e.g. ``acknowledge_warnings: true``), False, or the keys
    (:func:`warning_key`) of the warnings the person saw when ticking the box: a warning they were not shown
    is not acknowledged."""
    if acknowledged is True:
        return
    seen = set(acknowledged) if not isinstance(acknowledged, bool) else set()
    if any(warning_key(w) not in seen for w in warnings):
        raise WarningsToAcknowledge(warnings)


def register_facts(plan: Plan, project: KeyProject | None, total: Decimal | None, planned: dict[int, Decimal | None],
                   funding: list[Decimal | None], status: ProjectStatus) -> RegisterFacts:
    """The facts of a register entry as typed: the years typed replace the stored ones; a fixed total stays."""
    years = {i.year: i.planned for i in project.investments} if project is not None else {}
    years.update(planned)
    return RegisterFacts(
        unit=plan.investment_unit,
        total=project.total_investment if project is not None and project.total_investment is not None else total,
        planned={y: a for y, a in years.items() if a is not None}, funding=funding, status=status,
        groundbreaking=groundbreaking_node(project))

