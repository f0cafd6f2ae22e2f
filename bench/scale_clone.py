"""Bulk copies of the template children of ``bench/scale_seed.py``, in SQL, for ``bench/scale.py``.

Each clone is a new child (its own ref, name, UPN, authority, social worker and school) with a copy
of everything its template has: placement, PEPs and their actions, process instances, human tasks,
waiting timers, escalations and audit rows; ``business_key`` is the clone's ref. A plan of the clones
is loaded into a scratch table; every copy is then one ``INSERT ... SELECT`` joining it, as
``bench/common.clone_instances`` does one instance at a time, but on the server:

* ids: a copy of row ``id`` gets ``(n + 1) * stride + id`` (``stride`` above every template id), so
  references between copies (placement, PEP, instance) need no lookup;
* task UUIDs: the first 8 hex digits of every UUID become the clone's number, in the stored workflow
  state (``regexp_replace``) and in every column holding a task id, so each copy's tasks are its own;
* the state's child ref, child name and PEP id are replaced by the clone's;
* due dates (tasks, timers, actions) move by the clone's shift, up to three weeks either way; creation
  and audit times move back by up to an hour, so no two clones of a template sort the same;
* about one task in ten is claimed (by the child's social worker, the school's designated teacher, a
  VSH or a manager of the authority), and one social-worker task in a hundred by a social worker the
  child is not allocated to (a reallocated child), whom it must not reach;
* each clone's record has been opened ``views_per_child`` times (``child.viewed`` audit rows).

The instance states are copied by two connections at once (the machine has two cores). Not copied:
notifications (in-app messages and the email outbox).
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Connection, Engine, text  # noqa: E402

from bench.scale_seed import (  # noqa: E402
    ACTOR_DT,
    ACTOR_SW,
    ACTOR_VSH,
    ADMIN,
    ARCHETYPES,
    AUTHORITIES,
    NOW,
    TEMPLATE_LA,
    Size,
    school_urns,
)
from casework.records import Child, Pep, PepAction, Placement  # noqa: E402
from casework.upn import check_letter  # noqa: E402
from engine.models import ProcessInstance  # noqa: E402

FIRST = ["Amira", "Jayden", "Lily", "Noah", "Chloe", "Ethan", "Mia", "Oliver", "Isla", "Leo", "Ava", "Zain",
         "Freya", "Kai", "Ruby", "Alfie", "Maya", "Theo", "Aisha", "Finley", "Poppy", "Reuben", "Esme"]
LAST = ["Khan", "Brooks", "Evans", "Campbell", "Murray", "Walsh", "Robinson", "Okafor", "Patel", "Hughes",
        "Nowak", "Price", "Osei", "Wright", "Shah", "Fletcher", "Adeyemi", "Kowalski", "Lindqvist", "Reid"]
UUID = "[0-9a-f]{8}(-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"


@dataclass
class Clone:
    n: int
    template: str
    ref: str
    first_name: str
    last_name: str
    upn: str
    la_code: str
    social_worker: str
    other_sw: str
    school_urn: str
    shift: int
    jitter: int


def plan(size: Size) -> list[Clone]:
    """The clones, authority by authority: archetypes in turn (by weight), social workers and schools too."""
    turns = [a.key for a in ARCHETYPES for _ in range(a.weight)]
    clones: list[Clone] = []
    for la in AUTHORITIES:
        urns = school_urns(la, size)
        workers = [f"sw.{la}.{k:03d}" for k in range(1, size.social_workers_per_la + 1)]
        for k in range(size.children_per_la):
            n = len(clones)
            body = f"{la}2000{k // 1000:02d}{k % 1000:03d}"
            clones.append(Clone(
                n=n, template=turns[n % len(turns)], ref=f"C{la}-{k:05d}", first_name=FIRST[n % len(FIRST)],
                last_name=LAST[(n // len(FIRST)) % len(LAST)], upn=check_letter(body) + body, la_code=la,
                social_worker=workers[k % len(workers)], other_sw=workers[(k + 1) % len(workers)],
                school_urn=urns[(k * 7) % len(urns)], shift=(n * 37) % 43 - 21, jitter=(n * 13) % 3600 + 1))
    return clones


def _actor(column: str) -> str:
    """The template's people become the clone's: its social worker, its school's teacher, its LA's VSH."""
    return (f"CASE {column} WHEN '{ACTOR_SW.user_id}' THEN m.social_worker "
            f"WHEN '{ACTOR_DT.user_id}' THEN 'dt.' || m.school_urn "
            f"WHEN '{ACTOR_VSH.user_id}' THEN 'vsh.' || m.la_code || '.1' "
            f"WHEN '{ADMIN.user_id}' THEN 'admin.' || m.la_code || '.1' ELSE {column} END")


def _uuid(column: str) -> str:
    return f"CASE WHEN {column} IS NULL THEN NULL ELSE m.prefix || substr({column}, 9) END"


DRAW = "mod(abs(hashtext(m.ref || t.element_id || coalesce(t.due_at::text, ''))), 100)"  # repeatable
ASSIGNEE = f"""CASE
    WHEN t.state <> 'open' THEN t.assignee
    WHEN {DRAW} < 10 THEN CASE t.role
        WHEN 'social_worker' THEN m.social_worker
        WHEN 'designated_teacher' THEN 'dt.' || m.school_urn
        WHEN 'vsh' THEN 'vsh.' || m.la_code || '.' || (1 + m.n % 2)
        WHEN 'manager' THEN 'manager.' || m.la_code || '.' || (1 + m.n % 3) END
    WHEN {DRAW} = 10 AND t.role = 'social_worker' THEN m.other_sw
    ELSE NULL END"""
DUE = "{0} + make_interval(days => m.shift)"
EARLIER = "{0} - make_interval(secs => m.jitter)"


class Cloner:
    def __init__(self, engine: Engine, size: Size) -> None:
        self.engine, self.size = engine, size
        self.clones = plan(size)
        self.strides: dict[str, int] = {}

    def _new_id(self, table: str, column: str) -> str:
        stride = self.strides[table]
        return f"CASE WHEN {column} IS NULL THEN NULL ELSE (m.n + 1) * {stride} + {column} END"

    def copy(self, conn: Connection, table: Any, join: str, overrides: dict[str, str | None],
             where: str = "") -> int:
        """INSERT ... SELECT of template rows joined to the plan (an override of None: the default)."""
        columns = [c.name for c in table.columns if overrides.get(c.name, "") is not None]
        values = [overrides.get(c) or f"t.{c}" for c in columns]
        sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT {', '.join(values)} "
               f"FROM {table.name} t JOIN scale_clone m ON {join} {where}")
        return int(conn.execute(text(sql)).rowcount or 0)

    def run(self) -> dict[str, int]:
        with self.engine.begin() as conn:
            for name in ("child", "placement", "pep", "pep_action", "process_instance"):
                above = conn.execute(text(f"SELECT coalesce(max(id), 0) + 1 FROM {name}")).scalar_one()
                self.strides[name] = int(above)
            self._load_plan(conn)
            counts = self._records(conn)
        counts["process_instance"] = self._instances()
        with self.engine.begin() as conn:
            counts.update(self._tasks_and_audit(conn))
            for name in self.strides:
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                  f"(SELECT max(id) FROM {name}))"))
            conn.execute(text("DROP TABLE scale_clone"))
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))  # after a bulk load, as autovacuum soon would
        return counts

    def _load_plan(self, conn: Connection) -> None:
        conn.execute(text(
            "CREATE UNLOGGED TABLE scale_clone (n int PRIMARY KEY, template text, template_name text, "
            "ref text, full_name text, first_name text, last_name text, upn text, la_code text, "
            "social_worker text, other_sw text, school_urn text, shift int, jitter int, prefix text)"))
        conn.execute(text("CREATE INDEX ON scale_clone (template)"))
        rows: list[dict[str, Any]] = [{
            **c.__dict__, "template_name": f"Template {c.template}",
            "full_name": f"{c.first_name} {c.last_name}", "prefix": f"{c.n + 1:08x}"} for c in self.clones]
        conn.execute(text(
            "INSERT INTO scale_clone VALUES (:n, :template, :template_name, :ref, :full_name, :first_name, "
            ":last_name, :upn, :la_code, :social_worker, :other_sw, :school_urn, :shift, :jitter, :prefix)"),
            rows)

    def _records(self, conn: Connection) -> dict[str, int]:
        child_of = "t.child_id = c.id AND c.ref = m.template"
        counts = {"child": self.copy(conn, Child.__table__, "t.ref = m.template", {
            "id": self._new_id("child", "t.id"), "ref": "m.ref", "first_name": "m.first_name",
            "last_name": "m.last_name", "upn": "m.upn", "la_code": "m.la_code",
            "social_worker": "m.social_worker", "school_urn": "m.school_urn",
            "current_placement_id": self._new_id("placement", "t.current_placement_id"),
            "created_at": EARLIER.format("t.created_at"), "updated_at": EARLIER.format("t.updated_at")})}
        for table, column in ((Placement.__table__, "placement"), (Pep.__table__, "pep")):
            counts[column] = self.copy(conn, table, "true", {
                "id": self._new_id(column, "t.id"), "child_id": self._new_id("child", "t.child_id"),
                **({"instance_id": self._new_id("process_instance", "t.instance_id"),
                    "due_at": DUE.format("t.due_at"), "created_at": EARLIER.format("t.created_at")}
                   if column == "pep" else {}),
            }, where=f"JOIN child c ON {child_of}")
        counts["pep_action"] = self.copy(conn, PepAction.__table__, "true", {
            "id": self._new_id("pep_action", "t.id"), "pep_id": self._new_id("pep", "t.pep_id"),
            "due_on": "t.due_on + m.shift"},
            where="JOIN pep p ON p.id = t.pep_id JOIN child c ON p.child_id = c.id AND c.ref = m.template")
        return counts

    def _instances(self) -> int:
        """The workflow states, copied by two connections at once (half the clones each)."""
        pep = "'\"pep_id\": ' || p.id"
        new_pep = f"'\"pep_id\": ' || ((m.n + 1) * {self.strides['pep']} + p.id)"
        fresh = f"regexp_replace(t.state, '{UUID}', m.prefix || '\\1', 'g')"
        named = (f"replace(replace({fresh}, '\"' || m.template_name || '\"', '\"' || m.full_name || '\"'), "
                 "'\"' || m.template || '\"', '\"' || m.ref || '\"')")
        state = f"replace(replace({named}, {pep} || ',', {new_pep} || ','), {pep} || '}}', {new_pep} || '}}')"
        counts: list[int] = []
        errors: list[BaseException] = []

        def part(index: int) -> None:
            try:
                with self.engine.begin() as conn:
                    counts.append(self.copy(conn, ProcessInstance.__table__, "t.business_key = m.template", {
                        "id": self._new_id("process_instance", "t.id"), "business_key": "m.ref",
                        "state": f"CASE WHEN p.id IS NULL THEN {named} ELSE {state} END",
                        "started_by": _actor("t.started_by"), "started_at": EARLIER.format("t.started_at"),
                        "updated_at": EARLIER.format("t.updated_at")},
                        where=f"LEFT JOIN pep p ON p.instance_id = t.id WHERE m.n % 2 = {index}"))
            except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
                errors.append(error)

        threads = [threading.Thread(target=part, args=(i,)) for i in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        return sum(counts)

    def _tasks_and_audit(self, conn: Connection) -> dict[str, int]:
        from casework.escalations import Escalation
        from engine.models import AuditEvent, HumanTask, TimerRow

        instance = self._new_id("process_instance", "t.instance_id")
        counts = {
            "human_task": self.copy(conn, HumanTask.__table__, "t.business_key = m.template", {
                "id": _uuid("t.id"), "instance_id": instance, "business_key": "m.ref", "assignee": ASSIGNEE,
                "due_at": DUE.format("t.due_at"), "created_at": EARLIER.format("t.created_at"),
                "completed_at": EARLIER.format("t.completed_at"), "completed_by": _actor("t.completed_by")}),
            "waiting_timer": self.copy(conn, TimerRow.__table__, "true", {
                "id": None, "instance_id": instance, "task_id": _uuid("t.task_id"),
                "due_at": DUE.format("t.due_at"), "fired_at": EARLIER.format("t.fired_at")},
                where="JOIN process_instance i ON i.id = t.instance_id AND i.business_key = m.template"),
            "escalation": self.copy(conn, Escalation.__table__, "t.child_ref = m.template", {
                "id": None, "child_ref": "m.ref", "la_code": "m.la_code", "instance_id": instance,
                "task_id": _uuid("t.task_id"), "since": "t.since + make_interval(days => least(m.shift, 0))",
                "raised_at": EARLIER.format("t.raised_at"), "resolved_at": EARLIER.format("t.resolved_at"),
                "resolved_by": _actor("t.resolved_by")}),
            "audit_event": self.copy(conn, AuditEvent.__table__, "t.business_key = m.template", {
                "id": None, "at": EARLIER.format("t.at"), "actor": _actor("t.actor"),
                "instance_id": self._new_id("process_instance", "t.instance_id"), "business_key": "m.ref",
                "task_id": _uuid("t.task_id"),
                "data": "replace(t.data::text, '\"' || m.template || '\"', '\"' || m.ref || '\"')::json"}),
        }
        views = conn.execute(text(
            "INSERT INTO audit_event (at, actor, action, business_key, data) "
            f"SELECT timestamptz '{NOW.isoformat()}' - g * interval '103 hours' "
            "- make_interval(secs => m.jitter), "
            "CASE g % 3 WHEN 0 THEN m.social_worker WHEN 1 THEN 'dt.' || m.school_urn "
            "ELSE 'vsh.' || m.la_code || '.1' END, 'child.viewed', m.ref, '{}'::json "
            "FROM scale_clone m, generate_series(1, :views) g"), {"views": self.size.views_per_child})
        counts["audit_event"] += int(views.rowcount or 0)
        return counts


def clone_children(engine: Engine, size: Size) -> dict[str, int]:
    """Add ``size.children_per_la`` clones in each authority; returns rows added per table."""
    assert TEMPLATE_LA in AUTHORITIES
    return Cloner(engine, size).run()
