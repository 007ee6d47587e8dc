from __future__ import annotations

from wtforms import BooleanField, HiddenField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length

from ..web import INTEGER_LIMIT, Form


def _optional_int(value: object) -> int | None:
    if value in (None, ""):
        return None
    text = str(value)
    if not (text.isascii() and text.isdigit()) or int(text) > INTEGER_LIMIT:
        return -1  # no such region: the service says so next to the field
    return int(text)


class EndpointForm(Form):
    name = StringField("名称", validators=[DataRequired("请填写名称。"), Length(max=60, message="名称不能超过60个字。")])
    # the address is checked by the service (http/https, a host), with its message next to the field
    url = StringField("推送地址（URL）", validators=[DataRequired("请填写推送地址。")])
    # the kinds are the outbox's (services.event_kinds); one the list does not know is refused by the service
    event_kinds = SelectMultipleField("事件类型", choices=[], validate_choice=False)
    region_id = SelectField("区域范围", choices=[], coerce=_optional_int, validate_choice=False)
    is_active = BooleanField("启用", default=True)
    version = HiddenField()


class VersionForm(Form):
    """A button's form: the CSRF token and the version of the record the page showed."""

    version = HiddenField()


class ToggleForm(VersionForm):
    active = HiddenField()
