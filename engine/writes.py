"""Writing one step: the instance row (with its version check), audit, human tasks and timers.

Everything a step writes is gathered into a :class:`StepWrite` first, then written
either as one data-modifying statement (PostgreSQL: one round trip instead of five
or more) or as a few plain statements (SQLite and anything else). Both guard every
write behind the version check: if another step committed first, nothing is
written and the caller gets a Conflict.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, text, update
from sqlalchemy.orm import Session

from .models import AuditEvent, HumanTask, MessageWait, ProcessInstance, TimerRow


@dataclass
class StepWrite:
    instance_id: int
    seen_version: int
    values: dict[str, Any]
    """New values of the instance row (state, status, version, ...)."""
    audit: list[dict[str, Any]] = field(default_factory=list)
    closed_tasks: list[dict[str, Any]] = field(default_factory=list)
    """``{"id", "state", "done_by"}``: open tasks that were completed or cancelled."""
    opened_tasks: list[dict[str, Any]] = field(default_factory=list)
    ended_timers: list[dict[str, Any]] = field(default_factory=list)
    """``{"task_id", "state"}`` with state fired or cancelled."""
    new_timers: list[dict[str, Any]] = field(default_factory=list)
    ended_messages: list[str] = field(default_factory=list)
    """Task ids of message waits that ended (the message came, or the wait was cancelled)."""
    new_messages: list[dict[str, Any]] = field(default_factory=list)


def write_step(session: Session, write: StepWrite) -> bool:
    """Write the step; False if the version check failed (nothing was written)."""
    if session.get_bind().dialect.name == "postgresql":
        return _write_postgres(session, write)
    return _write_portable(session, write)


def _write_portable(session: Session, write: StepWrite) -> bool:
    result = session.execute(
        update(ProcessInstance)
        .where(ProcessInstance.id == write.instance_id, ProcessInstance.version == write.seen_version)
        .values(**write.values)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return False
    at = write.values["updated_at"]
    if write.audit:
        session.execute(insert(AuditEvent), write.audit)
    for state, done_by in sorted({(c["state"], c["done_by"] or "") for c in write.closed_tasks}):
        ids = [c["id"] for c in write.closed_tasks if c["state"] == state and (c["done_by"] or "") == done_by]
        session.execute(
            update(HumanTask).where(HumanTask.id.in_(ids), HumanTask.state == "open")
            .values(state=state, completed_at=at, completed_by=done_by or None)
            .execution_options(synchronize_session=False)
        )
    if write.opened_tasks:
        session.execute(insert(HumanTask), write.opened_tasks)
    for state in ("fired", "cancelled"):
        ids = [e["task_id"] for e in write.ended_timers if e["state"] == state]
        if ids:
            session.execute(
                update(TimerRow).where(TimerRow.task_id.in_(ids), TimerRow.state == "waiting")
                .values(state=state, fired_at=at if state == "fired" else None)
                .execution_options(synchronize_session=False)
            )
    if write.new_timers:
        session.execute(insert(TimerRow), write.new_timers)
    if write.ended_messages:
        session.execute(delete(MessageWait).where(MessageWait.instance_id == write.instance_id,
                                                  MessageWait.task_id.in_(write.ended_messages)))
    if write.new_messages:
        session.execute(insert(MessageWait), write.new_messages)
    return True


_POSTGRES_STEP = text("""
WITH inst AS (
    UPDATE process_instance
    SET state = :state, state_format = :state_format, updated_at = :updated_at,
        status = :status, ended_at = :ended_at, version = :version,
        definition_id = COALESCE(CAST(:definition_id AS integer), definition_id)
    WHERE id = :instance_id AND version = :seen_version
    RETURNING id
), audit AS (
    INSERT INTO audit_event (at, actor, action, instance_id, process_id, business_key, task_id, element_id, data)
    SELECT a.at, a.actor, a.action, a.instance_id, a.process_id, a.business_key, a.task_id, a.element_id,
           CAST(a.data AS json)
    FROM inst, jsonb_to_recordset(CAST(:audit AS jsonb)) AS a(
        at timestamptz, actor text, action text, instance_id int, process_id text, business_key text,
        task_id text, element_id text, data jsonb)
), closed AS (
    UPDATE human_task
    SET state = c.state, completed_at = :updated_at, completed_by = c.done_by
    FROM inst, jsonb_to_recordset(CAST(:closed_tasks AS jsonb)) AS c(id text, state text, done_by text)
    WHERE human_task.instance_id = :instance_id AND human_task.id = c.id AND human_task.state = 'open'
), opened AS (
    INSERT INTO human_task (id, instance_id, process_id, business_key, element_id, title, role, state,
                            assignee, due_at, created_at)
    SELECT n.id, n.instance_id, n.process_id, n.business_key, n.element_id, n.title, n.role, n.state,
           n.assignee, n.due_at, n.created_at
    FROM inst, jsonb_to_recordset(CAST(:opened_tasks AS jsonb)) AS n(
        id text, instance_id int, process_id text, business_key text, element_id text, title text,
        role text, state text, assignee text, due_at timestamptz, created_at timestamptz)
), timers_ended AS (
    UPDATE waiting_timer
    SET state = e.state, fired_at = CASE WHEN e.state = 'fired' THEN CAST(:updated_at AS timestamptz) END
    FROM inst, jsonb_to_recordset(CAST(:ended_timers AS jsonb)) AS e(task_id text, state text)
    WHERE waiting_timer.instance_id = :instance_id AND waiting_timer.task_id = e.task_id
      AND waiting_timer.state = 'waiting'
), timers_new AS (
    INSERT INTO waiting_timer (instance_id, task_id, element_id, name, due_at, state)
    SELECT t.instance_id, t.task_id, t.element_id, t.name, t.due_at, t.state
    FROM inst, jsonb_to_recordset(CAST(:new_timers AS jsonb)) AS t(
        instance_id int, task_id text, element_id text, name text, due_at timestamptz, state text)
), messages_ended AS (
    DELETE FROM waiting_message
    USING inst
    WHERE waiting_message.instance_id = :instance_id
      AND waiting_message.task_id IN (SELECT jsonb_array_elements_text(CAST(:ended_messages AS jsonb)))
), messages_new AS (
    INSERT INTO waiting_message (instance_id, task_id, element_id, name, message, boundary, since)
    SELECT m.instance_id, m.task_id, m.element_id, m.name, m.message, m.boundary, m.since
    FROM inst, jsonb_to_recordset(CAST(:new_messages AS jsonb)) AS m(
        instance_id int, task_id text, element_id text, name text, message text, boundary boolean,
        since timestamptz)
)
SELECT count(*) FROM inst
""")


def _write_postgres(session: Session, write: StepWrite) -> bool:
    params = {
        "definition_id": None,  # unchanged, unless a migration moves the instance (``values`` says so)
        **write.values,
        "instance_id": write.instance_id,
        "seen_version": write.seen_version,
        "audit": _json(write.audit),
        "closed_tasks": _json(write.closed_tasks),
        "opened_tasks": _json(write.opened_tasks),
        "ended_timers": _json(write.ended_timers),
        "new_timers": _json(write.new_timers),
        "ended_messages": json.dumps(write.ended_messages),
        "new_messages": _json(write.new_messages),
    }
    return bool(session.execute(_POSTGRES_STEP, params).scalar_one() == 1)


def _json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, default=_iso)


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON data")
