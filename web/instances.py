"""One process instance: its status, open tasks, where the case is now (a diagram and the same in words)
and its history, worded for people (web/history.py), as far as the reader needs to know (docs/access.md,
"Need to know"): an instance of which they read nothing is answered 404, page and diagram alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, jsonify, render_template
from sqlalchemy import select
from werkzeug.wrappers import Response

from casework.children import child_names
from engine.audit import Entries
from engine.models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance

from .auth import login_required
from .context import clock, db, need_to_know, workflow
from .filters import govuk_date
from .history import element_names, entries
from .paging import page_links, page_number

bp = Blueprint("instances", __name__)

PATH_ACTIONS = ("task_completed", "timer_fired")
"""The audit entries that say an element was passed: a task done, a timer fired."""


@dataclass(frozen=True)
class Waiting:
    """A timer the instance waits on, as the reader sees it."""

    element_id: str
    name: str
    due_at: datetime


@dataclass(frozen=True)
class Readable:
    """An instance the reader may read: which of its history entries (None: all) and its open tasks."""

    instance: ProcessInstance
    definition: ProcessDefinition
    only: Entries | None
    open_tasks: list[HumanTask]

    def shows(self, element_id: str) -> bool:
        return self.only is None or element_id in self.only.elements

    def names(self) -> dict[str, str]:
        return element_names(self.definition.bpmn_xml)


def _readable(instance_id: int) -> Readable:
    service = workflow()
    instance = service.instance(instance_id)
    reading = need_to_know()
    if not reading.may_read_instance(instance):
        abort(404)
    definition = db().get(ProcessDefinition, instance.definition_id)
    if definition is None:
        abort(404)
    only = reading.history(instance.id, instance.process_id, instance.business_key)
    return Readable(instance, definition, only, reading.open_tasks(instance.business_key, instance_id=instance.id))


def _waiting(readable: Readable) -> list[Waiting]:
    """The instance's waiting timers of steps the reader reads, soonest first."""
    names = readable.names()
    return [Waiting(t.element_id, names.get(t.element_id, t.name), t.due_at)
            for t in workflow().waiting_timers(readable.instance.id) if readable.shows(t.element_id)]


def _passed(readable: Readable) -> list[str]:
    """The elements the instance has passed (tasks completed, timers fired) that the reader reads, in order."""
    query = (select(AuditEvent.element_id)
             .where(AuditEvent.instance_id == readable.instance.id, AuditEvent.action.in_(PATH_ACTIONS),
                    AuditEvent.element_id.is_not(None))
             .order_by(AuditEvent.id))
    if readable.only is not None:
        query = query.where(readable.only.condition())
    return list(dict.fromkeys(str(e) for e in db().scalars(query)))


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
        partial=readable.only is not None,
        open_tasks=readable.open_tasks,
        timers=_waiting(readable),
        history=entries(history.items, forms, readable.names()),
        page=history,
        pages=page_links(history),
        now=clock().now(),
    )


@bp.get("/instances/<id:instance_id>/diagram.json")
@login_required
def diagram(instance_id: int) -> Response:
    """The process's BPMN and where this instance is, for ``static/js/diagram.js``: the elements passed,
    the open tasks and the waiting timers, each only if the reader reads that step."""
    readable = _readable(instance_id)
    body: dict[str, Any] = {
        "process_id": readable.instance.process_id,
        "status": readable.instance.status,
        "xml": readable.definition.bpmn_xml,
        "completed": _passed(readable),
        "current": [{"id": t.element_id, "name": t.title, "task_id": t.id} for t in readable.open_tasks],
        "timers": [{"id": t.element_id, "name": t.name, "due_at": t.due_at.isoformat(),
                    "due": govuk_date(t.due_at)} for t in _waiting(readable)],
    }
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response
