"""The OpenAPI 3.1 document of /api/v1, built by flask-smorest from the schemas and the views' decorators.

flask-smorest's ``Api`` would answer every HTTP error of the whole site with its JSON (it registers an app-wide
handler); here it describes the API only, and the API blueprint answers its own errors as problem+json
(``problems.py``). Nor does it serve the document: the API blueprint does (``/api/v1/openapi.json``, ``/docs``).
"""

from __future__ import annotations

import http
from typing import Any

from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from .problems import PROBLEM_JSON
from .schemas import ProblemSchema

TITLE = "规划执行督查系统开放接口"
VERSION = "v1"
DESCRIPTION = """以个人访问令牌调用：在“访问令牌”页面（/account/tokens）生成，请求头 `Authorization: Bearer <令牌>`。
请求以令牌所属用户的身份进行，可见范围与权限与页面相同；只读令牌不能修改数据。每个令牌每分钟至多 600 次请求（超出为 429，
并带 Retry-After）。错误以 application/problem+json 返回（中文 title、detail，校验失败时有各字段的 errors）。
修改须带 If-Match（读取时的 ETag，如 "v3"）：缺少为 428，版本已变为 412。日期为 ISO 8601（YYYY-MM-DD），时间为 UTC 的 ISO 8601。
列表以游标分页：响应的 next_cursor 作为下一次请求的 cursor。"""


class TrackerApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        """The app keeps its own error pages; the API blueprint handles its errors (see the module's docstring)."""

    def _register_responses(self) -> None:
        """The error responses, documented as problem+json."""
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "出错时的说明（problem+json）", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


def make_api(app: Flask) -> TrackerApi:
    api = TrackerApi(spec_kwargs={
        "title": TITLE, "version": VERSION, "openapi_version": "3.1.0",
        "info": {"description": DESCRIPTION},
        "servers": [{"url": "/", "description": "本站"}],
        "security": [{"bearerAuth": []}],
    })
    api.init_app(app)
    api.spec.components.security_scheme("bearerAuth", {
        "type": "http", "scheme": "bearer", "bearerFormat": "trk_…",
        "description": "个人访问令牌（在 /account/tokens 生成，只显示一次）",
    })
    return api
