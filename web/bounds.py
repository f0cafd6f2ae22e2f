"""What a request may carry, checked before any view runs, so that no input can cause a 500.

One rule for addresses: a route parameter that cannot name anything is **404** (no such page), exactly
like an unknown address. ``<id:…>`` is a whole number from 1 to 2³¹ - 1 written without leading zeros
(every id column fits a 32-bit integer on PostgreSQL); ``<key:…>`` (a child's reference, a task id) is 1
to 100 characters with no slash and no control character. A control character anywhere in the path is
404 too.

Everything else is **400 naming the field**: a query parameter or a form field whose name or value has
a C0 control character (U+0000 to U+001F) or DEL (tab, CR and LF are allowed in form values), and a
query parameter over 2,000 characters. A task form's fields are read by :func:`web.forms.read_form`,
which refuses them the same way but on the form, next to the field, keeping the rest of the answers.

A request body over :data:`MAX_CONTENT_LENGTH` is **413** (Flask's ``MAX_CONTENT_LENGTH``; a test may
set another). An unknown address or an unsupported method is 404 or 405 before any of these checks and
before the CSRF check (:mod:`web.csrf`).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, abort, request
from werkzeug.routing import BaseConverter, ValidationError

MAX_ID = 2**31 - 1
MAX_KEY_LENGTH = 100
MAX_QUERY_VALUE = 2000
MAX_CONTENT_LENGTH = 1024 * 1024
"""The largest request body, in bytes (1 MiB): far more than any form's answers at their limits."""
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_IN_VALUE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Control characters refused in a form value: all but tab, line feed and carriage return."""
FORMS_READ_BY_FIELD = frozenset({"tasks.complete"})
"""Endpoints whose form fields :func:`web.forms.read_form` checks itself (the error shows on the form)."""
NOT_ALLOWED = "contains a character that is not allowed"


class IdConverter(BaseConverter):
    """``<id:name>``: a whole number from 1 to :data:`MAX_ID`; anything else matches no route (404)."""

    regex = r"[1-9][0-9]{0,9}"
    weight = 50

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValidationError()
        return number

    def to_url(self, value: Any) -> str:
        return str(int(value))


class KeyConverter(BaseConverter):
    """``<key:name>``: 1 to :data:`MAX_KEY_LENGTH` characters, no slash, no control character."""

    regex = rf"[^/\x00-\x1f\x7f]{{1,{MAX_KEY_LENGTH}}}"


def refuse_bad_input() -> None:
    """The central guard (a ``before_request``): see the module's rules."""
    if request.routing_exception is not None:
        return  # 404 or 405: Flask raises it when it dispatches
    if CONTROL.search(request.path):
        abort(404)
    for name, value in request.args.items(multi=True):
        if CONTROL.search(name) or CONTROL.search(value):
            _refuse(name, "A parameter")
        if len(value) > MAX_QUERY_VALUE:
            abort(400, description=f"{_named(name, 'A parameter')} must be {MAX_QUERY_VALUE:,} characters "
                                   "or fewer")
    if request.method in ("GET", "HEAD", "OPTIONS") or request.endpoint in FORMS_READ_BY_FIELD:
        return
    for name, value in request.form.items(multi=True):
        if CONTROL.search(name) or CONTROL_IN_VALUE.search(value):
            _refuse(name, "A field")


def _named(name: str, otherwise: str) -> str:
    return name if name and not CONTROL.search(name) and len(name) <= MAX_KEY_LENGTH else otherwise


def _refuse(name: str, otherwise: str) -> None:
    abort(400, description=f"{_named(name, otherwise)} {NOT_ALLOWED}")


def init_app(app: Flask) -> None:
    app.url_map.converters["id"] = IdConverter
    app.url_map.converters["key"] = KeyConverter
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
    app.before_request(refuse_bad_input)
