"""Tables the engine owns. Queries read these; they never deserialize workflows.

``ProcessInstance.state`` is SpiffWorkflow's own serialization (without the spec,
which lives once per definition version). Everything else is materialised from it
when a step commits, so inboxes, timers and status are plain indexed SQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from .clock import as_utc


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; always returns timezone-aware UTC (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON}


class ProcessDefinition(Base):
    """One deployed version of one BPMN process: a file's content, addressed by its hash."""

    __tablename__ = "process_definition"
    __table_args__ = (UniqueConstraint("process_id", "content_sha256", name="uq_definition_content"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    content_sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(300))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    deployed_at: Mapped[datetime]
    deployed_by: Mapped[str] = mapped_column(String(100))


class ProcessInstance(Base):
    __tablename__ = "process_instance"
    __table_args__ = (Index("ix_instance_key_status", "business_key", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    business_key: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="running")  # running|completed|cancelled
    version: Mapped[int] = mapped_column(Integer, default=1)
    state_format: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime]
    started_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    __mapper_args__ = {"version_id_col": version}


class HumanTask(Base):
    """A user task that is or was ready, materialised for inboxes."""

    __tablename__ = "human_task"
    __table_args__ = (
        # the inbox: one ordered walk per role it may claim, and one over the tasks a person holds
        Index("ix_task_role_state_due", "role", "state", "due_at", "created_at", "id"),
        Index("ix_task_assignee_state", "assignee", "state", "due_at", "created_at", "id"),
        Index("ix_task_key_state", "business_key", "state"),
        # the work queue (casework/work_queue.py): every open task a manager reads, in due or created order,
        # or of one process (migration 0020)
        Index("ix_task_state_due", "state", "due_at", "created_at", "id"),
        Index("ix_task_state_process_due", "state", "process_id", "due_at", "created_at", "id"),
        Index("ix_task_state_created", "state", "created_at", "id"),
        # the operator's counts: open tasks per element of a process, an index-only scan
        Index("ix_task_process_state_element", "process_id", "state", "element_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # SpiffWorkflow task uuid
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(100))
    business_key: Mapped[str] = mapped_column(String(100))
    element_id: Mapped[str] = mapped_column(String(100))  # BPMN id of the user task
    title: Mapped[str] = mapped_column(String(300))
    role: Mapped[str | None] = mapped_column(String(60))  # the BPMN lane
    state: Mapped[str] = mapped_column(String(20), default="open")  # open|completed|cancelled
    assignee: Mapped[str | None] = mapped_column(String(100))
    due_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(100))


class TimerRow(Base):
    """A waiting timer. Fired exactly once, when the engine's clock passes ``due_at``."""

    __tablename__ = "waiting_timer"
    __table_args__ = (
        Index("ix_timer_state_due", "state", "due_at"),
        Index("ix_timer_state_element_instance", "state", "element_id", "instance_id"),  # the operator's counts
        UniqueConstraint("task_id", "due_at", name="uq_timer_task_due"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    due_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(20), default="waiting")  # waiting|fired|cancelled
    fired_at: Mapped[datetime | None]


class MessageWait(Base):
    """A catch event (intermediate, boundary or receive task) waiting for a BPMN message, while it waits.

    Materialised like timers at every step, so the instance page and the operator's counts read it as SQL.
    ``boundary``: the event sits on the boundary of a task (e.g. a cancellation while the task is open),
    so the case is not stopped there: it is working on the task and would also react to the message.
    """

    __tablename__ = "waiting_message"
    __table_args__ = (UniqueConstraint("instance_id", "task_id", name="uq_message_wait_task"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(String(200))  # the BPMN message's name
    boundary: Mapped[bool] = mapped_column(Boolean, default=False)
    since: Mapped[datetime]


class AuditEvent(Base):
    """Append-only: who did what to which instance, when, with what data."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_instance", "instance_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40), index=True)
    instance_id: Mapped[int | None] = mapped_column(Integer)
    process_id: Mapped[str | None] = mapped_column(String(100))
    business_key: Mapped[str | None] = mapped_column(String(100), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    element_id: Mapped[str | None] = mapped_column(String(100))
    data: Mapped[dict[str, Any] | None]


class Incident(Base):
    """A step that failed for one instance: a timer step the pump could not run (``kind`` ``timer``), set
    aside until an administrator retries it, or a person's step (``step``: completing a task) that failed
    and was rolled back, kept so an administrator sees it (engine/incidents.py).

    An instance has at most one incident row of each kind: a failure opens it (or counts one more attempt),
    an administrator's retry marks a timer incident ``retried`` (the next pump pass runs the instance
    again) and a step incident ``resolved`` (the person may try again), and a run that then succeeds marks
    a retried timer incident ``resolved``. A later failure reopens it; every change is audited.
    """

    __tablename__ = "incident"
    __table_args__ = (
        UniqueConstraint("instance_id", "kind", name="uq_incident_instance_kind"),  # the pump's exclusion
        Index("ix_incident_status_failed", "status", "last_failed_at", "id"),  # the admin list
        Index("ix_incident_process_status_element", "process_id", "status", "element_id"),  # the counts
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    process_id: Mapped[str] = mapped_column(String(100))
    business_key: Mapped[str] = mapped_column(String(100))
    element_id: Mapped[str | None] = mapped_column(String(100))  # the BPMN element that failed, if known
    error: Mapped[str] = mapped_column(String(500))  # one line, clipped
    first_failed_at: Mapped[datetime]
    last_failed_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open|retried|resolved
    retried_by: Mapped[str | None] = mapped_column(String(100))
    retried_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolved_at: Mapped[datetime | None]
    kind: Mapped[str] = mapped_column(String(10), default="timer", server_default="timer")  # timer|step
    actor: Mapped[str | None] = mapped_column(String(100))  # a step incident: who was completing the task
    task_id: Mapped[str | None] = mapped_column(String(36))  # a step incident: the task being completed


# the operator's view (engine/operations.py; migration 0021): running cases per version and a process's running
# instances by status, and the cases waiting for a message, per element
Index("ix_instance_process_status_definition", ProcessInstance.process_id, ProcessInstance.status,
      ProcessInstance.definition_id, ProcessInstance.id)
Index("ix_message_wait_element", MessageWait.boundary, MessageWait.element_id, MessageWait.instance_id)
