from __future__ import annotations

from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from ..auth.models import Role
from ..planning.forms import required_id
from ..regions.models import DepartmentKind
from ..web import Form


class UserForm(Form):
    username = StringField("用户名", validators=[DataRequired("请输入用户名。"), Length(max=40),
                                              Regexp(r"^[A-Za-z0-9_.-]+$", message="用户名只能包含字母、数字、下划线、点和连字符。")])
    name = StringField("姓名", validators=[DataRequired("请输入姓名。"), Length(max=40)])
    role = SelectField("角色", choices=Role.choices(), validators=[DataRequired("请选择角色。")])
    department_id = SelectField("部门", coerce=required_id, validators=[DataRequired("请选择部门。")])
    # A plain pattern: WTForms' Email() needs the email_validator package, which is not installed.
    email = EmailField("电子邮件", validators=[Optional(), Length(max=120), Regexp(
        r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$", message="电子邮件格式不正确。")])
    is_active = BooleanField("启用", default=True)
    password = PasswordField("密码", validators=[Optional(), Length(max=200)],
                             description="新建用户必填；编辑时留空表示不修改")


class DepartmentForm(Form):
    name = StringField("名称", validators=[DataRequired("请输入部门名称。"), Length(max=60)])
    kind = SelectField("类型", choices=DepartmentKind.choices())
    is_active = BooleanField("启用", default=True)
    doc_prefix = StringField("文号前缀", validators=[Optional(), Length(max=20, message="不能超过20字。")],
                             description="督查部门的督办单文号前缀，如“浙卫督”（编号为 浙卫督〔2026〕1号）；其他部门不填。")
