from __future__ import annotations

from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from ..planning.forms import required_id
from ..web import Form
from .models import EvaluationKind
from .services import DEFAULT_THRESHOLDS, DEFAULT_WEIGHTS, GRADE_KEYS, LOCK_MEANING, WEIGHT_KEYS, Settings

INTEGER = "请输入整数。"


def _weight(label: str) -> IntegerField:
    return IntegerField(label, validators=[InputRequired(INTEGER), NumberRange(0, 100, "须在 0 到 100 之间。")])


PROCEED_LABEL = "仍按已确认的监测值计算（未确认的监测值不予评判、不计分）"


class SettingsForm(Form):
    """Weights of the four rates (summing to 100) and the grade thresholds; computing with them asks first
    while the year has monitoring values not yet confirmed."""

    proceed_unconfirmed = BooleanField(PROCEED_LABEL)

    weight_completion = _weight("任务完成率权重")
    weight_on_time = _weight("按期完成率权重")
    weight_indicators = _weight("指标达成率权重")
    weight_supervision = _weight("督办办结率权重")
    threshold_excellent = _weight("优秀（不低于）")
    threshold_good = _weight("良好（不低于）")
    threshold_pass = _weight("合格（不低于）")
    tolerance = IntegerField("“基本符合”的容差（%）", validators=[InputRequired(INTEGER), NumberRange(0, 50, "须在 0 到 50 之间。")],
                             description="指标完成应有进度的比例不低于（100 − 容差）% 时评为“基本符合”，低于时评为“滞后”"
                                         "（低于50%为“严重滞后”）。")

    def fill(self, settings: Settings) -> None:
        for key in WEIGHT_KEYS:
            getattr(self, f"weight_{key}").data = settings.weights[key]
        for key in GRADE_KEYS:
            getattr(self, f"threshold_{key}").data = settings.thresholds[key]
        self.tolerance.data = settings.tolerance

    def settings(self) -> Settings:
        return Settings({k: getattr(self, f"weight_{k}").data for k in WEIGHT_KEYS},
                        {k: getattr(self, f"threshold_{k}").data for k in GRADE_KEYS}, self.tolerance.data)


class RunForm(SettingsForm):
    plan_id = SelectField("规划", coerce=required_id, validators=[InputRequired("请选择规划。")])
    kind = SelectField("考核类型", choices=EvaluationKind.choices(), validators=[DataRequired("请选择考核类型。")])
    year = IntegerField("考核年度", validators=[InputRequired(INTEGER), NumberRange(1990, 2100, "年度不正确。")])

    def defaults(self) -> None:
        self.fill(Settings(dict(DEFAULT_WEIGHTS), dict(DEFAULT_THRESHOLDS)))


class AdjustForm(Form):
    adjusted_score = StringField("调整后得分", validators=[Length(max=10, message="请输入0到100之间的分数。")])
    reason = TextAreaField("调整理由", validators=[Length(max=2000, message="理由不能超过2000字。")])
    seen = HiddenField()


class RecomputeForm(Form):
    """Computing again: asks first while the year has monitoring values not yet confirmed."""

    proceed_unconfirmed = BooleanField(PROCEED_LABEL)


class LockForm(Form):
    """Locking is irreversible: the evaluator ticks that they know what it means (the service checks it)."""

    confirm = BooleanField(f"我已知悉：{LOCK_MEANING}")


class ReopenForm(Form):
    """An administrator reopens a locked evaluation with a reason (the service requires it)."""

    reason = TextAreaField("重新开放理由", validators=[Length(max=2000, message="理由不能超过2000字。")])


class ConclusionsForm(Form):
    """The evaluators' conclusions, one point a line; empty: drawn from the figures."""

    overview = TextAreaField("总体情况", validators=[Length(max=5000, message="不能超过5000字。")])
    problems = TextAreaField("存在问题", validators=[Length(max=5000, message="不能超过5000字。")],
                             description="每行一条，例如：约束性指标进度滞后。孕产妇死亡率……")
    suggestions = TextAreaField("下一步工作建议", validators=[Length(max=5000, message="不能超过5000字。")],
                                description="每行一条。")
