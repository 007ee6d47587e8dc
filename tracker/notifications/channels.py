"""Outbound channels: e-mail over SMTP and a DingTalk-style robot webhook.

Both are optional and configured by URL (TRACKER_SMTP_URL, TRACKER_WEBHOOK_URL):

    smtp://user:password@mail.example.org:587/?starttls=1&from=duban@example.org
    smtps://mail.example.org/?from=duban@example.org          (SMTP over TLS, port 465)
    https://oapi.dingtalk.com/robot/send?access_token=…

A failure raises :class:`DeliveryError` with a message that is stored on the delivery and retried later.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .models import Channel

TIMEOUT = 10.0
SENDER_NAME = "规划执行督查系统"


class DeliveryError(Exception):
    """A message could not be handed over; ``unreachable`` means the server itself did not answer."""

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


@dataclass(frozen=True)
class Channels:
    smtp_url: str | None = None
    webhook_url: str | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Channels:
        return cls(smtp_url=config.get("SMTP_URL") or None, webhook_url=config.get("WEBHOOK_URL") or None)

    def configured(self) -> list[Channel]:
        """The outbound channels this deployment has set up, in a fixed order."""
        out = []
        if self.smtp_url:
            out.append(Channel.EMAIL)
        if self.webhook_url:
            out.append(Channel.DINGTALK)
        return out


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
        )


class SmtpSender:
    """One SMTP connection for a batch of messages."""

    def __init__(self, url: str) -> None:
        self.settings = SmtpSettings.parse(url)
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
        msg = EmailMessage()
        msg["From"] = formataddr((SENDER_NAME, self.settings.sender))
        msg["To"] = to
        msg["Subject"] = subject
        msg["Message-ID"] = make_msgid(domain=self.settings.host)
        msg.set_content(body)
        try:
            refused = self.smtp.send_message(msg)
        except smtplib.SMTPServerDisconnected as exc:
            raise DeliveryError(f"邮件服务器断开连接：{exc}", unreachable=True) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"邮件服务器拒收：{_smtp_error(exc)}") from exc
        if refused:
            raise DeliveryError(f"邮件服务器拒收收件人：{', '.join(refused)}")


def _smtp_error(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        message = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        return f"{exc.smtp_code} {message}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "收件人被拒绝：" + ", ".join(exc.recipients)
    return str(exc)


def webhook_payload(title: str, body: str | None, mobile: str | None = None) -> dict[str, Any]:
    """DingTalk robot JSON: a text message that @-mentions the recipient by mobile number."""
    content = title if not body else f"{title}\n{body}"
    payload: dict[str, Any] = {"msgtype": "text", "text": {"content": content}}
    if mobile:
        payload["at"] = {"atMobiles": [mobile], "isAtAll": False}
    return payload


def post_webhook(url: str, payload: dict[str, Any], timeout: float = TIMEOUT) -> None:
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (configured URL)
            raw = response.read(65536)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"机器人接口返回 HTTP {exc.code}") from exc
    except (TimeoutError, urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"无法连接机器人接口：{reason}", unreachable=True) from exc
    try:
        answer = json.loads(raw.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return  # a 2xx without JSON is accepted
    if isinstance(answer, dict) and answer.get("errcode") not in (None, 0):
        raise DeliveryError(f"机器人接口拒绝：{answer.get('errcode')} {answer.get('errmsg', '')}".strip())
