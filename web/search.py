"""``/search/schools``, ``/search/people`` and ``/search/authorities``: what the autocomplete fields ask.

``GET /search/schools?q=river`` answers JSON ``{"results": [{"value": "100001", "label": "Riverside Primary
School (100001, SA1 1AA)"}], "more": false}``: at most 10 results, only what the signed-in user may see
(casework/search.py has the rule, a SQL condition). ``/search/people`` takes ``role=`` (a role id, e.g.
``social_worker``) to find only its holders. Signed out: 401. Too long a query or an unknown role: 400.
The fields are text inputs that web/static/js/autocomplete.js enhances, so a typed URN or username still
works without JavaScript.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, request

from casework import search

from .context import current_user, db

bp = Blueprint("search", __name__)


def _answer(results: search.Results) -> Response:
    response = jsonify(results.as_json())
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _signed_in() -> None:
    if current_user() is None:
        abort(401, description="Sign in to search.")


@bp.get("/search/schools")
def schools() -> Response:
    _signed_in()
    return _answer(search.schools(db(), request.args.get("q", "")))


@bp.get("/search/authorities")
def authorities() -> Response:
    _signed_in()
    return _answer(search.authorities(db(), request.args.get("q", "")))


@bp.get("/search/people")
def people() -> Response:
    _signed_in()
    user = current_user()
    assert user is not None
    return _answer(search.people(db(), user, request.args.get("q", ""), request.args.get("role", "")))
