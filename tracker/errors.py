"""Domain errors and the HTTP error pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

T = TypeVar("T")


class DomainError(Exception):
    """A business rule refused an action; the message is shown to the user as is.

    ``link`` points to what the refusal refers to (the existing record a duplicate would repeat, say), as
    (link text, endpoint, URL arguments): the page shows it beside the message."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None,
                 link: tuple[str, str, dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.link = link


class Refusals(DomainError):
    """Several rules refused the same input at once: every message with its field, so a form shows all of them
    in one round rather than one per submit. Collect with :class:`Checks`."""

    def __init__(self, errors: list[tuple[str | None, str]]) -> None:
        super().__init__(errors[0][1], field=errors[0][0])
        self.errors = errors


class Checks:
    """Gathers refusals: ``checks.fail(field, message)`` for each broken rule, then ``checks.done()`` raises them
    all together (a single one as a plain DomainError)."""

    def __init__(self) -> None:
        self.errors: list[tuple[str | None, str]] = []

    def fail(self, field: str | None, message: str) -> None:
        self.errors.append((field, message))

    def attempt(self, check: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """``check(*args, **kwargs)``, gathering the refusal it raises (then None) instead of stopping at it. Refusals of
        access or of state (403, 404, 409) are not a field's error and still stop everything."""
        try:
            return check(*args, **kwargs)
        except Refusals as exc:
            self.errors.extend(exc.errors)
        except DomainError as exc:
            if exc.status_code not in (400, 422):
                raise
            self.fail(exc.field, exc.message)
        return None

    def done(self) -> None:
        if len(self.errors) == 1:
            raise DomainError(self.errors[0][1], field=self.errors[0][0])
        if self.errors:
            raise Refusals(self.errors)


class Refusal(str):
    """A refusal's message as a form error, with the link (text, URL) to what it refers to, if any."""

    link: tuple[str, str] | None = None

    def __new__(cls, message: str, link: tuple[str, str] | None = None) -> Refusal:
        obj = super().__new__(cls, message)
        obj.link = link
        return obj


class InvalidTransition(DomainError):
    status_code = 409


class PermissionDenied(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404


class StaleObject(DomainError):
    """Someone else saved the record since this form was loaded."""

    status_code = 409


ERROR_TITLES = {
    400: "请求有误",
    403: "无权访问",
    404: "页面不存在",
    405: "不支持的请求方式",
    409: "操作冲突",
    413: "文件过大",
    422: "输入有误",
    500: "系统内部错误",
    503: "服务暂不可用",
}

ERROR_MESSAGES = {
    400: "请求的内容无法处理，请检查后重试。",
    403: "您没有权限执行此操作或查看此页面。如需访问，请联系系统管理员。",
    404: "您要找的记录或页面不存在，可能已被删除或地址有误。",
    405: "此页面不接受这种请求方式。",
    409: "记录已被他人修改或当前状态不允许此操作。",
    413: "上传的文件超过了允许的大小。",
    422: "提交的内容未通过校验。",
    500: "系统出现了意外错误，已记录。请稍后重试。",
    503: "数据库暂时无法连接，请稍后重试。本次操作没有保存；此前已保存的内容不受影响。",
}


def render_error(code: int, message: str | None = None) -> tuple[str, int]:
    return (
        render_template(
            "errors/error.html",
            code=code,
            title=ERROR_TITLES.get(code, "出错了"),
            message=message or ERROR_MESSAGES.get(code, ""),
        ),
        code,
    )


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        # a part of the site that answers in its own format (the JSON API) says so for its addresses
        for prefix, answer in app.extensions.get("tracker.problem_paths", {}).items():
            if request.path.startswith(prefix):
                return answer(exc)
        code = exc.code or 500
        return render_error(code, ERROR_MESSAGES.get(code) or exc.description)

    from flask_wtf.csrf import CSRFError

    @app.errorhandler(CSRFError)
    def _csrf_error(_exc: CSRFError) -> tuple[str, int]:
        return render_error(400, "表单缺少安全令牌或已过期，未保存任何内容。请刷新页面后重新提交。")

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError) -> tuple[str, int]:
        return render_error(exc.status_code, exc.message)
