"""/api/v1: the resources, thin as the pages' views — check the token, load or 404, check access as the page does
(403), call the page's own query or service, answer with the schema. Every refusal is problem+json.

One idea, however many endpoints: each is a few lines binding a URL to a service through the same three steps
(``_visible`` to load in scope, ``_acted`` for a write at the If-Match version, the schema to answer), so the
file reads as the API's table of contents; the rules all live in the services it calls."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from flask import Response, current_app, g, render_template, request, url_for
from flask_smorest import Blueprint
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from .. import audit
from ..alerts.overdue import OverdueFilters, overdue_counts, overdue_rows
from ..attachments.services import save_uploads
from ..auth.models import User
from ..db import db_session, unit_of_work
from ..errors import DomainError, NotFound
from ..evaluations.exports import evaluation_workbook, filename_of
from ..evaluations.models import Evaluation
from ..evaluations.report import evaluation_report
from ..indicators.models import Indicator, IndicatorValue
from ..indicators.services import ValueInput, confirm_value, return_value, save_value, stored_value
from ..notifications.services import inbox_statement, unread_count
from ..permissions import (
    CASE_LIST_ROLES,
    OVERDUE_LIST_ROLES,
    can_update_task,
    can_view_case,
    can_view_evaluation,
    can_view_evaluations,
    can_view_plan,
    can_view_task,
    require,
)
from ..planning.models import Plan
from ..planning.queries import PlanFilters, plans_in_scope, status_counts, with_counts
from ..projects.models import KeyProject, ProjectInvestment
from ..projects.queries import RegisterFilters
from ..projects.queries import register as project_register
from ..projects.services import investment_of, save_investment, transition_investment
from ..search.services import Kind as SearchKind
from ..search.services import search as search_records
from ..spreadsheets import DOCX_MIMETYPE, XLSX_MIMETYPE, download
from ..supervision.models import CaseAction, CaseOutcome, CaseStep, SupervisionCase
from ..supervision.services import CaseFilters, case_list, perform
from ..tasks.models import Milestone, ProgressReport, ReportPeriod, Task, TaskStatus
from ..tasks.services import (
    ReportInput,
    StatusUpdate,
    complete_milestone,
    transition_report,
    update_task_status,
)
from ..tasks.services import create_report as create_progress_report
from ..timeutil import now, today
from ..versioning import changes_since
from ..web import ID
from . import problems, queries, schemas
from .models import ApiToken
from .services import RATE_LIMIT, TOKEN_INFO, TokenRefused, check_token, count_request, read_notification

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CASE_ACTIONS = ", ".join(a.value for a in CaseAction if a != CaseAction.FILE)

api = Blueprint("api", __name__, url_prefix="/api/v1", description="规划执行督查系统开放接口 v1")
PUBLIC = {"api.openapi_json", "api.docs"}

# The refusals each kind of endpoint may answer with (documented; the bodies are problem+json).
READ_REFUSALS = (401, 429)
RECORD_REFUSALS = (401, 403, 404, 429)


def refusals(*codes: int) -> Any:
    def decorator(view: Any) -> Any:
        for code in codes:
            view = api.alt_response(code, response=_RESPONSE_NAMES[code])(view)
        return view
    return decorator


_RESPONSE_NAMES = {401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 409: "CONFLICT", 412: "PRECONDITION_FAILED",
                   422: "UNPROCESSABLE_ENTITY", 428: "PRECONDITION_REQUIRED", 429: "TOO_MANY_REQUESTS"}


# ---------------------------------------------------------------- the request: token, errors, unit of work


@api.before_request
def _authenticate() -> Response | None:
    """The token is checked (a read: in the request's own session, or for a write before that session opens, as
    on SQLite a writing request holds the write lock from its first statement), then counted; the count is
    written in a transaction of its own when the process takes more of the token's minute."""
    if request.endpoint in PUBLIC:
        return None
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    limit = current_app.config.get("API_RATE_LIMIT", RATE_LIMIT)
    sessions = current_app.extensions["tracker.sessions"]
    reading = nullcontext(db_session()) if request.method in SAFE_METHODS else sessions()
    try:
        with reading as session:
            grant = check_token(session, presented.strip() if scheme.lower() == "bearer" else None)
        count_request(lambda: unit_of_work(sessions), grant, limit)
    except TokenRefused as exc:
        if exc.status == 429:
            return problems.problem(429, exc.detail, headers={"Retry-After": str(exc.retry_after)})
        return problems.problem(401, exc.detail, headers={"WWW-Authenticate": 'Bearer realm="api"'})
    session = db_session()
    g.api_user = session.get(User, grant.user_id, options=[joinedload(User.department)])
    g.api_grant = grant
    session.info[TOKEN_INFO] = grant.token_name
    if request.method not in SAFE_METHODS and not grant.can_write:
        return problems.problem(403, "只读令牌不能修改数据：请使用读写令牌。")
    return None


@api.after_request
def _private(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "private, no-cache")
    return response


@api.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> Response:
    return problems.from_domain_error(exc)


@api.errorhandler(StaleDataError)
def _stale(_exc: StaleDataError) -> Response:
    """Another save won the race after the If-Match was checked (the UPDATE's own version check)."""
    session = g.get("db_session")
    if session is not None:
        session.rollback()
    return problems.problem(412)


@api.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    return problems.from_http_exception(exc)


def user() -> User:
    return g.api_user  # type: ignore[no-any-return]


class Shown:
    """A record with a few values beside it for its schema (what the user may do with it, say)."""

    def __init__(self, record: Any, **extra: Any) -> None:
        self._record = record
        self.__dict__.update(extra)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._record, name)


def etag(record: Any) -> str:
    return f'"v{record.version_id}"'


def not_modified(record: Any) -> bool:
    return etag(record) in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]


def if_match_version(record: Any) -> int | Response:
    """The version an If-Match names (a strong ETag "v3"), or the problem to answer: 428 without one,
    412 when it is not the record's current version (with the current one)."""
    raw = request.headers.get("If-Match", "").strip()
    if not raw or raw == "*":
        return problems.problem(428, headers={"ETag": etag(record)})
    tags = [t.strip() for t in raw.split(",")]
    if etag(record) not in tags:
        # what others saved since the version the request names (from the audit trail), as the pages show it
        named = [int(t.strip('"W/v')) for t in tags if t.strip('"W/v').isdigit()]
        changes = changes_since(db_session(), record, min(named)) if named else []
        return problems.problem(412, headers={"ETag": etag(record)}, current_version=record.version_id,
                                changes=changes)
    return int(record.version_id)


# ---------------------------------------------------------------- the document and its page


@api.route("/openapi.json")
@api.doc(security=[], summary="本接口的 OpenAPI 3.1 描述", responses={"200": {
    "description": "OpenAPI 文档", "content": {"application/json": {"schema": {"type": "object"}}}}})
def openapi_json() -> Response:
    return current_app.json.response(current_app.extensions["tracker.api"].spec.to_dict())


@api.route("/docs")
@api.doc(security=[], summary="接口文档页面", responses={"200": {
    "description": "HTML 页面", "content": {"text/html": {"schema": {"type": "string"}}}}})
def docs() -> Response:
    spec = current_app.extensions["tracker.api"].spec.to_dict()
    response = Response(render_template("api/docs.html", spec=spec))
    # Swagger UI sets style attributes: this page alone allows inline styles (never inline scripts)
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
        "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
    return response


# ---------------------------------------------------------------- me


@api.route("/me")
@api.response(200, schemas.MeSchema)
@refusals(*READ_REFUSALS)
def me() -> Any:
    """令牌所属的用户：姓名、角色、单位、地区，以及令牌本身"""
    token = db_session().get(ApiToken, g.api_grant.token_id)
    return Shown(user(), token=token)


# ---------------------------------------------------------------- plans


@api.route("/plans")
@api.arguments(schemas.PlanQuery, location="query")
@api.response(200, schemas.PlanListSchema)
@refusals(*READ_REFUSALS)
def plans(args: dict[str, Any]) -> Any:
    """用户可见的规划（与“规划”列表相同的范围、筛选和顺序），以游标分页"""
    filters = PlanFilters(level=args.get("level"), region_id=args.get("region"), stage=args.get("stage"),
                          q=args.get("q"), archived=args["archived"])
    session = db_session()
    page = queries.offset_page(session, plans_in_scope(session, user(), filters), args.get("cursor"), args["limit"])
    return {"items": [Shown(plan, task_counts=counts) for plan, counts in with_counts(session, page.items)],
            "next_cursor": page.next_cursor}


@api.route(f"/plans/<{ID}:plan_id>")
@api.response(200, schemas.PlanDetailSchema)
@refusals(*RECORD_REFUSALS)
def plan(plan_id: int) -> Any:
    """一个规划（范围外的为 403，与页面相同）"""
    session = db_session()
    record = session.get(Plan, plan_id)
    if record is None:
        raise NotFound("该规划不存在。")
    require(can_view_plan(session, user(), record), "该规划不在您的管辖范围内。")
    counts = status_counts(session, [record.id]).get(record.id, {})
    return Shown(record, task_counts=counts), {"ETag": etag(record)}


# ---------------------------------------------------------------- tasks


@api.route("/tasks")
@api.arguments(schemas.TaskQuery, location="query")
@api.response(200, schemas.TaskPageSchema)
@refusals(422, *READ_REFUSALS)
def tasks(args: dict[str, Any]) -> Any:
    """用户可见的规划中的任务，按 ID 排序，以游标分页（翻页期间新增或修改的任务不会使已读的页错位）"""
    filters = queries.TaskFilters(plan_id=args.get("plan"), status=args.get("status"),
                                  department_id=args.get("department"), level=args.get("level"),
                                  overdue=args.get("overdue"), due=args.get("due"), year=args.get("year"),
                                  role=args.get("role"))
    session = db_session()
    page = queries.keyset_page(session, queries.task_list(session, user(), filters, today()),
                               args.get("cursor"), args["limit"])
    return {"items": page.items, "next_cursor": page.next_cursor}


def load_task(task_id: int) -> Task:
    session = db_session()
    task = session.get(Task, task_id, options=[selectinload(Task.co_departments), selectinload(Task.milestones),
                                               joinedload(Task.lead_department)])
    if task is None:
        raise NotFound("该任务不存在。")
    require(can_view_task(session, user(), task), "该任务不在您的管辖范围内。")
    return task


def _task_answer(task: Task) -> Any:
    return Shown(task, can_update=can_update_task(user(), task)), {"ETag": etag(task)}


@api.route(f"/tasks/<{ID}:task_id>")
@api.response(200, schemas.TaskDetailSchema, headers={"ETag": {"description": "任务的版本，如 \"v3\"",
                                                               "schema": {"type": "string"}}})
@refusals(*RECORD_REFUSALS)
def task(task_id: int) -> Any:
    """一个任务，带节点和配合单位；ETag 为其版本（If-None-Match 相同则 304）"""
    record = load_task(task_id)
    if not_modified(record):
        return Response(status=304, headers={"ETag": etag(record)})
    return _task_answer(record)


@api.route(f"/tasks/<{ID}:task_id>", methods=["PATCH"])
@api.arguments(schemas.TaskPatchSchema)
@api.response(200, schemas.TaskDetailSchema)
@api.doc(parameters=[{"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"},
                      "description": "读取任务时的 ETag，如 \"v3\""}])
@refusals(*RECORD_REFUSALS, 412, 422, 428)
def update_task(data: dict[str, Any], task_id: int) -> Any:
    """更新任务的状态和进度（与“更新状态”页面相同的规则：牵头单位负责人或本级规划处；父任务的进度由下级汇总）"""
    record = load_task(task_id)
    require(can_update_task(user(), record), "只有牵头单位负责人或本级规划处可以更新该任务的状态和进度。")
    version = if_match_version(record)
    if isinstance(version, Response):
        return version
    # a field left out keeps its value (an overdue task stays 已逾期 while it is open, as on the page)
    current = TaskStatus.IN_PROGRESS if record.status == TaskStatus.OVERDUE else record.status
    update_task_status(db_session(), user(), record, StatusUpdate(
        status=TaskStatus(data.get("status", current)), progress=data.get("progress", record.progress),
        note=data.get("note", record.status_note), version=version))
    return _task_answer(load_task(task_id))


# ---------------------------------------------------------------- the overdue list


@api.route("/alerts/overdue")
@api.arguments(schemas.OverdueQuery, location="query")
@api.response(200, schemas.OverduePageSchema)
@refusals(403, 422, *READ_REFUSALS)
def overdue(args: dict[str, Any]) -> Any:
    """逾期清单：范围内未处理的预警（临期、逾期、严重逾期），与页面相同的筛选、排序和统计"""
    require(user().role in OVERDUE_LIST_ROLES, "逾期清单仅对督查室、规划处、领导和系统管理员开放。")
    session = db_session()
    filters = OverdueFilters(plan_id=args.get("plan"), region_id=args.get("region"),
                             department_id=args.get("department"), level=args.get("level"),
                             target=args.get("kind"), days_min=args.get("days_min"), days_max=args.get("days_max"),
                             due_from=args.get("due_from"), due_to=args.get("due_to"), sort=args["sort"],
                             direction=args.get("dir") or "")
    counts = overdue_counts(session, user(), filters)
    offset = queries.decode_cursor(args.get("cursor"), "o") or 0
    limit = args["limit"]
    rows = overdue_rows(session, user(), filters, limit=limit, offset=offset, total=counts.total)
    more = offset + limit < counts.total
    return {
        "counts": {"total": counts.total, "by_level": {level.value: n for level, n in counts.by_level.items()},
                   "departments": counts.departments,
                   "worst": [{"id": d["id"], "name": d["name"], "region": d["region"], "total": d["total"],
                              "levels": {level.value: n for level, n in d["levels"].items()}} for d in counts.worst]},
        "items": rows,
        "next_cursor": queries.encode_cursor("o", offset + limit) if more else None,
    }


# ---------------------------------------------------------------- supervision cases


@api.route("/cases")
@api.arguments(schemas.CaseQuery, location="query")
@api.response(200, schemas.CasePageSchema)
@refusals(403, 422, *READ_REFUSALS)
def cases(args: dict[str, Any]) -> Any:
    """督办件：与“督查督办”列表相同的范围、筛选和顺序（待责任单位办理的在前）"""
    require(user().role in CASE_LIST_ROLES, "您的角色不能查看督办件。")
    session = db_session()
    filters = CaseFilters(state=args.get("state"), source=args.get("source"), colour=args.get("colour"),
                          department_id=args.get("department"), year=args.get("year"))
    page = queries.offset_page(session, case_list(session, user(), filters, today()), args.get("cursor"),
                               args["limit"])
    return {"items": page.items, "next_cursor": page.next_cursor}


@api.route(f"/cases/<{ID}:case_id>")
@api.response(200, schemas.CaseDetailSchema)
@refusals(*RECORD_REFUSALS)
def case(case_id: int) -> Any:
    """一件督办件及其办理过程"""
    record = _load_case(case_id)
    return record, {"ETag": etag(record)}


# ---------------------------------------------------------------- notifications


@api.route("/notifications")
@api.arguments(schemas.NotificationQuery, location="query")
@api.response(200, schemas.NotificationPageSchema)
@refusals(422, *READ_REFUSALS)
def notifications(args: dict[str, Any]) -> Any:
    """用户自己的通知，最新的在前"""
    session = db_session()
    page = queries.offset_page(session, inbox_statement(user(), args["unread"]), args.get("cursor"), args["limit"])
    return {"items": page.items, "next_cursor": page.next_cursor, "unread": unread_count(session, user())}


@api.route(f"/notifications/<{ID}:notification_id>/read", methods=["POST"])
@api.response(200, schemas.NotificationSchema)
@refusals(401, 403, 404, 429)
def read(notification_id: int) -> Any:
    """把一条通知标为已读（别人的通知为 404）"""
    return read_notification(db_session(), user(), notification_id)


# ---------------------------------------------------------------- writes: case actions, reviews


IF_MATCH = [{"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"},
             "description": "读取记录时的 ETag，如 \"v3\""}]


def _visible(model: Any, record_id: int, missing: str, may_see: Any, refusal: str, **options: Any) -> Any:
    """The record, or 404 when there is none; 403 when ``may_see(session, record)`` says no."""
    session = db_session()
    record = session.get(model, record_id, **options)
    if record is None:
        raise NotFound(missing)
    require(may_see(session, record), refusal)
    return record


def _acted(record: Any, act: Any) -> Any:
    """A write at the version If-Match names: ``act(version)`` through the services, then the record with its new
    ETag (or the If-Match problem: 428 without one, 412 when stale)."""
    version = if_match_version(record)
    if isinstance(version, Response):
        return version
    act(version)
    db_session().flush()
    return record, {"ETag": etag(record)}


def _load_case(case_id: int) -> SupervisionCase:
    return _visible(SupervisionCase, case_id, "该督办件不存在。", lambda s, c: can_view_case(s, user(), c),
                    "该督办件不在您的管辖范围内。",
                    options=[selectinload(SupervisionCase.steps).selectinload(CaseStep.actor)])


@api.route(f"/cases/<{ID}:case_id>/actions/<any({CASE_ACTIONS}):action>", methods=["POST"])
@api.arguments(schemas.CaseActionSchema)
@api.response(200, schemas.CaseDetailSchema)
@api.doc(parameters=IF_MATCH)
@refusals(*RECORD_REFUSALS, 409, 412, 422, 428)
def case_action(data: dict[str, Any], case_id: int, action: str) -> Any:
    """督办件的一步办理（下发、签收、提交整改方案、报送整改进展、提交复核、销号、退回、催办、约谈、通报），与页面相同的规则；
    当前状态不能办理时为 409"""
    record = _load_case(case_id)
    outcome = data.get("outcome")
    return _acted(record, lambda version: perform(
        db_session(), user(), record, CaseAction(action), comment=data.get("comment"), version=version,
        response_days=data.get("response_days"), outcome=CaseOutcome(outcome) if outcome else None,
        rating=data.get("rating")))


def _load_report(report_id: int) -> ProgressReport:
    return _visible(ProgressReport, report_id, "该进展填报不存在。", lambda s, r: can_view_task(s, user(), r.task),
                    "该进展填报不在您的管辖范围内。", options=[joinedload(ProgressReport.department)])


@api.route(f"/reports/<{ID}:report_id>")
@api.response(200, schemas.ReportSchema)
@refusals(*RECORD_REFUSALS)
def report(report_id: int) -> Any:
    """一份进展填报；ETag 为其版本"""
    record = _load_report(report_id)
    return record, {"ETag": etag(record)}


@api.route(f"/reports/<{ID}:report_id>/actions/<any(submit, confirm, return):action>", methods=["POST"])
@api.arguments(schemas.ReviewActionSchema)
@api.response(200, schemas.ReportSchema)
@api.doc(parameters=IF_MATCH)
@refusals(*RECORD_REFUSALS, 409, 412, 422, 428)
def report_action(data: dict[str, Any], report_id: int, action: str) -> Any:
    """提交（本单位负责人）、确认或退回（本级规划处，退回须写明原因）一份进展填报"""
    record = _load_report(report_id)
    return _acted(record, lambda version: transition_report(db_session(), user(), record, action,
                                                            reason=data.get("reason"), version=version))


def _load_value(value_id: int) -> IndicatorValue:
    return _visible(IndicatorValue, value_id, "该监测值不存在。",
                    lambda s, v: can_view_plan(s, user(), v.indicator.plan), "该监测值不在您的管辖范围内。")


@api.route(f"/indicator-values/<{ID}:value_id>")
@api.response(200, schemas.IndicatorValueSchema)
@refusals(*RECORD_REFUSALS)
def indicator_value(value_id: int) -> Any:
    """一个年度监测值；ETag 为其版本"""
    record = _load_value(value_id)
    return record, {"ETag": etag(record)}


@api.route(f"/indicator-values/<{ID}:value_id>/actions/<any(confirm, return):action>", methods=["POST"])
@api.arguments(schemas.ReviewActionSchema)
@api.response(200, schemas.IndicatorValueSchema)
@api.doc(parameters=IF_MATCH)
@refusals(*RECORD_REFUSALS, 409, 412, 422, 428)
def indicator_value_action(data: dict[str, Any], value_id: int, action: str) -> Any:
    """确认或退回（须写明原因）一个监测值（本级规划处）"""
    record = _load_value(value_id)
    if action == "confirm":
        return _acted(record, lambda version: confirm_value(db_session(), user(), record, version))
    return _acted(record, lambda version: return_value(db_session(), user(), record, data.get("reason"), version))


@api.route(f"/tasks/<{ID}:task_id>/reports", methods=["POST"])
@api.arguments(schemas.ReportCreateSchema)
@api.response(201, schemas.ReportSchema)
@refusals(*RECORD_REFUSALS, 422)
def create_report(data: dict[str, Any], task_id: int) -> Any:
    """起草一份进展填报（牵头或配合单位；与“填报进展”页面相同的规则，同一单位同一期只有一份）；再以 submit 操作提交"""
    task = load_task(task_id)
    record = create_progress_report(db_session(), user(), task, ReportInput(
        period=ReportPeriod(data["period"]), period_year=data["period_year"], period_no=data["period_no"],
        progress=data["progress"], achievements=data["achievements"], problems=data.get("problems"),
        next_steps=data.get("next_steps")))
    return record, 201, {"ETag": etag(record), "Location": url_for("api.report", report_id=record.id)}


@api.route(f"/indicators/<{ID}:indicator_id>/values/<{ID}:year>", methods=["PUT"])
@api.arguments(schemas.ValueEntrySchema)
@api.response(200, schemas.IndicatorValueSchema)
@api.doc(parameters=[{**IF_MATCH[0], "required": False,
                      "description": "修改已有的监测值时必填：读取时的 ETag；新填报时不填"}])
@refusals(*RECORD_REFUSALS, 409, 412, 422, 428)
def enter_value(data: dict[str, Any], indicator_id: int, year: int) -> Any:
    """填报或修改某年的监测值（牵头单位或本级规划处），待规划处确认；数值型指标须为该单位的数"""
    session = db_session()
    indicator = _visible(Indicator, indicator_id, "该指标不存在。", lambda s, i: can_view_plan(s, user(), i.plan),
                         "该指标不在您的管辖范围内。")
    stored = stored_value(session, indicator, year)
    version: int | None = None
    if stored is not None:
        checked = if_match_version(stored)
        if isinstance(checked, Response):
            return checked
        version = checked
    record = save_value(session, user(), indicator, year, ValueInput(
        value_text=data["value_text"], source=data.get("source"), note=data.get("note"), version=version))
    session.flush()
    return record, {"ETag": etag(record)}


def _load_milestone(milestone_id: int) -> Milestone:
    return _visible(Milestone, milestone_id, "该节点不存在。", lambda s, m: can_view_task(s, user(), m.task),
                    "该节点不在您的管辖范围内。")


@api.route(f"/milestones/<{ID}:milestone_id>")
@api.response(200, schemas.MilestoneDetailSchema)
@refusals(*RECORD_REFUSALS)
def milestone(milestone_id: int) -> Any:
    """一个节点；ETag 为其版本"""
    record = _load_milestone(milestone_id)
    return record, {"ETag": etag(record)}


@api.route(f"/milestones/<{ID}:milestone_id>/complete", methods=["POST"])
@api.arguments(schemas.MilestoneDoneSchema)
@api.response(200, schemas.MilestoneDetailSchema)
@api.doc(parameters=IF_MATCH)
@refusals(*RECORD_REFUSALS, 409, 412, 422, 428)
def complete(data: dict[str, Any], milestone_id: int) -> Any:
    """办结节点（牵头单位负责人或本级规划处），写明佐证；附件请在页面上传"""
    record = _load_milestone(milestone_id)
    return _acted(record, lambda version: complete_milestone(
        db_session(), user(), record, completed_on=data["completed_on"], evidence=data["evidence"], version=version))


@api.route(f"/milestones/<{ID}:milestone_id>/files", methods=["POST"])
@api.response(201, schemas.AttachmentListSchema)
@api.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}})
@refusals(*RECORD_REFUSALS, 422)
def milestone_files(milestone_id: int) -> Any:
    """为节点上传佐证附件（multipart/form-data 的 files 字段，可多个；与页面相同的类型、大小和内容检查，照片缩放并去除位置信息）"""
    record = _load_milestone(milestone_id)
    require(can_update_task(user(), record.task), "只有牵头单位负责人或本级规划处可以上传节点的佐证。")
    files = request.files.getlist("files")
    if not any(f.filename for f in files):
        raise DomainError("请在 files 字段中上传至少一个文件（multipart/form-data）。", field="files")
    saved = save_uploads(db_session(), user(), files, milestone_id=record.id)
    for attachment in saved:
        audit.record(db_session(), user(), record, "attach", {}, f"上传节点佐证“{attachment.filename}”")
    return {"items": saved}, 201


# ---------------------------------------------------------------- key projects and evaluations


@api.route(f"/plans/<{ID}:plan_id>/projects")
@api.response(200, schemas.ProjectListSchema)
@refusals(*RECORD_REFUSALS)
def projects(plan_id: int) -> Any:
    """规划的重大项目登记表：总投资、期内投资和各年计划与完成投资（金额为十进制字符串，单位万元）"""
    session = db_session()
    plan = _visible(Plan, plan_id, "该规划不存在。", lambda s, p: can_view_plan(s, user(), p), "该规划不在您的管辖范围内。")
    return {"items": project_register(session, plan, RegisterFilters())}


@api.route(f"/projects/<{ID}:project_id>/investments/<{ID}:year>", methods=["PUT"])
@api.arguments(schemas.InvestmentEntrySchema)
@api.response(200, schemas.InvestmentSchema)
@api.doc(parameters=[{**IF_MATCH[0], "required": False,
                      "description": "修改已有的年度填报时必填：读取项目时该年度的 ETag（\"v版本\"）"}])
@refusals(*RECORD_REFUSALS, 409, 412, 422, 428)
def enter_investment(data: dict[str, Any], project_id: int, year: int) -> Any:
    """项目责任单位填报某年完成投资（草稿，或由负责人直接提交），与页面相同的规则（不超过总投资等）"""
    session = db_session()
    project = _visible(KeyProject, project_id, "该项目不存在。", lambda s, p: can_view_task(s, user(), p.task),
                       "该项目不在您的管辖范围内。")
    stored = investment_of(project, year)
    version = 0
    if stored is not None:
        checked = if_match_version(stored)
        if isinstance(checked, Response):
            return checked
        version = checked
    record = save_investment(session, user(), project, year, completed=data["completed"], note=data.get("note"),
                             version=version, submit=data["submit"])
    session.flush()
    return record, {"ETag": etag(record)}


@api.route(f"/project-investments/<{ID}:investment_id>/actions/<any(submit, confirm, return):action>",
           methods=["POST"])
@api.arguments(schemas.ReviewActionSchema)
@api.response(200, schemas.InvestmentSchema)
@api.doc(parameters=IF_MATCH)
@refusals(*RECORD_REFUSALS, 409, 412, 422, 428)
def investment_action(data: dict[str, Any], investment_id: int, action: str) -> Any:
    """提交（责任单位负责人）、确认或退回（本级规划处，须写明原因）某年完成投资"""
    record = _visible(ProjectInvestment, investment_id, "该年度投资不存在。",
                      lambda s, i: can_view_task(s, user(), i.project.task), "该年度投资不在您的管辖范围内。")
    return _acted(record, lambda version: transition_investment(db_session(), user(), record, action,
                                                                reason=data.get("reason"), version=version))


def _load_evaluation(evaluation_id: int) -> Evaluation:
    require(can_view_evaluations(user()), "您的角色不能查看考核评估。")
    return _visible(Evaluation, evaluation_id, "该考核不存在。", lambda s, e: can_view_evaluation(s, user(), e.plan),
                    "该考核不在您的管辖范围内。")


@api.route(f"/evaluations/<{ID}:evaluation_id>")
@api.response(200, schemas.EvaluationSchema)
@refusals(*RECORD_REFUSALS)
def evaluation(evaluation_id: int) -> Any:
    """一次考核评估：各单位得分、名次和等次，及其工作簿和报告的下载地址"""
    return _load_evaluation(evaluation_id)


@api.route(f"/evaluations/<{ID}:evaluation_id>/<any(workbook.xlsx, report.docx):document>")
@api.response(200, {"type": "string", "format": "binary"},
              content_type="application/octet-stream", description="工作簿（.xlsx）或报告（.docx）")
@refusals(*RECORD_REFUSALS)
def evaluation_document(evaluation_id: int, document: str) -> Any:
    """考核评估的工作簿或 Word 报告，与页面下载的相同"""
    record = _load_evaluation(evaluation_id)
    session = db_session()
    if document == "workbook.xlsx":
        return download(evaluation_workbook(session, record, now()), filename_of(record, "xlsx"), XLSX_MIMETYPE,
                        f"evaluation-{record.id}.xlsx")
    return download(evaluation_report(session, record, now()), filename_of(record, "docx"), DOCX_MIMETYPE,
                    f"evaluation-{record.id}.docx")


# ---------------------------------------------------------------- search


@api.route("/search")
@api.arguments(schemas.SearchQuery, location="query")
@api.response(200, schemas.SearchSchema)
@refusals(422, *READ_REFUSALS)
def search(args: dict[str, Any]) -> Any:
    """检索：与页首搜索框相同，在用户的范围内按类别返回规划、任务、节点、重大项目、指标、督办件和进展填报"""
    kinds = [SearchKind(k) for k in args["kind"]] if args.get("kind") else None
    results = search_records(db_session(), user(), args["q"], kinds, limit=args["limit"])
    return {"groups": [{"kind": g.kind.value, "kind_label": g.kind.label, "more": g.more,
                        "hits": [{"id": h.id, "title": h.title, "context": h.context, "excerpt": h.excerpt,
                                  "link": url_for(h.endpoint, **h.args) + (f"#{h.anchor}" if h.anchor else "")}
                                 for h in g.hits]} for g in results.groups]}
