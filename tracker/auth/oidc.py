"""The OpenID Connect relying party: sign-in through the unified identity platform (统一身份认证).

Authorization code flow with PKCE (S256), ``state`` and ``nonce``; the provider is found by discovery
(``<issuer>/.well-known/openid-configuration``); the ID token's signature is checked with the provider's
JWKS (fetched again once when a token names a key not seen yet, so key rotation needs no restart) and its
issuer, audience, expiry and nonce against the request. Built from Authlib's protocol parts (PKCE, the
grant URI, the ID token's claims) and joserfc (JWS); the two HTTP calls (discovery and keys, the token
request) use the standard library, so no HTTP client joins the dependencies.

Nothing here reads the database: ``services.sso_account`` decides which account the claims name.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import (
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from ..timeutil import now

LEEWAY = 120  # seconds of clock difference allowed between the provider and this system
MAX_RESPONSE = 1024 * 1024  # bytes read from the provider at most


class SsoError(Exception):
    """Signing in through the platform failed; ``message`` is what the person reads, ``reason`` what the
    audit trail and the log keep."""

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or message


@dataclass(frozen=True)
class Settings:
    issuer: str
    client_id: str
    client_secret: str | None
    scope: str
    user_claim: str
    user_field: str
    create_users: bool
    timeout: float

    @classmethod
    def of(cls, config: Any) -> Settings | None:
        """The app's single sign-on settings, or None when it is not configured."""
        if not config.get("OIDC_ISSUER"):
            return None
        return cls(issuer=str(config["OIDC_ISSUER"]).rstrip("/"), client_id=str(config["OIDC_CLIENT_ID"]),
                   client_secret=config.get("OIDC_CLIENT_SECRET") or None,
                   scope=config.get("OIDC_SCOPE") or "openid", user_claim=config.get("OIDC_USER_CLAIM")
                   or "preferred_username", user_field=config.get("OIDC_USER_FIELD") or "username",
                   create_users=bool(config.get("OIDC_CREATE_USERS")), timeout=float(config.get("OIDC_TIMEOUT", 10)))


@dataclass
class Provider:
    """What discovery told about the provider (kept for the process's life) and its current keys."""

    settings: Settings
    metadata: dict[str, Any] = field(default_factory=dict)
    jwks: dict[str, Any] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def discover(self) -> dict[str, Any]:
        with self.lock:
            if not self.metadata:
                metadata = _get_json(f"{self.settings.issuer}/.well-known/openid-configuration", self.settings)
                if str(metadata.get("issuer", "")).rstrip("/") != self.settings.issuer:
                    raise SsoError("统一身份认证平台的配置与本系统设置的地址不一致，请联系管理员。",
                                   f"discovery issuer {metadata.get('issuer')!r} ≠ {self.settings.issuer!r}")
                for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                    if not isinstance(metadata.get(key), str):
                        raise SsoError("统一身份认证平台的配置不完整，请联系管理员。", f"discovery lacks {key}")
                self.metadata = metadata
            return self.metadata

    def keys(self, refresh: bool = False) -> KeySet:
        metadata = self.discover()
        with self.lock:
            if self.jwks is None or refresh:
                self.jwks = _get_json(metadata["jwks_uri"], self.settings)
            return KeySet.import_key_set(self.jwks)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Request:
    """One sign-in under way, kept in the session between leaving for the provider and coming back."""

    state: str
    nonce: str
    verifier: str
    next: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"state": self.state, "nonce": self.nonce, "verifier": self.verifier, "next": self.next}

    @classmethod
    def from_dict(cls, data: Any) -> Request | None:
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("state", "nonce", "verifier")):
            return None
        return cls(data["state"], data["nonce"], data["verifier"], data.get("next"))


def begin(provider: Provider, redirect_uri: str, next_path: str | None = None) -> tuple[str, Request]:
    """The provider's authorization URL to send the browser to, and what to keep until it comes back."""
    metadata = provider.discover()
    request = Request(state=secrets.token_urlsafe(24), nonce=secrets.token_urlsafe(24),
                      verifier=secrets.token_urlsafe(48), next=next_path)
    url = prepare_grant_uri(metadata["authorization_endpoint"], provider.settings.client_id, "code",
                            redirect_uri=redirect_uri, scope=provider.settings.scope, state=request.state,
                            nonce=request.nonce, code_challenge=create_s256_code_challenge(request.verifier),
                            code_challenge_method="S256")
    return url, request


def finish(provider: Provider, request: Request, args: Any, redirect_uri: str) -> tuple[dict[str, Any], str]:
    """Check the provider's answer (``args``: the callback's query) and exchange its code; returns the ID
    token's validated claims and the ID token itself (kept for signing out)."""
    if not secrets.compare_digest(str(args.get("state", "")).encode(), request.state.encode()):
        raise SsoError("登录请求已失效或被篡改，请重新登录。", "state mismatch")
    if args.get("error"):
        description = str(args.get("error_description") or "")[:200]
        if args.get("error") == "access_denied":
            raise SsoError("您在统一身份认证平台取消了登录或未获授权。", f"provider error access_denied {description}")
        raise SsoError("统一身份认证平台拒绝了本次登录，请稍后重试或联系管理员。",
                       f"provider error {str(args.get('error'))[:60]} {description}")
    code = args.get("code")
    if not code:
        raise SsoError("统一身份认证平台没有返回授权码，请重新登录。", "no code")
    token = _exchange(provider, str(code), redirect_uri, request.verifier)
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise SsoError("统一身份认证平台没有返回身份令牌，请联系管理员。", "token response lacks id_token")
    claims = validate_id_token(provider, id_token, request.nonce, token.get("access_token"))
    return claims, id_token


def validate_id_token(provider: Provider, id_token: str, nonce: str, access_token: Any = None) -> dict[str, Any]:
    metadata = provider.discover()
    algorithms = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    registry = JWSRegistry(algorithms=[a for a in algorithms if a != "none"], strict_check_header=False)
    try:
        try:
            decoded = jwt.decode(id_token, provider.keys(), registry=registry)
        except InvalidKeyIdError:
            decoded = jwt.decode(id_token, provider.keys(refresh=True), registry=registry)
    except (JoseError, ValueError) as exc:
        raise SsoError("身份令牌的签名无效，登录未完成。", f"id token signature: {exc}") from None
    params: dict[str, Any] = {"nonce": nonce, "client_id": provider.settings.client_id}
    if isinstance(access_token, str):
        params["access_token"] = access_token
    options = {"iss": {"essential": True, "value": metadata["issuer"]},
               "aud": {"essential": True, "values": [provider.settings.client_id]},
               "exp": {"essential": True}}
    claims = CodeIDToken(decoded.claims, decoded.header, options, params)
    try:
        claims.validate(now=int(now().timestamp()), leeway=LEEWAY)
    except ExpiredTokenError:
        raise SsoError("身份令牌已过期，请重新登录。", "id token expired") from None
    except (InvalidClaimError, MissingClaimError) as exc:
        name = getattr(exc, "claim", None) or str(exc)
        raise SsoError("身份令牌校验未通过，登录未完成。", f"id token claim {name}: {exc}") from None
    return dict(claims)


def logout_url(provider: Provider, id_token: str | None, post_logout_redirect_uri: str) -> str | None:
    """The provider's end-session URL (RP-initiated logout), or None when it has none."""
    try:
        endpoint = provider.discover().get("end_session_endpoint")
    except SsoError:
        return None
    if not isinstance(endpoint, str):
        return None
    params = {"post_logout_redirect_uri": post_logout_redirect_uri, "client_id": provider.settings.client_id}
    if id_token:
        params["id_token_hint"] = id_token
    return str(add_params_to_uri(endpoint, params))


# ---------------------------------------------------------------- HTTP with the provider


def _exchange(provider: Provider, code: str, redirect_uri: str, verifier: str) -> dict[str, Any]:
    metadata = provider.discover()
    settings = provider.settings
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, "code_verifier": verifier}
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    if settings.client_secret and "client_secret_basic" in methods:
        pair = f"{urllib.parse.quote(settings.client_id, safe='')}:{urllib.parse.quote(settings.client_secret, safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    else:
        body["client_id"] = settings.client_id
        if settings.client_secret:
            body["client_secret"] = settings.client_secret
    data = urllib.parse.urlencode(body).encode()
    return _request(urllib.request.Request(metadata["token_endpoint"], data=data, headers=headers, method="POST"),
                    settings)


def _get_json(url: str, settings: Settings) -> dict[str, Any]:
    return _request(urllib.request.Request(url, headers={"Accept": "application/json"}), settings)


def _request(req: urllib.request.Request, settings: Settings) -> dict[str, Any]:
    if urllib.parse.urlsplit(req.full_url).scheme not in ("https", "http"):
        raise SsoError("统一身份认证平台的地址无效，请联系管理员。", f"bad url {req.full_url[:100]}")
    try:
        with urllib.request.urlopen(req, timeout=settings.timeout) as response:  # noqa: S310 (http/https only)
            payload = json.loads(response.read(MAX_RESPONSE))
    except urllib.error.HTTPError as exc:
        detail = exc.read(2000).decode("utf-8", "replace")
        exc.close()
        raise SsoError("统一身份认证平台拒绝了本次登录，请重新登录。",
                       f"{req.get_method()} {req.full_url} answered {exc.code}: {detail[:300]}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise SsoError("暂时无法连接统一身份认证平台，请稍后重试。", f"{req.full_url}: {exc}") from None
    except ValueError:
        raise SsoError("统一身份认证平台的应答无法识别，请联系管理员。", f"{req.full_url}: not JSON") from None
    if not isinstance(payload, dict):
        raise SsoError("统一身份认证平台的应答无法识别，请联系管理员。", f"{req.full_url}: not an object")
    return payload
