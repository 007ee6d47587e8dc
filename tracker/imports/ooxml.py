"""Office files (.docx, .xlsx) checked before a library reads them, and workbooks opened in one way.

A .docx or .xlsx is a zip of XML parts. Before python-docx or openpyxl parses them, every XML part is read
once with expat, without building anything: a part that declares a DTD (entity expansion — "billion
laughs" — or an external entity) is refused, so is a part that is not well-formed XML (openpyxl would
otherwise fail in the middle of reading a sheet), and for a Word file the elements are counted against
a cap (a small file of many empty elements would take gigabytes as python-docx's tree). The refusals are
``DomainError`` on the upload field, shown next to it.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from typing import IO, Any
from xml.parsers import expat

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from ..errors import DomainError
from .limits import Budget

DTD_REFUSED = "文件包含不允许的XML声明（DTD），已拒绝。请用 Excel 或 Word 重新保存后上传。"
XML_PARTS = (".xml", ".rels")
CHUNK = 1 << 20


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _scan(part: IO[bytes], counted: list[int], max_elements: int | None, budget: Budget | None) -> None:
    parser = expat.ParserCreate()

    def doctype(*_args: Any) -> None:
        raise _Refused(DTD_REFUSED)

    def element(*_args: Any) -> None:
        counted[0] += 1
        if max_elements is not None and counted[0] > max_elements:
            raise _Refused(f"文档结构过于复杂（超过{max_elements}个XML元素），无法导入。请拆分后上传。")

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    if max_elements is not None:
        parser.StartElementHandler = element
    while chunk := part.read(CHUNK):
        if budget is not None:
            budget.tick()
        parser.Parse(chunk, False)
    parser.Parse(b"", True)


def check_package(data: bytes, *, unreadable: str, field: str = "file", max_elements: int | None = None,
                  budget: Budget | None = None) -> None:
    """Refuse an Office file with a DTD or a broken XML part (or, with ``max_elements``, more XML elements
    than that). A file that is not a zip passes: its reader refuses it in its own words."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        return
    counted = [0]
    try:
        with archive:
            for info in archive.infolist():
                if info.filename.lower().endswith(XML_PARTS) and not info.is_dir():
                    with archive.open(info) as part:
                        _scan(part, counted, max_elements, budget)
    except _Refused as exc:
        raise DomainError(exc.message, field=field) from None
    except (expat.ExpatError, zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError,
            RuntimeError) as exc:  # (RuntimeError: an encrypted member)
        raise DomainError(unreadable, field=field) from exc


def open_workbook(data: bytes, *, unreadable: str, field: str = "file") -> Any:
    """An uploaded workbook checked (see :func:`check_package`) and opened read-only with cached values.
    The caller closes it, and turns a ``SyntaxError`` while reading its rows (a sheet in a part not named
    .xml, which the check does not read) into the same refusal."""
    check_package(data, unreadable=unreadable, field=field)
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError, SyntaxError, TypeError) as exc:
        raise DomainError(unreadable, field=field) from exc
