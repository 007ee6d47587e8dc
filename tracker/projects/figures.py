"""Key projects' figures: amounts in the plan's unit, a project's yearly rows and totals, and the register's
summary by year and funding source; construction nodes in order. Pure arithmetic over loaded projects (Decimals in 万元, summed in Python:
SQLite has no exact decimal arithmetic)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from ..planning.models import InvestmentUnit
from ..tasks.models import Milestone, ProjectNode, ReportState
from ..templating import money
from . import amounts
from .models import FundingSource, KeyProject, ProjectInvestment

ZERO = Decimal(0)
NODE_ORDER = {node: i for i, node in enumerate(ProjectNode)}


def unit_of(project: KeyProject) -> InvestmentUnit:
    return project.task.plan.investment_unit


def shown(wan: Decimal, unit: InvestmentUnit) -> str:
    """An amount as people read it in messages: "12.5亿元"."""
    return f"{money(wan, unit.label)}{unit.label}"


# ------------------------------------------------------------------------------------------ figures


@dataclass
class YearRow:
    year: int
    planned: Decimal | None
    completed: Decimal | None
    state: ReportState | None
    investment: ProjectInvestment | None
    in_period: bool


@dataclass
class Figures:
    """One project's investment: the year rows and the cumulative completion."""

    project: KeyProject
    rows: list[YearRow]
    planned: Decimal
    confirmed: Decimal
    pending: Decimal
    entered: Decimal
    confirmed_in_period: Decimal

    @property
    def rate_total(self) -> Decimal | None:
        return amounts.share(self.confirmed, self.project.total_investment)

    @property
    def rate_period(self) -> Decimal | None:
        return amounts.share(self.confirmed_in_period, self.project.period_investment)

    @property
    def remaining(self) -> Decimal | None:
        """What may still be entered before the total is reached."""
        total = self.project.total_investment
        return None if total is None else total - self.entered


def project_years(project: KeyProject) -> list[int]:
    """The years a project's investment table shows: its construction years (or the plan period when it
    has none), widened by any year that has figures."""
    plan = project.task.plan
    first = project.start_year or plan.start_year
    last = project.end_year or max(plan.end_year, first)
    years = set(range(first, last + 1)) | {i.year for i in project.investments}
    return sorted(years)


def figures(project: KeyProject) -> Figures:
    plan = project.task.plan
    by_year = {i.year: i for i in project.investments}
    rows = []
    for year in project_years(project):
        inv = by_year.get(year)
        rows.append(YearRow(year, inv.planned if inv else None, inv.completed if inv else None,
                            inv.state if inv and (inv.completed is not None or inv.state != ReportState.DRAFT)
                            else None, inv, plan.start_year <= year <= plan.end_year))
    invs = project.investments
    return Figures(
        project=project,
        rows=rows,
        planned=total_of(i.planned for i in invs),
        confirmed=total_of(i.completed for i in invs if i.state == ReportState.CONFIRMED),
        pending=total_of(i.completed for i in invs if i.state == ReportState.SUBMITTED),
        entered=total_of(i.completed for i in invs),
        confirmed_in_period=total_of(i.completed for i in invs if i.state == ReportState.CONFIRMED
                                 and plan.start_year <= i.year <= plan.end_year),
    )


def total_of(values: Iterable[Decimal | None]) -> Decimal:
    return sum((v for v in values if v is not None), ZERO)


@dataclass
class YearTotal:
    year: int
    planned: Decimal = ZERO
    confirmed: Decimal = ZERO
    pending: Decimal = ZERO


@dataclass
class SourceTotal:
    source: FundingSource
    amount: Decimal = ZERO
    projects: int = 0
    tbd: int = 0


@dataclass
class Summary:
    """Totals over a set of projects. 待定 amounts are counted, never added."""

    count: int = 0
    total: Decimal = ZERO
    total_tbd: int = 0
    period: Decimal = ZERO
    period_tbd: int = 0
    planned: Decimal = ZERO
    confirmed: Decimal = ZERO
    pending: Decimal = ZERO
    confirmed_with_total: Decimal = ZERO
    tbd_projects: int = 0
    years: list[YearTotal] = field(default_factory=list)
    sources: list[SourceTotal] = field(default_factory=list)

    @property
    def note(self) -> str | None:
        if not self.tbd_projects:
            return None
        return f"另有{self.tbd_projects}个项目投资待定，未计入合计"

    @property
    def rate_total(self) -> Decimal | None:
        """Confirmed completion against the total, over the projects whose total is known."""
        return amounts.share(self.confirmed_with_total, self.total)


def summarize(projects: Iterable[KeyProject], *, with_sources: bool = True) -> Summary:
    s = Summary()
    years: dict[int, YearTotal] = {}
    sources: dict[FundingSource, SourceTotal] = {}
    for p in projects:
        s.count += 1
        if p.total_tbd:
            s.total_tbd += 1
        elif p.total_investment is not None:
            s.total += p.total_investment
        if p.period_tbd:
            s.period_tbd += 1
        elif p.period_investment is not None:
            s.period += p.period_investment
        if p.total_tbd or p.period_tbd:
            s.tbd_projects += 1
        for inv in p.investments:
            y = years.setdefault(inv.year, YearTotal(inv.year))
            if inv.planned is not None:
                y.planned += inv.planned
                s.planned += inv.planned
            if inv.completed is None:
                continue
            if inv.state == ReportState.CONFIRMED:
                y.confirmed += inv.completed
                s.confirmed += inv.completed
                if p.total_investment is not None:
                    s.confirmed_with_total += inv.completed
            elif inv.state == ReportState.SUBMITTED:
                y.pending += inv.completed
                s.pending += inv.completed
        if with_sources:
            for f in p.funding:
                t = sources.setdefault(f.source, SourceTotal(f.source))
                t.projects += 1
                if f.amount is None:
                    t.tbd += 1
                else:
                    t.amount += f.amount
    s.years = [years[y] for y in sorted(years)]
    s.sources = [sources[src] for src in FundingSource if src in sources]
    return s


def nodes(project: KeyProject) -> list[Milestone]:
    """The construction nodes (milestones with a node), in construction order, then by date."""
    return sorted((m for m in project.task.milestones if m.node is not None),
                  key=lambda m: (NODE_ORDER[m.node], m.due_date, m.id))  # type: ignore[index]
