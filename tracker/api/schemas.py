"""The API's schemas: what each endpoint accepts and returns. They validate the requests and describe them in the
OpenAPI document, so the two cannot disagree. Messages are in Chinese; enums carry their labels beside them."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from ..alerts.models import AlertLevel, AlertTarget
from ..db import LabeledEnum
from ..planning.models import PlanLevel, PlanStage
from ..search.services import Kind as SearchKind
from ..supervision.models import CaseOutcome, CaseSource, CaseState
from ..supervision.services import COLOUR_LABELS, colour
from ..tasks.models import ReportPeriod, TaskLevel, TaskStatus

# marshmallow's messages, per kind of field, as the API answers them
MESSAGES: dict[str, str] = {
    "required": "必填。",
    "null": "不能为空。",
    "validator_failed": "取值无效。",
    "unknown": "未知字段。",
}
INVALID: dict[type[fields.Field], str] = {
    fields.Integer: "须为整数。",
    fields.Boolean: "须为 true 或 false。",
    fields.Date: "须为日期（YYYY-MM-DD）。",
    fields.DateTime: "须为 ISO 8601 时间。",
    fields.String: "须为文本。",
    fields.Nested: "须为对象。",
    fields.List: "须为数组。",
}
ID_MAX = 2**31 - 1
DAYS_MAX = 100_000


class ApiSchema(Schema):
    """Base of every schema: unknown fields are refused, messages are Chinese."""

    class Meta:
        unknown = RAISE
        ordered = True

    error_messages = {"unknown": MESSAGES["unknown"], "type": "请求体须为 JSON 对象。"}

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        messages = {k: v for k, v in MESSAGES.items() if k in field_obj.error_messages}
        for kind, text in INVALID.items():
            if isinstance(field_obj, kind):
                messages["invalid"] = text
                break
        field_obj.error_messages = {**field_obj.error_messages, **messages}


def choice(enum_cls: type[LabeledEnum], **kw: Any) -> fields.String:
    """An enum's value, documented with every value and its label."""
    values = [m.value for m in enum_cls]
    described = "；".join(f"{m.value}：{m.label}" for m in enum_cls)
    return fields.String(validate=validate.OneOf(values, error="取值须为以下之一：" + "、".join(values) + "。"),
                         metadata={"enum": values, "description": kw.pop("description", "") + described}, **kw)


def enum_value(attribute: str) -> fields.Function:
    return fields.Function(lambda obj: getattr(obj, attribute).value if getattr(obj, attribute) else None,
                           metadata={"type": "string"})


def enum_label(attribute: str) -> fields.Function:
    return fields.Function(lambda obj: getattr(obj, attribute).label if getattr(obj, attribute) else None,
                           metadata={"type": "string", "description": "中文名称"})


def record_id(**kw: Any) -> fields.Integer:
    return fields.Integer(strict=False, validate=validate.Range(1, ID_MAX, error="须为正整数。"), **kw)


# ------------------------------------------------------------------------------------ shared pieces


class ProblemSchema(ApiSchema):
    """An error (RFC 9457 application/problem+json)."""

    type = fields.String(metadata={"example": "about:blank"})
    title = fields.String(metadata={"description": "错误类别（中文）", "example": "无权访问"})
    status = fields.Integer()
    detail = fields.String(metadata={"description": "说明（中文）"})
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         metadata={"description": "校验失败时各字段的错误"})
    current_version = fields.Integer(metadata={"description": "412 时：记录当前的版本"})


class NamedSchema(ApiSchema):
    id = fields.Integer()
    name = fields.String()


class ListQuery(ApiSchema):
    cursor = fields.String(validate=validate.Length(max=200), metadata={"description": "上一页返回的 next_cursor"})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200, error="须在 1 到 200 之间。"),
                           metadata={"description": "每页条数（1–200，默认 50）"})


class PageSchema(ApiSchema):
    next_cursor = fields.String(allow_none=True, metadata={"description": "下一页的游标；没有下一页时为 null"})


# ------------------------------------------------------------------------------------ me


class TokenInfoSchema(ApiSchema):
    name = fields.String()
    scope = fields.String(metadata={"enum": ["read", "write"]})
    expires_at = fields.DateTime()


class MeSchema(ApiSchema):
    id = fields.Integer()
    username = fields.String()
    name = fields.String()
    role = enum_value("role")
    role_label = enum_label("role")
    department = fields.Nested(NamedSchema)
    region = fields.Function(lambda u: {"id": u.department.region.id, "name": u.department.region.name},
                             metadata={"type": "object"})
    token = fields.Nested(TokenInfoSchema)


# ------------------------------------------------------------------------------------ plans


class PlanQuery(ListQuery):
    level = choice(PlanLevel)
    region = record_id(metadata={"description": "地区 ID"})
    stage = choice(PlanStage)
    q = fields.String(validate=validate.Length(max=100), metadata={"description": "名称或简称包含的文字"})
    archived = fields.Boolean(load_default=False, metadata={"description": "包括已归档的规划"})


class PlanSchema(ApiSchema):
    id = fields.Integer()
    code = fields.String()
    title = fields.String()
    short_name = fields.String()
    level = enum_value("level")
    level_label = enum_label("level")
    region = fields.Nested(NamedSchema)
    start_year = fields.Integer()
    end_year = fields.Integer()
    parent_id = fields.Integer(allow_none=True)
    stage = enum_value("stage")
    stage_label = enum_label("stage")
    issuing_body = fields.String(allow_none=True)
    doc_number = fields.String(allow_none=True)
    version = fields.Integer(attribute="version_id")
    task_counts = fields.Dict(keys=fields.String(), values=fields.Integer(),
                              metadata={"description": "各状态的任务数（不含章），total 为合计"})


class PlanDetailSchema(PlanSchema):
    description = fields.String(allow_none=True)


class PlanListSchema(PageSchema):
    items = fields.List(fields.Nested(PlanSchema))


# ------------------------------------------------------------------------------------ tasks


class TaskQuery(ListQuery):
    plan = record_id(metadata={"description": "规划 ID"})
    status = choice(TaskStatus)
    department = record_id(metadata={"description": "牵头单位 ID"})
    level = choice(TaskLevel)
    overdue = fields.Boolean(metadata={"description": "true：仅未完成且已过截止日期的任务；false：其余任务"})
    due = fields.String(validate=validate.OneOf(["overdue", "soon"], error="取值须为 overdue 或 soon。"),
                        metadata={"description": "期限（与工作台相同）：overdue 已逾期；soon 15天内到期"})
    year = fields.Integer(validate=validate.Range(1990, 2100, error="年度不正确。"),
                          metadata={"description": "年度：该年的年度任务，或在该年到期的其他任务"})
    role = fields.String(validate=validate.OneOf(["lead", "co"], error="取值须为 lead 或 co。"),
                         metadata={"description": "本单位的职责：lead 牵头；co 配合"})


class MilestoneSchema(ApiSchema):
    id = fields.Integer()
    title = fields.String()
    due_date = fields.Date()
    completed_on = fields.Date(allow_none=True)
    status = enum_value("status")
    status_label = enum_label("status")


class TaskSchema(ApiSchema):
    id = fields.Integer()
    plan_id = fields.Integer()
    parent_id = fields.Integer(allow_none=True)
    level = enum_value("level")
    level_label = enum_label("level")
    code = fields.String()
    title = fields.String()
    kind = enum_value("kind")
    lead_department = fields.Nested(NamedSchema, allow_none=True)
    responsible_person = fields.String(allow_none=True)
    start_date = fields.Date(allow_none=True)
    deadline = fields.Date(allow_none=True)
    year = fields.Integer(allow_none=True)
    status = enum_value("status")
    status_label = enum_label("status")
    progress = fields.Integer(metadata={"description": "进度（%）"})
    completed_on = fields.Date(allow_none=True)
    status_note = fields.String(allow_none=True)
    weight = fields.Integer()
    version = fields.Integer(attribute="version_id", metadata={"description": "版本；ETag 为 \"v<版本>\""})


class TaskDetailSchema(TaskSchema):
    description = fields.String(allow_none=True)
    co_departments = fields.List(fields.Nested(NamedSchema))
    milestones = fields.List(fields.Nested(MilestoneSchema))
    can_update = fields.Boolean(metadata={"description": "令牌所属用户能否更新状态和进度"})


class TaskPageSchema(PageSchema):
    items = fields.List(fields.Nested(TaskSchema))


class TaskPatchSchema(ApiSchema):
    """Status and progress, as on the task's 更新状态 page; a field left out keeps its value."""

    status = choice(TaskStatus, description="“已逾期”由系统判定，不能设置。")
    progress = fields.Integer(strict=True, validate=validate.Range(0, 100, error="进度须在 0 到 100 之间。"))
    note = fields.String(allow_none=True, validate=validate.Length(max=2000),
                         metadata={"description": "说明；暂缓、终止或未满100%标记完成时必填"})

    @validates_schema
    def _something(self, data: dict[str, Any], **_kw: Any) -> None:
        if not data:
            raise ValidationError("请至少提供 status、progress 或 note 之一。", "_schema")


# ------------------------------------------------------------------------------------ the overdue list


class OverdueQuery(ListQuery):
    plan = record_id()
    region = record_id()
    department = record_id(metadata={"description": "牵头单位 ID"})
    level = choice(AlertLevel)
    kind = choice(AlertTarget)
    days_min = fields.Integer(validate=validate.Range(0, DAYS_MAX, error=f"须在 0 到 {DAYS_MAX} 之间。"))
    days_max = fields.Integer(validate=validate.Range(0, DAYS_MAX, error=f"须在 0 到 {DAYS_MAX} 之间。"))
    due_from = fields.Date()
    due_to = fields.Date()
    sort = fields.String(load_default="days", validate=validate.OneOf(["days", "department", "deadline"],
                                                                      error="取值须为 days、department 或 deadline。"))
    dir = fields.String(validate=validate.OneOf(["asc", "desc"], error="取值须为 asc 或 desc。"))

    @validates_schema
    def _ranges(self, data: dict[str, Any], **_kw: Any) -> None:
        if data.get("days_min") is not None and data.get("days_max") is not None \
                and data["days_min"] > data["days_max"]:
            raise ValidationError("最多逾期天数不能小于最少逾期天数。", "days_max")
        if data.get("due_from") and data.get("due_to") and data["due_from"] > data["due_to"]:
            raise ValidationError("截止日期止不能早于截止日期起。", "due_to")


class OverdueRowSchema(ApiSchema):
    alert_id = fields.Function(lambda r: r.alert.id, metadata={"type": "integer"})
    level = fields.Function(lambda r: r.alert.level.value, metadata={"type": "string"})
    level_label = fields.Function(lambda r: r.alert.level.label, metadata={"type": "string"})
    kind = fields.Function(lambda r: r.alert.target.value, metadata={"type": "string"})
    task = fields.Function(lambda r: {"id": r.task.id, "code": r.task.code, "title": r.task.title,
                                      "status": r.task.status.value, "progress": r.task.progress},
                           metadata={"type": "object"})
    milestone = fields.Function(lambda r: {"id": r.milestone.id, "title": r.milestone.title} if r.milestone else None,
                                metadata={"type": ["object", "null"]})
    plan = fields.Function(lambda r: {"id": r.plan.id, "name": r.plan.short_name}, metadata={"type": "object"})
    region = fields.Function(lambda r: {"id": r.region.id, "name": r.region.name}, metadata={"type": "object"})
    department = fields.Function(lambda r: {"id": r.department.id, "name": r.department.name} if r.department
                                 else None, metadata={"type": ["object", "null"]})
    deadline = fields.Date(allow_none=True)
    days_overdue = fields.Integer(metadata={"description": "逾期天数（负数：剩余天数）"})


class OverdueCountsSchema(ApiSchema):
    total = fields.Integer()
    by_level = fields.Dict(keys=fields.String(), values=fields.Integer())
    departments = fields.Integer(metadata={"description": "有预警的牵头单位数"})
    worst = fields.List(fields.Dict(), metadata={"description": "预警最严重的牵头单位（至多15个）"})


class OverduePageSchema(PageSchema):
    counts = fields.Nested(OverdueCountsSchema)
    items = fields.List(fields.Nested(OverdueRowSchema))


# ------------------------------------------------------------------------------------ cases


class CaseQuery(ListQuery):
    state = choice(CaseState)
    source = choice(CaseSource)
    colour = fields.String(validate=validate.OneOf(list(COLOUR_LABELS), error="取值无效。"),
                           metadata={"enum": list(COLOUR_LABELS),
                                     "description": "；".join(f"{k}：{v}" for k, v in COLOUR_LABELS.items())})
    department = record_id(metadata={"description": "责任单位 ID"})
    year = fields.Integer(validate=validate.Range(1990, 2100, error="须在 1990 到 2100 之间。"))


class CaseStepSchema(ApiSchema):
    id = fields.Integer()
    action = enum_value("action")
    action_label = enum_label("action")
    to_state = enum_value("to_state")
    comment = fields.String(allow_none=True)
    created_at = fields.DateTime()


class CaseSchema(ApiSchema):
    id = fields.Integer()
    number = fields.String(attribute="number_label", metadata={"description": "文号，如 浙卫督〔2026〕1号"})
    source = enum_value("source")
    state = enum_value("state")
    state_label = enum_label("state")
    title = fields.String()
    department = fields.Nested(NamedSchema)
    task_id = fields.Integer(allow_none=True)
    response_deadline = fields.Date(allow_none=True)
    colour = fields.Function(lambda c: colour(c), metadata={"type": "string", "enum": list(COLOUR_LABELS)})
    issued_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    version = fields.Integer(attribute="version_id")


class CaseDetailSchema(CaseSchema):
    problem = fields.String()
    requirements = fields.String(allow_none=True)
    instruction = fields.String(allow_none=True)
    outcome = enum_value("outcome")
    return_count = fields.Integer()
    steps = fields.List(fields.Nested(CaseStepSchema))


class CasePageSchema(PageSchema):
    items = fields.List(fields.Nested(CaseSchema))


# ------------------------------------------------------------------------------------ notifications


class NotificationQuery(ListQuery):
    unread = fields.Boolean(load_default=False, metadata={"description": "仅未读"})


class NotificationSchema(ApiSchema):
    id = fields.Integer()
    kind = enum_value("kind")
    kind_label = enum_label("kind")
    title = fields.String()
    body = fields.String(allow_none=True)
    link = fields.String(allow_none=True)
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class NotificationPageSchema(PageSchema):
    unread = fields.Integer(metadata={"description": "未读总数"})
    items = fields.List(fields.Nested(NotificationSchema))


# ------------------------------------------------------------------------------------ writes: actions


class CaseActionSchema(ApiSchema):
    """What a case action takes, as on the case's page: the words (退回、催办、约谈、通报 need them), the answer
    period of 下发, and the outcome and rating of 销号."""

    comment = fields.String(allow_none=True, validate=validate.Length(max=2000))
    response_days = fields.Integer(strict=True, allow_none=True,
                                   validate=validate.Range(1, 60, error="答复期限应为 1 到 60 个工作日。"),
                                   metadata={"description": "下发：答复期限（工作日），默认 10"})
    outcome = choice(CaseOutcome, allow_none=True, description="销号：整改结果。")
    rating = fields.Integer(strict=True, allow_none=True, validate=validate.Range(1, 5, error="评分应为 1 到 5。"),
                            metadata={"description": "销号：整改评分 1–5"})


class ReviewActionSchema(ApiSchema):
    reason = fields.String(allow_none=True, validate=validate.Length(max=2000),
                           metadata={"description": "退回原因（退回时必填）"})


class ReportSchema(ApiSchema):
    id = fields.Integer()
    task_id = fields.Integer()
    department = fields.Nested(NamedSchema)
    period = enum_value("period")
    period_year = fields.Integer()
    period_no = fields.Integer()
    period_label = fields.String()
    progress = fields.Integer()
    achievements = fields.String(allow_none=True)
    problems = fields.String(allow_none=True)
    next_steps = fields.String(allow_none=True)
    state = enum_value("state")
    state_label = enum_label("state")
    return_reason = fields.String(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    reviewed_at = fields.DateTime(allow_none=True)
    version = fields.Integer(attribute="version_id")


class IndicatorValueSchema(ApiSchema):
    id = fields.Integer()
    indicator_id = fields.Integer()
    year = fields.Integer()
    value_text = fields.String(metadata={"description": "监测值，照填报原文"})
    value = fields.Function(lambda v: None if v.value is None else format(v.value, "f"),
                            metadata={"type": "string", "description": "数值（十进制字符串），无法解析为数时为 null"})
    state = enum_value("state")
    state_label = enum_label("state")
    return_reason = fields.String(allow_none=True)
    version = fields.Integer(attribute="version_id")


# ------------------------------------------------------------------------------------ search


class SearchQuery(ApiSchema):
    q = fields.String(required=True, validate=validate.Length(1, 100), metadata={"description": "检索词"})
    kind = fields.List(choice(SearchKind), load_default=None,
                       metadata={"description": "只查这些类别（可重复）"})
    limit = fields.Integer(load_default=10, validate=validate.Range(1, 50, error="须在 1 到 50 之间。"),
                           metadata={"description": "每类最多条数（1–50，默认 10）"})


class SearchHitSchema(ApiSchema):
    id = fields.Integer()
    title = fields.String()
    context = fields.String(metadata={"description": "所属规划、任务或单位"})
    excerpt = fields.String(allow_none=True)
    link = fields.String(metadata={"description": "页面地址"})


class SearchGroupSchema(ApiSchema):
    kind = choice(SearchKind)
    kind_label = fields.String(metadata={"description": "中文名称"})
    more = fields.Boolean(metadata={"description": "是否还有更多"})
    hits = fields.List(fields.Nested(SearchHitSchema))


class SearchSchema(ApiSchema):
    groups = fields.List(fields.Nested(SearchGroupSchema))


class ReportCreateSchema(ApiSchema):
    """A new progress report (草稿), as on the 填报进展 page; submitted with the submit action."""

    period = choice(ReportPeriod, required=True)
    period_year = fields.Integer(required=True, strict=True)
    period_no = fields.Integer(required=True, strict=True, metadata={"description": "期次，从 1 起"})
    progress = fields.Integer(required=True, strict=True,
                              validate=validate.Range(0, 100, error="进度须在 0 到 100 之间。"))
    achievements = fields.String(required=True, validate=validate.Length(1, 5000))
    problems = fields.String(allow_none=True, validate=validate.Length(max=5000))
    next_steps = fields.String(allow_none=True, validate=validate.Length(max=5000))


class ValueEntrySchema(ApiSchema):
    """One year's monitoring value, as on the 填报 page (entered values wait for the planner's confirmation)."""

    value_text = fields.String(required=True, validate=validate.Length(1, 100),
                               metadata={"description": "数值型指标须为该单位的数；定性指标为文字"})
    source = fields.String(allow_none=True, validate=validate.Length(max=200))
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))


class MilestoneDoneSchema(ApiSchema):
    completed_on = fields.Date(required=True)
    evidence = fields.String(required=True, validate=validate.Length(1, 2000),
                             metadata={"description": "佐证说明：完成了什么、依据是什么"})


class MilestoneDetailSchema(MilestoneSchema):
    task_id = fields.Integer()
    evidence = fields.String(allow_none=True)
    version = fields.Integer(attribute="version_id")


# ------------------------------------------------------------------------------------ key projects, evaluations


def decimal_string(attribute: str, description: str = "") -> fields.Function:
    """An amount or rate as a decimal string ("12.5000"), never a float; null when unknown."""
    return fields.Function(lambda obj: None if getattr(obj, attribute) is None else format(getattr(obj, attribute), "f"),
                           metadata={"type": "string", "description": description or "十进制字符串"})


class InvestmentSchema(ApiSchema):
    id = fields.Integer()
    year = fields.Integer()
    planned = decimal_string("planned", "计划投资（万元，十进制字符串）")
    completed = decimal_string("completed", "完成投资（万元，十进制字符串）")
    state = enum_value("state")
    state_label = enum_label("state")
    version = fields.Integer(attribute="version_id")


class ProjectSchema(ApiSchema):
    id = fields.Integer()
    task_id = fields.Integer()
    title = fields.Function(lambda p: p.task.title, metadata={"type": "string"})
    code = fields.Function(lambda p: p.task.code, metadata={"type": "string"})
    kind = enum_value("kind")
    status = enum_value("status")
    status_label = enum_label("status")
    total_investment = decimal_string("total_investment", "总投资（万元，十进制字符串）；待定时为 null")
    period_investment = decimal_string("period_investment", "规划期内投资（万元，十进制字符串）")
    start_year = fields.Integer(allow_none=True)
    end_year = fields.Integer(allow_none=True)
    investments = fields.List(fields.Nested(InvestmentSchema))
    version = fields.Integer(attribute="version_id")


class ProjectListSchema(ApiSchema):
    items = fields.List(fields.Nested(ProjectSchema))


class ScoreSchema(ApiSchema):
    department = fields.Nested(NamedSchema)
    score = decimal_string("score")
    adjusted_score = decimal_string("adjusted_score")
    grade = enum_value("grade")
    rank = fields.Integer(allow_none=True)
    completion_rate = decimal_string("completion_rate")
    on_time_rate = decimal_string("on_time_rate")


class EvaluationSchema(ApiSchema):
    id = fields.Integer()
    plan_id = fields.Integer()
    kind = enum_value("kind")
    kind_label = enum_label("kind")
    year = fields.Integer()
    version = fields.Integer()
    state = enum_value("state")
    state_label = enum_label("state")
    computed_at = fields.DateTime()
    locked_at = fields.DateTime(allow_none=True)
    summary = fields.String(allow_none=True)
    scores = fields.List(fields.Nested(ScoreSchema))
    workbook = fields.Function(lambda e: f"/api/v1/evaluations/{e.id}/workbook.xlsx", metadata={"type": "string"})
    report = fields.Function(lambda e: f"/api/v1/evaluations/{e.id}/report.docx", metadata={"type": "string"})


def _not_negative(value: Any) -> None:
    if value < 0:
        raise ValidationError("完成投资须为不小于 0 的金额。")


class InvestmentEntrySchema(ApiSchema):
    """A year's completed investment, as on the project's 填报 page (万元, a decimal string or number)."""

    completed = fields.Decimal(required=True, as_string=True, allow_nan=False, validate=_not_negative,
                               metadata={"description": "完成投资（万元），不小于 0"})
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))
    submit = fields.Boolean(load_default=False, metadata={"description": "true：保存并提交规划处（负责人）"})


class AttachmentSchema(ApiSchema):
    id = fields.Integer()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_at = fields.DateTime()


class AttachmentListSchema(ApiSchema):
    items = fields.List(fields.Nested(AttachmentSchema))
