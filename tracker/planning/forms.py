"""The planner's forms. Choices are filled in by the view; the services re-check every id they get."""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Any

from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from ..indicators.models import Direction, Indicator, IndicatorNature
from ..regions.models import Department
from ..tasks.models import ProjectNode, Task, TaskKind, TaskLevel
from ..timeutil import format_date
from ..web import Form
from .indicators import IndicatorData
from .models import InvestmentUnit, Plan, PlanLevel, PlanStage
from .queries import TreeNode
from .services import ARCHIVE_MEANING, MAX_OUTSIDE_PERIOD_REASON, OUTSIDE_PERIOD, PlanData, TaskData
from .tree import SplitData

MAX_ID = 2**31 - 1
YEARS = NumberRange(1990, 2100, "年份须在1990到2100之间。")


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def optional_id(value: Any) -> int | None:
    """A chosen record id, or None for "none chosen"; anything else is not a choice."""
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_ID:
        raise ValueError("not an id")
    return int(text)


def required_id(value: Any) -> int:
    number = optional_id(value)
    if number is None:
        raise ValueError("not an id")
    return number


def optional_enum(enum_cls: Any) -> Any:
    def coerce(value: Any) -> Any:
        return None if value in (None, "") else enum_cls(value)

    return coerce


class CheckboxListField(SelectMultipleField):
    """Several choices shown as a list of check boxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def department_choices(departments: list[Department], blank: str | None) -> Any:
    """A select's choices grouped by kind of unit (with a first "none" entry), or a flat list for check boxes."""
    if blank is None:
        return [(str(d.id), d.name) for d in departments]
    groups: dict[str, list[tuple[str, str]]] = {"": [("", blank)]}
    for d in departments:
        groups.setdefault(d.kind.label, []).append((str(d.id), d.name))
    return groups


def tree_label(node: TreeNode) -> str:
    """A task in a select, indented by its depth in the tree."""
    t = node.task
    title = t.title if len(t.title) <= 40 else t.title[:40] + "…"
    return "\u3000" * node.depth + f"{t.code} {title}"


def version_field() -> IntegerField:
    return IntegerField(widget=HiddenInput(), validators=[InputRequired("表单缺少版本信息，请刷新页面后重试。")])


def _labelled(enum_cls: Any, suffix: str = "") -> list[tuple[str, str]]:
    return [(m.value, m.label + suffix) for m in enum_cls]


# ------------------------------------------------------------------------------------------- plans


class PlanForm(Form):
    title = StringField("规划名称", filters=[strip],
                        validators=[DataRequired("请填写规划名称。"), Length(max=200, message="规划名称不能超过200字。")])
    short_name = StringField("简称", filters=[strip],
                             validators=[DataRequired("请填写规划简称。"), Length(max=60, message="简称不能超过60字。")])
    level = SelectField("层级", choices=_labelled(PlanLevel, "级"), coerce=PlanLevel)
    start_year = IntegerField("起始年份", validators=[InputRequired("请填写起始年份。"), YEARS])
    end_year = IntegerField("结束年份", validators=[InputRequired("请填写结束年份。"), YEARS])
    parent_id = SelectField("上位规划", coerce=optional_id, validate_choice=False)
    issuing_body = StringField("印发单位", filters=[strip],
                               validators=[Optional(), Length(max=200, message="印发单位不能超过200字。")])
    doc_number = StringField("文号", filters=[strip],
                             validators=[Optional(), Length(max=80, message="文号不能超过80字。")])
    investment_unit = SelectField("投资金额单位", choices=_labelled(InvestmentUnit), coerce=InvestmentUnit)
    description = TextAreaField("规划简介", filters=[strip],
                                validators=[Optional(), Length(max=5000, message="简介不能超过5000字。")])

    def to_data(self) -> PlanData:
        return PlanData(
            title=self.title.data or "", short_name=self.short_name.data or "", level=self.level.data,
            start_year=self.start_year.data, end_year=self.end_year.data, parent_id=self.parent_id.data,
            issuing_body=self.issuing_body.data, doc_number=self.doc_number.data,
            investment_unit=self.investment_unit.data, description=self.description.data,
        )

    def set_choices(self, parents: list[Plan]) -> None:
        self.parent_id.choices = [("", "（无）")] + [(str(p.id), f"{p.title}（{p.period_label}）") for p in parents]


class NewPlanForm(PlanForm):
    stage = SelectField("当前阶段", choices=_labelled(PlanStage), coerce=PlanStage, default=PlanStage.DRAFTING)
    stage_date = DateField("进入该阶段的日期", validators=[Optional()])
    stage_note = StringField("阶段说明", filters=[strip],
                             validators=[Optional(), Length(max=500, message="说明不能超过500字。")])


class EditPlanForm(PlanForm):
    version = version_field()


class StageForm(Form):
    stage = SelectField("阶段", choices=_labelled(PlanStage), coerce=PlanStage)
    on_date = DateField("日期", validators=[InputRequired("请填写日期。")])
    note = TextAreaField("说明", filters=[strip], validators=[Optional(), Length(max=1000, message="说明不能超过1000字。")])
    confirm_archive = BooleanField(f"确认归档（{ARCHIVE_MEANING}）")


# ------------------------------------------------------------------------------------------- tasks


class TaskForm(Form):
    parent_id = SelectField("上级任务", coerce=optional_id, validate_choice=False)
    level = SelectField("层级", choices=_labelled(TaskLevel), coerce=TaskLevel)
    code = StringField("编号", filters=[strip],
                       validators=[DataRequired("请填写编号。"), Length(max=40, message="编号不能超过40个字符。")])
    title = StringField("任务名称", filters=[strip],
                        validators=[DataRequired("请填写任务名称。"), Length(max=300, message="任务名称不能超过300字。")])
    description = TextAreaField("任务内容", filters=[strip],
                                validators=[Optional(), Length(max=5000, message="任务内容不能超过5000字。")])
    kind = SelectField("类型", choices=_labelled(TaskKind), coerce=TaskKind, default=TaskKind.TASK)
    lead_department_id = SelectField("牵头单位", coerce=optional_id, validate_choice=False)
    co_department_ids = CheckboxListField("配合单位", coerce=required_id, validate_choice=False)
    responsible_person = StringField("责任人", filters=[strip],
                                     validators=[Optional(), Length(max=60, message="责任人不能超过60字。")])
    start_date = DateField("开始日期", validators=[Optional()])
    deadline = DateField("截止日期", validators=[Optional()])
    year = IntegerField("年度", validators=[Optional(), YEARS])
    weight = IntegerField("权重", default=1, validators=[InputRequired("请填写权重。"),
                                                       NumberRange(1, 100, "权重须为1到100之间的整数。")])
    upstream_task_id = SelectField("上位任务", coerce=optional_id, validate_choice=False)
    indicator_ids = CheckboxListField("关联指标", coerce=required_id, validate_choice=False)
    confirm_outside_period = BooleanField("确认截止日期超出规划期")
    outside_period_reason = TextAreaField("超出规划期的理由", filters=[strip], validators=[
        Optional(), Length(max=MAX_OUTSIDE_PERIOD_REASON, message=f"理由不能超过{MAX_OUTSIDE_PERIOD_REASON}字。")])

    def asks_outside_period(self) -> bool:
        """Whether the page shows the confirmation of a deadline outside the plan's period."""
        return bool(self.confirm_outside_period.data or self.outside_period_reason.data
                    or self.confirm_outside_period.errors or self.outside_period_reason.errors
                    or any(OUTSIDE_PERIOD in e for e in self.deadline.errors))

    def to_data(self) -> TaskData:
        return TaskData(
            level=self.level.data, code=self.code.data or "", title=self.title.data or "",
            description=self.description.data, kind=self.kind.data,
            lead_department_id=self.lead_department_id.data, co_department_ids=list(self.co_department_ids.data or []),
            responsible_person=self.responsible_person.data, start_date=self.start_date.data,
            deadline=self.deadline.data, year=self.year.data, weight=self.weight.data,
            upstream_task_id=self.upstream_task_id.data, indicator_ids=list(self.indicator_ids.data or []),
            confirm_outside_period=bool(self.confirm_outside_period.data),
            outside_period_reason=self.outside_period_reason.data,
        )

    def set_choices(self, departments: list[Department], parents: list[TreeNode], upstream: list[TreeNode],
                    indicators: list[Indicator]) -> None:
        self.lead_department_id.choices = department_choices(departments, "请选择牵头单位")
        self.co_department_ids.choices = department_choices(departments, None)
        if self.parent_id is not None:
            # each option says its level, so the page can offer only the levels that fit below it
            self.parent_id.choices = [("", "（规划顶层）", {"data-level": ""})] + [
                (str(n.task.id), tree_label(n), {"data-level": n.task.level.value}) for n in parents
            ]
        self.upstream_task_id.choices = [("", "（不关联）")] + [(str(n.task.id), tree_label(n)) for n in upstream]
        self.indicator_ids.choices = [(str(i.id), f"{i.number}. {i.name}（{i.target_text}）") for i in indicators]


class EditTaskForm(TaskForm):
    parent_id = None  # moving is its own form
    version = version_field()


class SplitForm(Form):
    years = CheckboxListField("拆分到哪些年度", coerce=required_id, validate_choice=False)
    title = StringField("年度任务名称", filters=[strip],
                        validators=[DataRequired("请填写年度任务名称。"), Length(max=290, message="名称不能超过290字。")])
    lead_department_id = SelectField("牵头单位", coerce=optional_id, validate_choice=False)
    co_department_ids = CheckboxListField("配合单位", coerce=required_id, validate_choice=False)
    responsible_person = StringField("责任人", filters=[strip],
                                     validators=[Optional(), Length(max=60, message="责任人不能超过60字。")])
    add_milestone = BooleanField("每项年度任务添加年末节点", default=True)
    milestone_title = StringField("年末节点名称", filters=[strip], default="完成年度任务",
                                  validators=[Optional(), Length(max=200, message="节点名称不能超过200字。")])

    def to_data(self) -> SplitData:
        return SplitData(
            years=list(self.years.data or []), title=self.title.data or "",
            lead_department_id=self.lead_department_id.data, co_department_ids=list(self.co_department_ids.data or []),
            responsible_person=self.responsible_person.data,
            milestone_title=(self.milestone_title.data or "完成年度任务") if self.add_milestone.data else None,
        )

    def set_choices(self, departments: list[Department]) -> None:
        self.lead_department_id.choices = department_choices(departments, "请选择牵头单位")
        self.co_department_ids.choices = department_choices(departments, None)

    def set_years(self, years: range, taken: dict[int, Task]) -> None:
        self.years.choices = [(str(y), f"{y}年" + (f"（已有 {taken[y].code}）" if y in taken else "")) for y in years]


class UpstreamForm(Form):
    upstream_task_id = SelectField("上位任务", coerce=optional_id, validate_choice=False)
    version = version_field()

    def set_choices(self, upstream: list[TreeNode]) -> None:
        self.upstream_task_id.choices = [("", "（不关联）")] + [(str(n.task.id), tree_label(n)) for n in upstream]


class MoveForm(Form):
    parent_id = SelectField("移到", coerce=optional_id, validate_choice=False)
    version = version_field()

    def set_choices(self, places: list[TreeNode], *, top: bool) -> None:
        self.parent_id.choices = ([("", "（规划顶层）")] if top else []) + [(str(n.task.id), tree_label(n))
                                                                        for n in places]


class CloseForm(Form):
    reason = TextAreaField("终止原因", filters=[strip],
                           validators=[DataRequired("请填写终止原因。"), Length(max=1000, message="原因不能超过1000字。")])
    version = version_field()


class DeleteForm(Form):
    version = version_field()


class MilestoneForm(Form):
    title = StringField("节点名称", filters=[strip],
                        validators=[DataRequired("请填写节点名称。"), Length(max=200, message="节点名称不能超过200字。")])
    due_date = DateField("计划完成日期", validators=[InputRequired("请填写节点的计划日期。")])
    node = SelectField("建设节点", choices=[("", "（不适用）"), *_labelled(ProjectNode)],
                       coerce=optional_enum(ProjectNode))


class EditMilestoneForm(MilestoneForm):
    version = version_field()


# -------------------------------------------------------------------------------------- indicators


class IndicatorForm(Form):
    number = IntegerField("序号", validators=[InputRequired("请填写序号。"), NumberRange(1, 999, "序号须为1到999之间的整数。")])
    category = StringField("类别", filters=[strip], validators=[Optional(), Length(max=40, message="类别不能超过40字。")])
    name = StringField("指标名称", filters=[strip],
                       validators=[DataRequired("请填写指标名称。"), Length(max=120, message="指标名称不能超过120字。")])
    unit = StringField("单位", filters=[strip], validators=[Optional(), Length(max=30, message="单位不能超过30字。")])
    baseline_text = StringField("基期值", filters=[strip],
                                validators=[Optional(), Length(max=60, message="基期值不能超过60字。")])
    baseline_year = IntegerField("基期年份", validators=[Optional(), YEARS])
    target_text = StringField("目标值（按规划原文）", filters=[strip],
                              validators=[DataRequired("请填写目标值（按规划原文）。"),
                                          Length(max=60, message="目标值不能超过60字。")])
    target_year = IntegerField("目标年份", validators=[Optional(), YEARS])
    direction = SelectField("评价方向", coerce=optional_enum(Direction),
                            choices=[("", "按目标值自动识别"), (Direction.HIGHER.value, Direction.HIGHER.label),
                                     (Direction.LOWER.value, Direction.LOWER.label)])
    nature = SelectField("属性", choices=_labelled(IndicatorNature), coerce=IndicatorNature,
                         default=IndicatorNature.EXPECTED)
    lead_department_id = SelectField("牵头单位", coerce=optional_id, validate_choice=False)
    definition = TextAreaField("名词解释", filters=[strip],
                               validators=[Optional(), Length(max=5000, message="名词解释不能超过5000字。")])
    data_source = StringField("数据来源", filters=[strip],
                              validators=[Optional(), Length(max=200, message="数据来源不能超过200字。")])

    def to_data(self) -> IndicatorData:
        return IndicatorData(
            number=self.number.data, name=self.name.data or "", target_text=self.target_text.data or "",
            nature=self.nature.data, category=self.category.data, unit=self.unit.data,
            baseline_text=self.baseline_text.data, baseline_year=self.baseline_year.data,
            target_year=self.target_year.data, lead_department_id=self.lead_department_id.data,
            definition=self.definition.data, data_source=self.data_source.data, direction=self.direction.data,
        )

    def set_choices(self, departments: list[Department]) -> None:
        self.lead_department_id.choices = department_choices(departments, "（不指定）")


class EditIndicatorForm(IndicatorForm):
    version = version_field()


# ------------------------------------------------------------------------------ loading and comparing


def plan_initial(plan: Plan) -> dict[str, Any]:
    return {
        "title": plan.title, "short_name": plan.short_name, "level": plan.level, "start_year": plan.start_year,
        "end_year": plan.end_year, "parent_id": plan.parent_id, "issuing_body": plan.issuing_body,
        "doc_number": plan.doc_number, "investment_unit": plan.investment_unit, "description": plan.description,
        "version": plan.version_id,
    }


def task_initial(task: Task) -> dict[str, Any]:
    return {
        "level": task.level, "code": task.code, "title": task.title, "description": task.description,
        "kind": task.kind, "lead_department_id": task.lead_department_id,
        "co_department_ids": [d.id for d in task.co_departments], "responsible_person": task.responsible_person,
        "start_date": task.start_date, "deadline": task.deadline, "year": task.year, "weight": task.weight,
        "upstream_task_id": task.upstream_task_id, "indicator_ids": [i.id for i in task.indicators],
        "version": task.version_id,
    }


def indicator_initial(indicator: Indicator) -> dict[str, Any]:
    confirmed = (indicator.target_rule or {}).get("basis") == "planner"
    return {
        "number": indicator.number, "category": indicator.category, "name": indicator.name, "unit": indicator.unit,
        "baseline_text": indicator.baseline_text, "baseline_year": indicator.baseline_year,
        "target_text": indicator.target_text, "target_year": indicator.target_year,
        "direction": indicator.direction if confirmed else None, "nature": indicator.nature,
        "lead_department_id": indicator.lead_department_id, "definition": indicator.definition,
        "data_source": indicator.data_source, "version": indicator.version_id,
    }


def _choice_label(field: Any, value: Any) -> str:
    choices = field.choices or []
    groups = choices.values() if isinstance(choices, dict) else [choices]
    wanted = str(value.value if isinstance(value, Enum) else value)
    for group in groups:
        for choice in group:
            if str(choice[0]) == wanted:
                return str(choice[1]).strip()
    return "" if value is None else str(value)


def _shown(field: Any, value: Any) -> str:
    """A field's value as the person reads it."""
    if isinstance(value, list):
        return "、".join(_choice_label(field, v) for v in value) or "（空）"
    if isinstance(value, date):
        return format_date(value)
    if getattr(field, "choices", None) is not None:
        return _choice_label(field, value) or "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    return "（空）" if value in (None, "") else str(value)


def conflict_rows(submitted: Form, current: Form) -> list[tuple[str, str, str]]:
    """(label, what was submitted, what is saved now) for every field where the two differ."""
    rows = []
    for name, field in current._fields.items():
        if name in ("csrf_token", "version") or name not in submitted._fields:
            continue
        mine, theirs = _shown(field, submitted[name].data), _shown(field, field.data)
        if mine != theirs:
            rows.append((str(field.label.text), mine, theirs))
    return rows


class CascadeForm(Form):
    title = StringField("规划名称", validators=[DataRequired("请填写规划名称。"), Length(max=200, message="不能超过200字。")])
    short_name = StringField("简称", validators=[DataRequired("请填写简称。"), Length(max=60, message="不能超过60字。")])
    start_year = IntegerField("起始年份", validators=[InputRequired("请输入整数。"), YEARS])
    end_year = IntegerField("结束年份", validators=[InputRequired("请输入整数。"), YEARS])
    issuing_body = StringField("印发单位", validators=[Optional(), Length(max=200)])
    investment_unit = SelectField("投资金额单位", choices=InvestmentUnit.choices())
    stage = SelectField("当前阶段", choices=PlanStage.choices(), default=PlanStage.DRAFTING.value)
    stage_date = DateField("阶段日期", validators=[Optional()])
    task_ids = CheckboxListField("落实的任务", choices=[], coerce=required_id, validate_choice=False)
    indicator_ids = CheckboxListField("落实的指标", choices=[], coerce=required_id, validate_choice=False)
    default_lead_id = SelectField("默认牵头单位", choices=[], coerce=optional_id, validate_choice=False)
