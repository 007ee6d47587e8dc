from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import FieldList, FormField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from ..web import Form
from .models import Judgement
from .services import MANUAL_JUDGEMENTS, NOTE_MAX, SOURCE_MAX, VALUE_MAX

VALUE_HINT = "按数字填写，如 79.47、110以下、95以上、1:1.15；定性指标可填文字"


class ValueForm(Form):
    value_text = StringField("监测值", validators=[Length(max=VALUE_MAX, message=f"监测值不能超过{VALUE_MAX}字。")])
    source = StringField("数据来源", validators=[Optional(), Length(max=SOURCE_MAX,
                                                                 message=f"数据来源不能超过{SOURCE_MAX}字。")])
    note = TextAreaField("备注", validators=[Optional(), Length(max=NOTE_MAX, message=f"备注不能超过{NOTE_MAX}字。")])
    version = HiddenField()


class ValueRowForm(Form):
    """One indicator's row in the bulk entry table (the outer form carries the CSRF token)."""

    class Meta:
        csrf = False

    indicator_id = HiddenField()
    value_text = StringField("监测值", validators=[Length(max=VALUE_MAX, message=f"监测值不能超过{VALUE_MAX}字。")])
    source = StringField("数据来源", validators=[Optional(), Length(max=SOURCE_MAX,
                                                                 message=f"数据来源不能超过{SOURCE_MAX}字。")])
    note = StringField("备注", validators=[Optional(), Length(max=NOTE_MAX, message=f"备注不能超过{NOTE_MAX}字。")])
    version = HiddenField()


class BulkValuesForm(Form):
    rows = FieldList(FormField(ValueRowForm), max_entries=1000)


class UploadForm(Form):
    file = FileField("填好的模板（.xlsx，不超过2MB）", validators=[FileRequired("请选择要上传的 Excel 文件。")])


class JudgeForm(Form):
    judgement = SelectField(
        "评判结果",
        choices=[("", "按规则自动评判"), *[(j.value, j.label) for j in MANUAL_JUDGEMENTS]], default="",
    )
    note = TextAreaField("评判依据", validators=[Length(max=NOTE_MAX, message=f"评判依据不能超过{NOTE_MAX}字。")])
    version = HiddenField()

    def chosen(self) -> Judgement | None:
        return Judgement(self.judgement.data) if self.judgement.data else None


class ActionForm(Form):
    """A button-only form (CSRF and the version the user saw)."""

    version = HiddenField()


class ReturnForm(ActionForm):
    """退回 with the reason the lead department will read."""

    reason = StringField("退回原因", validators=[Length(max=NOTE_MAX, message=f"退回原因不能超过{NOTE_MAX}字。")])
