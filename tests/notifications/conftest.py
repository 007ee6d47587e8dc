"""Local servers the delivery tests talk to: a tiny SMTP server and a robot-webhook HTTP server."""

from __future__ import annotations

import email
import email.policy
import json
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy.orm import Session

from .. import loopback
from ..alerts.world import World, build_world
from ..loopback import post_server


@pytest.fixture
def world(session: Session) -> World:
    w = build_world(session)
    w.users["head_jk"].email = "head_jk@example.org"
    w.users["head_jk"].phone = "13800000001"
    w.users["staff_jk"].email = "staff_jk@example.org"
    session.commit()
    return w


# --- SMTP -----------------------------------------------------------------------------------------


class _SmtpHandler(socketserver.StreamRequestHandler):
    server: SmtpServer

    def reply(self, text: str) -> None:
        self.wfile.write(text.encode("ascii") + b"\r\n")

    def handle(self) -> None:  # a minimal RFC 5321 server: enough for smtplib
        self.reply("220 localhost ESMTP test")
        sender, recipients, lines, in_data = "", [], [], False
        while True:
            line = self.rfile.readline()
            if not line:
                return
            if in_data:
                if line in (b".\r\n", b".\n"):
                    in_data = False
                    answer = self.server.next_answer()
                    if answer.startswith("250"):
                        self.server.received.append(
                            (sender, recipients, email.message_from_bytes(b"".join(lines), policy=email.policy.default)))
                    self.reply(answer)
                    recipients, lines = [], []
                else:
                    lines.append(line[1:] if line.startswith(b"..") else line)
                continue
            command = line.decode("utf-8", "replace").strip()
            verb = command[:4].upper()
            if verb == "EHLO":
                self.wfile.write(b"250-localhost\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
            elif verb == "HELO":
                self.reply("250 localhost")
            elif verb == "MAIL":
                sender = command.split(":", 1)[1].strip().split()[0].strip("<>")
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                self.reply("250 OK")
            elif verb == "DATA":
                in_data = True
                self.reply("354 End data with <CR><LF>.<CR><LF>")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")


class SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.received: list[tuple[str, list[str], EmailMessage]] = []
        self.answers: list[str] = []  # replies to the next messages' DATA; then 250
        self.lock = threading.Lock()

    def next_answer(self) -> str:
        with self.lock:
            return self.answers.pop(0) if self.answers else "250 OK queued"

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.server_address[1]}/?from=duban@example.org"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


# --- webhook --------------------------------------------------------------------------------------


@dataclass
class WebhookServer:
    server: ThreadingHTTPServer
    received: list[dict[str, Any]] = field(default_factory=list)
    answers: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/robot/send?access_token=test"


@pytest.fixture
def webhook_server() -> Iterator[WebhookServer]:
    hooks: list[WebhookServer] = []

    def respond(_path: str, _headers: dict[str, str], body: bytes) -> tuple[int, str]:
        hook = hooks[0]
        status, answer = hook.answers.pop(0) if hook.answers else (200, {"errcode": 0, "errmsg": "ok"})
        if status == 200 and answer.get("errcode") == 0:
            hook.received.append(json.loads(body))
        return status, json.dumps(answer)

    with post_server(respond) as server:
        hooks.append(WebhookServer(server))
        yield hooks[0]


@pytest.fixture
def closed_port() -> int:
    return loopback.closed_port()
