"""A child's timeline: everything that has happened about the child, newest first, as far as the reader
needs to know (casework/need_to_know.py, docs/access.md "Need to know").

Five kinds of entry, each from its own table and each shown only to a reader of its kind of information:

* a **process** (a placement move, an admission direction, a PEP review, any council's own process), when
  the reader reads some kind of information it holds or one of its tasks (``NeedToKnow.may_read_instance``);
  a PEP review whose PEP the reader reads is shown as that **PEP** instead, not twice;
* a **PEP** (education), by when it was opened;
* an **escalation**, of a kind the reader reads (``Reader.escalation_kinds``), by when it was raised;
* a **placement** (care), by the day it starts;
* a **change of school** (school place), from the audit trail (``child.school_changed``).

The order and the page are decided in SQL: one ``UNION ALL`` of the five (each already filtered by the
reader's rule) ordered by time and cut to the page; then only the page's rows are loaded, a few ids per
kind. No workflow is deserialized.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    cast,
    exists,
    false,
    literal,
    not_,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from engine.models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance
from engine.paging import Page, check_page, cut

from .escalations import Escalation
from .need_to_know import CARE, EDUCATION, READ_AS, SCHOOL_PLACE, Reader
from .records import Child, Pep, Placement, School

PROCESS, PEP, ESCALATION, PLACEMENT, SCHOOL = "process", "pep", "escalation", "placement", "school"
SCHOOL_CHANGED = "child.school_changed"


@dataclass(frozen=True)
class Event:
    """One entry: what it is (``kind``), when, and the facts the page words (labels are the web's)."""

    kind: str
    id: int
    at: datetime | date
    subject: str
    """process: its name; PEP: its kind; escalation: its label; placement: its type; school: ''."""
    state: str = ""
    """process: running|completed|cancelled; PEP: its status; escalation: open|resolved."""
    ended: datetime | date | None = None
    instance_id: int | None = None
    pep_id: int | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)


def _kind(name: str) -> ColumnElement[str]:
    return cast(literal(name), String(20))


def readable_instances(reader: Reader) -> ColumnElement[bool]:
    """The child's instances the reader may read: of a process whose kinds of information they read (any
    process without kinds), or with a task of theirs to read. ``NeedToKnow.may_read_instance`` in SQL."""
    if not reader.sees:
        return false()
    processes = [p for p in READ_AS if reader.reads_process(p)]
    return and_(ProcessInstance.business_key == reader.key, or_(
        ProcessInstance.process_id.in_(processes) if processes else false(),
        ProcessInstance.process_id.not_in(sorted(READ_AS)),
        exists().where(HumanTask.instance_id == ProcessInstance.id, reader.tasks())))


def _sources(reader: Reader, child: Child) -> list[Select[str, int, Any]]:
    """One ``(kind, id, at)`` select per kind of entry the reader reads, each filtered by its rule."""
    processes = select(_kind(PROCESS).label("kind"), ProcessInstance.id.label("id"),
                       ProcessInstance.started_at.label("at")).where(readable_instances(reader))
    if reader.reads(EDUCATION):  # the PEP stands for its review
        processes = processes.where(not_(exists().where(Pep.instance_id == ProcessInstance.id)))
    sources: list[Select[str, int, Any]] = [processes]
    if reader.reads(EDUCATION):
        sources.append(select(_kind(PEP), Pep.id, Pep.created_at).where(Pep.child_id == child.id))
    kinds = sorted(reader.escalation_kinds)
    if kinds:
        sources.append(select(_kind(ESCALATION), Escalation.id, Escalation.raised_at)
                       .where(Escalation.child_ref == child.ref, Escalation.kind.in_(kinds)))
    if reader.reads(CARE):
        sources.append(select(_kind(PLACEMENT), Placement.id, Placement.starts_on)
                       .where(Placement.child_id == child.id))
    if reader.reads(SCHOOL_PLACE):
        sources.append(select(_kind(SCHOOL), AuditEvent.id, AuditEvent.at)
                       .where(AuditEvent.business_key == child.ref, AuditEvent.action == SCHOOL_CHANGED))
    return sources


def timeline(session: Session, reader: Reader, child: Child, page: int = 1, size: int = 25) -> Page[Event]:
    """One page of the child's timeline as ``reader`` may read it, newest first (empty if they see nothing)."""
    check_page(page, size)
    if not reader.sees or reader.key != child.ref:
        return Page([], page, size, has_next=False)
    merged = union_all(*_sources(reader, child)).subquery()
    query = (select(merged.c.kind, merged.c.id)
             .order_by(merged.c.at.desc(), merged.c.kind, merged.c.id.desc())
             .offset((page - 1) * size).limit(size + 1))
    rows = [(str(kind), int(id_)) for kind, id_ in session.execute(query)]
    loaded = _load(session, rows)
    return cut([loaded[row] for row in rows if row in loaded], page, size)


def _with_cancellations(session: Session, events: dict[tuple[str, int], Event]) -> None:
    """Say why each cancelled process (or the review of a cancelled PEP) on the page was cancelled, from its
    ``instance_cancelled`` audit entry: one query for the page."""
    cancelled = {e.instance_id: key for key, e in events.items()
                 if e.kind in (PROCESS, PEP) and e.state == "cancelled" and e.instance_id is not None}
    if not cancelled:
        return
    query = select(AuditEvent.instance_id, AuditEvent.data).where(
        AuditEvent.instance_id.in_(sorted(cancelled)), AuditEvent.action == "instance_cancelled")
    for instance_id, data in session.execute(query):
        key = cancelled[instance_id]
        reason = str((data or {}).get("reason", ""))
        events[key] = replace(events[key], facts={**events[key].facts, "cancelled_reason": reason})


def _ids(rows: Sequence[tuple[str, int]], kind: str) -> list[int]:
    return [id_ for k, id_ in rows if k == kind]


def _load(session: Session, rows: Sequence[tuple[str, int]]) -> dict[tuple[str, int], Event]:
    """The page's entries, a query per kind on the page (each of at most a page of ids)."""
    events: dict[tuple[str, int], Event] = {}
    if ids := _ids(rows, PROCESS):
        query = (select(ProcessInstance, ProcessDefinition.name)
                 .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
                 .where(ProcessInstance.id.in_(ids)))
        for instance, name in session.execute(query):
            events[PROCESS, instance.id] = Event(PROCESS, instance.id, instance.started_at, str(name),
                                                 instance.status, instance.ended_at, instance.id)
    if ids := _ids(rows, PEP):
        for pep in session.scalars(select(Pep).where(Pep.id.in_(ids))):
            events[PEP, pep.id] = Event(PEP, pep.id, pep.created_at, pep.kind, pep.status, pep.completed_at,
                                        pep.instance_id, pep.id,
                                        {"term": pep.term, "academic_year": pep.academic_year, "rag": pep.rag})
    _with_cancellations(session, events)
    if ids := _ids(rows, ESCALATION):
        for escalation in session.scalars(select(Escalation).where(Escalation.id.in_(ids))):
            events[ESCALATION, escalation.id] = Event(
                ESCALATION, escalation.id, escalation.raised_at, escalation.label, escalation.state,
                escalation.resolved_at, escalation.instance_id, facts={"reason": escalation.reason})
    if ids := _ids(rows, PLACEMENT):
        for placement in session.scalars(select(Placement).where(Placement.id.in_(ids))):
            events[PLACEMENT, placement.id] = Event(
                PLACEMENT, placement.id, placement.starts_on, placement.placement_type, ended=placement.ends_on,
                facts={"carer_name": placement.carer_name, "distance": placement.distance,
                       "area_authority": placement.area_authority})
    if ids := _ids(rows, SCHOOL):
        changes = list(session.scalars(select(AuditEvent).where(AuditEvent.id.in_(ids))))
        urns = {str(u) for c in changes for u in (c.data or {}).values() if isinstance(u, str)}
        schools = select(School.urn, School.name).where(School.urn.in_(sorted(urns)))
        names = {str(urn): str(name) for urn, name in session.execute(schools)} if urns else {}
        for change in changes:
            data = change.data or {}
            events[SCHOOL, change.id] = Event(SCHOOL, change.id, change.at, "", facts={
                "from": _school(data.get("from"), names), "to": _school(data.get("to"), names)})
    return events


def _school(urn: Any, names: Mapping[str, str]) -> str | None:
    if not isinstance(urn, str) or not urn:
        return None
    return f"{names[urn]} (URN {urn})" if urn in names else f"URN {urn}"
