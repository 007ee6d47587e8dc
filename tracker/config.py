"""Configuration from environment variables."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _instance_secret(instance: Path) -> str:
    """A secret generated once per installation and kept in instance/ (the demo's key). Processes starting
    together on one instance directory (gunicorn's workers) agree on it: the first to put the file in place wins
    and every process reads the file. Servers on several machines each have their own instance directory, so
    they need SECRET_KEY instead."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        mine = instance / f".secret_key.{secrets.token_hex(8)}"
        fd = os.open(mine, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_hex(32))
            with contextlib.suppress(FileExistsError):
                os.link(mine, path)  # never replaces a key another process put there first
        finally:
            mine.unlink()
    return path.read_text().strip()


class Config:
    INSTANCE_PATH = Path(os.environ.get("TRACKER_INSTANCE", PROJECT_ROOT / "instance"))
    DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_PATH / 'tracker.db'}"
    SECRET_KEY = os.environ.get("SECRET_KEY") or ""
    PRODUCTION = _bool("TRACKER_PRODUCTION", False)
    # The demo clock (`tracker demo --date`): every now and today reads it; refused in production.
    DEMO_CLOCK = os.environ.get("TRACKER_DEMO_CLOCK") or None
    UPLOAD_DIR = Path(os.environ.get("TRACKER_UPLOAD_DIR", INSTANCE_PATH / "uploads"))
    MAX_CONTENT_LENGTH = int(os.environ.get("TRACKER_MAX_UPLOAD_MB", "20")) * 1024 * 1024
    # Secure (HTTPS only) in production unless switched off explicitly with SESSION_COOKIE_SECURE=0.
    SESSION_COOKIE_SECURE: bool | None = (_bool("SESSION_COOKIE_SECURE", False)
                                          if os.environ.get("SESSION_COOKIE_SECURE") is not None else None)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None
    PAGE_SIZE = 50
    DISPLAY_TIMEZONE = "Asia/Shanghai"
    SMTP_URL = os.environ.get("TRACKER_SMTP_URL")
    WEBHOOK_URL = os.environ.get("TRACKER_WEBHOOK_URL")  # the DingTalk robot's first name; DINGTALK_URL wins
    DINGTALK_URL = os.environ.get("TRACKER_DINGTALK_URL")
    DINGTALK_SECRET = os.environ.get("TRACKER_DINGTALK_SECRET")
    WECOM_URL = os.environ.get("TRACKER_WECOM_URL")
    PUBLIC_URL = os.environ.get("TRACKER_PUBLIC_URL")
    ZZD_BASE_URL = os.environ.get("TRACKER_ZZD_BASE_URL")
    ZZD_APP_KEY = os.environ.get("TRACKER_ZZD_APP_KEY")
    ZZD_APP_SECRET = os.environ.get("TRACKER_ZZD_APP_SECRET")
    ZZD_TENANT_ID = os.environ.get("TRACKER_ZZD_TENANT_ID")
    # Reverse proxies in front that set X-Forwarded-For/-Proto (nginx: 1). The client's address counts
    # failed sign-ins; without this every request seems to come from the proxy.
    PROXIES = int(os.environ.get("TRACKER_PROXIES", "0"))
    # Single sign-on through the unified identity platform (OpenID Connect; tracker/auth/README-sso.md).
    # Switched on by the issuer; discovery reads <issuer>/.well-known/openid-configuration.
    OIDC_ISSUER = os.environ.get("TRACKER_OIDC_ISSUER") or None
    OIDC_CLIENT_ID = os.environ.get("TRACKER_OIDC_CLIENT_ID") or None
    OIDC_CLIENT_SECRET = os.environ.get("TRACKER_OIDC_CLIENT_SECRET") or None
    OIDC_SCOPE = os.environ.get("TRACKER_OIDC_SCOPE", "openid profile email")
    # The ID token's claim that names the account, and the account's column it is compared with
    # (username or email, case-insensitively); once signed in, an account is bound to the subject (sub).
    OIDC_USER_CLAIM = os.environ.get("TRACKER_OIDC_USER_CLAIM", "preferred_username")
    OIDC_USER_FIELD = os.environ.get("TRACKER_OIDC_USER_FIELD", "username")
    # An unknown subject: refused (default), or recorded as a switched-off account for an administrator.
    OIDC_CREATE_USERS = _bool("TRACKER_OIDC_CREATE_USERS", False)
    OIDC_BUTTON = os.environ.get("TRACKER_OIDC_BUTTON", "统一身份认证登录")
    OIDC_TIMEOUT = float(os.environ.get("TRACKER_OIDC_TIMEOUT", "10"))
    # Local passwords (the login form, changing one's password); 0 leaves single sign-on only.
    LOCAL_LOGIN = _bool("TRACKER_LOCAL_LOGIN", True)
    TESTING = False

    @classmethod
    def finalise(cls, config: dict) -> None:
        """Fill in what depends on other settings."""
        if config.get("SESSION_COOKIE_SECURE") is None:
            config["SESSION_COOKIE_SECURE"] = bool(config.get("PRODUCTION"))
        if config.get("DEMO_CLOCK") and config.get("PRODUCTION"):
            raise RuntimeError("生产环境不能使用演示时钟：请去掉 TRACKER_DEMO_CLOCK")
        if not config.get("LOCAL_LOGIN", True) and not config.get("OIDC_ISSUER"):
            raise RuntimeError("TRACKER_LOCAL_LOGIN=0 needs single sign-on: set TRACKER_OIDC_ISSUER")
        if config.get("OIDC_ISSUER") and not config.get("OIDC_CLIENT_ID"):
            raise RuntimeError("TRACKER_OIDC_ISSUER needs TRACKER_OIDC_CLIENT_ID (and its secret)")
        if config.get("OIDC_USER_FIELD", "username") not in ("username", "email"):
            raise RuntimeError("TRACKER_OIDC_USER_FIELD must be username or email")
        if not config.get("SECRET_KEY"):
            if config.get("PRODUCTION"):
                raise RuntimeError("SECRET_KEY must be set in production")
            config["SECRET_KEY"] = _instance_secret(Path(config["INSTANCE_PATH"]))


class TestConfig(Config):
    TESTING = True
    DEMO_CLOCK = None
    SECRET_KEY = "test-only-secret"
    WTF_CSRF_ENABLED = False
    DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "sqlite://")
