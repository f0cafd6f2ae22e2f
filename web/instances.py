"""One process instance: its status, open tasks (with who holds each), where the case is now (a diagram and
the same in words: the flow taken, open tasks, timers with their due dates, messages waited for) and its
history, worded for people (web/history.py), as far as the reader needs to know (docs/access.md, "Need to
know"): an instance of which they read nothing is answered 404, page and diagram alike. The diagram is
drawn from the instance's own definition version (docs/processes.md, "Where a case stands")."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, jsonify, render_template, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from casework.children import child_names
from casework.users import User
from engine.audit import Entries
from engine.diagram_paths import Trail, cached_graph, has_drawing, taken, trail
from engine.models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance

from .auth import login_required
from .context import clock, db, need_to_know, workflow
from .filters import govuk_date, govuk_due, role_name
from .history import element_names, entries
from .paging import page_links, page_number

bp = Blueprint("instances", __name__)
log = logging.getLogger(__name__)

PATH_ACTIONS = ("task_completed", "timer_fired")
"""The audit entries that say an element was passed: a task done, a timer fired."""
UNASSIGNED = "Unassigned"


@dataclass(frozen=True)
class Waiting:
    """A timer the instance waits on, as the reader sees it."""

    element_id: str
    name: str
    due_at: datetime


@dataclass(frozen=True)
class Listening:
    """A message the instance waits for: an intermediate catch event, a receive task, or a boundary event
    that would interrupt (or run beside) the step it is attached to if the message came."""

    element_id: str
    name: str
    message: str
    boundary: bool
    since: datetime


@dataclass(frozen=True)
class OpenTask:
    """An open task the reader reads, with the name of the person who holds it (None: nobody yet)."""

    task: HumanTask
    holder: str | None


@dataclass(frozen=True)
class Readable:
    """An instance the reader may read: which of its history entries (None: all) and its open tasks."""

    instance: ProcessInstance
    definition: ProcessDefinition
    only: Entries | None
    open_tasks: list[HumanTask]

    def shows(self, element_id: str) -> bool:
        return self.only is None or element_id in self.only.elements

    def shows_instance_entries(self) -> bool:
        """The process's own entries (started, a message received, cancelled): a message wait is one."""
        return self.only is None or self.only.instance_entries

    def shows_message(self, element_id: str) -> bool:
        return self.shows(element_id) or self.shows_instance_entries()

    def names(self) -> dict[str, str]:
        return element_names(self.definition.bpmn_xml)


def _readable(instance_id: int) -> Readable:
    service = workflow()
    instance = service.instance(instance_id)
    reading = need_to_know()
    if not reading.may_read_instance(instance):
        abort(404)
    definition = db().get(ProcessDefinition, instance.definition_id)  # the instance's own version
    if definition is None:
        abort(404)
    only = reading.history(instance.id, instance.process_id, instance.business_key)
    return Readable(instance, definition, only, reading.open_tasks(instance.business_key, instance_id=instance.id))


def _waiting(readable: Readable) -> list[Waiting]:
    """The instance's waiting timers of steps the reader reads, soonest first."""
    names = readable.names()
    return [Waiting(t.element_id, names.get(t.element_id, t.name), t.due_at)
            for t in workflow().waiting_timers(readable.instance.id) if readable.shows(t.element_id)]


def _listening(readable: Readable) -> list[Listening]:
    """The messages the instance waits for, as far as the reader reads them, in the order they began."""
    names = readable.names()
    return [Listening(m.element_id, names.get(m.element_id, m.name), m.message, bool(m.boundary), m.since)
            for m in workflow().waiting_messages(readable.instance.id) if readable.shows_message(m.element_id)]


def _holders(tasks: Iterable[HumanTask]) -> list[OpenTask]:
    """Each task with its holder's display name (the username if they have none), in one query."""
    held = sorted({t.assignee for t in tasks if t.assignee})
    names: dict[str, str] = {}
    if held:
        query = select(User.username, User.display_name).where(User.username.in_(held))
        names = {str(u): str(n) for u, n in db().execute(query) if n and str(n).strip()}
    return [OpenTask(t, names.get(t.assignee, t.assignee) if t.assignee else None) for t in tasks]


def _passed(readable: Readable) -> list[str]:
    """The elements the instance has passed (tasks completed, timers fired) that the reader reads, in order."""
    query = (select(AuditEvent.element_id)
             .where(AuditEvent.instance_id == readable.instance.id, AuditEvent.action.in_(PATH_ACTIONS),
                    AuditEvent.element_id.is_not(None))
             .order_by(AuditEvent.id))
    if readable.only is not None:
        query = query.where(readable.only.condition())
    return list(dict.fromkeys(str(e) for e in db().scalars(query)))


def _messages_received(readable: Readable) -> list[str]:
    """The names of the messages the instance has received (an entry of the process's own), if read."""
    if not readable.shows_instance_entries():
        return []
    query = (select(AuditEvent.data)
             .where(AuditEvent.instance_id == readable.instance.id, AuditEvent.action == "message_received")
             .order_by(AuditEvent.id))
    return list(dict.fromkeys(str(d["message"]) for d in db().scalars(query)
                              if isinstance(d, dict) and d.get("message")))


def _trail(readable: Readable) -> Trail | None:
    """The engine's own record of where this one instance's tokens went (its task tree, loaded and never
    saved); None if it cannot be read (the flows are then worked out from the BPMN alone: a drawing is
    never worth a failed page)."""
    try:
        return trail(workflow().steps.load(readable.instance.id, clock().now()).workflow)
    except Exception:  # a state this code cannot read is an incident's business, not the diagram's
        log.warning("instance %s: its task tree could not be read for the diagram", readable.instance.id,
                    exc_info=True)
        return None


@bp.get("/instances/<id:instance_id>")
@login_required
def show(instance_id: int) -> str:
    readable = _readable(instance_id)
    instance = readable.instance
    history = workflow().history_page(instance_id, page_number(), per_page=50, only=readable.only)
    forms = workflow().runtime.forms.get(instance.process_id, {})
    return render_template(
        "instances/instance.html",
        instance=instance,
        child_name=child_names(db(), [instance.business_key]).get(instance.business_key),
        process_name=readable.definition.name,
        definition=readable.definition,
        drawn=has_drawing(readable.definition.bpmn_xml),
        partial=readable.only is not None,
        open_tasks=_holders(readable.open_tasks),
        timers=_waiting(readable),
        messages=_listening(readable),
        history=entries(history.items, forms, readable.names()),
        page=history,
        pages=page_links(history),
        now=clock().now(),
    )


@bp.get("/instances/<id:instance_id>/diagram.json")
@login_required
def diagram(instance_id: int) -> Response:
    """The process's BPMN (the instance's own version) and where this instance is, for
    ``static/js/diagram.js`` (the shape is documented at its top): the elements passed and the flows taken,
    the open tasks with their holders, the waiting timers with their due dates and the messages waited
    for, each only if the reader reads that step."""
    readable = _readable(instance_id)
    instance, definition = readable.instance, readable.definition
    timers, messages = _waiting(readable), _listening(readable)
    graph = cached_graph(definition.content_sha256, definition.bpmn_xml, instance.process_id)
    waiting_for = {m.element_id for m in messages}
    received = [e for name in _messages_received(readable) for e in graph.catchers.get(name, [])
                if e not in waiting_for and readable.shows_message(e)]
    completed = list(dict.fromkeys(_passed(readable) + received))
    current = _holders(readable.open_tasks)
    waits = [*(t.task.element_id for t in current), *(t.element_id for t in timers), *waiting_for]
    path = taken(graph, completed, waits, path=_trail(readable), ended=instance.status == "completed")
    body: dict[str, Any] = {
        "process_id": instance.process_id,
        "version": definition.version,
        "status": instance.status,
        "drawn": has_drawing(definition.bpmn_xml),
        "xml": definition.bpmn_xml,
        "completed": completed,
        "through": path.through,
        "flows": path.flows,
        "current": [{"id": t.task.element_id, "name": t.task.title, "task_id": t.task.id,
                     "role": role_name(t.task.role), "holder": t.holder or UNASSIGNED,
                     "due": govuk_due(t.task.due_at) or None,
                     "due_at": t.task.due_at.isoformat() if t.task.due_at else None,
                     "href": url_for("tasks.show", task_id=t.task.id)} for t in current],
        "timers": [{"id": t.element_id, "name": t.name, "due_at": t.due_at.isoformat(),
                    "due": govuk_due(t.due_at)} for t in timers],
        "messages": [{"id": m.element_id, "name": m.name, "message": m.message, "boundary": m.boundary,
                      "since": govuk_date(m.since), "since_at": m.since.isoformat()} for m in messages],
    }
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response
