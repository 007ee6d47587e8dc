from __future__ import annotations

from flask_wtf.file import MultipleFileField
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..web import Form
from .models import ReportPeriod
from .services import SETTABLE_STATUSES

NUMBER = "请输入整数。"


class StatusForm(Form):
    status = SelectField("状态", choices=[(s.value, s.label) for s in SETTABLE_STATUSES],
                         validators=[DataRequired("请选择状态。")])
    progress = IntegerField("进度（%）", validators=[InputRequired(NUMBER),
                                                 NumberRange(0, 100, "进度须在 0 到 100 之间。")])
    note = TextAreaField("说明", validators=[Optional(), Length(max=2000, message="说明不能超过2000字。")])
    version = HiddenField()


class MilestoneDoneForm(Form):
    completed_on = DateField("完成日期", validators=[InputRequired("请填写完成日期（YYYY-MM-DD）。")])
    evidence = TextAreaField("佐证说明", validators=[DataRequired("请填写佐证说明。"),
                                                 Length(max=4000, message="佐证说明不能超过4000字。")])
    files = MultipleFileField("佐证材料（可选，PDF、图片、Word、Excel、文本，每个不超过10MB）")
    version = HiddenField()


class ReportForm(Form):
    period = SelectField("填报周期", choices=ReportPeriod.choices(), validators=[DataRequired("请选择填报周期。")])
    period_year = IntegerField("年度", validators=[InputRequired(NUMBER), NumberRange(1990, 2100, "年度不正确。")])
    # The choices of every period (1–12); the page lists the chosen period's by name (第一季度 …, 1月 …).
    period_no = SelectField("期次", coerce=int, choices=[(n, str(n)) for n in range(1, 13)],
                            validators=[InputRequired("请选择期次。")])
    progress = IntegerField("进度（%）", validators=[InputRequired(NUMBER),
                                                 NumberRange(0, 100, "进度须在 0 到 100 之间。")])
    achievements = TextAreaField("完成情况", validators=[DataRequired("请填写完成情况。"),
                                                     Length(max=5000, message="不能超过5000字。")])
    problems = TextAreaField("存在问题", validators=[Optional(), Length(max=5000, message="不能超过5000字。")])
    next_steps = TextAreaField("下步打算", validators=[Optional(), Length(max=5000, message="不能超过5000字。")])
    files = MultipleFileField("附件（可选）")
    version = HiddenField()


class ReviewForm(Form):
    reason = StringField("退回原因", validators=[Optional(), Length(max=1000, message="不能超过1000字。")])
    version = HiddenField()


class ActionForm(Form):
    """A button-only form (CSRF and the version the user saw)."""

    version = HiddenField()
