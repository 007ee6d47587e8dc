from __future__ import annotations

from wtforms import HiddenField, IntegerField, MultipleFileField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..planning.forms import required_id
from ..web import Form
from .models import CaseOutcome, CaseSource

MANUAL_SOURCES = [(s.value, s.label) for s in CaseSource if s != CaseSource.ALERT]


class CaseForm(Form):
    source = SelectField("来源", choices=MANUAL_SOURCES)
    department_id = SelectField("责任单位", coerce=required_id, validators=[DataRequired("请选择责任单位。")])
    task_id = IntegerField("关联任务编号（系统ID，可选）", validators=[Optional()])
    title = StringField("标题", validators=[DataRequired("请填写标题。"), Length(max=200)])
    problem = TextAreaField("发现的问题", validators=[DataRequired("请写明发现的问题。"), Length(max=5000)])
    instruction = TextAreaField("领导批示", validators=[Optional(), Length(max=5000)])
    requirements = TextAreaField("整改要求", validators=[Optional(), Length(max=5000)])
    response_days = IntegerField("答复期限（工作日）", default=10,
                                 validators=[InputRequired("请填写答复期限。"), NumberRange(1, 60, "应为 1 到 60 个工作日。")])


class FromAlertsForm(Form):
    requirements = TextAreaField("整改要求", validators=[Optional(), Length(max=5000)])
    response_days = IntegerField("答复期限（工作日）", default=10,
                                 validators=[InputRequired("请填写答复期限。"), NumberRange(1, 60, "应为 1 到 60 个工作日。")])


class ActionForm(Form):
    comment = TextAreaField("说明", validators=[Optional(), Length(max=5000)])
    response_days = IntegerField("答复期限（工作日）", validators=[Optional(), NumberRange(1, 60, "应为 1 到 60 个工作日。")])
    # No Optional() on the selects: it would let " " past the choices ("" is a choice of its own, the default).
    outcome = SelectField("整改结果", choices=[("", "请选择")] + CaseOutcome.choices(), default="")
    rating = SelectField("评价", choices=[("", "请选择")] + [(str(i), f"{i}星") for i in range(5, 0, -1)], default="")
    files = MultipleFileField("附件（可选，PDF、图片、Word、Excel、文本，每个不超过10MB）")
    version = HiddenField()
