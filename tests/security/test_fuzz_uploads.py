"""Hostile files into every upload of the app (the forms with a file field, as their pages show them):
a refusal is clear (never a 5xx) and nothing of a refused upload is stored — no record, no file on disk."""

from __future__ import annotations

import io
import zipfile
from functools import cache
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from tracker.attachments.models import Attachment
from tracker.attachments.services import MAX_FILE_BYTES, MAX_UNPACKED_BYTES
from tracker.audit import AuditEntry
from tracker.imports.models import ImportDocument

from .formcrawl import Form, World, alerts, build_world, forms_of
from .hostile import CONTROL, ODD, XSS, check_refusal_shown, stored_problems

UPLOAD_SETTINGS = settings(max_examples=40, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
                           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _zip(members: dict[str, bytes], level: int = 1) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


@cache
def bomb() -> bytes:
    """A zip of 0.5 MB that unpacks to more than the readers accept (a real one unpacks to gigabytes)."""
    return _zip({"[Content_Types].xml": b"<Types/>",
                 "word/document.xml": b"<" + b"a" * (MAX_UNPACKED_BYTES + 1), "xl/workbook.xml": b"<x/>"})


# Files whose name lies about their content, broken files, empty and oversized ones. Each is refused by
# every upload (an attachment accepts .txt, so no text file is here).
BAD_FILES: dict[str, tuple[str, bytes | None]] = {
    "html as xlsx": ("成绩.xlsx", b"<html><body><table><tr><td>1</td></tr></table></body></html>"),
    "random bytes as docx": ("规划.docx", bytes(range(256)) * 40),
    "zip bomb as docx": ("规划.docx", None),
    "zip bomb as xlsx": ("任务分解表.xlsx", None),
    "zip without parts as docx": ("规划.docx", _zip({"hello.txt": b"hi"})),
    "exe as pdf": ("佐证.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 500),
    "exe": ("setup.exe", b"MZ\x90\x00" + b"\x00" * 100),
    "empty pdf": ("空.pdf", b""),
    "empty xlsx": ("空.xlsx", b""),
    "empty docx": ("空.docx", b""),
    "over the size limit": ("大文件.pdf", b"%PDF-" + b"0" * MAX_FILE_BYTES),
}


def file_data(label: str) -> tuple[str, bytes]:
    name, data = BAD_FILES[label]
    if data is None:
        data = bomb()
    return name, data


def plausible(form: Form) -> dict[str, str]:
    """What a person fills in beside the file: the page's values, required-looking text filled."""
    data = {k: v[0] for k, v in form.valid_data().items()}
    for name, field in form.fields.items():
        if field.kind in ("text", "textarea") and not data.get(name, "").strip():
            data[name] = "按计划完成"
        elif field.kind == "date" and not data.get(name):
            data[name] = "2025-11-20"
    return data


class Uploads:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.world: World = build_world(app)
        self.forms = [f for f in forms_of(app, self.world) if any(x.kind == "file" for x in f.fields.values())]

    def send(self, form: Form, filename: str, data: bytes) -> TestResponse:
        field = next(n for n, f in form.fields.items() if f.kind == "file")
        # A browser cannot send a lone surrogate: it sends U+FFFD in its place, as here.
        filename = filename.encode("utf-8", "replace").decode("utf-8")
        boundary, body = encode_multipart({**plausible(form), field: FileStorage(io.BytesIO(data), filename)})
        return self.world.clients[form.user].post(form.action, data=body,
                                                  content_type=f"multipart/form-data; boundary={boundary}")

    def stored(self) -> tuple[int, int, int, list[Path]]:
        with self.app.extensions["tracker.sessions"]() as s:
            counts = tuple(s.scalar(select(func.count()).select_from(m)) or 0
                           for m in (Attachment, ImportDocument, AuditEntry))
        files = sorted(p for p in Path(self.app.config["UPLOAD_DIR"]).rglob("*") if p.is_file())
        return (*counts, files)  # type: ignore[return-value]


@pytest.fixture
def uploads(demo: Flask) -> Uploads:
    return Uploads(demo)


def test_every_upload_refuses_every_bad_file(uploads: Uploads) -> None:
    endpoints = {f.endpoint for f in uploads.forms}
    assert {"tasks.complete", "tasks.new_report", "tasks.edit_report", "projects.node_done", "imports.index",
            "imports.import_tasklist", "indicators.upload"} <= endpoints
    failures = []
    for form in uploads.forms:
        for label in BAD_FILES:
            before = uploads.stored()
            response = uploads.send(form, *file_data(label))
            check_refusal_shown(response, form)
            if response.status_code < 400 or not (alerts(response.get_data(as_text=True))
                                                   or "error-page" in response.get_data(as_text=True)):
                failures.append(f"{form.endpoint} {form.action}: {label} → {response.status_code}")
            elif uploads.stored() != before:
                failures.append(f"{form.endpoint} {form.action}: {label} refused but something was stored")
    assert failures == [], "\n".join(failures)


def test_a_request_over_the_limit_is_refused_in_chinese(uploads: Uploads) -> None:
    form = next(f for f in uploads.forms if f.endpoint == "tasks.complete")
    limit = uploads.app.config["MAX_CONTENT_LENGTH"]
    response = uploads.send(form, "很大.pdf", b"%PDF-" + b"0" * limit)
    assert response.status_code == 413
    assert "超过了允许的大小" in response.get_data(as_text=True)


FILE_NAMES = st.one_of(
    st.sampled_from(ODD + XSS + ["../../etc/passwd.txt", "C:\\Windows\\win.ini.txt", ".txt", "CON.txt", "a" * 5000
                                + ".txt", "说明\u202etxt.exe", " .txt", "a.TXT", "a.txt.", "a..txt"]),
    st.builds(lambda a, b: a + b + ".txt", st.text(max_size=20), CONTROL),
    st.text(min_size=1, max_size=40).map(lambda s: s + ".txt"),
)


@given(data=st.data())
@UPLOAD_SETTINGS
def test_hostile_file_names_and_contents(uploads: Uploads, data: st.DataObject) -> None:
    """Any name, any bytes: never a 5xx, and whatever is kept is a name and a content the app accepts."""
    form = data.draw(st.sampled_from(uploads.forms), label="form")
    filename = data.draw(FILE_NAMES, label="filename")
    content = data.draw(st.one_of(st.binary(max_size=2000), st.text(max_size=200).map(str.encode),
                                  st.sampled_from([b"%PDF-1.4\n", b"\x89PNG\r\n\x1a\n", b"PK\x03\x04junk"])),
                        label="content")
    response = uploads.send(form, filename, content)
    check_refusal_shown(response, form)
    assert stored_problems(uploads.app) == [], (form, filename)
