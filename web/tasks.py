"""The inbox and task pages: see your tasks, claim them, fill in their forms, save them as drafts.

A task's form starts from, in order: the reader's draft (engine/drafts.py); the answers of the last time
the step was done, for a step that came round again (a PEP returned red); last term's PEP carried
forward; the facts the records hold (casework/prefill.py). A form whose CSRF token failed comes back with
what was typed, nothing saved (web/csrf.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from casework.children import child_names
from casework.prefill import starting_answers
from engine.drafts import Drafts, TaskDraft
from engine.errors import InvalidData

from . import csrf, work_queue
from .auth import login_required
from .context import actor, clock, db, may_act, need_to_know, workflow
from .errors import wants_json
from .filters import UK, govuk_date, govuk_datetime
from .forms import DATE_PARTS, FieldView, attach_errors, field_views, fill_views, read_form, recorded_answers
from .peps import task_context

bp = Blueprint("tasks", __name__)

ALREADY_DONE = "You have already completed this task"
EXPIRED = "The form had expired, so nothing was saved. Check your answers and save again."


@bp.get("/")
@login_required
def inbox() -> str | tuple[str, int]:
    """The task list people work from: web/work_queue.py."""
    return work_queue.inbox()


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


@dataclass(frozen=True)
class Start:
    """What the form was filled in from, for the page to say so."""

    draft: str | None = None  # "Draft saved at 2:15pm on 1 December 2026"
    revising: bool = False
    carried: str | None = None  # "Started from the autumn 2026 PEP, signed off on …"
    prefilled: bool = False


def _form(task: Any) -> tuple[Any, list[FieldView]]:
    schema = workflow().form_schema(task)
    return schema, field_views(schema) if schema is not None else []


def _fill(task: Any, schema: Any, views: list[FieldView]) -> Start:
    """Fill the form the reader may complete from the first source that has answers (module docstring)."""
    if not _offers(task).complete or not views:
        return Start()
    draft = Drafts(workflow()).for_reader(task, actor())
    if draft is not None:
        read_form(views, draft.data)  # as it was typed: no error is shown for a draft
        return Start(draft=_draft_note(draft))
    if getattr(schema, "revise_last_answers", False):
        last = workflow().last_answers(task)  # the step came round again: start from the last answers
        if last is not None and fill_views(views, last):
            return Start(revising=True)
    answers, carried = starting_answers(db(), clock(), task)
    filled = fill_views(views, answers)
    return Start(carried=carried.message if carried is not None else None, prefilled=filled and carried is None)


def _draft_note(draft: TaskDraft) -> str:
    local = draft.saved_at.astimezone(UK)
    hour = local.hour % 12 or 12
    note = f"Draft saved at {hour}:{local:%M}{'am' if local.hour < 12 else 'pm'} on {govuk_date(local)}"
    return note if draft.saved_by == actor().user_id else f"{note} by {draft.saved_by}"


@bp.get("/tasks/<key:task_id>")
@login_required
def show(task_id: str) -> str:
    task = _visible_task(task_id)
    schema, views = _form(task)
    return _page(task, views, [], start=_fill(task, schema, views))


def _page(task: Any, views: list[Any], summary: list[Any], *, start: Start | None = None) -> str:
    service = workflow()
    answers = []
    if task.state == "open":  # only what the reader may read of the steps before (docs/access.md)
        schemas = service.runtime.forms.get(task.process_id, {})
        readable = need_to_know().history(task.instance_id, task.process_id, task.business_key)
        answers = recorded_answers(schemas, service.answers(task.instance_id, readable))
    return render_template("tasks/task.html", task=task, fields=views, summary=summary, answers=answers,
                           offers=_offers(task),
                           child_name=child_names(db(), [task.business_key]).get(task.business_key),
                           start=start or Start(), now=clock().now(),
                           **(task_context(task) if task.state == "open" else {}))


def _expired(task: Any, views: list[FieldView]) -> tuple[str, int]:
    """The form again, with what was typed and a good token: its CSRF check failed, so nothing was saved."""
    if wants_json():
        abort(400, description=csrf.EXPIRED)
    read_form(views, request.form)
    return _page(task, views, [(EXPIRED, None)]), 400


def _typed(views: list[FieldView], form: Any) -> dict[str, str]:
    """The posted fields that belong to the form (a date's parts, each row's fields), as they were typed."""
    return {name: str(form[name]) for name in _names(views) if name in form}


def _names(views: list[FieldView]) -> list[str]:
    names: list[str] = []
    for view in views:
        if view.kind == "rows":
            names.extend(name for row in view.rows for name in _names(row))
        elif view.kind == "date":
            names.extend(f"{view.name}-{part}" for part in DATE_PARTS)
        else:
            names.append(view.name)
    return names


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
    schema, views = _form(task)
    if csrf.failed():
        return _expired(task, views)
    data, read_errors = read_form(views, request.form)
    try:
        service.complete(task_id, data, actor())
    except InvalidData as invalid:
        errors = {**invalid.errors, **read_errors}
        if wants_json():
            raise InvalidData(errors, invalid.message) from None
        summary = attach_errors(views, errors)
        return _page(task, views, summary), 400
    Drafts(service).discard(task)
    flash(f"‘{task.title}’ is complete", "success")
    return redirect(url_for("tasks.inbox"))


@bp.post("/tasks/<key:task_id>/draft")
@login_required
def draft(task_id: str) -> Response | tuple[str, int]:
    """Keep what was typed without completing anything; an unassigned task becomes yours."""
    task = _visible_task(task_id)
    _, views = _form(task)
    if csrf.failed():
        return _expired(task, views)
    Drafts(workflow()).save(task_id, _typed(views, request.form), actor())
    flash(f"Your draft of ‘{task.title}’ is saved. Only you can see it, and anyone the task is "
          "assigned to later. Nothing is sent until you save and complete the task.", "success")
    return redirect(url_for("tasks.show", task_id=task_id))


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
