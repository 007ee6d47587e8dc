from __future__ import annotations

from typing import Any

from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..web import Form
from .models import DayKind
from .services import SETTINGS, SettingSpec


def field_name(key: str) -> str:
    """``alerts.due_soon_working_days`` → ``alerts__due_soon_working_days`` (a form field name)."""
    return key.replace(".", "__")


def _field(spec: SettingSpec) -> Any:
    if spec.kind is bool:
        return BooleanField(spec.label, description=spec.hint)
    if spec.kind is int:
        return IntegerField(spec.label, description=spec.hint, validators=[
            InputRequired("请输入整数。"),
            NumberRange(spec.lo, spec.hi, f"须在 {spec.lo} 到 {spec.hi} 之间。"),
        ])
    return SelectField(spec.label, description=spec.hint, choices=list(spec.choices or ()),
                       validators=[DataRequired("请选择。")])


# One field per setting, named after its key.
SettingsForm: type[Form] = type("SettingsForm", (Form,), {field_name(k): _field(s) for k, s in SETTINGS.items()})


class CalendarDayForm(Form):
    day = DateField("日期", validators=[InputRequired("请填写日期（YYYY-MM-DD）。")])
    kind = SelectField("类型", choices=DayKind.choices(), validators=[DataRequired("请选择类型。")])
    name = StringField("名称", validators=[Optional(), Length(max=40, message="名称不能超过40字。")],
                       description="如：国庆节、春节")


class LoadYearForm(Form):
    year = IntegerField("年份", validators=[InputRequired("请输入年份。"),
                                          NumberRange(2000, 2100, "年份须在 2000 到 2100 之间。")])


class ConfirmForm(Form):
    """A POST with nothing but its CSRF token (delete, run now)."""
