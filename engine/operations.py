"""The operator's view: running cases per process version, and where they wait, counted per BPMN element.

Read from the materialised tables only (``human_task``, ``waiting_timer``, ``waiting_message``,
``incident``, ``process_instance``): nothing here deserializes a workflow or reads a case's answers.
The operator sees operational facts (process, version, business key, where a case waits and since
when, errors), never form answers (docs/operations.md).

Counts per element (:func:`element_counts`), each decided in SQL in one round trip:

- ``tasks``: open human tasks at the element (a whole process: an index-only scan of
  ``ix_task_process_state_element``; one version: joined to its running instances);
- ``timers``: timers waiting at the element;
- ``messages``: cases stopped at a catch event waiting for a message. A message event on the boundary
  of a task is not counted: the case is waiting at the task (counted there) and would also react to the
  message;
- ``incidents``: open incidents (timer or step) whose failing element is this one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree
from sqlalchemy import ColumnElement, and_, func, literal, null, select, union_all
from sqlalchemy.orm import Session

from .errors import NotFound
from .incidents import OPEN as INCIDENT_OPEN
from .incidents import of_instance
from .models import (
    HumanTask,
    Incident,
    MessageWait,
    ProcessDefinition,
    ProcessInstance,
    TimerRow,
)
from .paging import PAGE_SIZE, Page, check_page, cut

RUNNING = "running"


@dataclass(frozen=True)
class VersionCount:
    """One deployed version of a process and how many of its cases are running."""

    process_id: str
    name: str
    version: int
    definition_id: int
    deployed_at: datetime
    running: int


@dataclass(frozen=True)
class ElementCount:
    """What waits at one BPMN element: open tasks, waiting timers, waiting messages, open incidents."""

    tasks: int = 0
    timers: int = 0
    messages: int = 0
    incidents: int = 0

    @property
    def total(self) -> int:
        return self.tasks + self.timers + self.messages + self.incidents


@dataclass(frozen=True)
class Waiting:
    """One case waiting at an element: how (``task``, ``timer``, ``message``), since when, and who holds it."""

    instance_id: int
    business_key: str
    kind: str
    since: datetime | None
    due_at: datetime | None
    holder: str | None


@dataclass(frozen=True)
class InstanceFacts:
    """The operational facts of one case: no answers, no form data."""

    instance: ProcessInstance
    definition: ProcessDefinition
    tasks: list[HumanTask]
    timers: list[TimerRow]
    messages: list[MessageWait]
    incidents: list[Incident]


def running_by_version(session: Session) -> list[VersionCount]:
    """Every deployed version of every process with its running cases, in one grouped query; newest first."""
    running = func.count(ProcessInstance.id)
    query = (
        select(ProcessDefinition.process_id, ProcessDefinition.name, ProcessDefinition.version,
               ProcessDefinition.id, ProcessDefinition.deployed_at, running)
        .outerjoin(ProcessInstance, and_(ProcessInstance.definition_id == ProcessDefinition.id,
                                         ProcessInstance.status == RUNNING))
        .group_by(ProcessDefinition.id, ProcessDefinition.process_id, ProcessDefinition.name,
                  ProcessDefinition.version, ProcessDefinition.deployed_at)
        .order_by(ProcessDefinition.process_id, ProcessDefinition.version.desc())
    )
    return [VersionCount(p, n, v, d, at, int(c)) for p, n, v, d, at, c in session.execute(query)]


def definition(session: Session, definition_id: int) -> ProcessDefinition:
    found = session.get(ProcessDefinition, definition_id)
    if found is None:
        raise NotFound(f"No process version {definition_id}")
    return found


def _of_instances(column: Any, process_id: str, definition_id: int | None) -> list[ColumnElement[bool]]:
    """Conditions: the rows whose instance (``column``) is running in the process, or in one version."""
    instances = select(ProcessInstance.id).where(ProcessInstance.process_id == process_id,
                                                 ProcessInstance.status == RUNNING)
    if definition_id is not None:
        instances = instances.where(ProcessInstance.definition_id == definition_id)
    return [column.in_(instances)]


_ELEMENTS: dict[str, frozenset[str]] = {}
"""The ids of the elements of a deployed BPMN file that can wait (timer and message events, receive
tasks), by the file's content hash (a file's ids never change)."""
WAITING_DEFINITIONS = frozenset({"timerEventDefinition", "messageEventDefinition"})


def _ids_of(bpmn_xml: str) -> frozenset[str]:
    try:
        root = etree.fromstring(bpmn_xml.encode("utf-8"),
                                parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return frozenset()
    ids: set[str] = set()
    for e in root.iter():
        if not isinstance(e.tag, str) or not e.get("id"):
            continue
        if etree.QName(e).localname == "receiveTask" or any(
                isinstance(c.tag, str) and etree.QName(c).localname in WAITING_DEFINITIONS for c in e):
            ids.add(str(e.get("id")))
    return frozenset(ids)


def _own_elements(session: Session, process_id: str) -> tuple[frozenset[str], frozenset[str]]:
    """The ids of the waiting elements of the process's deployed versions that no other process's file
    uses, and those it shares with one. A waiting timer or message at an id of the first kind can only be this process's, so
    it is counted with no join to ``process_instance``; the second kind is counted through the join."""
    files = session.execute(select(ProcessDefinition.process_id, ProcessDefinition.content_sha256)).all()
    missing = sorted({sha for _, sha in files if sha not in _ELEMENTS})
    if missing:
        if len(_ELEMENTS) > 2000:  # bounded: far more versions than any authority deploys
            _ELEMENTS.clear()
        query = (select(ProcessDefinition.content_sha256, ProcessDefinition.bpmn_xml)
                 .where(ProcessDefinition.content_sha256.in_(missing)))
        for sha, xml in session.execute(query):
            _ELEMENTS[sha] = _ids_of(xml)
    own: set[str] = set()
    others: set[str] = set()
    for owner, sha in files:
        (own if owner == process_id else others).update(_ELEMENTS.get(sha, frozenset()))
    return frozenset(own - others), frozenset(own & others)


def _waits(model: Any, waiting: ColumnElement[bool], process_id: str, definition_id: int | None,
           exclusive: frozenset[str], shared: frozenset[str], kind: str) -> list[Any]:
    """The grouped counts of waiting timers or messages (``model``) at each element of the process."""
    label = (literal(kind).label("kind"), model.element_id.label("element"), func.count().label("n"))
    if definition_id is not None or not exclusive:  # one version, or no element the process has alone
        return [select(*label).where(waiting, *_of_instances(model.instance_id, process_id, definition_id))
                .group_by(model.element_id)]
    parts = [select(*label).where(waiting, model.element_id.in_(sorted(exclusive))).group_by(model.element_id)]
    if shared:
        parts.append(select(*label).where(waiting, model.element_id.in_(sorted(shared)),
                                          *_of_instances(model.instance_id, process_id, None))
                     .group_by(model.element_id))
    return parts


def element_counts(session: Session, process_id: str,
                   definition_id: int | None = None) -> dict[str, ElementCount]:
    """What waits at each element of a process (of one version, if ``definition_id``): one query.

    Only elements where something waits are in the result. A whole process's open tasks are an index-only
    scan of ``ix_task_process_state_element``; its waiting timers and messages at elements no other process
    has are counted by element alone (``ix_timer_state_element_instance``, ``ix_message_wait_element``);
    anything of one version is joined to that version's running instances."""
    count = func.count().label("n")
    tasks_where: list[ColumnElement[bool]] = [HumanTask.process_id == process_id, HumanTask.state == "open"]
    if definition_id is not None:  # human_task has no definition: its running instances of the version
        tasks_where += _of_instances(HumanTask.instance_id, process_id, definition_id)
    incidents_where: list[ColumnElement[bool]] = [Incident.process_id == process_id,
                                                  Incident.status == INCIDENT_OPEN,
                                                  Incident.element_id.is_not(None)]
    if definition_id is not None:
        incidents_where += _of_instances(Incident.instance_id, process_id, definition_id)
    exclusive, shared = _own_elements(session, process_id) if definition_id is None else (frozenset(), frozenset())
    parts: list[Any] = [
        select(literal("tasks").label("kind"), HumanTask.element_id.label("element"), count)
        .where(*tasks_where).group_by(HumanTask.element_id),
        *_waits(TimerRow, TimerRow.state == "waiting", process_id, definition_id, exclusive, shared, "timers"),
        *_waits(MessageWait, MessageWait.boundary.is_(False), process_id, definition_id, exclusive, shared,
                "messages"),
        select(literal("incidents").label("kind"), Incident.element_id.label("element"), count)
        .where(*incidents_where).group_by(Incident.element_id),
    ]
    found: dict[str, dict[str, int]] = {}
    for kind, element, n in session.execute(union_all(*parts)):
        found.setdefault(str(element), {})[str(kind)] = int(n)
    return {element: ElementCount(**kinds) for element, kinds in sorted(found.items())}


def waiting_at(session: Session, definition_id: int, element_id: str, page: int = 1,
               size: int = PAGE_SIZE) -> Page[Waiting]:
    """The running cases of one version waiting at one element (an open task, a timer, a message), paged
    in SQL: longest waiting first (a timer by when it is due), then by instance."""
    check_page(page, size)
    of_version = and_(ProcessInstance.definition_id == definition_id, ProcessInstance.status == RUNNING)
    tasks = (select(HumanTask.instance_id.label("instance_id"), ProcessInstance.business_key.label("key"),
                    literal("task").label("kind"), HumanTask.created_at.label("since"),
                    HumanTask.due_at.label("due_at"), HumanTask.assignee.label("holder"))
             .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
             .where(of_version, HumanTask.state == "open", HumanTask.element_id == element_id))
    timers = (select(TimerRow.instance_id, ProcessInstance.business_key, literal("timer"),
                     null(), TimerRow.due_at, null())
              .join(ProcessInstance, ProcessInstance.id == TimerRow.instance_id)
              .where(of_version, TimerRow.state == "waiting", TimerRow.element_id == element_id))
    messages = (select(MessageWait.instance_id, ProcessInstance.business_key, literal("message"),
                       MessageWait.since, null(), null())
                .join(ProcessInstance, ProcessInstance.id == MessageWait.instance_id)
                .where(of_version, MessageWait.boundary.is_(False), MessageWait.element_id == element_id))
    merged = union_all(tasks, timers, messages).subquery()
    ordered = func.coalesce(merged.c.since, merged.c.due_at)
    query = (select(merged).order_by(ordered.asc().nulls_last(), merged.c.instance_id, merged.c.kind)
             .offset((page - 1) * size).limit(size + 1))
    rows = [Waiting(int(r.instance_id), str(r.key), str(r.kind), r.since, r.due_at, r.holder)
            for r in session.execute(query)]
    return cut(rows, page, size)


def instance_facts(session: Session, instance_id: int) -> InstanceFacts:
    """One case's operational facts: its process and version, status, open tasks, timers, message waits
    and incidents. Its state and answers are not read."""
    found = session.execute(select(ProcessInstance, ProcessDefinition)
                            .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
                            .where(ProcessInstance.id == instance_id)).first()
    if found is None:
        raise NotFound(f"No process instance {instance_id}")
    instance, version = found
    tasks = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                    HumanTask.state == "open").order_by(HumanTask.created_at))
    timers = session.scalars(select(TimerRow).where(TimerRow.instance_id == instance_id,
                                                    TimerRow.state == "waiting").order_by(TimerRow.due_at))
    messages = session.scalars(select(MessageWait).where(MessageWait.instance_id == instance_id)
                               .order_by(MessageWait.since, MessageWait.id))
    return InstanceFacts(instance, version, list(tasks), list(timers), list(messages),
                         of_instance(session, instance_id))
