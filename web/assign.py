"""A manager gives tasks to someone else: one task from its page, or many chosen on the task list
(docs/assigning-tasks.md). The rules are casework/assignment.py's; this module reads the form and answers.

- ``/tasks/<id>/assign``: the task, who holds it, and a picker of the people who may take it; posting
  assigns it (the holder the page showed is sent back: if it changed hands meanwhile, 409 and nothing
  changes).
- ``/tasks/reassign?task=<id>&task=<id>…``: the tasks chosen and the people who may take *every* one of
  them; posting assigns them all or none (each task's holder as the page showed it is sent back too).

Only managers (403 otherwise); a task they may not read is 404; someone not eligible is 400 naming
``assignee``; no task chosen is 400 naming ``task``, and more than 100 is 400 too.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from casework import assignment
from casework.assignment import MAX_TASKS, Assigned, Assignments
from casework.children import child_names
from engine.errors import InvalidData

from .auth import login_required
from .context import actor, clock, db, need_to_know, state
from .errors import wants_json

bp = Blueprint("assign", __name__)

RADIOS_UP_TO = 10
"""Up to this many people are offered as radios; more, as a select."""
MANAGERS_ONLY = "Only a manager can give tasks to someone else."


def _assignments() -> Assignments:
    if "manager" not in actor().roles:
        abort(403, description=MANAGERS_ONLY)
    return Assignments(db(), clock(), state().runtime, actor(), need_to_know(), request.host_url.rstrip("/"))


def _chosen() -> str:
    """The person chosen: the username typed (when the list is cut short), else the one picked."""
    return (request.form.get("assignee_other") or request.form.get("assignee") or "").strip()


def _seen_each() -> dict[str, str | None]:
    """Each task's holder as the page showed it (``<task id>:<username>``, nothing after the colon: no one)."""
    pairs = (value.partition(":") for value in request.form.getlist("was"))
    return {task_id: holder or None for task_id, sep, holder in pairs if sep}


def _errors(invalid: InvalidData) -> dict[str, list[str]]:
    if wants_json():
        raise invalid
    return {name: [str(r) for r in (reasons if isinstance(reasons, list) else [reasons])]
            for name, reasons in invalid.errors.items()}


def _page(template: str, service: Assignments, tasks: list[Any], errors: dict[str, list[str]],
          chosen: str) -> tuple[str, int]:
    eligible = service.eligible(tasks)
    return render_template(template, tasks=tasks, task=tasks[0], eligible=eligible, errors=errors, chosen=chosen,
                           names=child_names(db(), (t.business_key for t in tasks)), now=clock().now(),
                           radios=len(eligible.people) <= RADIOS_UP_TO, limit=assignment.PICKER_LIMIT,
                           max_tasks=MAX_TASKS), 400 if errors else 200


def _said(done: Assigned) -> str:
    name = done.to.display_name
    if len(done.changed) + len(done.unchanged) == 1:
        task = (done.changed or done.unchanged)[0]
        return f"‘{task.title}’ is assigned to {name}" + ("" if done.changed else " (it already was)")
    said = f"{len(done.changed)} {'task is' if len(done.changed) == 1 else 'tasks are'} assigned to {name}"
    return said + (f"; {len(done.unchanged)} already were" if done.unchanged else "")


@bp.route("/tasks/<key:task_id>/assign", methods=["GET", "POST"])
@login_required
def one(task_id: str) -> tuple[str, int] | Response:
    service = _assignments()
    tasks = service.tasks([task_id])
    errors: dict[str, list[str]] = {}
    chosen = ""
    if request.method == "POST":
        chosen = _chosen()
        was = request.form.get("was")
        try:
            done = service.assign(task_id, chosen, seen=False if was is None else (was or None))
        except InvalidData as invalid:
            errors = _errors(invalid)
        else:
            flash(_said(done), "success")
            return redirect(url_for("tasks.show", task_id=task_id))
    return _page("tasks/assign.html", service, tasks, errors, chosen)


@bp.route("/tasks/reassign", methods=["GET", "POST"])
@login_required
def many() -> tuple[str, int] | Response:
    service = _assignments()
    ids = (request.form if request.method == "POST" else request.args).getlist("task")
    tasks = service.tasks(ids)
    errors: dict[str, list[str]] = {}
    chosen = ""
    if request.method == "POST":
        chosen = _chosen()
        try:
            done = service.assign_many([t.id for t in tasks], chosen, seen_each=_seen_each())
        except InvalidData as invalid:
            errors = _errors(invalid)
        else:
            flash(_said(done), "success")
            return redirect(url_for("tasks.inbox"))
    return _page("tasks/reassign.html", service, tasks, errors, chosen)
