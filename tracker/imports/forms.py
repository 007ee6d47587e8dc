"""Forms of the import pages. Choices are filled in by the views; the services check every value again."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..indicators.models import IndicatorNature
from ..planning.forms import YEARS, CheckboxListField, optional_id, required_id
from ..planning.models import InvestmentUnit, PlanStage
from ..regions.models import Department
from ..tasks.models import TaskKind
from ..web import Form
from .draft import TYPE_LABELS

NUMBER = "请输入整数。"


def department_choices(departments: list[Department], blank: str | None) -> list[tuple[str, str]]:
    choices = [("", blank)] if blank is not None else []
    return choices + [(str(d.id), d.name) for d in departments]


class UploadForm(Form):
    file = FileField("规划文档（.docx、.doc、.wps、.txt、.md、带文字层的 .pdf，不超过10MB）",
                     validators=[FileRequired("请选择要上传的规划文档。")])


class RevisionUploadForm(Form):
    file = FileField("修订版文档（同一规划的新版本；已核对、修改过的条目会保留）",
                     validators=[FileRequired("请选择修订版文档。")])


class RevForm(Form):
    """A button-only form: CSRF and the draft revision the page showed."""

    rev = HiddenField()


class DecisionForm(RevForm):
    """采用新版原文 / 保留我的修改 / 恢复: ``back`` is "item" when answered from the item's edit form."""

    back = HiddenField()


class DeleteItemForm(RevForm):
    with_children = BooleanField("连同下级一起删除")


class ItemForm(RevForm):
    type = SelectField("类型", choices=[(k, v) for k, v in TYPE_LABELS.items()])
    code = StringField("编号", validators=[DataRequired("请填写编号。"), Length(max=40, message="编号不能超过40个字符。")])
    title = StringField("标题", validators=[DataRequired("请填写标题。"), Length(max=300, message="标题不能超过300字。")])
    description = TextAreaField("内容", validators=[Optional(), Length(max=20000, message="内容过长。")])
    kind = SelectField("任务类型", choices=TaskKind.choices())
    parent = SelectField("上级", choices=[], validate_choice=False)
    lead = SelectField("牵头单位", choices=[], coerce=optional_id, validate_choice=False)
    co = CheckboxListField("配合单位", choices=[], coerce=required_id, validate_choice=False)


class IndicatorForm(RevForm):
    number = IntegerField("序号", validators=[InputRequired(NUMBER), NumberRange(1, 999, "序号须为1到999之间的整数。")])
    category = StringField("类别", validators=[Optional(), Length(max=40, message="类别不能超过40字。")])
    name = StringField("指标名称", validators=[DataRequired("请填写指标名称。"), Length(max=120, message="不能超过120字。")])
    unit = StringField("单位", validators=[Optional(), Length(max=30, message="单位不能超过30字。")])
    baseline = StringField("基期值", validators=[Optional(), Length(max=60, message="不能超过60字。")])
    baseline_year = IntegerField("基期年份", validators=[Optional(), YEARS])
    target = StringField("目标值", validators=[DataRequired("请填写目标值。"), Length(max=60, message="不能超过60字。")])
    target_year = IntegerField("目标年份", validators=[Optional(), YEARS])
    nature = SelectField("属性", choices=[("", "（未注明，确认导入前须选择）"), *IndicatorNature.choices()])
    lead = SelectField("牵头单位", choices=[], coerce=optional_id, validate_choice=False)
    definition = TextAreaField("名词解释", validators=[Optional(), Length(max=5000, message="不能超过5000字。")])


class NatureForm(RevForm):
    """One nature for every indicator the document left without one."""

    nature = SelectField("属性", choices=[("", "（请选择）"), *IndicatorNature.choices()])


class ProjectForm(RevForm):
    name = StringField("项目名称", validators=[DataRequired("请填写项目名称。"), Length(max=300, message="不能超过300字。")])
    unit = SelectField("金额单位", choices=[(u.label, u.label) for u in InvestmentUnit])
    total = StringField("总投资", validators=[Optional(), Length(max=30)])
    period = StringField("规划期内投资", validators=[Optional(), Length(max=30)])
    start_year = IntegerField("开工年份", validators=[Optional(), YEARS])
    end_year = IntegerField("完工年份", validators=[Optional(), YEARS])
    owner = StringField("建设单位（原文）", validators=[Optional(), Length(max=200)])
    lead = SelectField("牵头单位", choices=[], coerce=optional_id, validate_choice=False)
    content = TextAreaField("建设内容", validators=[Optional(), Length(max=5000)])
    remarks = StringField("备注", validators=[Optional(), Length(max=500)])


class RuleForm(Form):
    keyword = StringField("关键词", validators=[DataRequired("请填写关键词。"), Length(max=40, message="关键词不能超过40个字。")])
    department_id = SelectField("责任单位", choices=[], coerce=optional_id, validate_choice=False)


class ApplyRulesForm(RevForm):
    overwrite = BooleanField("覆盖已分配的牵头单位")


class BulkAssignForm(RevForm):
    items = SelectMultipleField("任务", choices=[], validate_choice=False)
    lead = SelectField("设为牵头单位", choices=[], coerce=optional_id, validate_choice=False)


class ConfirmForm(Form):
    mode = RadioField("导入方式", choices=[("new", "新建规划"), ("update", "更新原规划")], default="new")
    title = StringField("规划名称", validators=[DataRequired("请填写规划名称。"), Length(max=200, message="不能超过200字。")])
    short_name = StringField("简称", validators=[DataRequired("请填写简称。"), Length(max=60, message="不能超过60字。")])
    start_year = IntegerField("起始年份", validators=[InputRequired(NUMBER), YEARS])
    end_year = IntegerField("结束年份", validators=[InputRequired(NUMBER), YEARS])
    parent_id = SelectField("上位规划", choices=[], coerce=optional_id, validate_choice=False)
    issuing_body = StringField("印发单位", validators=[Optional(), Length(max=200)])
    doc_number = StringField("文号", validators=[Optional(), Length(max=80)])
    investment_unit = SelectField("投资金额单位", choices=InvestmentUnit.choices())
    stage = SelectField("当前阶段", choices=PlanStage.choices(), default=PlanStage.ISSUED.value)
    stage_date = DateField("阶段日期", validators=[Optional()])
    default_lead_id = SelectField("默认牵头单位", choices=[], coerce=optional_id, validate_choice=False)


class TaskListUploadForm(Form):
    file = FileField("任务分解表（.xlsx，不超过10MB）", validators=[FileRequired("请选择要上传的 Excel 文件。")])


def task_list_apply_form(missing_ids: list[int]) -> type[Form]:
    """The apply form with one keep / close / delete choice per task missing from the file."""

    class TaskListApplyForm(Form):
        reason = StringField("终止原因", validators=[Optional(), Length(max=500, message="不能超过500字。")])

    for task_id in missing_ids:
        setattr(TaskListApplyForm, f"choice_{task_id}", RadioField(
            "处理方式", choices=[("keep", "保留"), ("close", "终止"), ("delete", "删除")], default="keep"))
    return TaskListApplyForm
