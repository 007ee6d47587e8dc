"""规划执行督查系统 — the application factory."""

from __future__ import annotations

import contextlib
import gc
from importlib import import_module
from pathlib import Path
from typing import Any

from flask import Flask, abort, g, make_response, request
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError

from .config import PROJECT_ROOT, Config
from .db import duplicate_message, make_engine, make_session_factory


def create_app(config: type[Config] | dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder="static",
    )
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    Config.finalise(app.config)
    if app.config.get("DEMO_CLOCK"):
        from . import timeutil

        timeutil.start_demo_clock(app.config["DEMO_CLOCK"])
    Path(app.config["INSTANCE_PATH"]).mkdir(parents=True, exist_ok=True)

    if app.config["PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0)  # type: ignore[method-assign]

    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["tracker.engine"] = engine
    app.extensions["tracker.sessions"] = make_session_factory(engine)

    _init_extensions(app)
    _register_blueprints(app)
    _register_request_hooks(app)
    _register_template_helpers(app)

    from .cli import register_commands

    register_commands(app)
    return app


def freeze_startup_objects() -> None:
    """Call once a server process has built its app: what is alive then (modules, mappers, the app)
    lives as long as the process, so it is moved out of the garbage collector's reach. Without this a
    full collection walks some 170,000 start-up objects every few requests, adding about 100 ms to them.
    """
    gc.collect()
    gc.freeze()


def _init_extensions(app: Flask) -> None:
    from .extensions import csrf, login_manager

    csrf.init_app(app)
    login_manager.init_app(app)

    from .auth import load_user  # noqa: F401  (registers the user loader)


# Each area's views module exports `bp`; add an area here to mount it.
BLUEPRINT_MODULES = [
    "auth.views",
    "planning.plan_views",
    "tasks.views",
    "attachments.views",
    "workspace.views",
    "admin.views",
    "supervision.views",
    "adjustments.views",
    "planning.views",
    "alerts.views",
    "system.views",
    "notifications.views",
    "projects.views",
    "indicators.views",
    "evaluations.views",
    "succession.views",
    "dashboard.views",
    "imports.views",
    "api.views",
    "search.views",
    "webhooks.views",
    "batch.views",
]


def _register_blueprints(app: Flask) -> None:
    for name in BLUEPRINT_MODULES:
        app.register_blueprint(import_module(f"{__name__}.{name}").bp)


def _register_request_hooks(app: Flask) -> None:
    from .errors import register_error_handlers, render_error
    from .extensions import login_manager
    from .text import CONTROL_CHARACTERS

    register_error_handlers(app)

    @app.before_request
    def _refuse_control_characters() -> None:
        """A page asked for with a control character in its query string (a NUL in a filter or a search,
        which PostgreSQL refuses in text) is a 400 at the door, whatever view it was meant for. (A POST's
        query carries only where to go next, which `web.local_path` checks.)"""
        if request.method in ("GET", "HEAD") and any(CONTROL_CHARACTERS.search(k) or CONTROL_CHARACTERS.search(v)
               for k, v in request.args.items(multi=True)):
            abort(400)

    # Registered first so that it runs last, on whatever response the hooks below settle on.
    @app.after_request
    def _security_headers(response: Any) -> Any:
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        )
        return response

    def _database_unavailable(exc: BaseException | None = None) -> tuple[str, int]:
        """The 503 page when the database failed mid-request (refused, restarted, connection cut).

        The request's session is thrown away (nothing of the request is committed) and the page is drawn
        without the database: as for a visitor not signed in, since the user's record cannot be read.
        The sign-in itself stays in the cookie, so the next request works once the database is back.
        """
        session = g.pop("db_session", None)
        if session is not None:
            with contextlib.suppress(SQLAlchemyError):
                session.rollback()
            session.close()
        g._login_user = login_manager.anonymous_user()  # what Flask-Login's current_user returns
        return render_error(503, BUSY_MESSAGE if _contended(exc) else None)

    @app.after_request
    def _finish_unit_of_work(response: Any) -> Any:
        session = g.pop("db_session", None)
        if session is None:
            return response
        try:
            if request.method not in ("GET", "HEAD", "OPTIONS") and response.status_code < 400 \
                    and not g.pop("rollback_only", False):
                session.commit()
            else:
                session.rollback()
        except IntegrityError as exc:
            response = make_response(_lost_race(exc))
        except (OperationalError, InterfaceError) as exc:
            app.logger.exception("database error at the end of the request")
            response = make_response(_database_unavailable(exc))
        finally:
            session.close()
        return response

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()

    @app.errorhandler(StaleDataError)
    def _stale(_exc: Exception) -> tuple[str, int]:
        session = g.get("db_session")
        if session is not None:
            session.rollback()  # the failed flush left the transaction unusable; the page reads the user anew
        return render_error(409, "记录已被他人修改，您的修改没有保存。请刷新页面后重试。")

    @app.errorhandler(IntegrityError)
    def _lost_race(exc: IntegrityError) -> tuple[str, int]:
        """A save that lost a race to a unique constraint (a double submission, two people at once): the
        request's work is rolled back and the person gets the message the form gives for that duplicate.
        Any other integrity failure is a fault (500)."""
        session = g.get("db_session")
        if session is not None:
            with contextlib.suppress(SQLAlchemyError):
                session.rollback()
        message = duplicate_message(exc)
        if message is None:
            app.logger.error("integrity error", exc_info=exc)
            return render_error(500)
        return render_error(409, message)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _db_down(exc: Exception) -> tuple[str, int]:
        app.logger.exception("database error")
        return _database_unavailable(exc)


BUSY_MESSAGE = "其他用户正在同时修改相关数据，请稍后重试。本次操作没有保存；此前已保存的内容不受影响。"
# PostgreSQL's lock_not_available, deadlock_detected and serialization_failure
_CONTENTION_STATES = frozenset({"55P03", "40P01", "40001"})


def _contended(exc: BaseException | None) -> bool:
    """The database answered but another transaction was in the way (a lock wait ran out, a deadlock):
    not an outage, and the page says so."""
    orig = getattr(exc, "orig", None)
    if orig is None:
        return False
    return getattr(orig, "sqlstate", None) in _CONTENTION_STATES or "database is locked" in str(orig)


def _register_template_helpers(app: Flask) -> None:
    from . import templating

    templating.register(app)
