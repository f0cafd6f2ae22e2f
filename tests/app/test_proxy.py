"""Behind ``VSW_TRUSTED_PROXIES`` reverse proxies the app takes the client's address and scheme from their
``X-Forwarded-For`` and ``X-Forwarded-Proto``; without the setting it ignores those headers (anyone could
send them). docs/deployment.md, "Reverse proxy"."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask, request

from app.settings import Settings, SettingsError
from app.wiring import create_web_app

FORWARDED = {"X-Forwarded-For": "203.0.113.7, 198.51.100.2", "X-Forwarded-Proto": "https"}
PROXY = {"REMOTE_ADDR": "10.0.0.2"}


def production_app(db_url: str, proxies: int) -> Iterator[Flask]:
    app = create_web_app(Settings(database_url=db_url, secret_key="s" * 32, trusted_proxies=proxies))

    @app.get("/client")
    def client() -> str:
        return f"{request.remote_addr} {request.scheme}"

    yield app
    app.extensions["vsw"].engine.dispose()


@pytest.fixture
def behind_one_proxy(db_url: str) -> Iterator[Flask]:
    yield from production_app(db_url, 1)


@pytest.fixture
def without_a_proxy(db_url: str) -> Iterator[Flask]:
    yield from production_app(db_url, 0)


def test_behind_one_trusted_proxy_the_client_is_the_address_that_proxy_saw(behind_one_proxy: Flask) -> None:
    answer = behind_one_proxy.test_client().get("/client", headers=FORWARDED, environ_base=PROXY)
    assert answer.text == "198.51.100.2 https"  # the last hop, added by the one proxy we trust


def test_without_the_setting_forwarded_headers_are_ignored(without_a_proxy: Flask) -> None:
    answer = without_a_proxy.test_client().get("/client", headers=FORWARDED, environ_base=PROXY)
    assert answer.text == "10.0.0.2 http"


def test_the_number_of_trusted_proxies_is_read_from_the_environment() -> None:
    assert Settings.from_env({}).trusted_proxies == 0
    assert Settings.from_env({"VSW_TRUSTED_PROXIES": "2"}).trusted_proxies == 2


@pytest.mark.parametrize("value", ["yes", "-1", "6", "1.5", "²"])
def test_a_number_of_trusted_proxies_that_is_not_0_to_5_is_refused_naming_the_variable(value: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"VSW_TRUSTED_PROXIES": value})
    assert refused.value.message == ("The settings are not valid: VSW_TRUSTED_PROXIES: give the number of "
                                     f"reverse proxies in front of the app, 0 to 5, not {value!r}")
