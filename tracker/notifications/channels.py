"""Outbound channels: e-mail over SMTP, the DingTalk and WeCom group robots and 浙政钉 work notifications.

Each is optional and configured in the Flask config (environment ``TRACKER_*``, see ``tracker.config``):

    SMTP_URL        smtp://user:password@mail.example.org:587/?starttls=1&from=duban@example.org
                    smtps://mail.example.org/?from=duban@example.org          (SMTP over TLS, port 465)
                    &connections=N: a batch's mail goes out over N connections at once (default 4, 1–20)
    DINGTALK_URL    https://oapi.dingtalk.com/robot/send?access_token=…   (WEBHOOK_URL, the old name, still read)
    DINGTALK_SECRET SEC…   (the robot's 加签 secret; without it the robot must be protected by keywords or IPs)
    WECOM_URL       https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…
    ZZD_BASE_URL, ZZD_APP_KEY, ZZD_APP_SECRET, ZZD_TENANT_ID   (all four, or 浙政钉 is off)

A failure raises :class:`DeliveryError` with a message that is stored on the delivery and retried later.

The facts each sender relies on, and where they were checked (2026-12-06):

DingTalk custom robot — 加签: ``sign = urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")))``
with the timestamp in milliseconds, appended as ``&timestamp=…&sign=…``; the platform refuses a timestamp more
than an hour off; an answer with ``errcode`` other than 0 is a refusal. Checked against /work/shared/INTEGRATIONS.md
and a public client that signs the same way (islishude/ding, ``sign.go``: HMAC-SHA256 over "timestamp\\nsecret",
base64, ``url.QueryEscape``).

WeCom group robot — the ``key`` in the URL is the only secret; text messages take ``mentioned_mobile_list`` and at
most 2,048 bytes of UTF-8 content (INTEGRATIONS.md; not re-checked against WeCom's own pages, which the search tool
does not hold).

浙政钉 (专有钉钉 open platform) — its documentation and SDK sit behind the developer portal, and the search tool's
documentation and page corpora hold neither; the request signature was reconstructed from public projects that call
the platform (found with the search tool's ``find_string`` on
"X-Hmac-Auth-Signature", "X-Hmac-Auth-Nonce" and "/message/workNotification"): a C# client that quotes the
platform's bytes-to-sign, a JavaScript client whose comment quotes the platform's documentation ("请求Method+'\\n'+
请求Header中的Timestamp+'\\n'+请求Header中的Nonce+'\\n'+请求的的URL(不带域名)+'\\n'+请求参数"; nonce "13位时间毫秒数 +
4位随机数"; timestamp ISO 8601 "yyyy-MM-ddTHH:mm:ss.sss+08:00"), a Python channel for 浙政钉 (test platform
``https://openplatform.dg-work.cn``, production ``https://openplatform-pro.ding.zj.gov.cn``), PHP and Go clients,
and the decompiled SDK request class ``OapiMessageWorkNotificationRequest`` (fields organizationCodes, receiverIds,
tenantId, bizMsgId, msg). What follows from them:

- every request carries the headers ``X-Hmac-Auth-Timestamp``, ``X-Hmac-Auth-Version: 1.0``, ``X-Hmac-Auth-Nonce``,
  ``apiKey`` (the app key) and ``X-Hmac-Auth-Signature`` = base64(HMAC-SHA256(key=app secret, msg=
  "METHOD\\nTIMESTAMP\\nNONCE\\nURI" + ("\\n" + the parameters sorted by name as ``k=v`` joined by ``&``, values
  not URL-encoded) when there are parameters)); ``X-Hmac-Auth-IP`` / ``-MAC`` are optional and not sent;
- ``GET /gettoken.json?appkey=…&appsecret=…`` answers ``{"success": true, "content": {"success": true, "data":
  {"accessToken": …, "expiresIn": 7200}}}``; the token is cached until shortly before it expires;
- ``POST /message/workNotification`` (form-encoded) with ``tenantId``, ``receiverIds`` (account ids), ``bizMsgId``
  (the platform de-duplicates on it) and ``msg`` (JSON text, at most 2,048 bytes); ``access_token`` is sent as a
  parameter as the public clients do for the token-based APIs.
The clients differ on one point: most (C#, Python, JavaScript, a PHP one) sign the values as they are, a Go and
a PHP client sign them URL-encoded. Both agree for ASCII parameters; ``msg`` holds Chinese, so confirm against the
platform's test environment before production. Not verifiable without the portal either: the exact error
codes (any ``success: false`` is a refusal here) and whether the gateway wants ``X-Hmac-Auth-IP``/``-MAC``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import smtplib
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.header import Header
from email.utils import formataddr, formatdate, make_msgid
from types import TracebackType
from typing import Any, ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

from .. import timeutil
from .models import Channel

TIMEOUT = 10.0
CRLF = "\r\n"
UNSAFE_ADDRESS = re.compile(r"[\s\x00-\x1f\x7f,;<>\"]")  # (what would end or add a header)
CONNECTIONS = 4  # SMTP connections a batch of mail is sent over at once (?connections=N in the URL; servers cap it)
SENDER_NAME = "规划执行督查系统"
TEXT_LIMIT = 2048  # bytes of UTF-8: a WeCom robot's text content, a 浙政钉 work notification's msg
ELLIPSIS = "……"


class DeliveryError(Exception):
    """A message could not be handed over; ``unreachable`` means the server itself did not answer."""

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


@dataclass(frozen=True)
class ZzdSettings:
    """The 浙政钉 open platform app: its base URL (test and production differ), key, secret and tenant."""

    base_url: str
    app_key: str
    app_secret: str
    tenant_id: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ZzdSettings | None:
        values = [config.get(k) or "" for k in ("ZZD_BASE_URL", "ZZD_APP_KEY", "ZZD_APP_SECRET", "ZZD_TENANT_ID")]
        if not all(values):
            return None
        base_url, app_key, app_secret, tenant_id = values
        return cls(base_url.rstrip("/"), app_key, app_secret, str(tenant_id))


@dataclass(frozen=True)
class Channels:
    smtp_url: str | None = None
    dingtalk_url: str | None = None
    dingtalk_secret: str | None = None
    wecom_url: str | None = None
    zzd: ZzdSettings | None = None
    public_url: str | None = None  # where users open the system: links in outbound copies are made whole

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Channels:
        return cls(public_url=config.get("PUBLIC_URL") or None, smtp_url=config.get("SMTP_URL") or None,
                   dingtalk_url=config.get("DINGTALK_URL") or config.get("WEBHOOK_URL") or None,
                   dingtalk_secret=config.get("DINGTALK_SECRET") or None,
                   wecom_url=config.get("WECOM_URL") or None,
                   zzd=ZzdSettings.from_config(config))

    @property
    def webhook_url(self) -> str | None:
        """The DingTalk robot's URL under its first name (TRACKER_WEBHOOK_URL)."""
        return self.dingtalk_url

    def configured(self) -> list[Channel]:
        """The outbound channels this deployment has set up, in a fixed order."""
        present = {Channel.EMAIL: self.smtp_url, Channel.DINGTALK: self.dingtalk_url, Channel.WECOM: self.wecom_url,
                   Channel.ZZD: self.zzd}
        return [channel for channel, setting in present.items() if setting]


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    use_ssl: bool
    starttls: bool
    username: str | None
    password: str | None
    sender: str
    timeout: float
    connections: int = CONNECTIONS

    @classmethod
    def parse(cls, url: str) -> SmtpSettings:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise DeliveryError(f"邮件服务器地址无效（应为 smtp:// 或 smtps://）：{parts.scheme}://{parts.hostname or ''}")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        use_ssl = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if use_ssl else 25),
            use_ssl=use_ssl,
            starttls=query.get("starttls", "0").lower() in ("1", "true", "yes"),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            sender=query.get("from") or f"noreply@{parts.hostname}",
            timeout=float(query.get("timeout", TIMEOUT)),
            connections=_connections(query.get("connections")),
        )


def _connections(value: str | None) -> int:
    if value is None:
        return CONNECTIONS
    if not value.isdigit() or not 1 <= int(value) <= 20:
        raise DeliveryError(f"邮件服务器地址的 connections 应为 1 到 20 的整数：{value}")
    return int(value)


class SmtpSender:
    """One SMTP connection for a batch of messages."""

    def __init__(self, url: str) -> None:
        self.settings = SmtpSettings.parse(url)
        self.from_header = formataddr((SENDER_NAME, self.settings.sender), charset="utf-8")
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpSender:
        s = self.settings
        try:
            if s.use_ssl:
                self.smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout,
                                             context=ssl.create_default_context())
            else:
                self.smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.starttls:
                    self.smtp.starttls(context=ssl.create_default_context())
            if s.username:
                self.smtp.login(s.username, s.password or "")
        except (OSError, smtplib.SMTPException) as exc:
            self.smtp = None
            raise DeliveryError(f"无法连接邮件服务器 {s.host}:{s.port}：{exc}", unreachable=True) from exc
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None

    def send(self, to: str, subject: str, body: str) -> None:
        if self.smtp is None:
            raise DeliveryError("邮件服务器未连接", unreachable=True)
        try:
            refused = self.smtp.sendmail(self.settings.sender, [to], self.message(to, subject, body))
        except smtplib.SMTPServerDisconnected as exc:
            raise DeliveryError(f"邮件服务器断开连接：{exc}", unreachable=True) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"邮件服务器拒收：{_smtp_error(exc)}") from exc
        if refused:
            raise DeliveryError(f"邮件服务器拒收收件人：{', '.join(refused)}")

    def message(self, to: str, subject: str, body: str) -> bytes:
        """One plain-text mail as it goes over the wire: the subject as RFC 2047 encoded words, the body UTF-8
        in base64. Written out rather than built as an ``email`` message, whose header parsing and refolding
        cost a millisecond a mail (a province's digest is thousands of mails). No header can be added through
        the address or the subject: an address with a space, a line break or a separator is refused, and the
        subject's line breaks become spaces."""
        if not to or UNSAFE_ADDRESS.search(to):
            raise DeliveryError(f"收件人邮箱地址无效：{to!r}")
        subject = Header(" ".join(subject.split()), "utf-8", header_name="Subject").encode(linesep=CRLF)
        head = (f"From: {self.from_header}\r\nTo: {to}\r\nSubject: {subject}\r\n"
                f"Date: {formatdate(localtime=True)}\r\nMessage-ID: {make_msgid(domain=self.settings.host)}\r\n"
                "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"utf-8\"\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n")
        return head.encode("utf-8") + base64.encodebytes(body.encode("utf-8")).replace(b"\n", b"\r\n")


def _smtp_error(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        message = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        return f"{exc.smtp_code} {message}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "收件人被拒绝：" + ", ".join(exc.recipients)
    return str(exc)


# --- text ------------------------------------------------------------------------------------------


def message_text(title: str, body: str | None) -> str:
    return title if not body else f"{title}\n{body}"


def truncate_utf8(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` bytes of UTF-8, never inside a character, ending with …… when cut."""
    if len(text.encode("utf-8")) <= limit:
        return text
    room = limit - len(ELLIPSIS.encode("utf-8"))
    cut = text.encode("utf-8")[:max(room, 0)].decode("utf-8", "ignore")
    return cut + ELLIPSIS


# --- robots (DingTalk, WeCom) --------------------------------------------------------------------------


def webhook_payload(title: str, body: str | None, mobile: str | None = None) -> dict[str, Any]:
    """DingTalk robot JSON: a text message that @-mentions the recipient by mobile number."""
    payload: dict[str, Any] = {"msgtype": "text", "text": {"content": message_text(title, body)}}
    if mobile:
        payload["at"] = {"atMobiles": [mobile], "isAtAll": False}
    return payload


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """加签: the URL-encoded base64 HMAC-SHA256 of "timestamp\\nsecret" keyed with the secret."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def dingtalk_url(url: str, secret: str | None, at: datetime) -> str:
    """The robot URL to post to: with ``timestamp`` and ``sign`` when the robot has a 加签 secret."""
    if not secret:
        return url
    timestamp = int(at.timestamp() * 1000)
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={dingtalk_sign(secret, timestamp)}"


def wecom_payload(title: str, body: str | None, mobile: str | None = None) -> dict[str, Any]:
    """WeCom robot JSON: text of at most 2,048 bytes that @-mentions the recipient by mobile number."""
    text: dict[str, Any] = {"content": truncate_utf8(message_text(title, body), TEXT_LIMIT)}
    if mobile:
        text["mentioned_mobile_list"] = [mobile]
    return {"msgtype": "text", "text": text}


def _open(request: urllib.request.Request, service: str, timeout: float) -> bytes:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (configured URL)
            return response.read(65536)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"{service}返回 HTTP {exc.code}") from exc
    except (TimeoutError, urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"无法连接{service}：{reason}", unreachable=True) from exc


def _json_answer(raw: bytes, service: str) -> dict[str, Any]:
    try:
        answer = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        answer = None
    if not isinstance(answer, dict):
        raise DeliveryError(f"{service}的应答无法识别：{raw[:200].decode('utf-8', 'replace')}")
    return answer


def post_webhook(url: str, payload: dict[str, Any], timeout: float = TIMEOUT, service: str = "机器人接口") -> None:
    """Post a robot message; the answer's ``errcode`` must be 0."""
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    answer = _json_answer(_open(request, service, timeout), service)
    if "errcode" not in answer:
        raise DeliveryError(f"{service}的应答无法识别：{json.dumps(answer, ensure_ascii=False)[:200]}")
    if answer["errcode"] != 0:
        raise DeliveryError(f"{service}拒绝：{answer.get('errcode')} {answer.get('errmsg', '')}".strip())


# --- 浙政钉 work notifications -------------------------------------------------------------------------


ZZD_SERVICE = "浙政钉接口"
TOKEN_MARGIN = timedelta(minutes=5)  # a cached token is renewed this long before it expires


def zzd_canonical_params(params: Mapping[str, str]) -> str:
    """The parameters as they are signed: sorted by name, ``name=value`` joined by ``&``, values as they are."""
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()))


def zzd_signature(secret: str, method: str, timestamp: str, nonce: str, uri: str, params: Mapping[str, str]) -> str:
    text = f"{method}\n{timestamp}\n{nonce}\n{uri}"
    if params:
        text += "\n" + zzd_canonical_params(params)
    digest = hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def zzd_headers(settings: ZzdSettings, method: str, uri: str, params: Mapping[str, str], at: datetime,
                nonce: str | None = None) -> dict[str, str]:
    """The platform's HMAC headers for one request made at ``at``."""
    timestamp = timeutil.to_local(at).isoformat(timespec="milliseconds")  # 2026-12-07T09:00:00.000+08:00
    nonce = nonce or f"{int(at.timestamp() * 1000)}{secrets.randbelow(10000):04d}"
    return {
        "X-Hmac-Auth-Timestamp": timestamp,
        "X-Hmac-Auth-Version": "1.0",
        "X-Hmac-Auth-Nonce": nonce,
        "apiKey": settings.app_key,
        "X-Hmac-Auth-Signature": zzd_signature(settings.app_secret, method, timestamp, nonce, uri, params),
    }


def zzd_msg(title: str, body: str | None) -> str:
    """A text work notification as the JSON ``msg`` parameter: at most 2,048 bytes, the text cut to fit."""
    text = message_text(title, body)

    def dump(content: str) -> str:
        return json.dumps({"msgtype": "text", "text": {"content": content}}, ensure_ascii=False)

    msg = dump(text)
    while len(msg.encode("utf-8")) > TEXT_LIMIT:
        excess = len(msg.encode("utf-8")) - TEXT_LIMIT
        text = truncate_utf8(text, len(text.encode("utf-8")) - max(excess, 1))
        msg = dump(text)
    return msg


def _zzd_refusal(answer: Mapping[str, Any]) -> str:
    code = next((answer[k] for k in ("errorCode", "responseCode", "errcode") if answer.get(k) is not None), "")
    message = next((answer[k] for k in ("errorMsg", "responseMessage", "errmsg", "message") if answer.get(k)), "")
    return f"{ZZD_SERVICE}拒绝：{code} {message}".strip()


class ZzdClient:
    """Signed calls to the 浙政钉 open platform. The access token is shared by the clients of one process and
    app until shortly before it expires (counted on the delivery run's clock)."""

    _tokens: ClassVar[dict[tuple[str, str], tuple[str, datetime]]] = {}

    def __init__(self, settings: ZzdSettings, at: datetime, timeout: float = TIMEOUT) -> None:
        self.settings = settings
        self.at = at
        self.timeout = timeout

    def call(self, method: str, uri: str, params: dict[str, str]) -> Any:
        """One signed request; returns the answer's ``content`` (or raises DeliveryError)."""
        headers = zzd_headers(self.settings, method, uri, params, self.at)
        url = self.settings.base_url + uri
        data = None
        if method == "GET":
            url += "?" + urllib.parse.urlencode(params)
        else:
            data = urllib.parse.urlencode(params).encode("utf-8")
            headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        answer = _json_answer(_open(request, ZZD_SERVICE, self.timeout), ZZD_SERVICE)
        if not answer.get("success"):
            raise DeliveryError(_zzd_refusal(answer))
        content = answer.get("content")
        if isinstance(content, str):
            try:
                content = json.loads(content)
            except json.JSONDecodeError:
                return content
        if isinstance(content, dict) and content.get("success") is False:
            raise DeliveryError(_zzd_refusal(content))
        return content

    def token(self) -> str:
        key = (self.settings.base_url, self.settings.app_key)
        cached = self._tokens.get(key)
        if cached and self.at < cached[1]:
            return cached[0]
        content = self.call("GET", "/gettoken.json",
                            {"appkey": self.settings.app_key, "appsecret": self.settings.app_secret})
        data = content.get("data", content) if isinstance(content, dict) else {}
        token = data.get("accessToken") if isinstance(data, dict) else None
        if not token:
            raise DeliveryError(f"{ZZD_SERVICE}未返回访问令牌（gettoken.json）")
        expires_in = int(data.get("expiresIn") or data.get("expireIn") or 7200)
        self._tokens[key] = (token, self.at + timedelta(seconds=expires_in) - TOKEN_MARGIN)
        return str(token)

    def forget_token(self) -> None:
        self._tokens.pop((self.settings.base_url, self.settings.app_key), None)

    def send(self, receiver_id: str, biz_msg_id: str, title: str, body: str | None) -> None:
        """A work notification to one account; the platform sends a ``bizMsgId`` once, however often it is posted."""
        params = {"access_token": self.token(), "tenantId": self.settings.tenant_id, "receiverIds": receiver_id,
                  "bizMsgId": biz_msg_id, "msg": zzd_msg(title, body)}
        try:
            self.call("POST", "/message/workNotification", params)
        except DeliveryError:
            self.forget_token()  # an expired or revoked token is fetched anew for the retry
            raise
