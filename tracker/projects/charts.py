"""Server-drawn SVG for the project page: yearly planned vs completed investment, and the construction
nodes on a time axis. Geometry only — the figures themselves stay Decimals; coordinates are rounded to
a tenth of a pixel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ..planning.models import InvestmentUnit
from ..tasks.models import Milestone, MilestoneStatus, ReportState
from ..templating import money
from ..timeutil import format_date
from . import amounts
from .figures import Figures

PX = Decimal("0.1")


def _px(value: Decimal | int) -> str:
    return str(Decimal(value).quantize(PX))


def nice_ceiling(value: Decimal) -> Decimal:
    """The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above ``value`` (the top of an axis)."""
    if value <= 0:
        return Decimal(1)
    base = Decimal(1).scaleb(value.adjusted())
    for m in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
        if value <= m * base:
            return m * base
    return 10 * base


@dataclass
class Bar:
    x: str
    y: str
    width: str
    height: str
    css: str
    title: str


@dataclass
class Tick:
    y: str
    text: str


@dataclass
class YearLabel:
    x: str
    text: str


@dataclass
class BarChart:
    width: int
    height: int
    left: int
    right: int
    baseline: str
    bars: list[Bar] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    labels: list[YearLabel] = field(default_factory=list)
    unit: str = ""

    @property
    def empty(self) -> bool:
        return not self.bars


COMPLETED_CSS = {
    ReportState.CONFIRMED: "bar-confirmed",
    ReportState.SUBMITTED: "bar-submitted",
    ReportState.DRAFT: "bar-draft",
    ReportState.RETURNED: "bar-returned",
}


def investment_chart(f: Figures, unit: InvestmentUnit, *, width: int = 760, height: int = 260) -> BarChart:
    left, right, top, bottom = 64, 12, 16, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    rows = f.rows
    chart = BarChart(width, height, left, width - right, _px(top + plot_h), unit=unit.label)
    values = [amounts.from_wan(v, unit) for r in rows for v in (r.planned, r.completed) if v is not None]
    if not rows or not values:
        return chart
    axis_top = nice_ceiling(max(values))
    for i in range(5):
        value = axis_top * i / 4
        chart.ticks.append(Tick(_px(top + plot_h - plot_h * i / 4), money(amounts.to_wan(value, unit), unit.label)))
    group = Decimal(plot_w) / len(rows)
    bar_w = min(Decimal(26), group * Decimal("0.32"))
    for i, r in enumerate(rows):
        centre = left + group * i + group / 2
        chart.labels.append(YearLabel(_px(centre), str(r.year)))
        for value, x, css, what in (
            (r.planned, centre - bar_w - 2, "bar-planned", "计划投资"),
            (r.completed, centre + 2, COMPLETED_CSS.get(r.state or ReportState.DRAFT, "bar-draft"), "完成投资"),
        ):
            if value is None:
                continue
            h = plot_h * amounts.from_wan(value, unit) / axis_top
            state = f"（{r.state.label}）" if what == "完成投资" and r.state else ""
            chart.bars.append(Bar(_px(x), _px(top + plot_h - h), _px(bar_w), _px(h), css,
                                  f"{r.year}年{what}{state}：{money(value, unit.label)}{unit.label}"))
    return chart


@dataclass
class NodePoint:
    x: str
    label: str
    planned_text: str
    actual_x: str | None
    actual_text: str
    css: str
    label_x: str
    label_y: str
    date_y: str
    anchor: str
    leader_y: str
    status_text: str


@dataclass
class Timeline:
    width: int
    height: int
    axis_y: int
    left: int
    right: int
    points: list[NodePoint]
    today_x: str | None
    start_text: str
    end_text: str


def node_state(m: Milestone, today: date) -> tuple[str, str]:
    """(css class, words) of a node for the timeline and the table."""
    if m.status == MilestoneStatus.DONE:
        late = (m.completed_on - m.due_date).days if m.completed_on else 0
        return "node-done", "已完成" + (f"（晚于计划{late}天）" if late > 0 else "")
    if m.status == MilestoneStatus.WAIVED:
        return "node-waived", "已豁免"
    if m.due_date < today:
        return "node-overdue", f"逾期{(today - m.due_date).days}天"
    return "node-pending", f"剩{(m.due_date - today).days}天"


# Label lanes around the axis: (label offset, date offset); nearer lanes first.
LANES = [(-40, -26), (30, 44), (-72, -58), (62, 76)]
LABEL_WIDTH = 130  # px a two-line label needs so neighbours in the same lane do not overlap


def node_timeline(nodes: list[Milestone], today: date, *, width: int = 1000, height: int = 190) -> Timeline | None:
    """The nodes on a time axis: a ring at the planned date, a dot at the actual date joined by a line
    (the delay), today as a dashed line. Labels go to the nearest free lane above or below the axis."""
    if not nodes:
        return None
    left, right, axis_y = 70, width - 70, height // 2
    dates = [m.due_date for m in nodes] + [m.completed_on for m in nodes if m.completed_on] + [today]
    first, last = min(dates), max(dates)
    span = max((last - first).days, 1)

    def x_of(d: date) -> Decimal:
        return left + Decimal(right - left) * (d - first).days / span

    lane_end: list[Decimal | None] = [None] * len(LANES)
    points = []
    for m in sorted(nodes, key=lambda n: n.due_date):
        css, words = node_state(m, today)
        x = x_of(m.due_date)
        lane = next((i for i, end in enumerate(lane_end) if end is None or x - end >= LABEL_WIDTH),
                    min(range(len(LANES)), key=lambda i: lane_end[i] or Decimal(0)))
        lane_end[lane] = x
        label_dy, date_dy = LANES[lane]
        anchor, label_x = "middle", x
        if x - left < LABEL_WIDTH // 2:
            anchor, label_x = "start", x - 8
        elif right - x < LABEL_WIDTH // 2:
            anchor, label_x = "end", x + 8
        points.append(NodePoint(
            x=_px(x), label=m.node.label if m.node else m.title, planned_text=f"计划 {format_date(m.due_date)}",
            actual_x=_px(x_of(m.completed_on)) if m.completed_on else None,
            actual_text=f"实际 {format_date(m.completed_on)}" if m.completed_on else words,
            css=css, label_x=_px(label_x), label_y=str(axis_y + label_dy), date_y=str(axis_y + date_dy),
            anchor=anchor, leader_y=str(axis_y + (label_dy + 12 if label_dy < 0 else label_dy - 14)),
            status_text=words,
        ))
    return Timeline(width, height, axis_y, left, right, points, _px(x_of(today)), format_date(first),
                    format_date(last))
