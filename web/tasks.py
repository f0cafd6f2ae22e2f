"""The inbox and task pages: see your tasks, claim them, fill in their forms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from casework.children import child_names
from engine.errors import InvalidData

from .auth import login_required
from .context import actor, clock, db, may_act, need_to_know, workflow
from .errors import wants_json
from .filters import govuk_datetime
from .forms import attach_errors, field_views, fill_views, read_form, recorded_answers
from .paging import page_links, page_number

bp = Blueprint("tasks", __name__)

ALREADY_DONE = "You have already completed this task"


@bp.get("/")
@login_required
def inbox() -> str:
    page = workflow().inbox(actor(), page=page_number())
    names = child_names(db(), (t.business_key for t in page.items))
    return render_template("tasks/inbox.html", tasks=page.items, page=page, pages=page_links(page),
                           names=names, now=clock().now())


def _visible_task(task_id: str) -> Any:
    task = workflow().task(task_id)
    if not need_to_know().may_read_task(task.id):
        abort(404)  # do not confirm that a task exists the user may not read (docs/access.md, "Need to know")
    return task


@dataclass(frozen=True)
class Offers:
    """What the task page offers the reader: only the actions they may take."""

    claim: bool = False
    unclaim: bool = False
    complete: bool = False


def _offers(task: Any) -> Offers:
    if task.state != "open" or not may_act(task.role, task.business_key):
        return Offers()
    me = actor().user_id
    return Offers(claim=task.assignee is None, unclaim=task.assignee == me, complete=task.assignee in (None, me))


@bp.get("/tasks/<key:task_id>")
@login_required
def show(task_id: str) -> str:
    task = _visible_task(task_id)
    schema = workflow().form_schema(task)
    views = field_views(schema) if schema is not None else []
    revising = False
    if _offers(task).complete and getattr(schema, "revise_last_answers", False):
        last = workflow().last_answers(task)  # the step came round again: start from the last answers
        revising = last is not None and fill_views(views, last)
    return _page(task, views, [], revising=revising)


def _page(task: Any, views: list[Any], summary: list[Any], *, revising: bool = False) -> str:
    service = workflow()
    answers = []
    if task.state == "open":  # only what the reader may read of the steps before (docs/access.md)
        schemas = service.runtime.forms.get(task.process_id, {})
        readable = need_to_know().history(task.instance_id, task.process_id, task.business_key)
        answers = recorded_answers(schemas, service.answers(task.instance_id, readable))
    return render_template("tasks/task.html", task=task, fields=views, summary=summary, answers=answers,
                           offers=_offers(task),
                           child_name=child_names(db(), [task.business_key]).get(task.business_key),
                           revising=revising, now=clock().now())


@bp.post("/tasks/<key:task_id>")
@login_required
def complete(task_id: str) -> str | Response | tuple[str, int]:
    service = workflow()
    task = _visible_task(task_id)
    if task.state == "completed" and task.completed_by == actor().user_id and not wants_json():
        # the same person again (another tab, a second click): not a conflict with anyone else
        return render_template("errors/error.html", title=ALREADY_DONE,
                               message=f"You completed ‘{task.title}’ on {govuk_datetime(task.completed_at)}. "
                               "Nothing more was saved.")
    schema = service.form_schema(task)
    views = field_views(schema) if schema is not None else []
    data, read_errors = read_form(views, request.form)
    try:
        service.complete(task_id, data, actor())
    except InvalidData as invalid:
        errors = {**invalid.errors, **read_errors}
        if wants_json():
            raise InvalidData(errors, invalid.message) from None
        summary = attach_errors(views, errors)
        return _page(task, views, summary), 400
    flash(f"‘{task.title}’ is complete", "success")
    return redirect(url_for("tasks.inbox"))


@bp.post("/tasks/<key:task_id>/claim")
@login_required
def claim(task_id: str) -> Response:
    task = _visible_task(task_id)
    workflow().claim(task_id, actor())
    flash(f"‘{task.title}’ is assigned to you", "success")
    return redirect(url_for("tasks.show", task_id=task_id))


@bp.post("/tasks/<key:task_id>/unclaim")
@login_required
def unclaim(task_id: str) -> Response:
    task = _visible_task(task_id)
    workflow().unclaim(task_id, actor())
    flash(f"‘{task.title}’ is no longer assigned to you", "success")
    return redirect(url_for("tasks.show", task_id=task_id))
