"""Incidents: a step that failed for one instance, kept so an administrator sees it and acts on it.

Two kinds (``Incident.kind``):

- ``timer``: the timer pump failed to run an instance's step (a script or expression that raises, a
  script over its CPU or memory bound, a hook that fails, anything unexpected). The step is rolled back
  and, in its own short transaction, the instance's incident is opened (or, if it failed again, given one
  more attempt), with an audit event. While it is open the pump's due queries leave the instance out in
  SQL (:func:`not_held`, served by the unique key ``uq_incident_instance_kind``), so one broken instance
  never costs every later pass its bound again, and every other timer keeps firing. An administrator's
  retry (:func:`retry`) marks it ``retried`` and the next pass runs the instance again: if that run
  succeeds the pump marks it ``resolved``; if it fails, it is open again with one more attempt.
- ``step``: a person's step failed (completing a task ran a script that raised or went over the
  sandbox's bounds). The person got an error and nothing of the step was saved; after the rollback, the
  web edge records the failure (:func:`record_step_failure`) in a second, separate transaction: the
  error, the element, the task and who was completing it. It holds nothing back. An administrator's
  retry marks it ``resolved`` ("the person can try again"), audited as ``incident_acknowledged``.

A lost race or a busy database is not an incident: the next pass (or the person) simply tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, exists, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from .audit import AuditLog, entry
from .db import unit_of_work
from .errors import Conflict, EngineError, NotFound
from .models import HumanTask, Incident, ProcessInstance, UTCDateTime
from .paging import Page, fetch_page

log = logging.getLogger("vsw.incidents")

OPEN, RETRIED, RESOLVED = "open", "retried", "resolved"
TIMER, STEP = "timer", "step"
ERROR_LIMIT = 500
"""The longest error text kept (one line; longer text is clipped with an ellipsis)."""
SYSTEM_ACTOR = "system"
KEY = [Incident.instance_id, Incident.kind]
"""The incident's conflict key: one row per instance and kind (``uq_incident_instance_kind``)."""


def is_incident(error: BaseException) -> bool:
    """A lost race or a busy, unreachable database passes: the next pass tries again. Anything else sticks."""
    return not isinstance(error, Conflict | OperationalError)


def describe(error: BaseException) -> str:
    """The error in one line: the engine's own message, or the exception's type and text; clipped."""
    if isinstance(error, EngineError):
        text = error.message
    else:
        text = f"{type(error).__name__}: {error}"
    line = (text.strip().splitlines() or [type(error).__name__])[0].strip()
    return line if len(line) <= ERROR_LIMIT else line[: ERROR_LIMIT - 1] + "…"


def failed_element(error: BaseException) -> str | None:
    """The BPMN element that raised, when the error (or one it was raised from) names its task."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        spec = getattr(current, "task_spec", None)
        if spec is None:
            spec = getattr(getattr(current, "task", None), "task_spec", None)
        bpmn_id = getattr(spec, "bpmn_id", None)
        if isinstance(bpmn_id, str) and bpmn_id:
            return bpmn_id[:100]
        current = current.__cause__ or current.__context__
    return None


def not_held(instance_id: InstrumentedAttribute[int] | ColumnElement[int]) -> ColumnElement[bool]:
    """SQL: the instance given by ``instance_id`` has no open incident (the pump's exclusion)."""
    return ~exists().where(Incident.instance_id == instance_id, Incident.kind == TIMER, Incident.status == OPEN)


# -- the pump's side ---------------------------------------------------------------------------------


def record_failures(factory: sessionmaker[Session], failures: Iterable[tuple[int, BaseException]],
                    at: datetime) -> None:
    """Open or update the incident of each failed instance, with its audit event, in one short transaction.

    Called after the failed step's transaction rolled back. A failure that is not an incident (see
    :func:`is_incident`) is skipped. If the incidents cannot be written (the database is down), that is
    logged and the pump goes on: those instances are simply tried again on the next pass.
    """
    sticking = [(instance_id, error) for instance_id, error in failures if is_incident(error)]
    if not sticking:
        return
    try:
        with unit_of_work(factory) as session:
            for instance_id, error in sticking:
                _record(session, instance_id, error, at)
    except SQLAlchemyError:
        log.exception("incidents: could not record the failure of instances %s",
                      ", ".join(str(i) for i, _ in sticking))


def _record(session: Session, instance_id: int, error: BaseException, at: datetime, *, kind: str = TIMER,
            actor: str | None = None, task_id: str | None = None, element_id: str | None = None) -> None:
    found = session.execute(select(ProcessInstance.process_id, ProcessInstance.business_key)
                            .where(ProcessInstance.id == instance_id)).first()
    if found is None:
        return
    process_id, business_key = found
    text, element_id = describe(error), failed_element(error) or element_id
    values: dict[str, Any] = {
        "instance_id": instance_id, "process_id": process_id, "business_key": business_key,
        "element_id": element_id, "error": text, "first_failed_at": at, "last_failed_at": at,
        "attempts": 1, "status": OPEN, "kind": kind, "actor": actor, "task_id": task_id,
    }
    reopened = Incident.status == RESOLVED  # an old, resolved incident starts counting again
    changes: dict[str, Any] = {
        "element_id": element_id, "error": text, "last_failed_at": at, "status": OPEN,
        "attempts": case((reopened, 1), else_=Incident.attempts + 1),
        "first_failed_at": case((reopened, literal(at, UTCDateTime())), else_=Incident.first_failed_at),
        "resolved_by": None, "resolved_at": None, "actor": actor, "task_id": task_id,
    }
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        pg = postgresql.insert(Incident).values(**values)
        statement: Any = pg.on_conflict_do_update(index_elements=KEY, set_=changes)
    elif dialect == "sqlite":
        lite = sqlite.insert(Incident).values(**values)
        statement = lite.on_conflict_do_update(index_elements=KEY, set_=changes)
    else:  # pragma: no cover - the engine runs on SQLite and PostgreSQL only
        raise RuntimeError(f"the engine runs on SQLite and PostgreSQL only, not {dialect}")
    incident_id, attempts = session.execute(statement.returning(Incident.id, Incident.attempts)).one()
    details: dict[str, Any] = {"incident": incident_id, "error": text, "attempts": attempts}
    if kind == STEP:  # a timer incident's audit is as it always was
        details |= {"kind": STEP, "actor": actor, "task_id": task_id}
    _audit(session, at, actor or SYSTEM_ACTOR, "incident_opened" if attempts == 1 else "incident_failed_again",
           instance_id, process_id, business_key, element_id, details)
    log.warning("incidents: a %s incident of instance %s (%s failed attempt(s)): %s", kind, instance_id, attempts, text)


# -- the web edge's side ------------------------------------------------------------------------------


def record_step_failure(factory: sessionmaker[Session], error: BaseException, at: datetime, *, actor: str,
                        task_id: str | None = None, instance_id: int | None = None) -> bool:
    """Record a person's failed step (completing ``task_id``, or a step of ``instance_id``) as a ``step``
    incident, with its audit event, in one short transaction of its own; whether one was recorded.

    Called at the web edge after the step's transaction rolled back (the only extra commit a failed request
    makes). A failure that is not an incident (:func:`is_incident`), or an unknown task, records nothing; a
    database that cannot take it is logged, and the person's error stands either way.
    """
    if not is_incident(error) or (task_id is None and instance_id is None):
        return False
    try:
        with unit_of_work(factory) as session:
            element_id = None
            if task_id is not None:
                task = session.execute(select(HumanTask.instance_id, HumanTask.element_id)
                                       .where(HumanTask.id == task_id)).first()
                if task is None:
                    return False
                instance_id, element_id = task
            assert instance_id is not None
            if session.get(ProcessInstance, instance_id) is None:
                return False
            _record(session, instance_id, error, at, kind=STEP, actor=actor, task_id=task_id,
                    element_id=element_id)
    except SQLAlchemyError:
        log.exception("incidents: could not record the failed step of %s", task_id or instance_id)
        return False
    return True


def retried_among(session: Session, instance_ids: Iterable[int]) -> frozenset[int]:
    """Which of these instances an administrator has retried (their run now may resolve the incident)."""
    ids = sorted(set(instance_ids))
    if not ids:
        return frozenset()
    query = select(Incident.instance_id).where(Incident.instance_id.in_(ids), Incident.kind == TIMER,
                                               Incident.status == RETRIED)
    return frozenset(session.scalars(query))


def resolve(session: Session, instance_id: int, at: datetime) -> None:
    """The instance ran after a retry: its incident is resolved (in the step's transaction), and audited."""
    done = session.execute(
        update(Incident)
        .where(Incident.instance_id == instance_id, Incident.kind == TIMER, Incident.status == RETRIED)
        .values(status=RESOLVED, resolved_by=SYSTEM_ACTOR, resolved_at=at)
        .returning(Incident.id, Incident.process_id, Incident.business_key, Incident.element_id,
                   Incident.attempts)
        .execution_options(synchronize_session=False)
    ).first()
    if done is not None:
        incident_id, process_id, business_key, element_id, attempts = done
        _audit(session, at, SYSTEM_ACTOR, "incident_resolved", instance_id, process_id, business_key,
               element_id, {"incident": incident_id, "attempts": attempts})


# -- the administrator's side -------------------------------------------------------------------------


def open_incidents(session: Session, page: int = 1, size: int = 25) -> Page[Incident]:
    """One page of open incidents, the most recent failure first (``ix_incident_status_failed``)."""
    query = (select(Incident).where(Incident.status == OPEN)
             .order_by(Incident.last_failed_at.desc(), Incident.id.desc()))
    return fetch_page(session, query, page, size)


def open_count(session: Session) -> int:
    """How many incidents are open, of both kinds (``ix_incident_status_failed``)."""
    return int(session.scalar(select(func.count()).select_from(Incident).where(Incident.status == OPEN)) or 0)


def of_instance(session: Session, instance_id: int) -> list[Incident]:
    """An instance's incidents (at most one of each kind), open ones first."""
    query = (select(Incident).where(Incident.instance_id == instance_id)
             .order_by(case((Incident.status == OPEN, 0), else_=1), Incident.kind))
    return list(session.scalars(query))


def retry(session: Session, incident_id: int, actor: str, at: datetime) -> Incident:
    """Mark an open incident retried by ``actor`` so the next pump pass runs its instance again.

    If the instance is no longer running (it was cancelled or ended meanwhile) there is nothing to run:
    the incident is resolved by ``actor`` instead. A ``step`` incident is resolved too (acknowledged: the
    person may try the step again; nothing is run for them). The change is audited with ``actor``.
    Raises ``NotFound`` for no such incident and ``Conflict`` if it is not open (someone retried it first).
    """
    found = session.execute(
        select(Incident, ProcessInstance.status)
        .join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
        .where(Incident.id == incident_id)
    ).first()
    if found is None:
        raise NotFound(f"No incident {incident_id}")
    incident, instance_status = found
    running = instance_status == "running" and incident.kind == TIMER  # a step incident: the person retries
    changes: dict[str, Any] = (
        {"status": RETRIED, "retried_by": actor, "retried_at": at} if running
        else {"status": RESOLVED, "resolved_by": actor, "resolved_at": at}
    )
    changed = session.execute(
        update(Incident).where(Incident.id == incident_id, Incident.status == OPEN).values(**changes)
        .execution_options(synchronize_session=False)
    )
    if getattr(changed, "rowcount", 0) != 1:
        already = incident.status if incident.status != OPEN else "retried or resolved"
        raise Conflict(f"Incident {incident_id} is no longer open: it was {already} already")
    action = ("incident_retried" if running
              else "incident_acknowledged" if incident.kind == STEP else "incident_resolved")
    _audit(session, at, actor, action, incident.instance_id,
           incident.process_id, incident.business_key, incident.element_id,
           {"incident": incident_id, "attempts": incident.attempts, "error": incident.error}
           | ({} if running else {"instance_status": instance_status})
           | ({"kind": STEP} if incident.kind == STEP else {}))
    session.refresh(incident)
    return incident


def _audit(session: Session, at: datetime, actor: str, action: str, instance_id: int, process_id: str,
           business_key: str, element_id: str | None, data: dict[str, Any]) -> None:
    row = entry(at, actor, action, element_id=element_id, data=data)
    row.update(instance_id=instance_id, process_id=process_id, business_key=business_key)
    AuditLog(session).write([row])
