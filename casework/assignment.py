"""A manager gives open tasks to someone else: one task, or many at once (docs/assigning-tasks.md).

Who may assign: a manager who may read the task (need to know) and whose manager role reaches its child
(a manager of the child's authority); the engine checks the same rule again when it writes
(``WorkflowService.assign``).

Who may be chosen: the active people who hold the task's role and whom that role lets act for the child
(``CaseAccess.holders``: the child's own social worker, the designated teacher at the child's school,
anyone of the role in the child's authority). For several tasks, only the people eligible for *every*
one of them: one query, the intersection of each (role, child) pair's holders. The picker lists at most
:data:`PICKER_LIMIT` of them by name and says when there are more (then a username can be typed).

Many tasks at once are all-or-nothing: every task is checked before anything changes, and if any cannot
go to the person chosen, nothing changes and the error names each such task and why. The new holder is
told once for the whole action (in the app and by email, through the outbox); each task's change is
audited (``task_assigned``). Services flush, never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, String, exists, false, intersect, literal, select
from sqlalchemy.orm import Session

from engine.access import Actor
from engine.clock import Clock
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.models import HumanTask
from engine.runtime import Runtime
from engine.service import TASK_ORDER, WorkflowService

from .access import LA_WIDE_ROLES, CaseAccess
from .children import child_names
from .invitations import queue_staff_email
from .need_to_know import NeedToKnow
from .users import User

ASSIGNER_ROLE = WorkflowService.ASSIGNER_ROLE
PICKER_LIMIT = 200
"""The most people the picker lists (by name); past that, it says so and a username can be typed."""
MAX_TASKS = 100
"""The most tasks one bulk assignment takes."""
NOTICE = "task_reassigned"


@dataclass(frozen=True)
class Person:
    username: str
    display_name: str
    team: str | None = None


@dataclass(frozen=True)
class Eligible:
    """The people a task (or every one of several tasks) can be given to, by name."""

    people: list[Person]
    more: bool = False
    """There are more than the picker lists: type a username."""
    why_none: str | None = None
    """When no one is eligible, why not (for the page)."""


@dataclass(frozen=True)
class Assigned:
    to: Person
    changed: list[HumanTask]
    unchanged: list[HumanTask]
    """Tasks the person already held: nothing to do."""


def _holders(access: CaseAccess, task: HumanTask) -> Any:
    """The usernames of the people who may act on ``task`` (no order: a part of an intersection)."""
    return access.holders(task.role or "", task.business_key).with_only_columns(User.username).order_by(None)


def _pairs(tasks: Iterable[HumanTask]) -> list[HumanTask]:
    """One task per (role, child): the tasks with the same pair have the same eligible people."""
    seen: dict[tuple[str | None, str], HumanTask] = {}
    for task in tasks:
        seen.setdefault((task.role, task.business_key), task)
    return list(seen.values())


def eligible_query(access: CaseAccess, tasks: Sequence[HumanTask]) -> Any:
    """The ``app_user`` rows eligible for every task, by name: one statement however many tasks."""
    pairs = _pairs(tasks)
    if not pairs or any(task.role is None for task in pairs):
        return select(User).where(false())
    parts: list[Select[tuple[str]]] = [_holders(access, task) for task in pairs]
    usernames = parts[0] if len(parts) == 1 else intersect(*parts)
    return select(User).where(User.username.in_(usernames)).order_by(User.display_name, User.username)


def eligible_people(session: Session, access: CaseAccess, tasks: Sequence[HumanTask], *,
                    excluding: str | None = None, limit: int = PICKER_LIMIT) -> Eligible:
    """The active people who hold the task's role and may act for its child (for several tasks: for
    every one), by name; at most ``limit``, saying whether there are more."""
    query = eligible_query(access, tasks)
    if excluding:
        query = query.where(User.username != excluding)
    users = list(session.scalars(query.limit(limit + 1)))
    people = [Person(u.username, u.display_name, u.team) for u in users[:limit]]
    if people:
        return Eligible(people, more=len(users) > limit)
    return Eligible([], why_none=_why_none(session, tasks, excluding))


def _why_none(session: Session, tasks: Sequence[HumanTask], excluding: str | None) -> str:
    roles = sorted({t.role or "" for t in tasks})
    names = child_names(session, (t.business_key for t in tasks))
    if "" in roles:
        return "A task here has no role, so it cannot be given to anyone: it is for whoever may see the case."
    if len(roles) > 1:
        return ("These tasks are for different roles (" + ", ".join(r.replace("_", " ") for r in roles)
                + "): no one holds all of them. Choose tasks of one role.")
    role = roles[0]
    children = sorted({t.business_key for t in tasks})
    if role == "social_worker":
        reason = ("only the child's own social worker can do social-worker tasks" if len(children) == 1 else
                  "only each child's own social worker can do social-worker tasks, and these children "
                  "do not all have the same one")
    elif role == "designated_teacher":
        reason = ("only the designated teacher at the child's school can do this task" if len(children) == 1 else
                  "only the designated teacher at each child's school can do these tasks, and these children "
                  "are not all at the same school")
    elif role in LA_WIDE_ROLES:
        reason = f"no one else active in the child's authority holds the {role.replace('_', ' ')} role"
    else:
        reason = f"no one active holds the {role.replace('_', ' ')} role for this case"
    who = ", ".join(f"{names.get(ref, ref)} ({ref})" for ref in children[:5]) + ("…" if len(children) > 5 else "")
    if excluding:
        return f"No one else can be chosen for {who}: {reason}. It is assigned to {excluding} now."
    return f"No one can be chosen for {who}: {reason}."


class Assignments:
    """Assigning, for one signed-in manager: ``scope`` and ``need_to_know`` are theirs."""

    def __init__(self, session: Session, clock: Clock, runtime: Runtime, actor: Actor,
                 need_to_know: NeedToKnow, base_url: str | None) -> None:
        self.session, self.clock, self.runtime, self.actor = session, clock, runtime, actor
        self.need_to_know, self.base_url = need_to_know, base_url
        access = runtime.access
        self.access = access if isinstance(access, CaseAccess) else CaseAccess()

    # -- reading ------------------------------------------------------------------------------
    def tasks(self, task_ids: Sequence[str]) -> list[HumanTask]:
        """The tasks asked for, soonest due first, once each: every one readable (else 404 naming it),
        open (else 409) and of a child the manager's role reaches (else 403)."""
        wanted = list(dict.fromkeys(t.strip() for t in task_ids if t.strip()))
        if not wanted:
            raise InvalidData({"task": ["Choose at least one task"]}, "Choose at least one task")
        if len(wanted) > MAX_TASKS:
            raise InvalidData({"task": [f"Choose at most {MAX_TASKS} tasks at a time (you chose {len(wanted)})"]},
                              f"Choose at most {MAX_TASKS} tasks at a time")
        scope = self.runtime.access.scope(self.session, self.actor)
        managed = scope.acts(literal(ASSIGNER_ROLE, String()), HumanTask.business_key).label("managed")
        query = (select(HumanTask, managed).where(HumanTask.id.in_(wanted), self.need_to_know.tasks())
                 .order_by(*TASK_ORDER))
        rows = [(task, bool(may)) for task, may in self.session.execute(query)]
        found = {task.id for task, _ in rows}
        missing = [t for t in wanted if t not in found]
        if missing:
            raise NotFound(f"No task {', '.join(missing[:5])} that you may see")
        names = child_names(self.session, (t.business_key for t, _ in rows))
        for task, may in rows:
            if not may:
                child = names.get(task.business_key, task.business_key)
                raise Forbidden(f"You may not assign '{task.title}' for {child}: only a {ASSIGNER_ROLE} "
                                "of the child's authority may")
        closed = [t for t, _ in rows if t.state != "open"]
        if closed:
            raise Conflict("; ".join(f"'{t.title}' for {names.get(t.business_key, t.business_key)} is already "
                                     f"{t.state}" for t in closed[:5]))
        return [task for task, _ in rows]

    def eligible(self, tasks: Sequence[HumanTask]) -> Eligible:
        """Who the picker offers: for one task, everyone eligible but its holder; at most :data:`PICKER_LIMIT`."""
        excluding = tasks[0].assignee if len(tasks) == 1 else None
        return eligible_people(self.session, self.access, tasks, excluding=excluding, limit=PICKER_LIMIT)

    # -- writing ------------------------------------------------------------------------------
    def assign(self, task_id: str, assignee: str, seen: str | None | bool = False) -> Assigned:
        """Give one task to ``assignee``; ``seen``: the holder the manager saw on the page (a claim since: 409)."""
        return self.assign_many([task_id], assignee, seen=seen)

    def assign_many(self, task_ids: Sequence[str], assignee: str, seen: str | None | bool = False,
                    seen_each: Mapping[str, str | None] | None = None) -> Assigned:
        """Give every task to ``assignee``, or none of them: the error names each task that cannot go and why.
        ``seen_each``: task id -> the holder the manager saw (a task not named: ``seen``)."""
        tasks = self.tasks(task_ids)
        person = self._eligible_for_all(tasks, (assignee or "").strip())
        service = WorkflowService(self.session, self.clock, self.runtime)
        who = Actor(person.username, person.roles_set)
        changed: list[HumanTask] = []
        unchanged: list[HumanTask] = []
        for task in tasks:
            (unchanged if task.assignee == who.user_id else changed).append(task)
            service.assign(task.id, who, self.actor, seen=(seen_each or {}).get(task.id, seen))
        if changed:
            self._tell(person, changed)
        self.session.flush()
        return Assigned(Person(person.username, person.display_name, person.team), changed, unchanged)

    def _eligible_for_all(self, tasks: Sequence[HumanTask], username: str) -> User:
        if not username:
            raise InvalidData({"assignee": ["Choose who to give the task to"]}, "Choose who to give the task to")
        user = self.session.scalars(select(User).where(User.username == username)).one_or_none()
        pairs = _pairs(tasks)
        if user is not None and all(task.role for task in pairs):
            checks = [exists(_holders(self.access, t).where(User.username == username)) for t in pairs]
            fits = self.session.execute(select(*checks)).one()
            refused = [t for t, ok in zip(pairs, fits, strict=True) if not ok]
        else:
            refused = list(pairs)
        if not refused:
            assert user is not None
            return user
        reasons = [self._reason(user, username, t) for t in refused]
        raise InvalidData({"assignee": reasons}, reasons[0])

    def _reason(self, user: User | None, username: str, task: HumanTask) -> str:
        names = child_names(self.session, [task.business_key])
        child = names.get(task.business_key, task.business_key)
        what = f"‘{task.title}’ for {child} ({task.business_key})"
        if user is None:
            return f"There is no one with the username {username}: choose someone from the list"
        name = f"{user.display_name} ({user.username})"
        role = (task.role or "").replace("_", " ")
        if not user.active:
            return f"{name} cannot be given {what}: their account is not active"
        if not task.role:
            return f"{what} has no role, so it cannot be given to anyone"
        if task.role not in user.roles_set:
            return f"{name} cannot be given {what}: they are not a {role}"
        if task.role == "social_worker":
            return f"{name} cannot be given {what}: they are not the child's social worker"
        if task.role == "designated_teacher":
            return f"{name} cannot be given {what}: they are not the designated teacher at the child's school"
        return f"{name} cannot be given {what}: they are not a {role} of the child's authority"

    def _tell(self, person: User, tasks: Sequence[HumanTask]) -> None:
        names = child_names(self.session, (t.business_key for t in tasks))
        by = self.session.scalars(select(User.display_name).where(User.username == self.actor.user_id)).one_or_none()
        items = [{"task_id": t.id, "task_title": t.title, "child_ref": t.business_key,
                  "child_name": names.get(t.business_key, t.business_key),
                  "due_at": t.due_at.isoformat() if t.due_at else None} for t in tasks]
        path = f"/tasks/{tasks[0].id}" if len(tasks) == 1 else "/"
        queue_staff_email(self.session, self.clock.now(), NOTICE, person,
                          {"path": path, "tasks": items, "assigned_by": by or self.actor.user_id},
                          self.base_url, in_app=True)
