"""The evaluation workbook: 汇总, 部门考核, 任务完成情况, 指标完成情况 (laid out like 表1 of a plan),
督办情况, and for 中期评估 and 总结评估 重点任务推进情况, 重大项目投资完成情况 and 规划衔接落实情况. Text is formula-injection safe; dates are local (Asia/Shanghai); numbers stay numbers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from ..indicators.consistency import Course
from ..indicators.services import figure
from ..planning.models import InvestmentUnit
from ..projects.amounts import from_wan
from ..spreadsheets import BOLD, PLAIN, Book, Sheet, Style
from ..supervision.models import CaseOutcome
from ..timeutil import format_datetime, to_local
from . import plan_review
from .models import DepartmentScore, Evaluation, IndicatorResult
from .queries import (
    Totals,
    case_outcomes,
    cases_of,
    courses,
    evaluation_window,
    indicator_rows,
    percent,
    scores_of,
    task_lines,
    totals,
)
from .services import GRADE_KEYS, GRADE_LABELS, WEIGHT_KEYS, WEIGHT_LABELS, Settings

PERCENT = "0.0%"
SCORE = "0.00"
MONEY = "#,##0.####"


def department_columns(unit: InvestmentUnit) -> list[str]:
    """The 部门考核 sheet's columns; investment in the plan's unit, completed as confirmed by the planner."""
    return [
        "排名", "责任单位", "到期任务", "已完成", "按期完成", "逾期未完成", "完成率", "按期完成率", "指标已达成",
        "指标符合进度", "指标滞后或未达成", "督办立案", "督办销号", "督办退回", f"计划投资（{unit.label}）",
        f"完成投资（已确认，{unit.label}）", "投资完成率", "计算得分", "调整后得分", "调整理由", "最终得分", "等次",
    ]


def _in_unit(wan: Decimal | None, unit: InvestmentUnit) -> Decimal | None:
    return None if wan is None else from_wan(wan, unit)

INDICATOR_COLUMNS = ["类别", "序号", "指标", "单位", "目标值", "完成情况", "评判", "属性", "牵头单位", "说明",
                     "进度值", "最新确认值", "目标年预测值", "目标一致法"]


def title_of(evaluation: Evaluation) -> str:
    return f"{evaluation.plan.title}{evaluation.year}年{evaluation.kind.label}"


TOP = Style(vertical="top")
WRAP = Style(wrap=True)
LABEL = {1: BOLD, 2: Style(horizontal="left", vertical="top")}  # 汇总: a label and its value


def _write_row(ws: Sheet, values: Sequence[Any], formats: dict[int, str] | None = None, bold: bool = False,
               looks: dict[int, Style] | None = None) -> int:
    """A row aligned to the top, long text wrapping, ``formats`` for the numbers of some columns (1-based),
    dates as dates, and ``looks`` on top. Returns its row."""
    styles: dict[int, Style] = {}
    for i, value in enumerate(values, start=1):
        look = Style(number_format=formats[i]) if formats and i in formats and value is not None else PLAIN
        if isinstance(value, str) and len(value) > 12:
            look = look | WRAP
        look = look | (looks or {}).get(i)
        if look != PLAIN:
            styles[i] = look
    return ws.append(values, TOP | (BOLD if bold else None), styles)


def _header(ws: Sheet, headers: Sequence[str], widths: Sequence[int]) -> int:
    """A header row; each column at least as wide as ``widths`` says and as its header. Returns its row."""
    return ws.header(headers, widths)


def evaluation_workbook(session: Session, evaluation: Evaluation, exported_at: datetime) -> bytes:
    book = Book()
    summary_sheet(book.sheet("汇总"), session, evaluation, exported_at)
    department_sheet(book.sheet("部门考核"), scores_of(session, evaluation), evaluation.plan.investment_unit)
    task_sheet(book.sheet("任务完成情况"), session, evaluation)
    indicator_sheet(book.sheet("指标完成情况"), evaluation, indicator_rows(session, evaluation),
                    courses(session, evaluation))
    supervision_sheet(book.sheet("督办情况"), session, evaluation)
    review = plan_review.read(evaluation)
    if review is not None:
        unit = evaluation.plan.investment_unit
        key_task_sheet(book.sheet("重点任务推进情况"), review)
        project_sheet(book.sheet("重大项目投资完成情况"), review, unit)
        cascade_sheet(book.sheet("规划衔接落实情况"), review)
    return book.bytes()


def summary_sheet(ws: Sheet, session: Session, evaluation: Evaluation, exported_at: datetime) -> None:
    tot: Totals = totals(session, evaluation)
    settings = Settings.of(evaluation)
    unit = evaluation.plan.investment_unit
    ws.title(title_of(evaluation), f"导出时间：{format_datetime(exported_at)}")
    ws.skip()
    rows: list[tuple[str, Any, str | None]] = [
        ("规划", evaluation.plan.title, None),
        ("考核类型", evaluation.kind.label, None),
        ("考核年度", evaluation.year, None),
        ("版本", f"第{evaluation.version}版", None),
        ("状态", evaluation.state.label, None),
        ("考核期", evaluation_window(evaluation).label, None),
        ("计算时间", format_datetime(evaluation.computed_at), None),
        ("锁定时间", format_datetime(evaluation.locked_at) if evaluation.locked_at else "未锁定", None),
        ("权重", "；".join(f"{WEIGHT_LABELS[k]} {settings.weights[k]}" for k in WEIGHT_KEYS), None),
        ("等次分数线", "；".join(f"{GRADE_LABELS[k]} ≥{settings.thresholds[k]}" for k in GRADE_KEYS) + "；其余为不合格",
         None),
        ("纳入考核的责任单位", tot.departments, None),
        ("到期任务", tot.due, None),
        ("已完成", tot.done, None),
        ("按期完成", tot.on_time, None),
        ("逾期未完成", tot.overdue, None),
        ("任务完成率", tot.completion_rate, PERCENT),
        ("按期完成率", tot.on_time_rate, PERCENT),
        ("主要指标", tot.indicators, None),
        ("已达成", tot.achieved, None),
        ("符合进度", tot.on_track, None),
        ("滞后或未达成", tot.lagging, None),
        ("待评判", tot.pending, None),
        ("未确认的监测值（不予评判）", tot.not_confirmed, None),
        ("其中：待确认", tot.unconfirmed, None),
        ("其中：已退回", tot.values_returned, None),
        ("督办立案", tot.opened, None),
        ("督办销号", tot.closed, None),
        ("督办退回", tot.returned, None),
        (f"计划投资（{unit.label}）", _in_unit(tot.planned, unit), MONEY),
        (f"完成投资（已确认，{unit.label}）", _in_unit(tot.completed, unit), MONEY),
        ("投资完成率", tot.investment_rate, PERCENT),
    ]
    review = plan_review.read(evaluation)
    if review is not None:  # 中期评估 and 总结评估: the totals of their three sheets
        rows += [
            ("重点任务", len(review.key_tasks), None),
            ("其中：已完成", review.done, None),
            ("重点任务完成率", review.done_rate, PERCENT),
            ("其中：已逾期", review.overdue, None),
            ("其中：批准延期", review.extended, None),
            (f"重大项目计划投资（{unit.label}）", _in_unit(review.planned, unit), MONEY),
            (f"重大项目完成投资（已确认，{unit.label}）", _in_unit(review.completed, unit), MONEY),
            ("重大项目投资完成率", review.investment_rate, PERCENT),
            ("滞后的建设节点", review.nodes_late, None),
            ("下级规划落实的重点任务", review.covered_any, None),
            ("下级规划覆盖率", review.overall_rate, PERCENT),
        ]
    for label, value, fmt in rows:
        _write_row(ws, [label, value], {2: fmt} if fmt else None, looks=LABEL)
    ws.skip()
    r = _write_row(ws, ["评估摘要", evaluation.summary or ""], looks={1: BOLD, 2: WRAP})
    ws.height(r, 15 * max(3, len(evaluation.summary or "") // 45 + 1))
    ws.width(1, 22)
    ws.width(2, 90)
    ws.print_on_a4()


def department_row(s: DepartmentScore, unit: InvestmentUnit) -> list[Any]:
    return [
        s.rank, s.department.name, s.tasks_due, s.tasks_done, s.tasks_done_on_time, s.tasks_overdue,
        s.completion_rate, s.on_time_rate, s.indicators_achieved, s.indicators_on_track, s.indicators_lagging,
        s.cases_opened, s.cases_closed, s.cases_returned, _in_unit(s.investment_planned, unit),
        _in_unit(s.investment_completed, unit), s.investment_rate, s.score if s.rank is not None else None, s.adjusted_score, s.adjust_reason or "",
        s.final_score if s.rank is not None else None, s.grade.label if s.grade else "不参与评分",
    ]


def department_sheet(ws: Sheet, scores: Sequence[DepartmentScore], unit: InvestmentUnit) -> None:
    ws.title("部门考核结果", "按最终得分排名，得分相同的单位并列同一名次；最终得分为调整后得分（无调整时为计算得分）。"
           "完成投资为规划处已确认的数额。")
    columns = department_columns(unit)
    widths = [6, 22, 8, 8, 8, 9, 9, 10, 9, 10, 12, 8, 8, 8, 14, 16, 10, 9, 10, 30, 9, 10]
    header = _header(ws, columns, widths)
    formats = {7: PERCENT, 8: PERCENT, 15: MONEY, 16: MONEY, 17: PERCENT, 18: SCORE, 19: SCORE, 21: SCORE}
    for s in scores:
        _write_row(ws, department_row(s, unit), formats)
    ws.freeze(f"C{header + 1}")
    ws.filter(header, max(ws.last_row, header + 1), len(columns))
    ws.print_on_a4(header)


def task_sheet(ws: Sheet, session: Session, evaluation: Evaluation) -> None:
    window = evaluation_window(evaluation)
    ws.title(f"任务完成情况（截止日期在{window.label}之间的任务）",
           "部门汇总数为考核计算时冻结的数据；任务明细按导出时的任务数据列出。")
    header = _header(ws, ["序号", "任务编号", "任务名称", "层级", "牵头单位", "截止日期", "完成日期", "考核结果",
                          "当前状态"], [6, 10, 50, 10, 22, 14, 14, 10, 10])
    lines = task_lines(session, evaluation)
    for n, line in enumerate(lines, start=1):
        t = line.task
        result = "按期完成" if line.on_time else "逾期完成" if line.done else "未完成"
        _write_row(ws, [n, t.code, t.title, t.level.label, t.lead_department.name if t.lead_department else "",
                        t.deadline, t.completed_on, result, t.status.label])
    if not lines:
        _write_row(ws, ["考核期内没有到期任务。"])
    ws.freeze(f"A{header + 1}")
    ws.filter(header, max(ws.last_row, header + 1), 9)
    ws.print_on_a4(header)


def indicator_sheet(ws: Sheet, evaluation: Evaluation, results: Sequence[IndicatorResult],
                    paths: dict[int, Course]) -> None:
    """Like 表1: category, number, name, unit, target, value, judgement (categories merged down), then 目标一致法:
    the expected pace, the latest confirmed value, the projection to the target year and the light."""
    ws.title(f"主要指标完成情况（{evaluation.year}年）")
    header = _header(ws, INDICATOR_COLUMNS, [14, 6, 34, 9, 14, 14, 10, 8, 20, 40, 10, 14, 12, 10])
    first_of_category = None
    previous = object()
    for r in results:
        i = r.indicator
        target = i.target_text + (f"（{i.target_year}年）" if i.target_year and i.target_year != evaluation.year else "")
        row = _write_row(ws, [i.category or "", i.number, i.name, i.unit or "", target, r.value_text or "—",
                              r.review_label or r.judgement.label, i.nature.label,
                              i.lead_department.name if i.lead_department else "", r.note or "",
                              *_course_cells(paths.get(i.id))], looks={1: Style(vertical="center", wrap=True)})
        if i.category != previous:
            if first_of_category is not None and row - 1 > first_of_category:
                ws.merge(first_of_category, 1, row - 1, 1)
            first_of_category, previous = row, i.category
    if first_of_category is not None and ws.last_row > first_of_category and previous:
        ws.merge(first_of_category, 1, ws.last_row, 1)
    ws.freeze(f"A{header + 1}")
    ws.print_on_a4(header)


def _course_cells(c: Course | None) -> list[Any]:
    if c is None:
        return ["", "", "", ""]
    return [c.expected if c.expected is not None else "—",
            f"{figure(c.latest[1])}（{c.latest[0]}年）" if c.latest else "—",
            c.projection.quantize(Decimal("0.01")) if c.projection is not None else "—", c.light.label]


def supervision_sheet(ws: Sheet, session: Session, evaluation: Evaluation) -> None:
    window = evaluation_window(evaluation)
    ws.title(f"督办情况（{window.label}立案的督办件）")
    outcomes = case_outcomes(session, evaluation)
    header_labels = ["责任单位", "立案", "销号", "退回", *[o.label for o in CaseOutcome]]
    _header(ws, header_labels, [22, 8, 8, 8, 10, 10, 12, 8])
    scores = [s for s in scores_of(session, evaluation) if s.cases_opened]
    for s in scores:
        per = outcomes.get(s.department_id, {})
        _write_row(ws, [s.department.name, s.cases_opened, s.cases_closed, s.cases_returned,
                        *[per.get(o.value, 0) for o in CaseOutcome]])
    if not scores:
        _write_row(ws, ["考核期内没有立案的督办件。"])
    ws.skip()
    _header(ws, ["督办编号", "督办事项", "责任单位", "来源", "状态", "退回次数", "办结结果", "立案日期", "销号日期"],
            [16, 40, 22, 10, 10, 8, 12, 14, 14])
    for c in cases_of(session, evaluation):
        _write_row(ws, [c.number_label, c.title, c.department.name, c.source.label, c.state.label, c.return_count,
                        c.outcome.label if c.outcome else "", to_local(c.created_at).date(),
                        to_local(c.closed_at).date() if c.closed_at else None])
    ws.print_on_a4()


def filename_of(evaluation: Evaluation, extension: str) -> str:
    return f"{evaluation.plan.short_name}{evaluation.year}年{evaluation.kind.label}_第{evaluation.version}版.{extension}"


# ---------------------------------------------------------------------------------------------------
# 中期评估 and 总结评估: the plan's key tasks, key projects and cascade as frozen (plan_review)
# ---------------------------------------------------------------------------------------------------


def key_task_sheet(ws: Sheet, review: plan_review.Review) -> None:
    ws.title(f"重点任务推进情况（截至{review.as_of.year}年{review.as_of.month}月{review.as_of.day}日）",
                 f"重点任务{len(review.key_tasks)}项，已完成{review.done}项，已逾期{review.overdue}项，"
                 f"批准延期{review.extended}项。状态为评估截止日的状态，截止日期为当日有效的截止日期。")
    header = _header(ws, ["编号", "重点任务", "牵头单位", "截止日期", "原定截止日期", "状态", "延期次数",
                          "督办件", "销号", "退回", "逾期"], [8, 44, 20, 14, 14, 10, 8, 8, 8, 8, 8])
    for r in review.key_tasks:
        _write_row(ws, [r.code, r.title, r.department or "", r.deadline, r.original_deadline, r.status.label,
                        r.extensions, r.cases, r.closed, r.returned, r.late])
    _write_row(ws, ["合计", f"完成{review.done}项，完成率{percent(review.done_rate)}", "", None, None,
                    f"逾期{review.overdue}项", review.extended, review.cases], bold=True)
    ws.freeze(f"C{header + 1}")
    ws.filter(header, max(ws.last_row - 1, header + 1), 11)
    ws.print_on_a4(header)


def project_sheet(ws: Sheet, review: plan_review.Review, unit: InvestmentUnit) -> None:
    ws.title(f"重大项目投资完成情况（{unit.label}）",
                 "投资为考核期内各年度的数额；完成投资只计规划处已确认的数额（已提交、已退回和草稿不计入）。"
                 "滞后节点为评估截止日及以前到期而未完成的建设节点。")
    header = _header(ws, ["编号", "项目", "牵头单位", f"计划投资（{unit.label}）", f"完成投资（已确认，{unit.label}）",
                          "完成率", "未确认的年度数", "建设节点", "应完成节点", "已完成节点", "滞后节点", "滞后节点明细"],
                     [10, 36, 20, 14, 16, 9, 10, 8, 10, 10, 8, 40])
    formats = {4: MONEY, 5: MONEY, 6: PERCENT}
    for p in review.projects:
        _write_row(ws, [p.code, p.title, p.department or "", _in_unit(p.planned, unit), _in_unit(p.completed, unit),
                        p.rate, p.unconfirmed, p.nodes, p.nodes_due, p.nodes_done, p.nodes_late,
                        "；".join(p.late_nodes)], formats)
    _write_row(ws, ["合计", "", "", _in_unit(review.planned, unit), _in_unit(review.completed, unit),
                    review.investment_rate, review.unconfirmed, None, None, None, review.nodes_late], formats, bold=True)
    ws.freeze(f"C{header + 1}")
    ws.print_on_a4(header)


def cascade_sheet(ws: Sheet, review: plan_review.Review) -> None:
    ws.title("规划衔接落实情况",
                 f"本规划重点任务{review.key_task_total}项，至少一个下级规划落实{review.covered_any}项"
                 "（与覆盖情况页面同一口径，计算时的数据）。")
    header = _header(ws, ["地区", "下级规划", "层级", "落实重点任务", "重点任务", "覆盖率"], [14, 40, 8, 12, 10, 10])
    for p in review.plans:
        _write_row(ws, [p.region, p.title, p.level, p.covered, p.total, p.rate], {6: PERCENT})
    for region in review.regions:
        if not region.plans:
            _write_row(ws, [region.name, "尚无规划", "", 0, region.total, region.rate], {6: PERCENT})
    _write_row(ws, ["总体", "至少一个下级规划落实", "", review.covered_any, review.key_task_total,
                    review.overall_rate], {6: PERCENT}, bold=True)
    ws.skip()
    _header(ws, ["编号", "重点任务", "落实的下级规划任务", "落实地区数"], [14, 40, 50, 10])
    for row in review.cascade:
        _write_row(ws, [row.code, row.title, "、".join(row.implemented_by) or "未落实", row.regions])
    ws.freeze(f"A{header + 1}")
    ws.print_on_a4(header)
