"""An OpenID Connect provider for the tests, served on 127.0.0.1 by Authlib's authorization server: discovery,
authorization (code flow, PKCE required), token (client_secret_basic), JWKS and end-session endpoints, with an
RSA key made for the run. It stands for the province's unified identity platform.

The person it signs in is whoever the test sets as ``provider.person`` (it has no login page). A test can also
make it misbehave — another audience, a changed nonce, an expired token, a token signed with another key —
to see the tracker refuse."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Error, grants
from authlib.oauth2.rfc6749.models import ClientMixin
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.core.models import AuthorizationCodeMixin
from flask import Flask, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server

from tracker import timeutil

CLIENT_ID, CLIENT_SECRET = "tracker", "client-secret-for-tests"


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in ("openid", "profile", "email"))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(self.client_secret, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "client_secret_basic" if endpoint == "token" else True

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    person: dict[str, Any]
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return int(timeutil.now().timestamp())


@dataclass
class Mischief:
    """What the provider gets wrong on purpose (each test sets what it needs)."""

    audience: str | None = None
    nonce: str | None = None
    expired: bool = False
    foreign_key: bool = False


@dataclass
class Provider:
    """The running provider: its address, the person it signs in, what it got asked."""

    issuer: str = ""
    person: dict[str, Any] | None = None
    mischief: Mischief = field(default_factory=Mischief)
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True))
    other_key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"},
                                                                          private=True))
    codes: dict[str, Code] = field(default_factory=dict)
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    end_sessions: list[dict[str, str]] = field(default_factory=list)
    discovery_requests: int = 0

    def reset(self) -> None:
        self.person, self.mischief = None, Mischief()
        self.codes.clear()
        self.token_requests.clear()
        self.end_sessions.clear()

    def path(self, url: str) -> str:
        """A provider URL as its own test client asks for it."""
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")


def build(provider: Provider, redirect_uris: list[str]) -> Flask:
    app = Flask("test_oidc_provider")
    app.config["SECRET_KEY"] = "provider"
    client = Client(CLIENT_ID, CLIENT_SECRET, redirect_uris)

    class CodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]

        def save_authorization_code(self, code: str, req: Any) -> Code:
            data = req.payload.data
            item = Code(code, req.client.get_client_id(), req.payload.redirect_uri, req.payload.scope, req.user,
                        data.get("nonce"), data.get("code_challenge"), data.get("code_challenge_method"))
            provider.codes[code] = item
            return item

        def query_authorization_code(self, code: str, client: Client) -> Code | None:
            item = provider.codes.get(code)
            return item if item is not None and item.client_id == client.get_client_id() else None

        def delete_authorization_code(self, authorization_code: Code) -> None:
            provider.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code: Code) -> dict[str, Any]:
            return authorization_code.person

    class IdToken(OpenIDCode):
        def exists_nonce(self, nonce: str, req: Any) -> bool:
            return False

        def resolve_client_private_key(self, client: Client) -> Any:
            return (provider.other_key if provider.mischief.foreign_key else provider.key).as_dict(private=True)

        def get_client_algorithm(self, client: Client) -> str:
            return "RS256"

        def get_encode_header(self, client: Client) -> dict[str, str]:
            key = provider.other_key if provider.mischief.foreign_key else provider.key
            return {"alg": "RS256", "kid": str(key.kid)}

        def get_client_claims(self, client: Client) -> dict[str, Any]:
            at = int(timeutil.now().timestamp())
            issued = at - 7200 if provider.mischief.expired else at
            return {"iss": provider.issuer, "aud": [provider.mischief.audience or client.get_client_id()],
                    "iat": issued, "exp": issued + 600, "auth_time": issued}

        def get_authorization_code_claims(self, authorization_code: Code) -> dict[str, Any]:
            claims = super().get_authorization_code_claims(authorization_code)
            if provider.mischief.nonce is not None:
                claims["nonce"] = provider.mischief.nonce
            return claims

        def generate_user_info(self, user: dict[str, Any], scope: str) -> UserInfo:
            return UserInfo(user)

    server = AuthorizationServer(app, query_client=lambda client_id: client if client_id == CLIENT_ID else None,
                                 save_token=lambda token, req: None)
    server.register_grant(CodeGrant, [CodeChallenge(required=True), IdToken(require_nonce=True)])

    @app.get("/.well-known/openid-configuration")
    def discovery() -> Any:
        provider.discovery_requests += 1
        base = provider.issuer
        return jsonify(issuer=base, authorization_endpoint=f"{base}/authorize", token_endpoint=f"{base}/token",
                       jwks_uri=f"{base}/jwks", end_session_endpoint=f"{base}/logout",
                       response_types_supported=["code"], subject_types_supported=["public"],
                       id_token_signing_alg_values_supported=["RS256"], code_challenge_methods_supported=["S256"],
                       token_endpoint_auth_methods_supported=["client_secret_basic"],
                       scopes_supported=["openid", "profile", "email"])

    @app.get("/jwks")
    def jwks() -> Any:
        return jsonify(KeySet([provider.key]).as_dict(private=False))

    @app.get("/authorize")
    def authorize() -> Any:
        if provider.person is None:
            return "no one is signed in at the provider", 401
        try:
            grant = server.get_consent_grant(end_user=provider.person)
        except OAuth2Error as error:
            return server.handle_error_response(None, error)
        return server.create_authorization_response(grant=grant, grant_user=provider.person)

    @app.post("/token")
    def token() -> Any:
        provider.token_requests.append(dict(request.form))
        return server.create_token_response()

    @app.get("/logout")
    def logout() -> Any:
        args = dict(request.args)
        hint = args.get("id_token_hint", "")
        jwt.decode(hint, provider.key)  # a token this provider signed, or a 500 the test sees
        provider.end_sessions.append(args)
        target = args.get("post_logout_redirect_uri")
        if not target:
            return "signed out"
        return redirect(target + ("&" if "?" in target else "?") + urlencode({"state": args.get("state", "")}))

    return app


class Running:
    """The provider's app served on 127.0.0.1 (a port of its own) in a thread."""

    def __init__(self, provider: Provider, redirect_uris: list[str]) -> None:
        self.provider = provider
        self.app = build(provider, redirect_uris)
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        provider.issuer = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Running:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
