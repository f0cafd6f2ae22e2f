"""Single sign-on in a real Chromium: the sign-in page offers the council's provider, the provider's own page
signs the person in, and the product's pages on the way pass axe (also at 375 px). The provider is the real
one of tests/web/oidc_provider.py; tests/web/test_browser.py has the machinery."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from casework.sso import OidcSettings

from .oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, running_provider
from .test_browser import (
    ARTIFACTS,
    assert_no_serious_accessibility_violations,
    browser,
    live_server,
    page,
    page_overflow,
)
from .test_sso import PEOPLE

pytestmark = pytest.mark.browser
__all__ = ["browser", "live_server", "page"]  # the fixtures this module uses


@pytest.fixture
def provider() -> Iterator[Provider]:
    with running_provider(Provider(people=dict(PEOPLE))) as running:
        yield running


@pytest.fixture
def app_config(app_config: dict[str, object], provider: Provider) -> dict[str, object]:
    settings = OidcSettings(issuer=provider.issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                            name="Test Council")  # the callback is the address the browser came to
    return {**app_config, "VSW_OIDC": settings}


@pytest.fixture
def sso_server(live_server: str, provider: Provider) -> str:
    provider.client.redirect_uris.append(f"{live_server}/login/sso/callback")
    return live_server


def check_page(page: Any, name: str) -> None:
    assert_no_serious_accessibility_violations(page)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 800})
    assert page_overflow(page) == 0, f"{name} scrolls sideways at 375 px"
    assert_no_serious_accessibility_violations(page)
    page.set_viewport_size({"width": 1100, "height": 900})


def through_the_provider(page: Any, server: str, who: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server}/login")
    page.get_by_role("button", name="Sign in with Test Council").click()
    expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()
    page.get_by_label("Your work account").fill(who)
    page.get_by_role("button", name="Continue").click()


def test_a_social_worker_signs_in_through_the_councils_provider_and_sees_their_tasks(
    sso_server: str, page: Any
) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{sso_server}/login")
    expect(page.get_by_role("button", name="Sign in with Test Council")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()
    check_page(page, "sso-login")
    through_the_provider(page, sso_server, "sam.idp")
    expect(page.get_by_role("heading", name="Your tasks")).to_be_visible()
    expect(page.get_by_text("Signed in as Sam Social")).to_be_visible()
    check_page(page, "sso-signed-in")
    assert page.problems == []


def test_someone_without_an_account_is_shown_why_they_cannot_sign_in(sso_server: str, page: Any) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    through_the_provider(page, sso_server, "stranger")
    expect(page.get_by_role("heading", name="You cannot sign in to this service")).to_be_visible()
    expect(page.get_by_text("There is no account in this service for stranger@la.example")).to_be_visible()
    check_page(page, "sso-refused")
    page.get_by_role("link", name="Go back to the sign-in page").click()
    expect(page.get_by_role("button", name="Sign in with Test Council")).to_be_visible()
    assert page.problems == []
