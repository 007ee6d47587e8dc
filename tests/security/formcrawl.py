"""The forms of the app as the pages show them: walk the pages each user can open, read every
``<form method="post">`` and its fields, and match its action to a POST route.

The fuzz tests post hostile values into exactly these fields, so they hit what people really submit.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from io import BytesIO
from typing import Any
from urllib.parse import urljoin, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import HTTPException
from werkzeug.test import TestResponse, encode_multipart

from tracker.adjustments.services import request_deadline
from tracker.api.models import TokenScope
from tracker.api.services import NewToken, create_token
from tracker.auth.models import Role, User
from tracker.auth.service_accounts import create_service_account, issue_token
from tracker.db import unit_of_work
from tracker.evaluations.models import DepartmentScore, Evaluation, EvaluationState
from tracker.imports.models import ImportDocument
from tracker.indicators.models import Indicator, IndicatorValue, ValueState
from tracker.notifications.models import (
    Channel,
    DeliveryState,
    Event,
    Notification,
    NotificationDelivery,
    NotificationKind,
)
from tracker.planning.models import Plan, PlanLevel
from tracker.projects.models import KeyProject, ProjectInvestment
from tracker.projects.services import transition_investment
from tracker.regions.models import Department
from tracker.supervision.models import CaseAction, CaseSource
from tracker.supervision.services import CaseInput, file_case, perform
from tracker.tasks.models import (
    Milestone,
    MilestoneStatus,
    ProgressReport,
    ProjectNode,
    ReportState,
    Task,
    TaskLevel,
    TaskStatus,
)
from tracker.timeutil import now, today
from tracker.webhooks.models import WebhookDelivery
from tracker.webhooks.services import EndpointInput, create_endpoint

from ..conftest import login


@dataclass
class Field:
    name: str
    kind: str  # text, textarea, number, date, select, checkbox, radio, hidden, file, submit, password, email
    options: list[str] = field(default_factory=list)
    value: str = ""


@dataclass
class Form:
    user: str
    page: str
    action: str
    endpoint: str
    fields: dict[str, Field]

    def __repr__(self) -> str:  # short, for hypothesis' falsifying examples
        return f"<{self.endpoint} {self.action} as {self.user}: {sorted(self.fields)}>"

    def valid_data(self) -> dict[str, list[str]]:
        """What the page would send untouched: the prefilled values and the first choices."""
        data: dict[str, list[str]] = {}
        for f in self.fields.values():
            if f.kind in ("file", "submit"):
                continue
            if f.kind in ("select", "radio"):
                value = f.value or next((o for o in f.options if o), "")
            elif f.kind == "checkbox":
                if not f.value:
                    continue
                value = f.value
            else:
                value = f.value
            data.setdefault(f.name, []).append(value)
        return data


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, dict[str, Field]]] = []
        self._form: dict[str, Field] | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "get").lower() == "post":
            self._form = {}
            self.forms.append((a.get("action", ""), self._form))
            return
        form = self._form
        if form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            existing = form.get(name)
            if kind in ("radio", "checkbox") and existing is not None:
                existing.options.append(a.get("value", "on"))
                if "checked" in a:
                    existing.value = a.get("value", "on")
                return
            form[name] = Field(name, kind, options=[a.get("value", "on")] if kind in ("radio", "checkbox") else [],
                               value=a.get("value", "") if kind not in ("radio", "checkbox") or "checked" in a else "")
        elif tag == "textarea" and name:
            self._textarea = form[name] = Field(name, "textarea")
        elif tag == "select" and name:
            self._select = form[name] = Field(name, "select")
        elif tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))
            if "selected" in a:
                self._select.value = a.get("value", "")
        elif tag == "button" and name:
            form.setdefault(name, Field(name, "submit", options=[]))
            form[name].options.append(a.get("value", ""))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def parse(html: str) -> list[tuple[str, dict[str, Field]]]:
    """The POST forms of a page: (action, fields by name)."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def _endpoint(app: Flask, path: str, method: str) -> str | None:
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(path, method=method)
    except HTTPException:
        return None
    return endpoint


# ------------------------------------------------------------------------------ the world the forms work on

REVISION_TEXT = """某市测试专项规划

一、主要任务
1．完善疾病预防控制体系。建设疾控中心实验室。
2．建设智慧医院。推进互联网医院建设。
3．发展中医药事业。建设中医药传承创新中心。
"""

PLAN_TEXT = """浙江省测试规划

第一章 发展基础
一、主要成就
  过去五年取得明显成效。

第二章 主要任务
一、强化公共卫生体系建设
（一）完善疾病预防控制体系。到2025年，疾控机构标准化建设达标率达到100%。
（二）加强应急能力建设。
二、提升医疗服务水平
（一）推进优质医疗资源扩容。

专栏1 重大项目
| 序号 | 项目名称 | 建设内容 | 总投资 | 期内投资 | 建设单位 |
| --- | --- | --- | --- | --- | --- |
| 1 | 省疾控中心迁建 | 新建业务用房 | 12.5 | 10 | 省疾病预防控制中心 |

附表  主要指标
| 序号 | 指标 | 单位 | 2020年 | 2025年 | 属性 |
| --- | --- | --- | --- | --- | --- |
| 1 | 人均预期寿命 | 岁 | 79.47 | 80以上 | 预期性 |
| 2 | 孕产妇死亡率 | /10万 | 4.5 | 5以下 | 预期性 |
| 3 | 每千人口执业（助理）医师数 | 人 | 3.6 | 4 | |
"""

# The users whose forms are walked: each role that has forms of its own.
USERS = ("zj_planner", "zj_head_jk", "zj_head_yz", "zj_supervisor", "zj_evaluator", "admin", "wz_planner")

# The pages each user opens; every POST form on them is read. {names} are ids of `World.ids`.
PAGES: dict[str, tuple[str, ...]] = {
    "zj_head_jk": (
        "/tasks/{task}", "/tasks/{task}/status", "/milestones/{milestone}/complete", "/tasks/{task}/reports/new",
        "/reports/{report}", "/reports/{report}/edit", "/adjustments/task/{task}/new",
        "/adjustments/indicator/{indicator}/new", "/adjustments/{adjustment}", "/supervision/{case}",
        "/notifications", "/account/password", "/indicators/{indicator}/values/2025", "/notifications/settings",
        "/account/tokens", "/supervision/",
    ),
    "zj_planner": (
        "/planning/plans/new", "/planning/plans/{plan}/edit", "/planning/plans/{plan}/stages/new",
        "/planning/plans/{plan}/tasks/new", "/planning/tasks/{task}/edit", "/planning/tasks/{parent_task}/split",
        "/planning/tasks/{task}/upstream", "/planning/tasks/{task}/move", "/planning/tasks/{leaf_task}/delete",
        "/planning/tasks/{task}/close", "/planning/tasks/{task}/milestones", "/planning/milestones/{milestone}/edit",
        "/planning/plans/{plan}/indicators/new", "/planning/indicators/{indicator}/edit",
        "/reports/{submitted_report}", "/adjustments/{adjustment}", "/imports", "/imports/{doc}",
        "/imports/{doc}/items/{item}", "/imports/{doc}/indicators/{draft_indicator}",
        "/imports/{doc}/projects/{draft_project}", "/imports/{doc}/confirm", "/imports/{tasklist}",
        "/plans/{plan}/tasklist/import", "/indicators/plans/{plan}?year=2025", "/indicators/plans/{plan}/entry",
        "/indicators/plans/{plan}/upload", "/indicators/{indicator}/values/2025", "/projects/{project}",
        "/projects/{project}/edit", "/projects/investments/{submitted_investment}", "/plans/{plan}/projects/new",
        "/reports?state=submitted", "/imports/{new_version}", "/imports/{revision}", "/plans/{deletable_plan}/delete",
        "/succession/evaluations/{locked_evaluation}",
    ),
    "zj_head_yz": (
        "/projects/{project}", "/projects/{project}/investments/2025", "/projects/{project}/adjustments/new",
        "/projects/{project}/nodes/{node}/done", "/projects/investments/{draft_investment}",
    ),
    "zj_supervisor": ("/supervision/new", "/supervision/{case}", "/supervision/"),
    "zj_evaluator": ("/evaluations/new", "/evaluations/{evaluation}", "/evaluations/{evaluation}/settings",
                     "/evaluations/{evaluation}/lock", "/evaluations/scores/{score}/adjust",
                     "/indicators/values/{value}/judge", "/evaluations/{evaluation}/conclusions"),
    "admin": ("/admin/users/new", "/admin/users/{user}/edit", "/admin/regions/1/departments/new",
              "/admin/departments/{department}/edit", "/system/settings", "/system/calendar?year=2026",
              "/system/jobs", "/evaluations/{locked_evaluation}/reopen", "/admin/deliveries",
              "/admin/webhooks", "/admin/webhooks/new", "/admin/webhooks/{webhook}/edit",
              "/admin/webhooks/{webhook}/deliveries", "/admin/service-accounts/new",
              "/admin/service-accounts/{service_account}"),
    "wz_planner": ("/plans/{plan}/cascade",),
}
# Not fuzzed: signing in and out (their own tests), and running a job (slow, and takes no input but its name).
# A batch's confirmation form is on the page its preview POST answers with (no page to crawl): tests/batch
# sends it what a browser would, and worse.
UNFUZZED = {"auth.login", "auth.logout", "system.run_job_now", "batch.perform"}
# The JSON API (blueprint ``api``) has no pages and no forms: it is sent tokens and JSON, tested in tests/api.
API_PREFIX = "api."


@dataclass
class World:
    ids: dict[str, int | str]
    clients: dict[str, FlaskClient]


def _multipart(client: FlaskClient, url: str, name: str, data: bytes) -> TestResponse:
    boundary, body = encode_multipart({"file": FileStorage(BytesIO(data), name)})
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


_SESSIONS: dict[str, str] = {}


def signed_in(app: Flask, username: str) -> FlaskClient:
    """A client signed in as the user. Every test app signs sessions with the same key and every demo copy
    has the same user ids, so a session cookie is reused instead of checking the password again."""
    client = app.test_client()
    if username in _SESSIONS:
        client.set_cookie("session", _SESSIONS[username])
    else:
        login(client, username)
        cookie = client.get_cookie("session")
        assert cookie is not None
        _SESSIONS[username] = cookie.value
    return client


def build_world(app: Flask) -> World:
    """Demo records for every form: a draft report, an issued case, pending adjustments, an import draft,
    a staged task list, an entered indicator value, a calendar day, a keyword rule, notifications.
    Deterministic, so two copies of the demo database get the same ids."""
    clients = {user: signed_in(app, user) for user in USERS}
    ids: dict[str, int | str] = {}
    with unit_of_work(app.extensions["tracker.sessions"]) as s:
        users = {u.username: u for u in s.scalars(select(User).where(User.username.in_(USERS)))}
        jk = users["zj_head_jk"].department
        plan = s.scalars(select(Plan).where(Plan.code == "zj-14")).one()
        task = s.scalars(select(Task).where(
            Task.plan_id == plan.id, Task.lead_department_id == jk.id, Task.level == TaskLevel.ANNUAL,
            Task.status == TaskStatus.IN_PROGRESS, Task.milestones.any(Milestone.status == MilestoneStatus.PENDING))
            .order_by(Task.id)).first()
        assert task is not None
        milestone = next(m for m in task.milestones if m.status == MilestoneStatus.PENDING)
        report = ProgressReport(task=task, department=jk, period="year", period_year=2025, period_no=1,
                                progress=50, achievements="年度进展")
        s.add(report)
        leaf = Task(plan=plan, parent=task.parent, level=TaskLevel.ANNUAL, code="待删", title="可删除的年度任务",
                    lead_department=jk, start_date=date(2027, 1, 1), deadline=date(2027, 12, 31), year=2027,
                    status=TaskStatus.NOT_STARTED)
        s.add(leaf)
        # a plan nothing depends on, for the 删除规划 confirmation
        deletable_plan = Plan(code="330000-2031-2035", title="可删除的规划", short_name="可删除", region_id=plan.region_id,
                              level=PlanLevel.PROVINCE, start_year=2031, end_year=2035)
        s.add(deletable_plan)
        indicator = s.scalars(select(Indicator).where(
            Indicator.plan_id == plan.id, ~Indicator.values.any(IndicatorValue.year == 2025)).order_by(Indicator.number)
        ).first()
        indicator.lead_department = jk
        case = file_case(s, users["zj_supervisor"], CaseInput(source=CaseSource.ROUTINE, department=jk, task=task,
                                                               title="督办", problem="进度滞后"))
        perform(s, users["zj_supervisor"], case, CaseAction.ISSUE, version=case.version_id, response_days=10)
        adjustment = request_deadline(s, users["zj_head_jk"], task, date(2027, 6, 30), "延期")
        project = s.scalars(select(KeyProject).join(Task).where(Task.plan_id == plan.id, Task.code == "专栏4")).one()
        # this year's figure stands submitted on the demo day: the planner returns it, so the owner's entry
        # form and 提交 are on their pages again
        this_year = next(i for i in project.investments if i.year == today().year)
        transition_investment(s, users["zj_planner"], this_year, "return", reason="请核实完成额",
                              version=this_year.version_id)
        investments = {i.state: i.id for i in sorted(project.investments, key=lambda i: -i.year)}
        submitted = s.scalar(select(ProjectInvestment.id).join(KeyProject).join(Task).where(
            Task.plan_id == plan.id, ProjectInvestment.state == ReportState.SUBMITTED).order_by(ProjectInvestment.id))
        node = next(m for m in project.task.milestones if m.node == ProjectNode.GROUNDBREAKING)
        evaluation = s.scalar(select(Evaluation.id).where(Evaluation.state == EvaluationState.DRAFT))
        # an access token to revoke, and a copy of a message whose sending failed, for the administrator to resend
        create_token(s, users["zj_head_jk"], NewToken("数据平台", TokenScope.READ, 30))
        # a service account with a token, for its page's forms (issue and revoke a token, switch it off)
        account = create_service_account(s, users["admin"], username="svc-fuzz", name="对接", role=Role.DEPT_HEAD,
                                         department=jk)
        issue_token(s, users["admin"], account, NewToken("对接", TokenScope.READ, 30))
        # a webhook endpoint with a delivery that failed, for its edit page and its log's 重新发送
        webhook, _ = create_endpoint(s, users["admin"], EndpointInput("省数据平台", "https://data.example.gov.cn/hook",
                                                                      ["task.done"], None))
        event = Event(kind="task.done", subject_type="tasks", subject_id=task.id, title="任务已完成", data={},
                      created_at=now())
        s.add(event)
        s.flush()
        s.add(WebhookDelivery(endpoint_id=webhook.id, event_id=event.id, state=DeliveryState.FAILED, attempts=6,
                              last_error="接收方返回 HTTP 500", created_at=now()))
        message = Notification(user_id=users["zj_head_jk"].id, kind=NotificationKind.SYSTEM, title="测试消息",
                               created_at=now())
        s.add(message)
        s.add(NotificationDelivery(notification=message, channel=Channel.EMAIL, state=DeliveryState.FAILED,
                                   attempts=5, last_error="邮件服务器拒收"))
        locked_evaluation = s.scalar(select(Evaluation.id).where(Evaluation.state == EvaluationState.LOCKED)
                                     .order_by(Evaluation.version.desc(), Evaluation.id))
        s.flush()
        ids.update(
            plan=plan.id, task=task.id, parent_task=task.parent_id, leaf_task=leaf.id, webhook=webhook.id,
            deletable_plan=deletable_plan.id,
            service_account=account.id,
            milestone=milestone.id, report=report.id, indicator=indicator.id, case=case.id, adjustment=adjustment.id,
            submitted_report=s.scalar(select(ProgressReport.id).join(Task).where(
                Task.plan_id == plan.id, ProgressReport.state == ReportState.SUBMITTED).order_by(ProgressReport.id)),
            project=project.id, node=node.id, submitted_investment=submitted or investments.get(
                ReportState.CONFIRMED), draft_investment=investments.get(ReportState.DRAFT, this_year.id),
            evaluation=evaluation, locked_evaluation=locked_evaluation, score=s.scalar(select(DepartmentScore.id).where(
                DepartmentScore.evaluation_id == evaluation).order_by(DepartmentScore.id)),
            value=s.scalar(select(IndicatorValue.id).join(Indicator).where(
                Indicator.plan_id == plan.id, IndicatorValue.state == ValueState.CONFIRMED).order_by(IndicatorValue.id)),
            # the admin edits a user the fuzz does not sign in as (a cleared 启用 box would lock them out)
            user=s.scalar(select(User.id).where(User.username == "zj_staff_jk")), department=jk.id,
            yz_department=s.scalar(select(Department.id).where(Department.region_id == plan.region_id,
                                                               Department.name == "医政医管处")),
        )
    planner, admin = clients["zj_planner"], clients["admin"]
    response = _multipart(planner, "/imports", "测试规划.md", PLAN_TEXT.encode())
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    ids["doc"] = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.extensions["tracker.sessions"]() as s:
        draft = s.get(ImportDocument, ids["doc"]).draft  # type: ignore[union-attr]
        ids.update(item=draft["items"][-1]["id"], draft_indicator=draft["indicators"][0]["id"],
                   draft_project=draft["projects"][0]["id"])
    assert planner.post(f"/imports/{ids['doc']}/rules", data={"keyword": "医疗", "department_id": ids["yz_department"]}
                        ).status_code == 302
    exported = planner.get(f"/plans/{ids['plan']}/tasklist.xlsx")
    response = _multipart(planner, f"/plans/{ids['plan']}/tasklist/import", "任务分解表.xlsx", exported.data)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    ids["tasklist"] = int(response.headers["Location"].rsplit("/", 1)[1])
    # a new version offered to replace an open draft, and a revision with an item gone (仍然保留)
    revised_text = REVISION_TEXT.replace("2．建设智慧医院。推进互联网医院建设。\n", "").replace("3．发展中医药", "2．发展中医药")
    assert _multipart(planner, "/imports", "专项规划.md", REVISION_TEXT.encode()).status_code == 302
    response = _multipart(planner, "/imports", "专项规划（修订稿）.md", revised_text.encode())
    ids["new_version"] = int(response.headers["Location"].rsplit("/", 1)[1])
    response = _multipart(planner, "/imports", "专项规划（副本）.md", (REVISION_TEXT + "\n").encode())
    second = int(response.headers["Location"].rsplit("/", 1)[1])
    response = _multipart(planner, f"/imports/{second}/revise", "专项规划（送审稿）.md", (revised_text + "\n").encode())
    ids["revision"] = int(response.headers["Location"].rsplit("/", 1)[1].split("#")[0])
    value_page = f"/indicators/{ids['indicator']}/values/2025"
    fields = next(f for action, f in parse(clients["zj_head_jk"].get(value_page).get_data(as_text=True))
                  if not action)
    response = clients["zj_head_jk"].post(value_page, data={"value_text": "80.1", "source": "统计年鉴",
                                                            "version": fields["version"].value})
    assert response.status_code == 302, alerts(response.get_data(as_text=True))
    assert admin.post("/system/calendar/days", data={"day": "2026-12-28", "kind": "holiday", "name": "测试"}
                      ).status_code == 302
    for job in ("scan", "reminders"):
        assert admin.post(f"/system/jobs/{job}/run").status_code == 302
    response = clients["zj_head_yz"].post(f"/projects/{ids['project']}/adjustments/new",
                                          data={"new_total": "350", "reason": "扩建"})
    assert response.status_code == 302, alerts(response.get_data(as_text=True))
    return World(ids, clients)


def alerts(html: str) -> list[str]:
    """The messages a page shows as alerts (field errors, refusals)."""
    return [re.sub(r"<[^>]+>", "", m).strip() for m in re.findall(r'role="alert"[^>]*>(.*?)</', html, re.S)]


def page_forms(app: Flask, user: str, url: str, html: str) -> list[Form]:
    """The POST forms of a page that go to a fuzzed route."""
    result = []
    for action, fields in parse(html):
        target = urlsplit(urljoin(url, action or url)).path
        endpoint = _endpoint(app, target, "POST")
        if endpoint is None or endpoint in UNFUZZED:
            continue
        fields.pop("csrf_token", None)
        result.append(Form(user, url, target, endpoint, fields))
    return result


def read_forms(app: Flask, world: World) -> list[Form]:
    """Every POST form on the pages of PAGES, one per user and action (the one with the most fields)."""
    found: dict[tuple[str, str], Form] = {}
    for user, pages in PAGES.items():
        client = world.clients[user]
        for template in pages:
            url = template.format(**world.ids)
            response = client.get(url)
            assert response.status_code == 200, (user, url, response.status_code)
            for form in page_forms(app, user, url, response.get_data(as_text=True)):
                key = (user, form.action)
                if key not in found or len(form.fields) > len(found[key].fields):
                    found[key] = form
    return list(found.values())


_READ: dict[str, Any] = {}


def forms_of(app: Flask, world: World) -> list[Form]:
    """read_forms, once per run: every copy of the demo builds the same world, so the forms (copies of them,
    to change freely) are those of the first one."""
    if not _READ:
        _READ.update(ids=dict(world.ids), forms=read_forms(app, world))
    assert _READ["ids"] == world.ids
    return copy.deepcopy(_READ["forms"])
