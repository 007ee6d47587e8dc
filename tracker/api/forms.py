from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from ..web import Form
from .models import TokenScope
from .services import LIFETIMES


def _lifetime_label(days: int) -> str:
    return "1年" if days == 365 else f"{days}天"


class TokenForm(Form):
    name = StringField("名称（用途）", validators=[DataRequired("请填写令牌名称（用途），以便日后辨认。"), Length(max=60)])
    scope = SelectField("权限", choices=TokenScope.choices(), default=TokenScope.READ.value)
    days = SelectField("有效期", choices=[(d, _lifetime_label(d)) for d in LIFETIMES], coerce=int, default=90)


class RevokeForm(Form):
    """Only the CSRF token: revoking needs nothing else."""
