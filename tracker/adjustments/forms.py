from __future__ import annotations

from wtforms import DateField, MultipleFileField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..planning.forms import required_id
from ..web import Form

FILES_LABEL = "附件（可选，PDF、图片、Word、Excel、文本，每个不超过10MB）"


class DeadlineRequestForm(Form):
    milestone_id = SelectField("调整对象", coerce=required_id, default=0)
    new_date = DateField("调整后的日期", validators=[DataRequired("请填写调整后的日期（YYYY-MM-DD）。")])
    reason = TextAreaField("调整理由", validators=[DataRequired("请写明调整理由。"), Length(max=3000)])
    files = MultipleFileField(FILES_LABEL)


class TargetRequestForm(Form):
    new_value = StringField("调整后的目标值", validators=[DataRequired("请填写调整后的目标值。"), Length(max=60)])
    reason = TextAreaField("调整理由", validators=[DataRequired("请写明调整理由。"), Length(max=3000)])
    files = MultipleFileField(FILES_LABEL)


class DecisionForm(Form):
    decision = SelectField("审批", choices=[("approve", "批准"), ("reject", "驳回")])
    comment = TextAreaField("审批意见", validators=[Optional(), Length(max=3000)])
