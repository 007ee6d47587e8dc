"""Uploads: checked by size and by content (not by the file name), stored outside static/ under
their SHA-256, downloaded only by those who may see the record they belong to."""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import time
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from ..auth.models import User
from ..errors import DomainError
from ..text import clean
from ..timeutil import now
from .models import Attachment

MAX_FILE_BYTES = 10 * 1024 * 1024

# extension -> (content type, the check on the first bytes)
_ZIP = (b"PK\x03\x04",)
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
ALLOWED: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", _ZIP),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _ZIP),
    "doc": ("application/msword", _OLE),
    "xls": ("application/vnd.ms-excel", _OLE),
    "txt": ("text/plain; charset=utf-8", None),
    "csv": ("text/csv; charset=utf-8", None),
}
ALLOWED_LABEL = "PDF、图片（PNG/JPG）、Word、Excel、文本"
# The part every .docx and .xlsx has; an Office file (a zip) is refused when its parts would unpack to more
# than MAX_UNPACKED_BYTES: a zip bomb, not a plan, a task list or a piece of evidence.
OFFICE_PARTS = {"docx": ("word/document.xml", "Word 文档"), "xlsx": ("xl/workbook.xml", "Excel 工作簿")}
MAX_UNPACKED_BYTES = 100 * 1024 * 1024


_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")


def clean_filename(filename: str | None) -> str:
    """An uploaded file's name as it is kept and shown: without folders, control characters or direction
    marks, at most 200 characters."""
    name = _CONTROLS.sub("", clean((filename or "").replace("\\", "/").rsplit("/", 1)[-1])).strip()
    return name[-200:] if len(name) > 200 else name or "未命名"


def _extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def _is_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not any(ch in text for ch in "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x1b")


def _zip_contents(data: bytes) -> tuple[set[str], int] | None:
    """The part names of a zip and their unpacked size together, or None when it is no zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError):
        return None
    return {i.filename for i in infos}, sum(i.file_size for i in infos)


def check_unpacked_size(filename: str, data: bytes, field: str = "file") -> None:
    """Refuse a zip (.docx, .xlsx) that would unpack to more than MAX_UNPACKED_BYTES. A file that is not a
    zip passes: its reader refuses it in its own words."""
    contents = _zip_contents(data)
    if contents is not None and contents[1] > MAX_UNPACKED_BYTES:
        name = f"“{filename}”" if filename else ""
        raise DomainError(f"文件{name}解压后超过 {MAX_UNPACKED_BYTES // 1024 // 1024} MB，"
                          "不是正常的 Word 或 Excel 文件，已拒绝。", field=field)


def check_upload(filename: str, data: bytes) -> str:
    """Return the content type, or raise DomainError saying what is wrong with the file."""
    ext = _extension(filename)
    if ext not in ALLOWED:
        raise DomainError(f"不支持的文件类型“.{ext or '（无扩展名）'}”，只接受{ALLOWED_LABEL}。", field="files")
    if len(data) == 0:
        raise DomainError(f"文件“{filename}”是空的。", field="files")
    if len(data) > MAX_FILE_BYTES:
        raise DomainError(f"文件“{filename}”超过 {MAX_FILE_BYTES // 1024 // 1024} MB。", field="files")
    content_type, magic = ALLOWED[ext]
    ok = _is_text(data) if magic is None else any(data.startswith(m) for m in magic)
    if ok and ext in OFFICE_PARTS:
        part, label = OFFICE_PARTS[ext]
        contents = _zip_contents(data)
        if contents is None:
            raise DomainError(f"文件“{filename}”已损坏，无法作为 {label}读取。", field="files")
        if part not in contents[0]:
            raise DomainError(f"文件“{filename}”不是 {label}（可能是改了扩展名的其他文件），已拒绝。", field="files")
    if not ok:
        raise DomainError(f"文件“{filename}”的内容与扩展名不符，已拒绝。", field="files")
    check_unpacked_size(filename, data, field="files")
    return content_type


# Photos from a phone's camera (often 4000 × 3000 and 3–8 MB, with the place they were taken in their EXIF) are
# kept at most this many pixels on their long side, turned upright, and re-encoded without their metadata.
MAX_IMAGE_SIDE = 2560
MAX_IMAGE_PIXELS = 50_000_000  # refused beyond this: a decompression bomb, not a photo
JPEG_QUALITY = 85


def prepare_image(filename: str, data: bytes, content_type: str) -> bytes:
    """A checked image, scaled and stripped as above (other files pass unchanged). An image that does not
    decode, or is absurdly large, is refused with a message."""
    if content_type not in ("image/jpeg", "image/png"):
        return data
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
            if width * height > MAX_IMAGE_PIXELS:
                raise DomainError(f"图片“{filename}”尺寸过大（{width}×{height}），请缩小后上传。", field="files")
            probe.load()
            image = ImageOps.exif_transpose(probe)
    except DomainError:
        raise
    except Exception:  # noqa: BLE001 (Pillow raises many kinds for a broken file)
        raise DomainError(f"图片“{filename}”已损坏或不是有效的图片，已拒绝。", field="files") from None
    scaled = max(image.size) > MAX_IMAGE_SIDE
    if scaled:
        image.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE), Image.Resampling.LANCZOS)
    if content_type == "image/png" and not scaled:
        return data
    out = io.BytesIO()
    if content_type == "image/jpeg":
        image.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    else:
        image.save(out, "PNG", optimize=True)
    return out.getvalue()


def storage_root() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def save_uploads(session: Session, actor: User, files: list[FileStorage], **owner: Any) -> list[Attachment]:
    """Check every file first, then store them all (nothing is stored when one is refused)."""
    checked = []
    try:
        for storage in files:
            if storage is None or not storage.filename:
                continue
            data = storage.read(MAX_FILE_BYTES + 1)
            name = clean_filename(storage.filename)
            content_type = check_upload(name, data)
            checked.append((name, prepare_image(name, data, content_type), content_type))
    finally:
        for storage in files:
            storage.close()
    saved = []
    root = storage_root()
    for name, data, content_type in checked:
        digest = hashlib.sha256(data).hexdigest()
        key = f"{digest[:2]}/{digest}"
        path = root / key
        try:
            os.utime(path)  # stored before and in use again: the sweep below leaves files touched lately alone
        except FileNotFoundError:
            _store(path, data)
        attachment = Attachment(filename=name, content_type=content_type, size=len(data), sha256=digest,
                                storage_key=key, uploaded_by_id=actor.id, uploaded_at=now(), **owner)
        session.add(attachment)
        saved.append(attachment)
    session.flush()
    return saved


def _store(path: Path, data: bytes) -> None:
    """Write a file whole or not at all: into a temporary ``.part`` file of this writer's own, then renamed. Two
    servers storing the same file at once on the shared upload directory each rename a complete copy."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{secrets.token_hex(8)}.part")
    tmp.write_bytes(data)
    tmp.replace(path)


ORPHAN_AGE = timedelta(hours=6)


def remove_orphans(session: Session, root: Path, *, older_than: timedelta = ORPHAN_AGE) -> dict[str, int]:
    """Delete stored files no attachment refers to (left by uploads whose transaction rolled back, or
    half-written ``.part`` files), once they are ``older_than`` old: a file written or reused lately may
    belong to a transaction still open."""
    if not root.is_dir():
        return {"removed": 0, "kept": 0}
    referenced = set(session.scalars(select(Attachment.storage_key).distinct()))
    cutoff = time.time() - older_than.total_seconds()
    removed = kept = 0
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        if path.relative_to(root).as_posix() in referenced or path.stat().st_mtime >= cutoff:
            kept += 1
            continue
        path.unlink(missing_ok=True)
        removed += 1
    return {"removed": removed, "kept": kept}


def file_path(attachment: Attachment) -> Path:
    return storage_root() / attachment.storage_key
