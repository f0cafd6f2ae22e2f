"""Need to know: who may read which steps of a child's processes (docs/access.md, "Need to know").

Seeing a child (``casework/access.py``, ``reach``) is not enough to read everything done for them.
Every user task and timer of a shipped process holds one **kind of information** (its glue module's
``READ_AS``; the instance's own entries, such as its start data, are its ``INSTANCE_READ_AS``), and
:data:`READERS` says which roles read each kind. A person may read a task when some role of theirs that
reaches the task's child

- is the task's role (they may act on it), or
- reads the task's kind of information,

or when they hold or completed the task and still see the child. A process with no glue module (a
council's own generic process) has no kinds: whoever may see its key reads it.

Every rule here is a SQL condition (on ``human_task`` or ``audit_event``) that lists join before they are
ordered and cut into pages, and the single checks evaluate the same conditions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, String, and_, cast, exists, false, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from engine.access import Scope
from engine.audit import Entries
from engine.models import HumanTask, ProcessInstance
from engine.service import TASK_ORDER

from .escalations import Escalation
from .processes import RULES, admission_direction, pep_review, placement_move

CARE, SCHOOL_PLACE, EDUCATION, SEND = "care", "school_place", "education", "send"

CATEGORIES: Mapping[str, str] = {
    CARE: "the child's care placement: the reasons for a move, the child's wishes about where to live, "
          "the carers, the approvals of a placement, the care plan",
    SCHOOL_PLACE: "finding and keeping a school place: the school chosen, applications, admissions, "
                  "directions, the virtual school head's views on the education side of a move",
    EDUCATION: "the Personal Education Plan: attainment, attendance, targets, Pupil Premium Plus, the "
               "child's views on their education, the quality rating, the actions",
    SEND: "special educational needs: the referral to the SEND team and its decision on an EHC needs "
          "assessment",
}
"""Kind of information -> what it holds (docs/access.md)."""

READERS: Mapping[str, frozenset[str]] = {
    CARE: frozenset({"social_worker", "manager", "vsh", "dcs", "nominated_officer", "iro"}),
    SCHOOL_PLACE: frozenset({"social_worker", "manager", "vsh", "designated_teacher", "admissions_officer",
                             "dcs", "nominated_officer", "iro"}),
    EDUCATION: frozenset({"social_worker", "designated_teacher", "vsh", "manager", "iro", "sen_officer",
                          "nominated_officer"}),
    SEND: frozenset({"sen_officer", "designated_teacher", "vsh", "social_worker", "manager", "iro"}),
}
"""Kind of information -> the roles that read it, for the children the role reaches. Admin reads none."""

_GLUES = (placement_move, admission_direction, pep_review)
READ_AS: Mapping[str, Mapping[str, str]] = {m.PROCESS_ID: {str(k): v for k, v in m.READ_AS.items()} for m in _GLUES}
"""Process id -> element id (each user task and timer) -> its kind of information."""
INSTANCE_READ_AS: Mapping[str, str] = {m.PROCESS_ID: m.INSTANCE_READ_AS for m in _GLUES}
"""Process id -> the kind of its instance's own entries (started with its data, a message, cancelled)."""


def _escalation_kinds() -> dict[str, str]:
    kinds: dict[str, str] = {}
    for (process_id, task), rule in RULES.items():
        category = READ_AS[process_id][task]
        if kinds.setdefault(rule.kind, category) != category:
            raise ValueError(f"escalation kind {rule.kind!r} is raised by steps of two kinds of information")
    return kinds


ESCALATION_READ_AS: Mapping[str, str] = _escalation_kinds()
"""Escalation kind -> the kind of information of the task that raises it."""


def categories_read_by(roles: Iterable[str]) -> frozenset[str]:
    held = set(roles)
    return frozenset(category for category, readers in READERS.items() if readers & held)


def process_categories(process_id: str) -> frozenset[str]:
    """Every kind of information a process holds (none for a process with no glue module)."""
    if process_id not in READ_AS:
        return frozenset()
    return frozenset(READ_AS[process_id].values()) | {INSTANCE_READ_AS[process_id]}


def elements_read_by(process_id: str, roles: Iterable[str]) -> frozenset[str] | None:
    """The elements of a process the holder of ``roles`` reads by kind (None: a process with no kinds)."""
    if process_id not in READ_AS:
        return None
    read = categories_read_by(roles)
    return frozenset(element for element, category in READ_AS[process_id].items() if category in read)


def task_rule(roles: frozenset[str], user_id: str) -> ColumnElement[bool]:
    """The tasks someone holding ``roles`` for a task's child may read: those of a role they hold (they
    may act), those of a kind one of the roles reads, those of a process without kinds, and those they
    hold or completed. Joined with the condition that ``roles`` reach the task's key."""
    conditions: list[ColumnElement[bool]] = [
        HumanTask.assignee == user_id, HumanTask.completed_by == user_id, HumanTask.role.is_(None),
        HumanTask.process_id.not_in(sorted(READ_AS)),
    ]
    if roles:
        conditions.append(HumanTask.role.in_(sorted(roles)))
    for process_id in sorted(READ_AS):
        elements = elements_read_by(process_id, roles) or frozenset()
        if elements:
            conditions.append(and_(HumanTask.process_id == process_id, HumanTask.element_id.in_(sorted(elements))))
    return or_(*conditions)


@dataclass(frozen=True)
class Reader:
    """One person, for one business key: the roles of theirs that reach it (none: they may not see it)."""

    user_id: str
    key: str
    roles: frozenset[str]
    categories: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "categories", categories_read_by(self.roles))

    @property
    def sees(self) -> bool:
        return bool(self.roles)

    def reads(self, category: str) -> bool:
        return self.sees and category in self.categories

    def reads_any(self, *categories: str) -> bool:
        return self.sees and bool(self.categories & set(categories))

    def tasks(self) -> ColumnElement[bool]:
        """The tasks of this key the person may read, as a condition on ``human_task``."""
        if not self.sees:
            return false()
        return and_(HumanTask.business_key == self.key, task_rule(self.roles, self.user_id))

    def reads_process(self, process_id: str) -> bool:
        """They read some kind of information the process holds (any process, if it has no kinds)."""
        if process_id not in READ_AS:
            return self.sees
        return bool(self.categories & process_categories(process_id)) and self.sees

    def entries(self, process_id: str, also: Iterable[str] = ()) -> Entries | None:
        """The history entries of an instance of ``process_id`` they read (None: every entry). ``also``:
        elements of tasks of the instance they read for another reason (they may act on or held one)."""
        if not self.sees:
            return Entries()
        elements = elements_read_by(process_id, self.roles)
        if elements is None or process_categories(process_id) <= self.categories:
            return None
        return Entries(elements | frozenset(also), INSTANCE_READ_AS[process_id] in self.categories)

    @property
    def escalation_kinds(self) -> frozenset[str]:
        return frozenset(kind for kind, category in ESCALATION_READ_AS.items() if self.reads(category))


class NeedToKnow:
    """What one person may read, from their access scope (``casework.access.CaseAccess.scope``)."""

    def __init__(self, session: Session, scope: Scope) -> None:
        self.session, self.scope = session, scope
        self.user_id = scope.actor.user_id
        self._readers: dict[str, Reader] = {}

    # -- who reaches what -----------------------------------------------------------------------
    def readers(self, keys: Iterable[str]) -> dict[str, Reader]:
        """Each key's :class:`Reader`: which of the person's grants reach it, in one query."""
        asked = set(keys)
        wanted = sorted(asked - self._readers.keys())
        grants = self.scope.grants
        if wanted and not grants:
            self._readers.update({k: Reader(self.user_id, k, frozenset()) for k in wanted})
        elif wanted:
            rows = union_all(*(select(cast(literal(k), String()).label("key")) for k in wanted)).subquery()
            query = select(rows.c.key, *(g.keys(rows.c.key).label(f"grant_{i}") for i, g in enumerate(grants)))
            for key, *reached in self.session.execute(query):
                roles = frozenset().union(*(g.roles for g, hit in zip(grants, reached, strict=True) if hit))
                self._readers[str(key)] = Reader(self.user_id, str(key), roles)
        return {k: self._readers[k] for k in asked}

    def reader(self, key: str) -> Reader:
        return self.readers([key])[key]

    # -- tasks ----------------------------------------------------------------------------------
    def tasks(self) -> ColumnElement[bool]:
        """Every task the person may read, whatever its key: one branch per grant of their scope."""
        if not self.scope.grants:
            return false()
        return or_(*(and_(g.keys(HumanTask.business_key), task_rule(g.roles, self.user_id))
                     for g in self.scope.grants))

    def may_read_task(self, task_id: str) -> bool:
        return bool(self.session.scalar(select(exists().where(HumanTask.id == task_id, self.tasks()))))

    def open_tasks(self, key: str, instance_id: int | None = None, limit: int = 500) -> list[HumanTask]:
        """The open tasks of a key the person may read, soonest due first; or of one of its instances,
        in the order they opened."""
        query = select(HumanTask).where(HumanTask.business_key == key, HumanTask.state == "open",
                                        self.reader(key).tasks())
        if instance_id is not None:
            query = query.where(HumanTask.instance_id == instance_id).order_by(HumanTask.created_at, HumanTask.id)
        else:
            query = query.order_by(*TASK_ORDER)
        return list(self.session.scalars(query.limit(limit)))

    def open_task_counts(self, keys: Iterable[str]) -> dict[str, int]:
        """How many open tasks of each key the person may read (a case list's column)."""
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        query = (select(HumanTask.business_key, func.count())
                 .where(HumanTask.state == "open", HumanTask.business_key.in_(wanted), self.tasks())
                 .group_by(HumanTask.business_key))
        return {str(key): int(n) for key, n in self.session.execute(query)}

    # -- instances ------------------------------------------------------------------------------
    def may_read_instance(self, instance: ProcessInstance) -> bool:
        """They read some kind of information of the process, or some task of the instance."""
        reader = self.reader(instance.business_key)
        if reader.reads_process(instance.process_id):
            return True
        return reader.sees and bool(self.session.scalar(select(exists().where(
            HumanTask.instance_id == instance.id, reader.tasks()))))

    def history(self, instance_id: int, process_id: str, key: str) -> Entries | None:
        """An instance's history entries the person reads (None: all), for ``WorkflowService.history_page``
        and ``answers``: those of the kinds they read, and of the instance's tasks they read otherwise."""
        reader = self.reader(key)
        if not reader.sees or process_categories(process_id) <= reader.categories:
            return reader.entries(process_id)
        own = self.session.scalars(select(HumanTask.element_id).distinct().where(
            HumanTask.instance_id == instance_id, reader.tasks()))
        return reader.entries(process_id, own)

    # -- a child's record -----------------------------------------------------------------------
    def open_escalations(self, key: str) -> list[Escalation]:
        """The child's open escalations of the kinds of information the person reads."""
        kinds = sorted(self.reader(key).escalation_kinds)
        if not kinds:
            return []
        query = select(Escalation).where(Escalation.child_ref == key, Escalation.state == "open",
                                         Escalation.kind.in_(kinds))
        return list(self.session.scalars(query.order_by(Escalation.since)))

