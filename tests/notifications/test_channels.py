"""The robots and 浙政钉: signed requests checked by servers on loopback, rate limits, failures that back off.

Every run passes a fixed ``at``; the servers check the signatures' timestamps against that same instant, so
nothing here depends on the wall clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.auth.models import User
from tracker.notifications.channels import (
    TEXT_LIMIT,
    Channels,
    ZzdClient,
    ZzdSettings,
    truncate_utf8,
    wecom_payload,
    zzd_msg,
)
from tracker.notifications.delivery import MAX_ATTEMPTS, RETRY_DELAYS, ROBOT_RATE, deliver_pending
from tracker.notifications.models import (
    Channel,
    DeliveryState,
    Notification,
    NotificationDelivery,
    NotificationKind,
)
from tracker.timeutil import local_day_bounds, to_local

from ..alerts.world import World
from .conftest import WebhookServer

AT = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)  # 09:00 in Hangzhou
SECRET = "SEC0123456789abcdef"
_keys = itertools.count()


def queue(session: Session, user: User, channel: Channel, n: int = 1, *, title: str = "督查提醒",
          body: str | None = "逾期1项", at: datetime = AT, state: DeliveryState = DeliveryState.PENDING,
          sent_at: datetime | None = None) -> list[NotificationDelivery]:
    """``n`` notifications for ``user`` with one delivery each on ``channel``."""
    out = []
    for _ in range(n):
        notification = Notification(user_id=user.id, kind=NotificationKind.SYSTEM, title=title, body=body,
                                    dedupe_key=f"t:{next(_keys)}", created_at=at)
        delivery = NotificationDelivery(channel=channel, state=state, attempts=1 if sent_at else 0,
                                        next_attempt_at=None if sent_at else at, sent_at=sent_at)
        notification.deliveries.append(delivery)
        session.add(notification)
        out.append(delivery)
    session.commit()
    return out


def states(session: Session, channel: Channel) -> list[tuple[DeliveryState, int]]:
    session.expire_all()
    return [(d.state, d.attempts) for d in session.scalars(
        select(NotificationDelivery).where(NotificationDelivery.channel == channel).order_by(NotificationDelivery.id))]


# --- a small HTTP server on loopback ------------------------------------------------------------------


@dataclass
class Server:
    handle: Callable[[str, str, Message, bytes], tuple[int, Any]]
    received: list[Any] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    httpd: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        assert self.httpd is not None
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[..., tuple[int, Any]]], Server]]:
    started: list[Server] = []

    def start(handle: Callable[..., tuple[int, Any]]) -> Server:
        server = Server(handle)

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with lock:
                    server.requests.append(f"{self.command} {self.path}")
                    status, answer = server.handle(self.command, self.path, self.headers, body)  # any case
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer  # noqa: N815

            def log_message(self, *_args: Any) -> None:
                pass

        lock = threading.Lock()
        server.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.httpd.serve_forever, daemon=True).start()
        started.append(server)
        return server

    yield start
    for server in started:
        assert server.httpd is not None
        server.httpd.shutdown()
        server.httpd.server_close()


# --- DingTalk ------------------------------------------------------------------------------------------


@pytest.fixture
def dingtalk(serve: Callable[..., Server]) -> Server:
    """A DingTalk robot with 加签: the timestamp within an hour of AT, the sign recomputed from the secret."""

    def handle(method: str, path: str, headers: Message, body: bytes) -> tuple[int, Any]:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
        if query.get("access_token") != ["robot-token"]:
            return 200, {"errcode": 300001, "errmsg": "token is not exist"}
        timestamp = int(query["timestamp"][0])
        if abs(timestamp - AT.timestamp() * 1000) > 3600 * 1000:
            return 200, {"errcode": 310000, "errmsg": "timestamp is not within one hour"}
        digest = hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(), hashlib.sha256).digest()
        if query["sign"] != [base64.b64encode(digest).decode()]:  # parse_qs undoes the URL-encoding
            return 200, {"errcode": 310000, "errmsg": "sign not match"}
        server.received.append(json.loads(body))
        return 200, {"errcode": 0, "errmsg": "ok"}

    server = serve(handle)
    return server


def test_dingtalk_messages_are_signed(session: Session, world: World, dingtalk: Server) -> None:
    queue(session, world.users["head_jk"], Channel.DINGTALK, body="建设疾控信息平台")
    queue(session, world.users["staff_jk"], Channel.DINGTALK)
    channels = Channels.from_config({"DINGTALK_URL": f"{dingtalk.base}/robot/send?access_token=robot-token",
                                     "DINGTALK_SECRET": SECRET})
    assert deliver_pending(session, channels, AT) == {"sent": 2, "retry": 0, "failed": 0}
    assert states(session, Channel.DINGTALK) == [(DeliveryState.SENT, 1)] * 2
    first, second = dingtalk.received
    assert first == {"msgtype": "text", "text": {"content": "测试用户：督查提醒\n建设疾控信息平台"},
                     "at": {"atMobiles": ["13800000001"], "isAtAll": False}}
    assert "at" not in second  # staff_jk has no mobile


def test_a_wrong_secret_is_a_refusal_that_is_retried(session: Session, world: World, dingtalk: Server) -> None:
    queue(session, world.users["head_jk"], Channel.DINGTALK)
    channels = Channels.from_config({"DINGTALK_URL": f"{dingtalk.base}/robot/send?access_token=robot-token",
                                     "DINGTALK_SECRET": "SECwrong"})
    assert deliver_pending(session, channels, AT) == {"sent": 0, "retry": 1, "failed": 0}
    delivery = session.scalars(select(NotificationDelivery)).one()
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == (
        DeliveryState.PENDING, 1, AT + RETRY_DELAYS[0])
    assert delivery.last_error == "机器人接口拒绝：310000 sign not match"
    # an hour and more later the platform refuses the timestamp, whatever the secret
    channels = Channels.from_config({"DINGTALK_URL": f"{dingtalk.base}/robot/send?access_token=robot-token",
                                     "DINGTALK_SECRET": SECRET})
    later = AT + timedelta(hours=2)
    deliver_pending(session, channels, later)
    assert "timestamp" in session.scalars(select(NotificationDelivery)).one().last_error


def test_channel_settings() -> None:
    assert Channels().configured() == []
    old = Channels.from_config({"WEBHOOK_URL": "https://old/robot"})
    assert old.dingtalk_url == old.webhook_url == "https://old/robot" and old.configured() == [Channel.DINGTALK]
    assert Channels.from_config({"WEBHOOK_URL": "https://old", "DINGTALK_URL": "https://new"}).dingtalk_url == \
        "https://new"
    zzd = {"ZZD_BASE_URL": "https://zzd/", "ZZD_APP_KEY": "k", "ZZD_APP_SECRET": "s", "ZZD_TENANT_ID": "1"}
    every = Channels.from_config({"SMTP_URL": "smtp://m/", "DINGTALK_URL": "https://d", "WECOM_URL": "https://w",
                                  **zzd})
    assert every.configured() == [Channel.EMAIL, Channel.DINGTALK, Channel.WECOM, Channel.ZZD]
    assert every.zzd == ZzdSettings("https://zzd", "k", "s", "1")
    assert Channels.from_config({**zzd, "ZZD_TENANT_ID": ""}).configured() == []  # all four or none


# --- WeCom --------------------------------------------------------------------------------------------


@pytest.fixture
def wecom(serve: Callable[..., Server]) -> Server:
    def handle(method: str, path: str, headers: Message, body: bytes) -> tuple[int, Any]:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
        if query.get("key") != ["wecom-key"]:
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
        payload = json.loads(body)
        if len(payload["text"]["content"].encode("utf-8")) > 2048:
            return 200, {"errcode": 40058, "errmsg": "content exceed max length 2048"}
        server.received.append(payload)
        return 200, {"errcode": 0, "errmsg": "ok"}

    server = serve(handle)
    return server


def test_wecom_text_fits_2048_bytes(session: Session, world: World, wecom: Server) -> None:
    queue(session, world.users["head_jk"], Channel.WECOM, body="逾期任务：建设疾控信息平台。" * 200)
    queue(session, world.users["staff_jk"], Channel.WECOM)
    channels = Channels.from_config({"WECOM_URL": f"{wecom.base}/cgi-bin/webhook/send?key=wecom-key"})
    assert deliver_pending(session, channels, AT) == {"sent": 2, "retry": 0, "failed": 0}
    long, short = wecom.received
    assert long["text"]["mentioned_mobile_list"] == ["13800000001"]
    content = long["text"]["content"]
    assert content.startswith("测试用户：督查提醒\n逾期任务") and content.endswith("……")
    assert 2048 - 8 < len(content.encode("utf-8")) <= 2048
    assert short == {"msgtype": "text", "text": {"content": "测试用户：督查提醒\n逾期1项"}}


def test_a_wrong_wecom_key_is_a_refusal(session: Session, world: World, wecom: Server) -> None:
    queue(session, world.users["head_jk"], Channel.WECOM)
    channels = Channels.from_config({"WECOM_URL": f"{wecom.base}/cgi-bin/webhook/send?key=other"})
    assert deliver_pending(session, channels, AT)["retry"] == 1
    assert "93000" in session.scalars(select(NotificationDelivery)).one().last_error


def test_truncation_never_cuts_a_character() -> None:
    text = "a浙江省卫生健康委员会🙂规划" * 50
    for limit in range(6, 80):
        cut = truncate_utf8(text, limit)
        assert len(cut.encode("utf-8")) <= limit and cut.endswith("……")
        assert text.startswith(cut.removesuffix("……"))
    assert truncate_utf8("短", 2048) == "短"
    assert len(wecom_payload("标", "体" * 5000)["text"]["content"].encode("utf-8")) <= 2048
    msg = zzd_msg("标题", '引号"与换行\n' * 400)  # JSON escapes count too
    assert len(msg.encode("utf-8")) <= TEXT_LIMIT and json.loads(msg)["text"]["content"].endswith("……")


# --- 浙政钉 -------------------------------------------------------------------------------------------

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00$")


def _zzd_signature(secret: str, method: str, timestamp: str, nonce: str, uri: str, params: dict[str, str]) -> str:
    """The platform's check, written out independently of the code under test."""
    lines = [method, timestamp, nonce, uri]
    if params:
        lines.append("&".join(f"{k}={params[k]}" for k in sorted(params)))
    return base64.b64encode(hmac.new(secret.encode(), "\n".join(lines).encode(), hashlib.sha256).digest()).decode()


@dataclass
class Zzd:
    server: Server
    settings: ZzdSettings
    tokens_issued: int = 0
    delivered: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)  # bizMsgId -> (receiver, msg)
    fail_after_delivering: int = 0  # the next N sends are delivered but answered with HTTP 502
    now: datetime = AT  # the platform's clock: a timestamp more than 15 minutes off is refused

    @property
    def config(self) -> dict[str, str]:
        s = self.settings
        return {"ZZD_BASE_URL": s.base_url, "ZZD_APP_KEY": s.app_key, "ZZD_APP_SECRET": s.app_secret,
                "ZZD_TENANT_ID": s.tenant_id}


@pytest.fixture
def zzd(serve: Callable[..., Server], monkeypatch: pytest.MonkeyPatch) -> Zzd:
    """浙政钉's open platform: HMAC headers checked on every call, gettoken.json, workNotification that
    de-duplicates on bizMsgId."""
    monkeypatch.setattr(ZzdClient, "_tokens", {})  # no token cached by an earlier test on a reused port
    state: dict[str, Zzd] = {}

    def refuse(code: str, message: str) -> tuple[int, Any]:
        return 200, {"success": False, "errorCode": code, "errorMsg": message}

    def handle(method: str, path: str, headers: Message, body: bytes) -> tuple[int, Any]:
        z = state["zzd"]
        parts = urllib.parse.urlsplit(path)
        raw = parts.query if method == "GET" else body.decode()
        params = {k: v[-1] for k, v in urllib.parse.parse_qs(raw, keep_blank_values=True).items()}
        ts, nonce = headers.get("X-Hmac-Auth-Timestamp", ""), headers.get("X-Hmac-Auth-Nonce", "")
        if headers.get("apiKey") != "app-key" or headers.get("X-Hmac-Auth-Version") != "1.0":
            return refuse("InvalidApiKey", "apiKey 无效")
        if not TIMESTAMP.match(ts) or abs(datetime.fromisoformat(ts) - z.now) > timedelta(minutes=15):
            return refuse("InvalidTimestamp", "时间戳无效")
        if not re.fullmatch(r"\d{17}", nonce):
            return refuse("InvalidNonce", "nonce 无效")
        if headers.get("X-Hmac-Auth-Signature") != _zzd_signature("app-secret", method, ts, nonce, parts.path, params):
            return refuse("InvalidSignature", "签名错误")
        if parts.path == "/gettoken.json" and method == "GET":
            if params != {"appkey": "app-key", "appsecret": "app-secret"}:
                return refuse("InvalidApp", "应用不存在")
            z.tokens_issued += 1
            return 200, {"success": True, "content": {"success": True, "data": {
                "accessToken": f"token-{z.tokens_issued}", "expiresIn": 7200}}}
        if parts.path == "/message/workNotification" and method == "POST":
            if params.get("access_token") != f"token-{z.tokens_issued}" or params.get("tenantId") != "196729":
                return refuse("InvalidToken", "access_token 无效")
            msg = params["msg"]
            if len(msg.encode("utf-8")) > 2048:
                return 200, {"success": True, "content": {"success": False, "responseCode": "MSG_TOO_LONG",
                                                          "responseMessage": "消息超长"}}
            z.delivered.setdefault(params["bizMsgId"], (params["receiverIds"], json.loads(msg)))
            if z.fail_after_delivering:
                z.fail_after_delivering -= 1
                return 502, b"Bad Gateway"
            return 200, {"success": True, "content": {"success": True, "data": {"msgId": params["bizMsgId"]}}}
        return 404, {"success": False}

    server = serve(handle)
    z = Zzd(server, ZzdSettings(server.base, "app-key", "app-secret", "196729"))
    state["zzd"] = z
    return z


def test_zzd_work_notifications_are_signed_and_use_one_token(session: Session, world: World, zzd: Zzd) -> None:
    world.users["head_jk"].zzd_account_id = "10001"
    world.users["staff_jk"].zzd_account_id = "10002"
    a, b = queue(session, world.users["head_jk"], Channel.ZZD, 2, body="建设疾控信息平台")
    (c,) = queue(session, world.users["staff_jk"], Channel.ZZD)
    assert deliver_pending(session, Channels.from_config(zzd.config), AT) == {"sent": 3, "retry": 0, "failed": 0}
    assert zzd.tokens_issued == 1
    assert sorted(zzd.delivered) == sorted(f"tracker-{d.id}" for d in (a, b, c))
    receiver, msg = zzd.delivered[f"tracker-{a.id}"]
    assert receiver == "10001" and msg == {"msgtype": "text", "text": {"content": "督查提醒\n建设疾控信息平台"}}
    # the token is cached until shortly before it expires, then fetched again
    zzd.now = AT + timedelta(hours=1)
    assert ZzdClient(zzd.settings, zzd.now).token() == "token-1"
    zzd.now = AT + timedelta(hours=2)
    assert ZzdClient(zzd.settings, zzd.now).token() == "token-2"
    assert zzd.tokens_issued == 2


def test_a_user_without_a_zzd_account_fails_at_once(session: Session, world: World, zzd: Zzd) -> None:
    queue(session, world.users["head_jk"], Channel.ZZD)
    assert deliver_pending(session, Channels.from_config(zzd.config), AT) == {"sent": 0, "retry": 0, "failed": 1}
    delivery = session.scalars(select(NotificationDelivery)).one()
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == (DeliveryState.FAILED, 1, None)
    assert "浙政钉账号" in delivery.last_error
    assert zzd.delivered == {}


def test_a_zzd_retry_is_delivered_once(session: Session, world: World, zzd: Zzd) -> None:
    world.users["head_jk"].zzd_account_id = "10001"
    (delivery,) = queue(session, world.users["head_jk"], Channel.ZZD)
    zzd.fail_after_delivering = 1  # delivered, but the answer is lost
    channels = Channels.from_config(zzd.config)
    assert deliver_pending(session, channels, AT)["retry"] == 1
    assert "HTTP 502" in session.get(NotificationDelivery, delivery.id).last_error
    assert deliver_pending(session, channels, AT + RETRY_DELAYS[0])["sent"] == 1
    assert list(zzd.delivered) == [f"tracker-{delivery.id}"]  # the same bizMsgId: one message for the user
    assert zzd.tokens_issued == 2  # a failed call drops the token; the retry fetches a new one


def test_a_bad_zzd_secret_is_a_refusal(session: Session, world: World, zzd: Zzd) -> None:
    world.users["head_jk"].zzd_account_id = "10001"
    queue(session, world.users["head_jk"], Channel.ZZD)
    config = {**zzd.config, "ZZD_APP_SECRET": "other"}
    assert deliver_pending(session, Channels.from_config(config), AT)["retry"] == 1
    assert session.scalars(select(NotificationDelivery)).one().last_error == "浙政钉接口拒绝：InvalidSignature 签名错误"


def test_zzd_sends_a_user_at_most_100_a_day(session: Session, world: World, zzd: Zzd) -> None:
    head, staff = world.users["head_jk"], world.users["staff_jk"]
    head.zzd_account_id, staff.zzd_account_id = "10001", "10002"
    queue(session, head, Channel.ZZD, 98, state=DeliveryState.SENT, sent_at=AT - timedelta(minutes=30))
    queue(session, head, Channel.ZZD, 1, state=DeliveryState.SENT, sent_at=AT - timedelta(days=1))  # yesterday
    waiting = queue(session, head, Channel.ZZD, 4)
    queue(session, staff, Channel.ZZD, 1)
    assert deliver_pending(session, Channels.from_config(zzd.config), AT) == {
        "sent": 3, "retry": 0, "failed": 0, "waiting": 2}
    _, tomorrow = local_day_bounds(to_local(AT).date())
    session.expire_all()
    assert [(d.state, d.attempts, d.next_attempt_at, d.last_error) for d in waiting[2:]] == [
        (DeliveryState.PENDING, 0, tomorrow, None)] * 2
    assert len(zzd.delivered) == 3
    zzd.now = tomorrow
    assert deliver_pending(session, Channels.from_config(zzd.config), tomorrow)["sent"] == 2


# --- robot rate limits --------------------------------------------------------------------------------


def test_a_robot_takes_20_a_minute_and_the_rest_wait(session: Session, world: World,
                                                     webhook_server: WebhookServer) -> None:
    deliveries = queue(session, world.users["head_jk"], Channel.DINGTALK, 25)
    queue(session, world.users["head_jk"], Channel.WECOM, 3)
    channels = Channels(dingtalk_url=webhook_server.url, wecom_url=webhook_server.url)
    assert deliver_pending(session, channels, AT) == {"sent": 23, "retry": 0, "failed": 0, "waiting": 5}
    assert len(webhook_server.received) == 23  # WeCom is another robot with its own allowance
    session.expire_all()
    assert [(d.state, d.attempts) for d in deliveries] == [(DeliveryState.SENT, 1)] * 20 + [
        (DeliveryState.PENDING, 0)] * 5
    assert {(d.next_attempt_at, d.last_error) for d in deliveries[20:]} == {(AT + timedelta(minutes=1), None)}
    # half a minute later nothing is due; a minute later the window has room again
    assert deliver_pending(session, channels, AT + timedelta(seconds=30)) == {"sent": 0, "retry": 0, "failed": 0}
    assert deliver_pending(session, channels, AT + timedelta(minutes=1))["sent"] == 5


def test_the_last_minutes_sends_count_against_the_allowance(session: Session, world: World,
                                                            webhook_server: WebhookServer) -> None:
    queue(session, world.users["head_jk"], Channel.DINGTALK, ROBOT_RATE - 5, state=DeliveryState.SENT,
          sent_at=AT - timedelta(seconds=40))
    queue(session, world.users["head_jk"], Channel.DINGTALK, 5, state=DeliveryState.SENT,
          sent_at=AT - timedelta(seconds=61))  # outside the window
    queue(session, world.users["head_jk"], Channel.DINGTALK, 8)
    counts = deliver_pending(session, Channels(dingtalk_url=webhook_server.url), AT)
    assert counts == {"sent": 5, "retry": 0, "failed": 0, "waiting": 3}


# --- failures never raise, and back off ------------------------------------------------------------------


@pytest.mark.parametrize("channel", [Channel.DINGTALK, Channel.WECOM, Channel.ZZD])
def test_an_unreachable_server_never_raises_and_backs_off(session: Session, world: World, closed_port: int,
                                                          channel: Channel) -> None:
    world.users["head_jk"].zzd_account_id = "10001"
    queue(session, world.users["head_jk"], channel, 2)
    url = f"http://127.0.0.1:{closed_port}/send?key=k"
    channels = Channels(dingtalk_url=url, wecom_url=url,
                        zzd=ZzdSettings(f"http://127.0.0.1:{closed_port}", "app-key", "app-secret", "1"))
    at = AT
    assert deliver_pending(session, channels, at) == {"sent": 0, "retry": 2, "failed": 0}
    for delay in RETRY_DELAYS:
        assert deliver_pending(session, channels, at) == {"sent": 0, "retry": 0, "failed": 0}  # not due yet
        at += delay
        deliver_pending(session, channels, at)
    session.expire_all()
    assert states(session, channel) == [(DeliveryState.FAILED, MAX_ATTEMPTS)] * 2
    assert all("无法连接" in d.last_error for d in session.scalars(select(NotificationDelivery)))


def test_a_server_that_answers_nonsense_never_raises(session: Session, world: World,
                                                     webhook_server: WebhookServer) -> None:
    queue(session, world.users["head_jk"], Channel.DINGTALK, 2)
    webhook_server.answers = [(200, {"unexpected": True}), (503, {})]
    assert deliver_pending(session, Channels(dingtalk_url=webhook_server.url), AT) == {
        "sent": 0, "retry": 2, "failed": 0}
    errors = [d.last_error for d in session.scalars(select(NotificationDelivery).order_by(NotificationDelivery.id))]
    assert errors == ['机器人接口的应答无法识别：{"unexpected": true}', "机器人接口返回 HTTP 503"]


def test_a_mail_as_written_on_the_wire_reads_back_whole() -> None:
    """The mail is written out by hand (fast); any mail reader gets the long Chinese subject, the sender's name,
    the text, a date and an id back."""
    import email
    import email.policy

    from tracker.notifications.channels import SmtpSender

    subject = "12月7日督查提醒：逾期任务3项、临期1项；督办单待审核2件；" + "很长的标题" * 12
    body = "张三：\n\n新增或升级的预警 3 项：\n1. 1.1.1 建设疾控信息平台，截止2026年11月30日\n\n请登录规划执行督查系统查看和办理。"
    raw = SmtpSender("smtp://mail.example.org/?from=duban@example.org").message("zhang@example.org", subject, body)
    assert raw.isascii() and max(len(line) for line in raw.split(b"\r\n")) <= 78
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert mail["Subject"] == subject and mail["To"] == "zhang@example.org"
    assert mail["From"].addresses[0].display_name == "规划执行督查系统"
    assert mail["From"].addresses[0].addr_spec == "duban@example.org"
    assert mail["Date"].datetime is not None and mail["Message-ID"].endswith("@mail.example.org>")
    assert mail.get_content_type() == "text/plain" and mail.get_content().rstrip("\n") == body
    assert not mail.defects


@pytest.mark.parametrize("subject", ["提醒\r\nBcc: evil@example.org", "Reminder\r\nBcc: evil@example.org",
                                     "Reminder\nBcc: evil@example.org"])
def test_no_header_can_be_added_through_a_mails_subject_or_address(subject: str) -> None:
    import email
    import email.policy

    from tracker.notifications.channels import DeliveryError, SmtpSender

    sender = SmtpSender("smtp://mail.example.org/?from=duban@example.org")
    mail = email.message_from_bytes(sender.message("zhang@example.org", subject, "正文"),
                                    policy=email.policy.default)
    assert mail["Bcc"] is None and mail["Subject"] == " ".join(subject.split())
    for address in ("zhang@example.org\r\nBcc: evil@example.org", "a@b.org, evil@example.org", "", "a b@c.org"):
        with pytest.raises(DeliveryError, match="收件人邮箱地址无效"):
            sender.message(address, "提醒", "正文")
