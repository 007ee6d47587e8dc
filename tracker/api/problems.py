"""Every refusal of the API as ``application/problem+json`` (RFC 9457): a Chinese ``title`` and ``detail``, and the
fields' ``errors`` when a request did not validate. The one place errors of the API become responses."""

from __future__ import annotations

import json
from typing import Any

from flask import Response
from werkzeug.exceptions import HTTPException

from ..errors import ERROR_MESSAGES, ERROR_TITLES, DomainError, StaleObject

PROBLEM_JSON = "application/problem+json"

TITLES = {
    **ERROR_TITLES,
    401: "未认证",
    404: "记录不存在",
    412: "版本不符",
    428: "缺少版本条件",
    429: "请求过于频繁",
}
DETAILS = {
    **ERROR_MESSAGES,
    401: "缺少有效的访问令牌。",
    404: "您要找的记录不存在，或地址有误。",
    412: "记录已被他人修改：请先读取最新版本，再以其 ETag 作为 If-Match 重新提交。",
    428: "修改须在 If-Match 请求头中带上读取时的 ETag（如 \"v3\"），以免覆盖他人的修改。",
    429: "请求过于频繁，请稍后重试。",
}
VALIDATION_DETAIL = "请求的内容未通过校验，详见 errors。"


def problem(status: int, detail: str | None = None, *, errors: dict[str, list[str]] | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": TITLES.get(status, "出错了"), "status": status,
                            "detail": detail or DETAILS.get(status, "")}
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_domain_error(exc: DomainError) -> Response:
    """A business rule's refusal. A stale save (the record moved on since the version the request named) is a
    failed precondition; a refusal naming a field is a validation error of that field."""
    if isinstance(exc, StaleObject):
        return problem(412, exc.message)
    if exc.status_code == 400 or (exc.field is not None and exc.status_code not in (403, 404, 409)):
        errors: dict[str, list[str]] | None = None
        for name, message in getattr(exc, "errors", None) or ([(exc.field, exc.message)] if exc.field else []):
            errors = errors or {}
            errors.setdefault(name or "_schema", []).append(message)
        return problem(422, exc.message, errors=errors)
    return problem(exc.status_code, exc.message)


def from_http_exception(exc: HTTPException) -> Response:
    """An abort: webargs' 422 carries the fields' messages (by location); others their status."""
    code = exc.code or 500
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    if messages:
        detail = VALIDATION_DETAIL if code == 422 else "请求体不是有效的 JSON。"
        return problem(code, detail, errors=flatten(messages))
    headers = dict(data.get("headers") or {})
    valid = getattr(exc, "valid_methods", None)
    if code == 405 and valid:
        headers["Allow"] = ", ".join(valid)
    return problem(code, headers=headers)


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """{"json": {"status": ["…"]}} → {"status": ["…"]}: the request's location dropped, nested fields dotted."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        locations = {"json", "query", "querystring", "headers", "form", "view_args", "path"}
        for key, value in messages.items():
            name = prefix if not prefix and key in locations else (f"{prefix}.{key}" if prefix else str(key))
            if key == "_schema":
                name = prefix or "_schema"
            for field, texts in flatten(value, name).items():
                out.setdefault(field, []).extend(texts)
    elif isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            out[prefix or "_schema"] = list(messages)
        else:
            for item in messages:
                for field, texts in flatten(item, prefix).items():
                    out.setdefault(field, []).extend(texts)
    else:
        out[prefix or "_schema"] = [str(messages)]
    return out
