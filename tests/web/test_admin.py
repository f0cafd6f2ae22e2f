"""``/admin``: the administrator's starting point links every administration page; nobody else gets it."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from casework.users import UserService
from engine.clock import FrozenClock
from engine.db import unit_of_work
from tests.hashing import FAST_HASHER
from tests.web.support import PASSWORD, login


@pytest.fixture
def admin(app: Flask, clock: FrozenClock) -> str:
    with unit_of_work(app.extensions["vsw"].sessions) as session:
        UserService(session, clock, FAST_HASHER).add("ada", "Ada Admin", "ada@la.example", PASSWORD, ["admin"],
                                                     "LA-100")
    return "ada"


def test_the_administrator_sees_the_steps_of_bringing_an_authority_up_in_order(client: FlaskClient,
                                                                                 admin: str) -> None:
    login(client, admin)
    page = client.get("/admin")
    assert page.status_code == 200
    labels = re.findall(r'class="govuk-link" href="[^"]+">([^<]+)</a></dt>', page.text)
    assert labels[:5] == ["1. Schools register", "2. Term dates and rules", "3. Staff", "4. Children",
                          "5. Caseloads"]
    assert {"Users", "Process versions", "Incidents", "Dead letters"} <= set(labels)
    for href in re.findall(r'<dt class="govuk-summary-list__key"><a class="govuk-link" href="([^"]+)"', page.text):
        assert client.get(href).status_code == 200, href
    assert 'href="/admin" aria-current="page"' in page.text


def test_anyone_but_an_administrator_is_refused(client: FlaskClient) -> None:
    login(client, "val")
    assert client.get("/admin").status_code == 403
    assert 'href="/admin"' not in client.get("/").text
