from wtforms import RadioField, StringField
from wtforms.validators import Length, Optional, Regexp

from ..web import Form
from .models import Channel, DeliveryMode

MODE_CHOICES = [(m.value, m.label) for m in DeliveryMode]


class PreferencesForm(Form):
    """How a user takes each channel, and where the channels reach them."""

    email = StringField("电子邮箱", validators=[Optional(), Length(max=120),
                                               Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="请填写有效的电子邮箱地址。")])
    phone = StringField("手机号码", validators=[Optional(), Regexp(r"^1\d{10}$", message="手机号码应为11位数字，以1开头。")],
                        description="钉钉、企业微信群消息按手机号提醒本人")
    zzd_account_id = StringField("浙政钉账号ID", validators=[Optional(), Length(max=64),
                                                        Regexp(r"^[0-9A-Za-z_\-]+$", message="账号ID只含字母、数字、下划线和连字符。")],
                                 description="浙政钉工作通知按账号ID发送，可向本单位浙政钉管理员查询")
    mode_email = RadioField(Channel.EMAIL.label, choices=MODE_CHOICES)
    mode_dingtalk = RadioField(Channel.DINGTALK.label, choices=MODE_CHOICES)
    mode_wecom = RadioField(Channel.WECOM.label, choices=MODE_CHOICES)
    mode_zzd = RadioField(Channel.ZZD.label, choices=MODE_CHOICES)

    def mode_field(self, channel: Channel) -> RadioField:
        return getattr(self, f"mode_{channel.value}")
