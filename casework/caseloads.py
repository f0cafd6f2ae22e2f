"""Caseloads: which social worker each child is allocated to (``child.social_worker``), and handing a
leaver's whole caseload to another worker in one action (docs/staff.md, "Caseloads").

Only an active social worker of the child's own authority can be given a child. Handing over a caseload
moves, in bulk ``UPDATE`` statements whose cost follows the caseload and not the number of users or tasks:

- every child of the authority allocated to the leaver, to the new worker;
- every open task the leaver holds for those children, to the new worker (they now reach the children);
- every other open task the leaver holds (a child outside the caseload), back to its role's shared list,
  so nothing waits for someone who has gone.

Each child's allocation and each task's new holder is written to the audit trail, with one entry for the
action as a whole; the new worker is told by email and in the app. Services flush, never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.orm import Session

from engine.audit import entry
from engine.clock import Clock
from engine.errors import InvalidData, NotFound
from engine.models import AuditEvent, HumanTask
from engine.paging import PAGE_SIZE, Page, check_page, cut, fetch_page

from .access import holds_role
from .invitations import queue_staff_email
from .records import Child, audit_change
from .users import User

AUDIT_TABLE: Table = AuditEvent.__table__  # type: ignore[assignment]
"""Core, not the ORM's bulk insert (which would split the rows by which of them hold None)."""
PICKER_LIMIT = 500
"""The most social workers the picker offers (ordered by name); an authority with more types a username."""
CASES_PATH = "/children"


@dataclass(frozen=True)
class Worker:
    user: User
    children: int


@dataclass(frozen=True)
class Handover:
    children: int
    tasks_moved: int
    tasks_released: int


def _social_workers(la_code: str) -> Any:
    return select(User).where(User.la_code == la_code, User.active.is_(True), holds_role("social_worker"))


def workers(session: Session, la_code: str, page: int = 1, per_page: int = PAGE_SIZE) -> Page[Worker]:
    """The authority's social workers (active or not) and anyone else with children allocated, by name,
    with how many children each has: one query for the page."""
    check_page(page, per_page)
    counts = (select(Child.social_worker.label("username"), func.count().label("n"))
              .where(Child.la_code == la_code, Child.social_worker.is_not(None))
              .group_by(Child.social_worker).subquery())
    query = (select(User, func.coalesce(counts.c.n, 0)).outerjoin(counts, counts.c.username == User.username)
             .where(User.la_code == la_code, holds_role("social_worker") | (counts.c.n > 0))
             .order_by(User.display_name, User.username).offset((page - 1) * per_page).limit(per_page + 1))
    return cut([Worker(user, int(n)) for user, n in session.execute(query)], page, per_page)


def caseload(session: Session, la_code: str, username: str, page: int = 1,
             per_page: int = PAGE_SIZE) -> Page[Child]:
    """The children of the authority allocated to ``username``, by name."""
    query = (select(Child).where(Child.la_code == la_code, Child.social_worker == username)
             .order_by(Child.last_name, Child.first_name, Child.ref))
    return fetch_page(session, query, page, per_page)


def unallocated(session: Session, la_code: str, page: int = 1, per_page: int = PAGE_SIZE) -> Page[Child]:
    """The authority's children still in care with no social worker, by name."""
    query = (select(Child).where(Child.la_code == la_code, Child.social_worker.is_(None), Child.left_care_on.is_(None))
             .order_by(Child.last_name, Child.first_name, Child.ref))
    return fetch_page(session, query, page, per_page)


def picker(session: Session, la_code: str, excluding: str | None = None) -> list[User]:
    """The active social workers of the authority a child or caseload can be given to, by name."""
    query = _social_workers(la_code)
    if excluding:
        query = query.where(User.username != excluding)
    return list(session.scalars(query.order_by(User.display_name, User.username).limit(PICKER_LIMIT)))


def _worker(session: Session, la_code: str, username: str, field: str) -> User:
    found: User | None = session.scalars(
        _social_workers(la_code).where(User.username == (username or "").strip())).one_or_none()
    if found is None:
        reason = ("Choose a social worker" if not (username or "").strip()
                  else f"{username} is not an active social worker of this authority")
        raise InvalidData({field: [reason]}, reason)
    return found


def _name(session: Session, username: str) -> str:
    return session.scalars(select(User.display_name).where(User.username == username)).one_or_none() or username


def allocate(session: Session, clock: Clock, la_code: str, child_ref: str, username: str, actor: str,
             base_url: str | None) -> Child:
    """Allocate the authority's child ``child_ref`` to the social worker ``username`` (audited, the worker told)."""
    child = session.scalars(select(Child).where(Child.ref == (child_ref or "").strip(), Child.la_code == la_code)
                            ).one_or_none()
    if child is None:
        raise NotFound(f"No child of this authority has the reference {child_ref}")
    worker = _worker(session, la_code, username, "social_worker")
    if child.social_worker == worker.username:
        return child
    now = clock.now()
    before = child.social_worker
    child.social_worker, child.updated_at = worker.username, now
    session.flush()
    audit_change(session, now, actor, "child.allocated", child.ref, {"from": before, "to": worker.username})
    queue_staff_email(session, now, "caseload_assigned", worker,
                      {"path": CASES_PATH, "children": 1, "tasks": 0, "assigned_by": _name(session, actor),
                       "from_name": None}, base_url, in_app=True)
    return child


def hand_over(session: Session, clock: Clock, la_code: str, leaver: str, to: str, actor: str,
              base_url: str | None) -> Handover:
    """Give every child of the authority allocated to ``leaver`` and the open tasks they hold for them to
    ``to``; release the leaver's other open tasks to their roles. One audited action; ``to`` is told."""
    leaver = (leaver or "").strip()
    if not leaver:
        raise InvalidData({"leaver": ["Choose whose caseload to hand over"]})
    worker = _worker(session, la_code, to, "to")
    if worker.username == leaver:
        raise InvalidData({"to": ["Choose someone other than the person whose caseload it is"]},
                          "Choose someone other than the person whose caseload it is")
    now = clock.now()
    mine = (Child.la_code == la_code, Child.social_worker == leaver)
    refs = list(session.scalars(select(Child.ref).where(*mine)))
    if not refs:
        raise InvalidData({"leaver": [f"{leaver} has no children allocated in this authority"]},
                          f"{leaver} has no children allocated in this authority")
    session.execute(update(Child).where(*mine).values(social_worker=worker.username, updated_at=now)
                    .execution_options(synchronize_session=False))
    held = (HumanTask.assignee == leaver, HumanTask.state == "open")
    of_caseload = HumanTask.business_key.in_(
        select(Child.ref).where(Child.la_code == la_code, Child.social_worker == worker.username))
    # the rows are locked as they are read (PostgreSQL), so the audit names exactly the tasks the updates move
    moving = list(session.scalars(select(HumanTask).where(*held, of_caseload).with_for_update()))
    releasing = list(session.scalars(select(HumanTask).where(*held, ~of_caseload).with_for_update()))
    session.execute(update(HumanTask).where(*held, of_caseload).values(assignee=worker.username)
                    .execution_options(synchronize_session=False))
    session.execute(update(HumanTask).where(*held).values(assignee=None)  # what is left: not the caseload's
                    .execution_options(synchronize_session=False))
    rows = [{**entry(now, actor, "child.allocated", None, data={"from": leaver, "to": worker.username,
                                                                 "handover": True}), "business_key": ref}
            for ref in refs]
    rows += [entry(now, actor, "task_reassigned", task, task_id=task.id, element_id=task.element_id,
                   data={"was": leaver, "to": worker.username}) for task in moving]
    rows += [entry(now, actor, "task_unclaimed", task, task_id=task.id, element_id=task.element_id,
                   data={"was": leaver}) for task in releasing]
    rows.append(entry(now, actor, "caseload.handed_over", None, data={
        "from": leaver, "to": worker.username, "la_code": la_code, "children": len(refs),
        "tasks_moved": len(moving), "tasks_released": len(releasing)}))
    session.execute(insert(AUDIT_TABLE), rows)  # one statement, whatever the mix of rows
    queue_staff_email(session, now, "caseload_assigned", worker,
                      {"path": CASES_PATH, "children": len(refs), "tasks": len(moving),
                       "assigned_by": _name(session, actor), "from_name": _name(session, leaver)},
                      base_url, in_app=True)
    session.flush()
    return Handover(len(refs), len(moving), len(releasing))
