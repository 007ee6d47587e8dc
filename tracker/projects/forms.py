from __future__ import annotations

from typing import Any, TypeVar

from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ..planning.forms import (
    CheckboxListField,
    department_choices,
    optional_id,
    required_id,
    strip,
    tree_label,
)
from ..planning.models import InvestmentUnit
from ..planning.queries import TreeNode
from ..regions.models import Department
from ..tasks.models import PROJECT_KINDS, TaskKind
from ..web import Form
from . import amounts, checks
from .amounts import AmountError, Entered
from .models import FundingSource, ProjectKind, ProjectStatus
from .services import ProjectTask

YEAR = "请输入四位年份。"


class AmountField(StringField):
    """An amount written in the plan's unit (the form's ``unit``); after validation ``entered`` holds it in
    万元. "待定" is accepted where ``allow_tbd``."""

    def __init__(self, label: str | None = None, validators: Any = None, *, allow_tbd: bool = False,
                 required: bool = False, **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.allow_tbd = allow_tbd
        self.required = required
        self.entered = Entered()

    def pre_validate(self, form: Any) -> None:
        try:
            self.entered = amounts.parse(self.data, form.unit, allow_tbd=self.allow_tbd)
        except AmountError as exc:
            raise ValidationError(str(exc)) from None
        if self.required and self.entered.empty:
            raise ValidationError("请填写金额。")


class AmountForm(Form):
    """A form with amounts: ``unit`` is the plan's unit, shown in the amount labels."""

    unit: InvestmentUnit = InvestmentUnit.WAN

    def bind_unit(self, unit: InvestmentUnit) -> None:
        self.unit = unit
        for f in self:
            if isinstance(f, AmountField):
                base = f.label.text.split("（")[0]
                f.label.text = f"{base}（{unit.label}）"


class RegisterForm(AmountForm):
    """The planner's register entry of one project; the yearly plan fields are added per project."""

    kind = SelectField("建设性质", choices=ProjectKind.choices(), validators=[DataRequired("请选择建设性质。")])
    status = SelectField("项目状态", choices=ProjectStatus.choices(), validators=[DataRequired("请选择项目状态。")])
    region = SelectField("建设地点", coerce=required_id, validators=[InputRequired("请选择建设地点。")])
    start_year = IntegerField("开工年份", validators=[Optional(), NumberRange(1990, 2100, YEAR)])
    end_year = IntegerField("建成年份", validators=[Optional(), NumberRange(1990, 2100, YEAR)])
    content = TextAreaField("建设内容", validators=[Optional(), Length(max=5000, message="不能超过5000字。")])
    total_investment = AmountField("总投资", allow_tbd=True)
    period_investment = AmountField("规划期内计划投资", allow_tbd=True)
    funding_fiscal = AmountField("财政", allow_tbd=True)
    funding_special_bond = AmountField("专项债", allow_tbd=True)
    funding_self = AmountField("自筹", allow_tbd=True)
    funding_social = AmountField("社会资本", allow_tbd=True)
    funding_other = AmountField("其他", allow_tbd=True)
    acknowledge_warnings = BooleanField(checks.ACKNOWLEDGE)
    seen_warnings = HiddenField()  # the keys of the cross-check warnings shown beside the box
    version = HiddenField()

    years: list[int] = []

    def seen(self) -> list[str]:
        return [k for k in (self.seen_warnings.data or "").split(",") if k]

    def acknowledged(self) -> list[str] | bool:
        """The warnings the planner acknowledged by ticking the box: the keys of those shown beside it (the page
        sends them with the box), or every one when a client ticks it without being shown any; False when not
        ticked."""
        if not self.acknowledge_warnings.data:
            return False
        return self.seen() or True

    def offer(self, warnings: list[str]) -> None:
        """Show ``warnings`` beside the box, ticked only if it was ticked for these very warnings."""
        keys = [checks.warning_key(w) for w in warnings]
        self.acknowledge_warnings.data = bool(self.acknowledge_warnings.data) and set(keys) <= set(self.seen())
        self.seen_warnings.data = ",".join(keys)

    def funding_fields(self) -> list[tuple[FundingSource, AmountField]]:
        return [(source, getattr(self, f"funding_{source.value}")) for source in FundingSource]

    def planned_fields(self) -> list[tuple[int, AmountField]]:
        return [(year, getattr(self, f"planned_{year}")) for year in self.years]


F = TypeVar("F", bound=RegisterForm)


class NewProjectForm(RegisterForm):
    """A project added to the register: the register entry, and what its task needs (name, kind, place in
    the plan, owner unit and co-operating units)."""

    title = StringField("项目名称", filters=[strip],
                        validators=[DataRequired("请填写项目名称。"), Length(max=300, message="项目名称不能超过300字。")])
    code = StringField("编号", filters=[strip], validators=[Optional(), Length(max=40, message="编号不能超过40个字符。")])
    task_kind = SelectField("项目类别", coerce=TaskKind, default=TaskKind.PROJECT,
                            choices=[(k.value, k.label) for k in TaskKind if k in PROJECT_KINDS])
    parent_id = SelectField("所属章节或重点任务", coerce=optional_id, validate_choice=False)
    lead_department_id = SelectField("责任单位", coerce=optional_id, validate_choice=False)
    co_department_ids = CheckboxListField("配合单位", coerce=required_id, validate_choice=False)

    def set_task_choices(self, departments: list[Department], parents: list[TreeNode]) -> None:
        self.lead_department_id.choices = department_choices(departments, "请选择责任单位")
        self.co_department_ids.choices = department_choices(departments, None)
        self.parent_id.choices = [("", "（规划顶层）")] + [(str(n.task.id), tree_label(n)) for n in parents]

    def task_input(self) -> ProjectTask:
        return ProjectTask(title=self.title.data or "", kind=self.task_kind.data, parent_id=self.parent_id.data,
                           lead_department_id=self.lead_department_id.data,
                           co_department_ids=list(self.co_department_ids.data or []), code=self.code.data)


def register_form(years: list[int], base: type[F] = RegisterForm) -> type[F]:  # type: ignore[assignment]
    """A register form (or a subclass of it) with one planned-investment field per year."""
    fields: dict[str, Any] = {f"planned_{year}": AmountField(f"{year}年计划投资") for year in years}
    fields["years"] = list(years)
    return type(f"Yearly{base.__name__}", (base,), fields)


class InvestmentForm(AmountForm):
    completed = AmountField("完成投资", required=True)
    note = TextAreaField("说明", validators=[Optional(), Length(max=2000, message="说明不能超过2000字。")])
    version = HiddenField()


class ReviewForm(Form):
    reason = StringField("退回原因", validators=[Optional(), Length(max=1000, message="不能超过1000字。")])
    version = HiddenField()


class NodeDoneForm(Form):
    completed_on = DateField("实际完成日期", validators=[InputRequired("请填写实际完成日期（YYYY-MM-DD）。")])
    evidence = TextAreaField("佐证说明", validators=[DataRequired("请填写佐证说明。"),
                                                 Length(max=4000, message="佐证说明不能超过4000字。")])
    files = MultipleFileField("佐证材料（可选，PDF、图片、Word、Excel、文本，每个不超过10MB）")
    version = HiddenField()


class AdjustmentForm(AmountForm):
    new_total = AmountField("调整后的总投资", required=True)
    reason = TextAreaField("调整理由", validators=[DataRequired("请写明调整理由。"),
                                               Length(max=2000, message="不能超过2000字。")])


class DecisionForm(Form):
    comment = StringField("审批意见", validators=[Optional(), Length(max=1000, message="不能超过1000字。")])
