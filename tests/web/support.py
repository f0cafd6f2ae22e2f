"""Things the web tests share: the test process's forms, users, and request helpers."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient
from marshmallow import Schema, fields, validate
from werkzeug.test import TestResponse

BPMN_DIR = Path(__file__).parent / "bpmn"
PROCESS_ID = "web_move"
CHILD = "CHILD-001"
PASSWORD = "correct horse battery"


class RecordMove(Schema):
    reason = fields.String(
        required=True,
        validate=validate.Length(min=1),
        metadata={
            "label": "Reason for the move",
            "multiline": True,
            "hint": "Say why the placement is changing",
        },
    )
    move_date = fields.Date(required=True, metadata={"label": "Date of the move"})
    emergency = fields.Boolean(required=True, metadata={"label": "Is this an emergency move?"})
    year_group = fields.Integer(
        required=True, validate=validate.Range(min=0, max=14), metadata={"label": "Year group"}
    )
    school_kind = fields.String(
        required=True,
        validate=validate.OneOf(["maintained", "academy"]),
        metadata={
            "label": "Kind of new school",
            "choices": [("maintained", "Maintained school"), ("academy", "Academy")],
        },
    )
    new_school = fields.String(load_default=None, metadata={"label": "New school"})


class VshViews(Schema):
    views = fields.String(
        required=True,
        validate=validate.Length(min=1),
        metadata={"label": "Views of the virtual school head", "multiline": True},
    )


FORMS = {PROCESS_ID: {"record_move": RecordMove, "vsh_views": VshViews}}

GOOD_MOVE = {
    "reason": "Carers moving to Leeds",
    "move_date-day": "14",
    "move_date-month": "12",
    "move_date-year": "2026",
    "emergency": "no",
    "year_group": "9",
    "school_kind": "maintained",
    "new_school": "",
}

USERS = {
    "sam": ("Sam Social", ["social_worker"]),
    "val": ("Val Head", ["vsh"]),
    "tess": ("Tess Teacher", ["designated_teacher"]),
}


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> TestResponse:
    page = client.get("/login")
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf_token(page.text)}
    )


def post_form(client: FlaskClient, page_url: str, action_url: str, data: dict[str, str]) -> TestResponse:
    """Open ``page_url`` like a browser would, then post ``data`` with its CSRF token to ``action_url``."""
    page = client.get(page_url)
    return client.post(action_url, data={**data, "csrf_token": csrf_token(page.text)})
