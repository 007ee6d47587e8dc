from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from ..planning.forms import required_id
from ..web import Form
from .models import Role


class LoginForm(Form):
    username = StringField("用户名", validators=[DataRequired("请输入用户名。"), Length(max=40)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码。"), Length(max=200)])


class ChangePasswordForm(Form):
    old_password = PasswordField("原密码", validators=[DataRequired("请输入原密码。")])
    new_password = PasswordField("新密码", validators=[DataRequired("请输入新密码。"), Length(max=200)])
    confirm = PasswordField(
        "确认新密码", validators=[DataRequired("请再次输入新密码。"), EqualTo("new_password", "两次输入的新密码不一致。")]
    )


class ServiceAccountForm(Form):
    """A service account: what it is called, which department (and region) and role it acts as."""

    username = StringField("账号标识", validators=[
        DataRequired("请输入账号标识。"), Length(max=40, message="不能超过40个字符。"),
        Regexp(r"^[A-Za-z0-9_.-]+$", message="账号标识只能包含字母、数字、下划线、点和连字符。")],
        description="如 svc-wz-sync；创建后不能修改")
    name = StringField("名称（用途）", validators=[DataRequired("请填写名称。"), Length(max=40, message="不能超过40个字。")])
    role = SelectField("角色", choices=Role.choices(), validators=[DataRequired("请选择角色。")])
    department_id = SelectField("所在单位", coerce=required_id, validators=[DataRequired("请选择所在单位。")])
    is_active = BooleanField("启用", default=True)
