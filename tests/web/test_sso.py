"""Signing in with an OpenID Connect identity provider, end to end against a real provider over HTTP
(tests/web/oidc_provider.py): discovery, the authorization code flow with PKCE, the ID token's checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from casework.sso import OidcSettings
from casework.users import User
from engine.db import unit_of_work
from engine.models import AuditEvent
from web import create_app

from .oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, running_provider
from .support import PASSWORD, login

CALLBACK = "http://localhost/login/sso/callback"
PEOPLE: dict[str, dict[str, Any]] = {
    "sam.idp": {"email": "SAM@la.example", "email_verified": True, "preferred_username": "sam",
                "groups": ["VSW Social Workers"]},
    "val.idp": {"email": "val@la.example", "preferred_username": "val", "groups": ["VSW Heads", "VSW Admins"]},
    "stranger": {"email": "stranger@la.example", "preferred_username": "stranger", "groups": []},
    "nogroup": {"email": "tess@la.example", "preferred_username": "tess", "groups": ["Finance"]},
}


@pytest.fixture
def provider() -> Iterator[Provider]:
    with running_provider(Provider(people=dict(PEOPLE))) as running:
        running.client.redirect_uris.append(CALLBACK)
        yield running


def oidc(provider: Provider, **changes: Any) -> OidcSettings:
    return OidcSettings(**{"issuer": provider.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                           "name": "Test Council", "redirect_uri": CALLBACK, **changes})


@pytest.fixture
def app_config(app_config: dict[str, object], provider: Provider) -> dict[str, object]:
    return {**app_config, "VSW_OIDC": oidc(provider)}


def sso(client: FlaskClient, user: str, start: str = "/login/sso", callback: str = CALLBACK) -> TestResponse:
    """Start at ``start``, sign in at the provider as ``user``, and come back: the callback's response."""
    begun = client.get(start)
    assert begun.status_code == 302, begun.text
    sign_in_page = requests.get(begun.headers["Location"], timeout=10)
    assert sign_in_page.status_code == 200 and "Your work account" in sign_in_page.text
    at_provider = requests.post(begun.headers["Location"], data={"user": user}, allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == callback
    return client.get(f"{back.path}?{back.query}")


def audit(app: Flask, action: str) -> list[AuditEvent]:
    with unit_of_work(app.extensions["vsw"].sessions) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def roles_of(app: Flask, username: str) -> frozenset[str]:
    with unit_of_work(app.extensions["vsw"].sessions) as session:
        return session.scalars(select(User).where(User.username == username)).one().roles_set


def assert_refused(response: TestResponse, client: FlaskClient, words: str) -> None:
    assert response.status_code == 403, response.text
    assert words in response.text
    assert "Go back to the sign-in page" in response.text
    assert client.get("/").status_code == 302  # no session: the inbox sends them to sign in


def test_the_login_page_offers_sign_in_with_the_named_provider_and_passwords(client: FlaskClient) -> None:
    page = client.get("/login")
    assert "Sign in with Test Council" in page.text
    assert 'href="/login/sso"' in page.text
    assert 'id="password"' in page.text


def test_a_known_user_signs_in_with_the_provider_and_lands_on_their_tasks_with_a_session(
    app: Flask, client: FlaskClient, provider: Provider
) -> None:
    response = sso(client, "sam.idp")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    inbox = client.get("/")
    assert inbox.status_code == 200 and "Your tasks" in inbox.text and "Sam Social" in inbox.text
    (asked,) = provider.requests_seen
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) >= 43
    assert asked["nonce"] and asked["state"] and asked["scope"] == "openid email profile"
    (signed_in,) = audit(app, "sign_in")
    assert signed_in.actor == "sam"
    assert signed_in.data is not None and signed_in.data["method"] == "oidc" and signed_in.data["sub"] == "sub-sam.idp"
    assert roles_of(app, "sam") == {"social_worker"}  # no group mapping configured: roles untouched


def test_after_single_sign_on_the_user_goes_back_to_the_page_they_asked_for_but_never_off_site(
    client: FlaskClient,
) -> None:
    page = client.get("/login?next=/children")
    assert 'href="/login/sso?next=/children"' in page.text
    assert sso(client, "sam.idp", "/login/sso?next=/children").headers["Location"] == "/children"
    other = client.application.test_client()
    assert sso(other, "sam.idp", "/login/sso?next=//evil.example/").headers["Location"] == "/"


def test_an_id_token_for_another_audience_is_refused_with_a_clear_page(
    client: FlaskClient, provider: Provider
) -> None:
    provider.audience = "some-other-service"
    assert_refused(sso(client, "sam.idp"), client, "was meant for another service, not this one")


def test_an_id_token_for_another_audience_is_refused_even_if_it_names_this_service_as_its_party(
    client: FlaskClient, provider: Provider
) -> None:
    provider.audience, provider.authorized_party = "some-other-service", CLIENT_ID
    assert_refused(sso(client, "sam.idp"), client, "was meant for another service, not this one")


def test_an_expired_id_token_is_refused_with_a_clear_page(client: FlaskClient, provider: Provider) -> None:
    provider.expires_in = -300
    assert_refused(sso(client, "sam.idp"), client, "had already expired")


def test_an_id_token_signed_with_a_key_not_in_the_providers_jwks_is_refused(
    client: FlaskClient, provider: Provider
) -> None:
    provider.sign_with_other_key = True
    assert_refused(sso(client, "sam.idp"), client, "whose signature is not valid")


def test_an_id_token_with_another_sign_ins_nonce_is_refused(client: FlaskClient, provider: Provider) -> None:
    provider.wrong_nonce = True
    assert_refused(sso(client, "sam.idp"), client, "its nonce does not match")


def test_an_unknown_user_is_refused_with_a_clear_page_and_not_created(app: Flask, client: FlaskClient) -> None:
    response = sso(client, "stranger")
    assert_refused(response, client, "There is no account in this service for stranger@la.example")
    assert "Accounts are not created when you sign in" in response.text
    with unit_of_work(app.extensions["vsw"].sessions) as session:
        assert session.scalars(select(User).where(User.email == "stranger@la.example")).first() is None
    (failed,) = audit(app, "sign_in_failed")
    assert failed.data is not None and failed.data["reason"] == "unknown_user" and failed.data["method"] == "oidc"
    assert audit(app, "sign_in") == []


def test_a_deactivated_user_is_refused(app: Flask, client: FlaskClient) -> None:
    with unit_of_work(app.extensions["vsw"].sessions) as session:
        session.scalars(select(User).where(User.username == "sam")).one().active = False
    assert_refused(sso(client, "sam.idp"), client, "Your account in this service has been deactivated")


def test_the_same_callback_cannot_be_used_twice(client: FlaskClient, provider: Provider) -> None:
    begun = client.get("/login/sso")
    at_provider = requests.post(begun.headers["Location"], data={"user": "sam.idp"}, allow_redirects=False,
                                timeout=10)
    back = urlsplit(at_provider.headers["Location"])
    assert client.get(f"{back.path}?{back.query}").status_code == 302
    other = client.application.test_client()  # another browser, without this sign-in's state
    replay = other.get(f"{back.path}?{back.query}")
    assert replay.status_code == 400 and "This sign-in has expired" in replay.text
    assert other.get("/").status_code == 302


def test_only_the_newest_sign_in_started_in_a_browser_can_finish(client: FlaskClient) -> None:
    first = client.get("/login/sso").headers["Location"]
    client.get("/login/sso")
    with client.session_transaction() as cookie:
        assert len([key for key in cookie if key.startswith("_state_")]) == 1  # the cookie does not grow
    back = urlsplit(requests.post(first, data={"user": "sam.idp"}, allow_redirects=False,
                                  timeout=10).headers["Location"])
    assert client.get(f"{back.path}?{back.query}").status_code == 400
    assert sso(client, "sam.idp").status_code == 302


def test_a_sign_in_left_waiting_longer_than_an_hour_cannot_finish(client: FlaskClient) -> None:
    begun = client.get("/login/sso").headers["Location"]
    with client.session_transaction() as cookie:
        (key,) = [key for key in cookie if key.startswith("_state_")]
        cookie[key] = {**cookie[key], "exp": 1}
    back = urlsplit(requests.post(begun, data={"user": "sam.idp"}, allow_redirects=False,
                                  timeout=10).headers["Location"])
    response = client.get(f"{back.path}?{back.query}")
    assert response.status_code == 400 and "This sign-in has expired" in response.text


def test_a_person_the_provider_does_not_let_in_is_told_so(client: FlaskClient) -> None:
    begun = client.get("/login/sso")
    denied = requests.post(begun.headers["Location"], data={"user": "nobody-at-all"}, allow_redirects=False,
                           timeout=10)
    back = urlsplit(denied.headers["Location"])
    assert parse_qs(back.query)["error"] == ["access_denied"]
    assert_refused(client.get(f"{back.path}?{back.query}"), client, "did not let you in")


def test_a_user_can_be_matched_by_username_from_another_claim(
    app_config: dict[str, object], provider: Provider
) -> None:
    app = create_app({**app_config, "VSW_OIDC": oidc(provider, claim="preferred_username", match="username")})
    add_users(app)
    client = app.test_client()
    assert sso(client, "val.idp").headers["Location"] == "/"
    assert "Val Head" in client.get("/").text
    app.extensions["vsw"].engine.dispose()


def test_group_mapping_sets_the_users_roles_and_refuses_someone_whose_groups_give_none(
    app_config: dict[str, object], provider: Provider
) -> None:
    mapping = (("VSW Social Workers", frozenset({"social_worker"})), ("VSW Heads", frozenset({"vsh"})),
               ("VSW Admins", frozenset({"admin"})))
    app = create_app({**app_config, "VSW_OIDC": oidc(provider, role_map=mapping)})
    add_users(app)
    client = app.test_client()
    assert sso(client, "val.idp").status_code == 302
    assert roles_of(app, "val") == {"vsh", "admin"}
    (changed,) = audit(app, "roles_set_by_sso")
    assert changed.data == {"user": "val", "before": ["vsh"], "after": ["admin", "vsh"]}
    assert sso(app.test_client(), "sam.idp").status_code == 302
    assert roles_of(app, "sam") == {"social_worker"} and len(audit(app, "roles_set_by_sso")) == 1  # unchanged
    refused = app.test_client()
    assert_refused(sso(refused, "nogroup"), refused, "None of your groups in your organisation gives you a role")
    assert roles_of(app, "tess") == {"designated_teacher"}
    app.extensions["vsw"].engine.dispose()


def test_with_local_passwords_off_the_login_page_offers_only_single_sign_on_and_a_password_is_refused(
    app_config: dict[str, object],
) -> None:
    app = create_app({**app_config, "VSW_LOCAL_PASSWORDS": False})
    add_users(app)
    client = app.test_client()
    page = client.get("/login")
    assert "Sign in with Test Council" in page.text and 'id="password"' not in page.text
    with client.session_transaction() as cookie:  # the page has no form now; a crafted POST still carries one
        cookie["csrf_token"] = "a-token-of-this-browser"
    refused = client.post("/login", data={"username": "sam", "password": PASSWORD,
                                          "csrf_token": "a-token-of-this-browser"})
    assert refused.status_code == 403
    assert "Signing in with a password is turned off for this service" in refused.text
    assert client.get("/").status_code == 302
    app.extensions["vsw"].engine.dispose()


def test_the_environments_settings_reach_the_app_single_sign_on_on_and_passwords_off(
    app_config: dict[str, object], provider: Provider
) -> None:
    from app.settings import Settings

    settings = Settings.from_env({
        "DATABASE_URL": str(app_config["DATABASE_URL"]), "VSW_SECRET_KEY": "k",
        "VSW_BASE_URL": "https://vsw.council.example/",
        "VSW_OIDC_ISSUER": provider.issuer, "VSW_OIDC_CLIENT_ID": CLIENT_ID, "VSW_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "VSW_OIDC_NAME": "Council account", "VSW_LOCAL_PASSWORDS": "0"})
    tests_own = {key: app_config[key] for key in ("TESTING", "VSW_CLOCK", "VSW_RUNTIME", "VSW_PASSWORD_HASHER")}
    app = create_app(tests_own, settings=settings)
    add_users(app)
    client = app.test_client()
    page = client.get("/login")
    assert "Sign in with Council account" in page.text and 'id="password"' not in page.text
    registered = "https://vsw.council.example/login/sso/callback"  # VSW_BASE_URL + /login/sso/callback
    provider.client.redirect_uris[:] = [registered]
    assert sso(client, "sam.idp", callback=registered).headers["Location"] == "/"
    assert provider.requests_seen[-1]["redirect_uri"] == registered
    app.extensions["vsw"].engine.dispose()


def test_an_unreachable_provider_gives_a_clear_page_not_an_error(app_config: dict[str, object]) -> None:
    gone = OidcSettings(issuer="http://127.0.0.1:9", client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    app = create_app({**app_config, "VSW_OIDC": gone})
    response = app.test_client().get("/login/sso")
    assert response.status_code == 503 and "could not reach your organisation" in response.text
    app.extensions["vsw"].engine.dispose()


def test_without_single_sign_on_the_login_page_has_only_passwords_and_the_sso_address_is_not_found(
    app_config: dict[str, object],
) -> None:
    app = create_app({key: value for key, value in app_config.items() if key != "VSW_OIDC"})
    add_users(app)
    client = app.test_client()
    assert "Sign in with" not in client.get("/login").text
    assert client.get("/login/sso").status_code == 404
    assert login(client, "sam").status_code == 302
    app.extensions["vsw"].engine.dispose()


def add_users(app: Flask) -> None:
    from casework.users import UserService
    from tests.hashing import FAST_HASHER

    from .support import USERS

    state = app.extensions["vsw"]
    with unit_of_work(state.sessions) as session:
        users = UserService(session, state.clock, FAST_HASHER)
        for username, (name, roles) in USERS.items():
            if users.by_username(username) is None:
                users.add(username, name, f"{username}@la.example", PASSWORD, roles, "LA-100")


def test_someone_given_a_temporary_password_who_signs_in_with_the_provider_is_not_asked_to_change_it(
    app: Flask, client: FlaskClient
) -> None:
    from sqlalchemy import update

    from casework.users import User

    with unit_of_work(app.extensions["vsw"].sessions) as session:
        session.execute(update(User).where(User.username == "sam").values(must_change_password=True))
    assert sso(client, "sam.idp").status_code == 302
    inbox = client.get("/")
    assert inbox.status_code == 200 and "Your tasks" in inbox.text
    by_password = app.test_client()
    login(by_password, "sam")
    assert by_password.get("/").headers["Location"] == "/account/password"  # a password sign-in still must
