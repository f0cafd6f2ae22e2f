"""Generated junk, posted to every form and every route, is never a 5xx; what is refused changes nothing.

Hypothesis (derandomized: the same examples every run) makes the junk: text with control characters and
NULs, huge and negative numbers, Unicode digits, very long strings, wrong types, extra and missing
fields. Every response must be below 500; a refused one (4xx) must leave every table as it was and add
nothing to the audit trail. A request that is accepted may change things (viewing a child is audited).

The forms: each schema of ``processes.forms.FORMS`` in turn is made the form of a real open task (C-1's
``social_worker_contribution``), and junk is posted to it with one field surely refused (a control
character), so the task stays open for the next example; every other field is junk or a good answer.

The routes: every rule of the app's URL map, by GET and POST (with a good CSRF token), with junk in its
path parameters, query string and form, as each kind of user and signed out.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema
from sqlalchemy import Engine, select
from werkzeug.test import TestResponse

from engine.models import HumanTask
from processes.forms import FORMS
from tests.casework.world import World
from web.forms import DATE_PARTS, FieldView, field_views

from . import case_fixtures
from .case_world import PASSWORD
from .snapshot import audit_count, snapshot
from .support import csrf_token, login

FUZZ = settings(max_examples=150, derandomize=True, database=None, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.filter_too_much])
TARGET = ("pep_review", "social_worker_contribution")
ALL_FORMS = sorted({(process_id, task_id, schema) for process_id, forms in FORMS.items()
                    for task_id, schema in forms.items()}, key=lambda f: (f[0], f[1]))
CONTROL = [chr(c) for c in [*range(0, 9), 11, 12, *range(14, 32), 127]]
ROLES = ("sw", "dt100001", "vsh", "manager", "admin")


world = case_fixtures.world
app = case_fixtures.app


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, username, PASSWORD).status_code == 302
    return client


# -- junk ---------------------------------------------------------------------------------------------------

any_text = st.text(st.characters(codec="utf-8"), max_size=40)
control_text = st.builds(lambda a, c, b: f"{a}{c}{b}", st.text(max_size=5), st.sampled_from(CONTROL),
                         st.text(max_size=5))
long_text = st.builds(lambda n, c: c * n, st.sampled_from([201, 1001, 5001, 10_001, 120_000]),
                      st.sampled_from(["x", "é", "\n", " "]))
digits = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["2147483648", "9223372036854775808", "9" * 20, "9" * 5000, "-1", "0", "00", "1e400",
                     "nan", "inf", "-0", "1.5", "0x10", "١٢", "²", "½", "٣٠٠٠", " 7 ", "7,000"]),
    st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=6),
)
junk = st.one_of(any_text, control_text, long_text, digits, st.sampled_from(["", " ", "yes", "no", "true"]))
field_names = st.one_of(st.text(max_size=12),
                        st.sampled_from(["csrf_token", "actions", "actions-0", "_schema"]))


def good_answers(view: FieldView) -> st.SearchStrategy[str]:
    """Answers that pass the field's own reading (not necessarily the schema's cross-field rules)."""
    if view.kind == "boolean":
        return st.sampled_from(["yes", "no"])
    if view.kind == "choice":
        return st.sampled_from([value for value, _ in view.choices])
    if view.kind in ("integer", "number"):
        low, high = int(view.minimum or 0), int(view.maximum if view.maximum is not None else 100)
        return st.integers(min_value=low, max_value=high).map(str)
    return st.text(st.characters(categories=["L", "N", "Zs", "P"]), min_size=1, max_size=30)


def form_names(views: list[FieldView]) -> list[tuple[str, FieldView]]:
    """Every posted name of ``views`` (a date's three parts, each row's sub-fields) with its field."""
    names: list[tuple[str, FieldView]] = []
    for view in views:
        if view.kind == "rows":
            for row in view.rows:
                names.extend(form_names(row))
        elif view.kind == "date":
            names.extend((f"{view.name}-{part}", view) for part in DATE_PARTS)
        else:
            names.append((view.name, view))
    return names


@st.composite
def junk_form(draw: st.DrawFn, schema: type[Schema]) -> dict[str, str]:
    """A posted form for ``schema``: every field junk, a good answer or left out; one field surely refused."""
    names = form_names(field_views(schema()))
    form: dict[str, str] = {}
    for name, view in names:
        choice = draw(st.sampled_from(["junk", "good", "missing"]))
        if choice == "junk":
            form[name] = draw(junk)
        elif choice == "good":
            form[name] = draw(digits if name.endswith(DATE_PARTS) else good_answers(view))
    form.update(draw(st.dictionaries(field_names, junk, max_size=3)))
    refused_name = draw(st.sampled_from([name for name, _ in names]))
    form[refused_name] = draw(control_text)
    return form


def refuses_and_changes_nothing(engine: Engine, send: object) -> TestResponse:
    before, audited = snapshot(engine), audit_count(engine)
    response = send()  # type: ignore[operator]
    assert isinstance(response, TestResponse)
    assert response.status_code < 500, response.text[:2000]
    if response.status_code >= 400:
        assert snapshot(engine) == before
        assert audit_count(engine) == audited
    return response


# -- every form ---------------------------------------------------------------------------------------------


def test_junk_posted_to_every_form_of_every_user_task_is_a_4xx_that_changes_nothing(
    app: Flask, world: World
) -> None:
    engine: Engine = app.extensions["vsw"].engine
    runtime = app.extensions["vsw"].runtime
    with world.session() as session:
        task_id = session.scalars(select(HumanTask.id).where(
            HumanTask.business_key == "C-1", HumanTask.process_id == TARGET[0],
            HumanTask.element_id == TARGET[1], HumanTask.state == "open")).one()
    client = signed_in(app, "sw")
    url = f"/tasks/{task_id}"
    token = csrf_token(client.get(url).text)
    tried: set[tuple[str, str]] = set()

    @FUZZ
    @given(st.data())
    def post_junk(data: st.DataObject) -> None:
        process_id, element_id, schema = data.draw(st.sampled_from(ALL_FORMS))
        tried.add((process_id, element_id))
        runtime.forms = {**FORMS, TARGET[0]: {**FORMS[TARGET[0]], TARGET[1]: schema}}
        form = data.draw(junk_form(schema))
        headers = {"Accept": data.draw(st.sampled_from(["text/html", "application/json"]))}
        response = refuses_and_changes_nothing(
            engine, lambda: client.post(url, data={**form, "csrf_token": token}, headers=headers))
        assert response.status_code in (400, 413), response.text[:2000]

    try:
        post_junk()
    finally:
        runtime.forms = FORMS
    assert len(tried) >= len(ALL_FORMS) // 3  # sampled broadly, not one form over and over
    assert client.get(url).status_code == 200  # the task is still open, and the page still renders


# -- every route --------------------------------------------------------------------------------------------


PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")


def real_values(world: World) -> list[str]:
    with world.session() as session:
        tasks = list(session.scalars(select(HumanTask.id).limit(3)))
    return [*tasks, "C-1", "C-2", "1", "2", str(2**31 - 1), str(2**31), str(2**63), "0", "-1", "01", "css"]


@st.composite
def junk_path(draw: st.DrawFn, rule: str, real: list[str]) -> str:
    def fill(match: re.Match[str]) -> str:
        value = draw(st.one_of(st.sampled_from(real), junk, st.text(max_size=300)))
        return quote(value, safe="") or "x"

    return PARAMETER.sub(fill, rule)


junk_query = st.lists(st.tuples(st.one_of(st.sampled_from(["page", "kind", "next"]), field_names), junk),
                      max_size=3)


def test_junk_sent_to_every_route_as_every_kind_of_user_is_never_a_server_error(
    app: Flask, world: World
) -> None:
    engine: Engine = app.extensions["vsw"].engine
    clients = {role: signed_in(app, role) for role in ROLES}
    clients["signed out"] = app.test_client()
    clients["signed out"].environ_base["REMOTE_ADDR"] = "192.0.2.1"  # its sign-in throttle is its own
    tokens = {role: csrf_token(client.get("/login").text) if role == "signed out"
              else csrf_token(client.get("/notifications").text) for role, client in clients.items()}
    rules = sorted({(rule.rule, method) for rule in app.url_map.iter_rules()
                    for method in sorted((rule.methods or set()) & {"GET", "POST"})})
    real = real_values(world)
    tried: set[tuple[str, str]] = set()
    answered: dict[int, int] = {}

    @settings(FUZZ, max_examples=max(300, 8 * len(rules)))  # about 8 tries a route: most routes are reached
    @given(st.data())
    def send_junk(data: st.DataObject) -> None:
        role = data.draw(st.sampled_from(sorted(clients)))
        rule, method = data.draw(st.sampled_from(rules))
        if rule == "/logout" and role != "signed out":
            return  # signing out is not junk: it would end the session every later example uses
        tried.add((rule, method))
        path = data.draw(junk_path(rule, real))
        query = urlencode(data.draw(junk_query))
        url = f"{path}?{query}" if query else path
        client = clients[role]
        if method == "GET":
            response = refuses_and_changes_nothing(engine, lambda: client.get(url))
        else:
            form = {**data.draw(st.dictionaries(field_names, junk, max_size=4)), "csrf_token": tokens[role]}
            response = refuses_and_changes_nothing(engine, lambda: client.post(url, data=form))
        answered[response.status_code] = answered.get(response.status_code, 0) + 1

    send_junk()
    assert len(tried) >= len(rules) * 2 // 3
    assert {200, 302, 400, 404} <= set(answered), answered  # pages, redirects and refusals were all reached
    print(f"route fuzz: rules tried {len(tried)}/{len(rules)}; answers {dict(sorted(answered.items()))}")
