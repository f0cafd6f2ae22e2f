"""Signing in with the council's identity provider: OpenID Connect, authorization code flow with PKCE.

``GET /login/sso`` sends the browser to the provider (found by discovery at the issuer's
``/.well-known/openid-configuration``) with a fresh ``state``, ``nonce`` and PKCE ``code_challenge``
(S256), kept in this browser's signed session cookie by Authlib's Flask client. ``GET /login/sso/callback``
checks the state, exchanges the code (with the PKCE verifier and the client secret) at the token
endpoint, and verifies the ID token: its signature against the provider's JWKS (fetched again when a
key id is new), its issuer, its audience (this client id), its expiry and its nonce. The verified
claims name a user who must already exist (``casework/sso.py``); the same server-side session as a
password sign-in then starts (``casework/sessions.py``). Anything refused gets a page saying why, and
no session. docs/sso.md.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import requests
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, url_for
from flask import session as cookie
from joserfc.errors import BadSignatureError, ClaimError, ExpiredTokenError, JoseError
from werkzeug.wrappers import Response

from casework.sso import OidcSettings, SingleSignOn, SsoRefused
from engine.db import unit_of_work

from .auth import SESSION_KEY, _safe_next, session_store
from .context import clock, state

bp = Blueprint("sso", __name__)
SIGNED_IN_WITH_PROVIDER = "signed_in_with_provider"
"""Set in the (signed) session cookie of a sign-in through the identity provider."""
log = logging.getLogger(__name__)
CLIENT = "vsw_oidc_client"
NEXT_KEY = "sso_next"
TIMEOUT_SECONDS = 10
"""How long one request to the identity provider may take."""
PAGE = "auth/sso_refused.html"
STATE_PREFIX = "_state_idp_"
"""How Authlib's Flask client names a pending sign-in in the session cookie (client name ``idp``)."""


def init_app(app: Flask, settings: object | None) -> None:
    """Single sign-on from ``settings.oidc`` (or ``VSW_OIDC`` in a test's config), and whether local passwords
    are on (``settings.local_passwords`` / ``VSW_LOCAL_PASSWORDS``)."""
    oidc: OidcSettings | None = app.config.get("VSW_OIDC") or getattr(settings, "oidc", None)
    app.config["VSW_OIDC"] = oidc
    if "VSW_LOCAL_PASSWORDS" not in app.config:
        app.config["VSW_LOCAL_PASSWORDS"] = bool(getattr(settings, "local_passwords", True))
    if oidc is None and not app.config["VSW_LOCAL_PASSWORDS"]:
        raise RuntimeError("Local passwords are turned off but single sign-on is not set up: nobody could sign in")
    if oidc is not None:
        app.extensions[CLIENT] = OAuth(app).register(
            "idp", client_id=oidc.client_id, client_secret=oidc.client_secret,
            server_metadata_url=oidc.metadata_url,
            client_kwargs={"scope": oidc.scopes, "code_challenge_method": "S256",
                           "default_timeout": TIMEOUT_SECONDS})
    app.register_blueprint(bp)


@bp.app_context_processor
def sign_in_choices() -> dict[str, Any]:
    """What the sign-in page offers: ``sso_name`` (None: no single sign-on) and ``local_passwords``."""
    oidc: OidcSettings | None = current_app.config.get("VSW_OIDC")
    return {"sso_name": oidc.name if oidc else None,
            "local_passwords": bool(current_app.config.get("VSW_LOCAL_PASSWORDS", True))}


def _settings() -> OidcSettings:
    oidc: OidcSettings | None = current_app.config.get("VSW_OIDC")
    if oidc is None:
        abort(404, description="Single sign-on is not set up for this service")
    return oidc


def _refused(title: str, message: str, status: int) -> tuple[str, int]:
    return render_template(PAGE, title=title, message=message), status


def _unreachable(exc: Exception) -> tuple[str, int]:
    log.warning("single sign-on: the identity provider could not be used: %s", exc)
    return _refused("Your organisation's sign-in is not available",
                    "This service could not reach your organisation's sign-in service. Try again in a few "
                    "minutes; if it keeps happening, tell your IT service desk.", 503)


@bp.get("/login/sso")
def start() -> Response | tuple[str, int]:
    oidc = _settings()
    client: Any = current_app.extensions[CLIENT]
    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError) as exc:
        client.server_metadata.pop("_loaded_at", None)
        return _unreachable(exc)
    if str(metadata.get("issuer", "")).rstrip("/") != oidc.issuer.rstrip("/"):
        client.server_metadata.pop("_loaded_at", None)  # read it again next time
        return _unreachable(ValueError(f"discovery names issuer {metadata.get('issuer')!r}, not {oidc.issuer!r}"))
    _forget_states(everything=True)  # only the newest sign-in in this browser can finish: a small cookie
    cookie[NEXT_KEY] = request.args.get("next", "")
    redirect_uri = oidc.redirect_uri or url_for("sso.callback", _external=True)
    response: Response = client.authorize_redirect(redirect_uri)
    return response


@bp.get("/login/sso/callback")
def callback() -> Response | tuple[str, int]:
    oidc = _settings()
    client: Any = current_app.extensions[CLIENT]
    _forget_states(everything=False)
    try:
        claims_options = {"iss": {"essential": True, "values": [client.load_server_metadata()["issuer"]]},
                          "aud": {"essential": True, "values": [oidc.client_id]},
                          "exp": {"essential": True}}
        token = client.authorize_access_token(claims_options=claims_options, leeway=60)
    except MismatchingStateError:
        return _refused("This sign-in has expired",
                        "This sign-in did not start here, has already been used or has expired. Start again "
                        "from the sign-in page.", 400)
    except OAuthError as exc:
        log.warning("single sign-on: the identity provider answered %s: %s", exc.error, exc.description)
        if exc.error == "access_denied":
            return _refused("You were not signed in", "Your organisation's sign-in did not let you in, or you "
                                                      "cancelled it. Start again from the sign-in page.", 403)
        return _refused("You were not signed in", f"Your organisation's sign-in refused this service "
                                                  f"({exc.error}). Tell your IT service desk.", 403)
    except JoseError as exc:
        log.warning("single sign-on: an ID token was refused: %s", exc)
        return _refused("You were not signed in", _token_problem(exc), 403)
    except (requests.RequestException, ValueError) as exc:
        return _unreachable(exc)
    claims = token.get("userinfo")
    if not claims:
        return _refused("You were not signed in", "Your organisation's sign-in sent no ID token. Tell your IT "
                                                  "service desk.", 403)
    previous = cookie.get(SESSION_KEY)
    refused: SsoRefused | None = None
    with unit_of_work(state().sessions) as own:  # the sign-in, or the refusal's audit, is saved either way
        try:
            user = SingleSignOn(own, clock(), oidc).sign_in(dict(claims), request.remote_addr)
            session_token, _row = session_store(own).start(
                user, request.remote_addr, replacing=previous if isinstance(previous, str) else None)
        except SsoRefused as exc:
            refused = exc
    if refused is not None:
        return _refused("You cannot sign in to this service", refused.message, 403)
    next_url = cookie.get(NEXT_KEY, "")
    cookie.clear()  # a fresh session (and CSRF token) for the signed-in user
    cookie[SESSION_KEY] = session_token
    cookie[SIGNED_IN_WITH_PROVIDER] = True  # no local password to change (web/staff.py)
    return redirect(_safe_next(next_url if isinstance(next_url, str) else ""))


def _forget_states(*, everything: bool) -> None:
    """Drop the cookie's pending sign-ins (Authlib's ``_state_<name>_<state>`` keys): all, or those past their
    expiry (Authlib keeps one an hour but does not check that when it reads it)."""
    now = time.time()
    for key in [key for key in cookie if key.startswith(STATE_PREFIX)]:
        pending = cookie.get(key)
        if everything or not isinstance(pending, dict) or float(pending.get("exp") or 0) < now:
            cookie.pop(key, None)


def _token_problem(exc: JoseError) -> str:
    """What was wrong with the ID token, in words (the details go to the log)."""
    tail = " This may be a setting in your organisation's sign-in service: tell your IT service desk."
    if isinstance(exc, ExpiredTokenError):
        return ("Your organisation's sign-in sent proof of who you are that had already expired. Check this "
                "computer's clock is right, then start again from the sign-in page.")
    if isinstance(exc, BadSignatureError):
        return "Your organisation's sign-in sent proof of who you are whose signature is not valid." + tail
    if isinstance(exc, ClaimError):
        what = {"aud": "was meant for another service, not this one",
                "iss": "came from another issuer than the one this service trusts",
                "nonce": "does not belong to this sign-in (its nonce does not match)",
                "azp": "was issued to another service"}.get(exc.claim, f"has a wrong or missing {exc.claim!r}")
        return f"Your organisation's sign-in sent proof of who you are that {what}." + tail
    return "Your organisation's sign-in sent proof of who you are that this service cannot check." + tail
