"""A real OpenID Connect provider for the single sign-on tests, built with Authlib's server side.

It serves discovery (``/.well-known/openid-configuration``), an authorization endpoint with its own
sign-in page (a username field), a token endpoint (authorization code grant, client secret, PKCE S256
required, OpenID Connect ID tokens signed with RS256) and its JWKS, over real HTTP on 127.0.0.1 from a
thread (werkzeug's ``make_server``). The product's app talks to it as it would to Entra ID or Keycloak.

A test can make it misbehave the way a wrong or hostile provider would: ``audience`` (the ID token is
for another client), ``expires_in`` (negative: already expired), ``sign_with_other_key`` (signed with a
key not in the JWKS, under the published key id), ``wrong_nonce``.
"""

from __future__ import annotations

import html
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, jsonify, request
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

CLIENT_ID = "vsw-test-client"
CLIENT_SECRET = "vsw-test-secret-0123456789"
KEY_ID = "test-key-1"


@dataclass
class Client:
    """One registered client (this product)."""

    client_id: str
    client_secret: str
    redirect_uris: list[str]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in scope.split() if s in ("openid", "email", "profile", "groups"))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code:
    """An authorization code waiting to be exchanged."""

    code: str
    client_id: str
    redirect_uri: str
    scope: str
    username: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None

    def is_expired(self) -> bool:
        return time.time() - self.auth_time > 300


@dataclass
class Provider:
    """The provider's state: its people, clients, keys, codes, and how it is told to misbehave."""

    issuer: str = ""
    people: dict[str, dict[str, Any]] = field(default_factory=dict)
    """username at the provider -> the claims its ID token carries (besides the standard ones)."""
    client: Client = field(default_factory=lambda: Client(CLIENT_ID, CLIENT_SECRET, []))
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": KEY_ID}))
    other_key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": KEY_ID}))
    codes: dict[str, Code] = field(default_factory=dict)
    audience: str | None = None
    authorized_party: str | None = None
    """An ``azp`` claim to add (with ``audience``: a token for another service naming this one as its party)."""
    expires_in: int = 300
    sign_with_other_key: bool = False
    wrong_nonce: bool = False
    requests_seen: list[dict[str, str]] = field(default_factory=list)
    """The authorization requests received (their query parameters), for the tests to check PKCE and nonce."""


def build_provider_app(provider: Provider) -> Flask:
    app = Flask("oidc_provider")
    app.config["SECRET_KEY"] = secrets.token_hex(16)

    class CodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

        def save_authorization_code(self, code: str, req: Any) -> None:
            data = req.payload.data
            provider.codes[code] = Code(code, req.client.get_client_id(), req.payload.redirect_uri,
                                        req.payload.scope, req.user, data.get("nonce"),
                                        data.get("code_challenge"), data.get("code_challenge_method"))

        def query_authorization_code(self, code: str, client: Client) -> Code | None:
            found = provider.codes.get(code)
            if found is not None and found.client_id == client.get_client_id() and not found.is_expired():
                return found
            return None

        def delete_authorization_code(self, authorization_code: Code) -> None:
            provider.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code: Code) -> str:
            return authorization_code.username

    class IdToken(OpenIDCode):  # type: ignore[misc]
        def exists_nonce(self, nonce: str, req: Any) -> bool:
            return any(code.nonce == nonce for code in provider.codes.values())

        def resolve_client_private_key(self, client: Client) -> RSAKey:
            return provider.other_key if provider.sign_with_other_key else provider.key

        def get_client_algorithm(self, client: Client) -> str:
            return "RS256"

        def get_client_claims(self, client: Client) -> dict[str, Any]:
            now = int(time.time())
            party = {"azp": provider.authorized_party} if provider.authorized_party else {}
            return {**party, "iss": provider.issuer, "aud": [provider.audience or client.get_client_id()],
                    "iat": now - (600 if provider.expires_in < 0 else 0), "exp": now + provider.expires_in}

        def get_encode_header(self, client: Client) -> dict[str, str]:
            return {"alg": "RS256", "kid": KEY_ID}

        def get_authorization_code_claims(self, authorization_code: Any) -> dict[str, Any]:
            claims: dict[str, Any] = super().get_authorization_code_claims(authorization_code)
            if provider.wrong_nonce:
                claims["nonce"] = "a-nonce-from-another-sign-in"
            return claims

        def generate_user_info(self, user: str, scope: str) -> dict[str, Any]:
            return {"sub": f"sub-{user}", **provider.people[user]}

    server = AuthorizationServer(app, query_client=lambda client_id: provider.client
                                 if client_id == provider.client.client_id else None,
                                 save_token=lambda token, req: None)
    server.register_grant(CodeGrant, [CodeChallenge(required=True), IdToken(require_nonce=True)])

    @app.get("/.well-known/openid-configuration")
    def discovery() -> Response:
        base = provider.issuer
        return jsonify({
            "issuer": base, "authorization_endpoint": f"{base}/authorize", "token_endpoint": f"{base}/token",
            "jwks_uri": f"{base}/jwks", "response_types_supported": ["code"],
            "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"], "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"]})

    @app.get("/favicon.ico")
    def favicon() -> Response:
        return Response(status=204)

    @app.get("/jwks")
    def jwks() -> Response:
        return jsonify(KeySet([provider.key]).as_dict(private=False))

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize() -> Any:
        if request.method == "GET":
            provider.requests_seen.append(request.args.to_dict())
            server.get_consent_grant(end_user=None)  # a bad request is refused before the page
            return (f'<!DOCTYPE html><html lang="en"><head><title>Test identity provider</title></head><body>'
                    f'<main><h1>Test identity provider</h1><form method="post" action="/authorize?'
                    f'{html.escape(request.query_string.decode())}">'
                    '<label for="user">Your work account</label><input id="user" name="user">'
                    '<button type="submit">Continue</button></form></main></body></html>')
        user = request.form.get("user", "")
        known = user if user in provider.people else None
        grant = server.get_consent_grant(end_user=known)
        return server.create_authorization_response(grant_user=known, grant=grant)

    @app.post("/token")
    def token() -> Any:
        return server.create_token_response()

    return app


@contextmanager
def running_provider(provider: Provider) -> Iterator[Provider]:
    """``provider`` served on 127.0.0.1 from a thread; its ``issuer`` is set to where it listens."""
    server = make_server("127.0.0.1", 0, build_provider_app(provider), threaded=True)
    provider.issuer = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, name="test-oidc-provider", daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        thread.join(timeout=5)
