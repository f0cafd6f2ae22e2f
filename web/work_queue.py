"""The work queue page (``/``, endpoint ``tasks.inbox``): the task list people work from, by view, filtered,
searched, sorted and paged in SQL (casework/work_queue.py; docs/work-queues.md).

Everything is in the address (a GET form), so a list is bookmarkable and works without JavaScript. A
filter that is not valid is answered 400 with the page, its error summary naming the field, and the
form as it was typed. A manager gets a checkbox per row in a form that sends the chosen tasks to
``/tasks/reassign``. ``/tasks`` is the same list at another address (a redirect).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from casework.work_queue import (
    LABELS,
    ORDERS,
    SORTS,
    VIEWS,
    Catalogue,
    TaskQuery,
    catalogue,
    may_see_team,
    task_list,
)
from engine.errors import InvalidData

from .auth import login_required
from .context import actor, clock, db, state
from .errors import wants_json

bp = Blueprint("work_queue", __name__)

PER_PAGE = 25
REASSIGN = "/tasks/reassign"
"""Where a manager's chosen tasks go (the assigning pages' own address; not url_for, as it is theirs)."""
FIELD_ANCHORS = {"due_from": "due_from-day", "due_to": "due_to-day"}
"""Where an error summary's link for a field goes (a date: its day box)."""


def queue_url(query: TaskQuery, **changes: Any) -> str:
    """The address of the list for ``query``, with ``changes`` (a view, a page) made."""
    pairs = [(k, v) for k, v in query.args() if k not in changes]
    pairs += [(k, str(v)) for k, v in changes.items() if v not in (None, "") and (k, v) != ("view", "all")]
    return url_for("tasks.inbox") + (f"?{urlencode(pairs)}" if pairs else "")


def _date_parts(name: str) -> dict[str, str]:
    """A date filter's three boxes as typed, or from its ISO form (``due_from=2026-12-01``)."""
    parts = {part: request.args.get(f"{name}-{part}", "") for part in ("day", "month", "year")}
    if not any(parts.values()) and request.args.get(name):
        try:
            given = date.fromisoformat(request.args[name].strip())
        except ValueError:
            return parts
        return {"day": str(given.day), "month": str(given.month), "year": str(given.year)}
    return parts


def _tags(query: TaskQuery, known: Catalogue) -> list[tuple[str, str, str]]:
    """The filters applied: each one's heading, label and the address of the list without it."""
    labels = {
        "process": known.processes.get(query.process, query.process),
        "task": known.task_name(query.process, query.task) if query.task else "",
        "q": f"“{query.q}”",
    }
    tags = []
    for name, value in query.chosen():
        label = labels.get(name) or value
        if name in ("due_from", "due_to"):
            label = getattr(query, name).strftime("%-d %B %Y")
        tags.append((LABELS[name], label, queue_url(query.without(name))))
    return tags


def inbox() -> tuple[str, int] | str:
    session = db()
    runtime = state().runtime
    known = catalogue(session, runtime)
    me = actor()
    manager = may_see_team(session, runtime.access, me)
    errors: dict[str, list[str]] = {}
    try:
        query = TaskQuery.parse(request.args.to_dict(flat=False), known)
    except InvalidData as invalid:
        if wants_json():
            raise
        errors = {k: list(v) for k, v in invalid.errors.items()}
        view = request.args.get("view", "all")  # the view asked for stays, so correcting the filters keeps it
        query = TaskQuery(view=view if view in VIEWS and "view" not in errors and (view != "team" or manager)
                          else "all")
    page = None if errors else task_list(session, runtime, me, query, clock(), PER_PAGE)
    pages = {"previous": queue_url(query, page=query.page - 1) if page and page.has_previous else None,
             "next": queue_url(query, page=query.page + 1) if page and page.has_next else None}
    views = {name: label for name, label in VIEWS.items() if name != "team" or manager}
    html = render_template(
        "tasks/inbox.html", rows=page.items if page else [], page=page, pages=pages, query=query, known=known,
        errors=errors, anchors=FIELD_ANCHORS, labels=LABELS, views=views,
        view_links={name: queue_url(query, view=name, page=None) for name in views},
        tags=[] if errors else _tags(query, known), clear_url=queue_url(TaskQuery(view=query.view, sort=query.sort, order=query.order)),
        raw=request.args, dates={name: _date_parts(name) for name in ("due_from", "due_to")},
        sorts=SORTS, orders=ORDERS, manager=manager, reassign=REASSIGN, me=me.user_id, now=clock().now(),
    )
    return (html, 400) if errors else html


@bp.get("/tasks")
@login_required
def tasks() -> Response:
    """The task list's other address: the same list, with the same query."""
    query = urlencode(list(request.args.items(multi=True)))
    return redirect(url_for("tasks.inbox") + (f"?{query}" if query else ""))
