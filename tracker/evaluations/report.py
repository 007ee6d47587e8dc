"""The evaluation report (.docx) as a formal document (``tracker.documents``): 总体情况, 指标完成情况 (表1),
the departments' results, supervision and investment tables, for 中期评估 and 总结评估 the key tasks, key projects
and the cascade (as frozen, ``plan_review``), 存在问题 and 下一步工作建议, the 落款."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from ..documents import OfficialDocument, sentence
from ..indicators.consistency import Light, light_counts
from ..indicators.models import IndicatorNature, Judgement
from ..indicators.services import figure
from ..supervision.models import CaseOutcome
from ..tasks.models import TaskStatus
from ..templating import money
from ..timeutil import format_date, format_datetime, to_local
from . import plan_review
from .exports import title_of
from .models import DepartmentScore, Evaluation, IndicatorResult
from .queries import (
    binding_first,
    case_outcomes,
    courses,
    evaluation_window,
    indicator_rows,
    percent,
    rank_label,
    scores_of,
    tied_ranks,
    totals,
)
from .services import GRADE_KEYS, GRADE_LABELS, WEIGHT_KEYS, WEIGHT_LABELS, Settings

LAGGING = (Judgement.LAGGING, Judgement.NOT_ACHIEVED)


def _lagging(results: Sequence[IndicatorResult]) -> list[IndicatorResult]:
    """Judged indicators behind their path or short of their target, binding ones first."""
    behind = [r for r in results if r.review_label is None and r.judgement in LAGGING]
    return sorted(behind, key=lambda r: (r.indicator.nature != IndicatorNature.BINDING, r.indicator.number))


def _most_overdue(scores: Sequence[DepartmentScore], limit: int = 3) -> list[DepartmentScore]:
    overdue = [s for s in scores if s.tasks_overdue]
    return sorted(overdue, key=lambda s: (-s.tasks_overdue, s.department.sort_order, s.department_id))[:limit]


def _indicator_line(r: IndicatorResult, year: int) -> str:
    return f"{r.indicator.name}（目标值{r.indicator.target_text}，{year}年{r.value_text or '—'}，{r.judgement.label}）"


def default_problems(evaluation: Evaluation, results: Sequence[IndicatorResult],
                     scores: Sequence[DepartmentScore], not_confirmed: int) -> list[str]:
    """存在问题 as the figures show them: lagging indicators (binding first), the departments with the most
    tasks not done, values not confirmed, cases returned."""
    items = []
    behind = _lagging(results)
    binding = [r for r in behind if r.indicator.nature == IndicatorNature.BINDING]
    if binding:
        items.append("约束性指标进度滞后。" + "；".join(_indicator_line(r, evaluation.year) for r in binding) + "。")
    others = [r for r in behind if r.indicator.nature != IndicatorNature.BINDING]
    if others:
        items.append("部分预期性、指导性指标未达到目标或进度要求。" + "；".join(_indicator_line(r, evaluation.year) for r in others)
                     + "。")
    overdue = _most_overdue(scores)
    if overdue:
        items.append("部分任务未按期完成。到期未完成任务较多的单位：" + "、".join(
            f"{s.department.full_name}（{s.tasks_overdue}项）" for s in overdue) + "。")
    if not_confirmed:
        items.append(f"监测数据报送审核不够及时。{evaluation.year}年有{not_confirmed}个监测值未经确认，未予评判、不计分。")
    returned = sum(s.cases_returned for s in scores)
    if returned:
        items.append(f"督办整改质量有待提高。考核期内督办件被退回重新整改{returned}件次。")
    review = plan_review.read(evaluation)
    if review is not None and review.overdue:
        late = [f"{r.code}．{r.title}" for r in review.key_tasks if r.status == TaskStatus.OVERDUE]
        items.append(f"部分重点任务未按期完成。截至{format_date(review.as_of)}已逾期的重点任务{len(late)}项："
                     + "；".join(late[:5]) + ("等" if len(late) > 5 else "") + "。")
    if review is not None and review.nodes_late:
        late = [p.title for p in review.projects if p.nodes_late]
        items.append(f"部分重大项目建设进度滞后。{review.nodes_late}个建设节点到期未完成，涉及" + "、".join(late[:5])
                     + ("等" if len(late) > 5 else "") + "。")
    return items or ["考核期内到期任务均已完成，已评判的指标均已达成或符合进度，未发现突出问题。"]


def default_suggestions(evaluation: Evaluation, results: Sequence[IndicatorResult],
                        scores: Sequence[DepartmentScore], not_confirmed: int) -> list[str]:
    """下一步工作建议 answering the problems found: who should do what about which figure."""
    items = []
    behind = _lagging(results)
    if behind:
        leads = [r.indicator.lead_department.full_name for r in behind if r.indicator.lead_department]
        who = "、".join(dict.fromkeys(leads)) or "各牵头单位"
        items.append(f"聚焦滞后指标加力攻坚。{who}要逐项分析"
                     + "、".join(r.indicator.name for r in behind[:5]) + ("等指标" if len(behind) > 5 else "")
                     + "未达到目标或进度要求的原因，制定追赶措施"
                     + ("，约束性指标要确保按期完成。" if any(
                         r.indicator.nature == IndicatorNature.BINDING for r in behind) else "。"))
    overdue = _most_overdue(scores)
    if overdue:
        items.append("加快推进到期未完成任务。" + "、".join(s.department.full_name for s in overdue)
                     + "要明确完成时限和责任人，对仍无法按期完成的任务及时申请调整，规划处跟踪督办。")
    if not_confirmed:
        items.append("及时审核确认监测数据。规划处要尽快审核未确认的监测值，退回的数据由填报单位核实后重新报送，"
                     "确保下一次考核全部纳入评判。")
    items.append("持续做好规划实施监测评估。各单位要按时报送任务进展和监测数据，对照年度目标查找差距，"
                 "为中期评估和规划调整提供依据。")
    return items


def _overview(evaluation: Evaluation) -> str:
    """The stored summary, naming the plan by its full title (the summary is written with the short name)."""
    summary = (evaluation.summary or "").strip()
    plan = evaluation.plan
    if summary.startswith(plan.short_name) and not summary.startswith(plan.title):
        summary = plan.title + summary[len(plan.short_name):]
    return sentence(summary) if summary else ""


def _lines(text: str | None) -> list[str] | None:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines or None


def drafted_conclusions(session: Session, evaluation: Evaluation) -> dict[str, str]:
    """总体情况, 存在问题 and 下一步工作建议 drawn from the figures: what the evaluators start writing from."""
    scores = scores_of(session, evaluation)
    results = indicator_rows(session, evaluation)
    not_confirmed = totals(session, evaluation).not_confirmed
    return {"overview": _overview(evaluation),
            "problems": "\n".join(default_problems(evaluation, results, scores, not_confirmed)),
            "suggestions": "\n".join(default_suggestions(evaluation, results, scores, not_confirmed))}


def evaluation_report(session: Session, evaluation: Evaluation, exported_at: datetime, *,
                      problems: Sequence[str] | None = None, suggestions: Sequence[str] | None = None) -> bytes:
    """The report; 总体情况, 存在问题 and 下一步工作建议 are the evaluators' own where they have written them on the
    evaluation (or passed in), else drawn from the figures."""
    problems = problems if problems is not None else _lines(evaluation.problems)
    suggestions = suggestions if suggestions is not None else _lines(evaluation.suggestions)
    plan = evaluation.plan
    window = evaluation_window(evaluation)
    state = "" if evaluation.locked_at else "\n（草稿，未锁定，数据可能变化）"
    doc = OfficialDocument(title_of(evaluation) + "报告",
                           subtitle=f"（考核期：{window.label}　第{evaluation.version}版）{state}")
    scores = scores_of(session, evaluation)
    results = indicator_rows(session, evaluation)
    tot = totals(session, evaluation)

    doc.heading("总体情况")
    for paragraph in _lines(evaluation.overview) or [_overview(evaluation)]:
        if paragraph:
            doc.paragraph(sentence(paragraph))
    settings = Settings.of(evaluation)
    doc.paragraph("评分方法：得分＝100×Σ（权重×比率）÷Σ权重，只计入该单位有数据的比率。权重："
                  + "，".join(f"{WEIGHT_LABELS[k]}{settings.weights[k]}" for k in WEIGHT_KEYS)
                  + "。等次：" + "，".join(f"{GRADE_LABELS[k]}不低于{settings.thresholds[k]}分" for k in GRADE_KEYS)
                  + "，其余为不合格。")
    if evaluation.locked_at:
        doc.paragraph(f"本报告依据{format_datetime(evaluation.locked_at)}锁定的考核结果。")

    doc.heading("指标完成情况")
    paths = courses(session, evaluation)
    progress = {i: figure(c.expected) if c.expected is not None else "—" for i, c in paths.items()}
    doc.paragraph(f"{evaluation.year}年主要指标{len(results)}项的完成情况见表1。只评判已确认的监测值；"
                  "进度值为按基期值至目标值直线推算的当年应达值。")
    unconfirmed = [r for r in results if r.review_label]
    doc.table(f"主要指标完成情况（{evaluation.year}年）",
              ["类别", "指标", "单位", "基期值", "目标值", "属性", "当年值", "进度值", "评判"],
              [[r.indicator.category or "", f"{r.indicator.number}. {r.indicator.name}", r.indicator.unit or "",
                r.indicator.baseline_text or "—", r.indicator.target_text, r.indicator.nature.label,
                r.value_text or "—", progress.get(r.indicator_id, "—"), r.review_label or r.judgement.label]
               for r in results],
              [19, 33, 12, 16, 18, 15, 14, 14, 15], centre=frozenset(range(2, 9)),
              note=(f"注：未确认的监测值{len(unconfirmed)}个，不予评判、不计分：" + "；".join(
                  f"{r.indicator.name}{r.value_text or ''}（{r.review_label}"
                  + (f"，退回原因：{sentence(r.return_reason).rstrip('。')}" if r.return_reason else "") + "）"
                  for r in unconfirmed) + "。") if unconfirmed else None)

    lit = [r for r in binding_first(results) if paths[r.indicator_id].light != Light.NONE]
    if lit:
        counts = light_counts([paths[r.indicator_id].light for r in lit])
        doc.paragraph("按目标一致法（以已确认的监测值对照基期值至目标值的直线进度，容差"
                      f"{evaluation.pace_tolerance}%），" + "、".join(
                          f"{light.label}{n}项" for light, n in counts.items() if n and light != Light.NONE)
                      + f"，见表{doc.tables + 1}；约束性指标列在前面。")
        doc.table("指标进度评估（目标一致法）",
                  ["指标", "属性", "目标值", "进度值", "最新确认值", "目标年预测值", "评估"],
                  [[f"{r.indicator.number}. {r.indicator.name}", r.indicator.nature.label, r.indicator.target_text,
                    progress[r.indicator_id],
                    f"{figure(c.latest[1])}（{c.latest[0]}年）" if (c := paths[r.indicator_id]).latest else "—",
                    figure(c.projection) if c.projection is not None else "—", c.light.label] for r in lit],
                  [40, 15, 20, 17, 26, 20, 18], centre=frozenset(range(1, 7)))

    tied = tied_ranks(scores)
    doc.heading("重点任务和部门考核结果")
    doc.paragraph(f"纳入考核的责任单位{tot.departments}个，到期任务{tot.due}项，已完成{tot.done}项，"
                  f"按期完成{tot.on_time}项，未完成{tot.overdue}项。各单位考核结果见表{doc.tables + 1}。"
                  if tot.due else f"纳入考核的责任单位{tot.departments}个，考核期内没有到期任务。"
                  f"各单位考核结果见表{doc.tables + 1}。")
    doc.table("部门考核结果",
              ["排名", "责任单位", "到期任务", "已完成", "按期完成", "完成率", "按期完成率", "指标达成/进度/滞后",
               "督办立案/销号/退回", "计算得分", "调整后得分", "等次"],
              [[rank_label(s.rank, tied), s.department.name, s.tasks_due, s.tasks_done, s.tasks_done_on_time,
                percent(s.completion_rate), percent(s.on_time_rate),
                f"{s.indicators_achieved}/{s.indicators_on_track}/{s.indicators_lagging}",
                f"{s.cases_opened}/{s.cases_closed}/{s.cases_returned}",
                str(s.score) if s.rank is not None else "—",
                str(s.adjusted_score) if s.adjusted_score is not None else "",
                s.grade.label if s.grade else "不参与评分"] for s in scores],
              [16, 36, 16, 13, 16, 15, 19, 19, 19, 16, 19, 21], right=frozenset(range(2, 11)),
              centre=frozenset({0, 11}), size="小五", landscape=True,
              note=("注：得分调整说明：" + "；".join(
                  f"{s.department.name}由{s.score}分调整为{s.adjusted_score}分，理由：{sentence(s.adjust_reason or '').rstrip('。')}"
                  for s in scores if s.adjusted_score is not None) + "。")
              if any(s.adjusted_score is not None for s in scores) else None)

    doc.heading("督办情况")
    with_cases = [s for s in scores if s.cases_opened]
    if with_cases:
        doc.paragraph(f"考核期内督办件立案{tot.opened}件，已销号{tot.closed}件，曾被退回{tot.returned}件，"
                      f"各单位情况见表{doc.tables + 1}。")
        outcomes = case_outcomes(session, evaluation)
        doc.table("督办情况", ["责任单位", "立案", "销号", "退回", *[o.label for o in CaseOutcome]],
                  [[s.department.name, s.cases_opened, s.cases_closed, s.cases_returned,
                    *[outcomes.get(s.department_id, {}).get(o.value, 0) for o in CaseOutcome]] for s in with_cases],
                  [40, 14, 14, 14, 19, 19, 22, 14], right=frozenset(range(1, 8)))
    else:
        doc.paragraph("考核期内没有立案的督办件。")

    planned = [s for s in scores if s.investment_planned is not None]
    if planned:
        unit = plan.investment_unit.label
        doc.heading(f"重大项目投资（{unit}）")
        doc.paragraph(f"各单位重大项目投资完成情况见表{doc.tables + 1}。")
        doc.table(f"重大项目投资完成情况（{unit}）", ["责任单位", "计划投资", "完成投资（已确认）", "完成率"],
                  [[s.department.name, money(s.investment_planned, unit), money(s.investment_completed, unit),
                    percent(s.investment_rate)] for s in planned], [56, 34, 40, 26], right=frozenset({1, 2, 3}))

    review = plan_review.read(evaluation)
    if review is not None:
        _review_sections(doc, review, plan.investment_unit.label)

    doc.heading("存在问题")
    doc.items(problems if problems is not None else default_problems(evaluation, results, scores, tot.not_confirmed))
    doc.heading("下一步工作建议")
    doc.items(suggestions if suggestions is not None
              else default_suggestions(evaluation, results, scores, tot.not_confirmed))

    doc.signature(plan.region.authority, to_local(exported_at).date())
    return doc.save()


def _review_sections(doc: OfficialDocument, review: plan_review.Review, unit: str) -> None:
    """重点任务推进情况, 重大项目投资完成情况 (per project) and 规划衔接落实情况, numbered on from the tables before."""
    day = format_date(review.as_of)
    doc.heading("重点任务推进情况")
    doc.paragraph(f"规划确定的重点任务{len(review.key_tasks)}项，截至{day}已完成{review.done}项"
                  f"（{percent(review.done_rate)}），已逾期{review.overdue}项，经批准延期{review.extended}项，"
                  f"涉及督办件{review.cases}件，见表{doc.tables + 1}。")
    doc.table("重点任务推进情况",
              ["编号", "重点任务", "牵头单位", "截止日期", "状态", "延期", "督办立案/销号/退回/逾期"],
              [[r.code, r.title, r.department or "", format_date(r.deadline) if r.deadline else "—", r.status.label,
                f"{r.extensions}次（原定{format_date(r.original_deadline)}）" if r.extended else "—",
                f"{r.cases}/{r.closed}/{r.returned}/{r.late}"] for r in review.key_tasks],
              [12, 66, 30, 30, 16, 39, 32], centre=frozenset({0, 3, 4, 5, 6}), size="小五", landscape=True,
              note="注：状态为评估截止日的状态；截止日期为当日有效的截止日期；督办件含对该任务及其工作举措、年度任务"
                   "立案的督办件，逾期指以“逾期整改”销号或超过反馈期限仍未销号。")

    doc.heading("重大项目推进情况")
    if review.projects:
        doc.paragraph(f"重大项目{len(review.projects)}个，考核期内计划投资{_money(review.planned, unit)}，"
                      f"已确认完成投资{_money(review.completed, unit)}，完成率{percent(review.investment_rate)}；"
                      f"截至{day}到期未完成的建设节点{review.nodes_late}个，见表{doc.tables + 1}。")
        doc.table(f"重大项目投资完成情况（按项目，{unit}）",
                  ["项目", "牵头单位", "计划投资", "完成投资（已确认）", "完成率", "建设节点应完成/已完成", "滞后节点"],
                  [[f"{p.code} {p.title}", p.department or "", _figure(p.planned, unit), _figure(p.completed, unit),
                    percent(p.rate), f"{p.nodes_due}/{p.nodes_done}", "；".join(p.late_nodes) or "—"]
                   for p in review.projects],
                  [36, 20, 18, 20, 14, 22, 26], right=frozenset({2, 3, 4}), centre=frozenset({5}), size="小五",
                  note="注：完成投资只计规划处已确认的数额，已提交、已退回和草稿的数额不计入"
                       + (f"（共{review.unconfirmed}个年度数未计入）" if review.unconfirmed else "") + "。")
    else:
        doc.paragraph("规划未列重大项目。")

    doc.heading("规划衔接落实情况")
    if review.plans or review.regions:
        shares = "；".join(f"{p.short_name}{p.covered}项（{percent(p.rate)}）" for p in review.plans)
        missing = [r.name for r in review.regions if not r.plans]
        doc.paragraph(f"规划重点任务{review.key_task_total}项，下级规划落实情况：{shares or '尚无下级规划'}。"
                      f"至少一个下级规划落实的重点任务{review.covered_any}项，总体覆盖率{percent(review.overall_rate)}"
                      + (f"；{'、'.join(missing)}尚无下级规划" if missing else "") + f"。各重点任务的落实情况见表{doc.tables + 1}。")
        doc.table("规划衔接落实情况", ["编号", "重点任务", "落实的下级规划任务"],
                  [[r.code, r.title, "、".join(r.implemented_by) or "未落实"] for r in review.cascade],
                  [14, 66, 76], centre=frozenset({0}), size="小五")
    else:
        doc.paragraph("本地区没有下级行政区划，不涉及规划衔接。")


def _figure(wan: Decimal | None, unit: str) -> str:
    return money(wan, unit) if wan is not None else "—"


def _money(wan: Decimal | None, unit: str) -> str:
    return f"{money(wan, unit)}{unit}" if wan is not None else "—"
