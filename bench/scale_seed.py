"""The real part of the scale benchmark's data: two authorities, their people and schools, and a few
template children whose processes are driven through the service (``bench/scale.py``).

Everything here goes through the casework glue and ``WorkflowService`` on a frozen clock that
only moves forward, as ``casework/demo.py`` does, so the rows ``bench/scale_clone.py`` copies are
the rows the engine and its hooks really write:

* 20 April 2026 (summer term): template children are added in LA 935 and the term's reviews
  opened; each review is completed (designated teacher's form with many actions, the social
  worker's contribution, the child's views) and rated green by the VSH, so each action waits to be
  confirmed by the social worker, with a timer that escalates it a working day after it is due.
* 7 September (autumn term): the due action timers fire (manager tasks and escalation records),
  the term's reviews open and are taken to different steps (open, teacher done, social worker done,
  awaiting the VSH, returned red, signed off green); two children come into care (one initial PEP
  overdue by ``NOW``, one not) and placement moves start.
* ``NOW`` (12 October): the remaining due timers fire. The fan-out children (in care for years, not
  cloned) have their reviews waiting for the VSH's rating (``FANOUT_STEP``), which the benchmark times.

Users and schools are bulk inserted (one cheap argon2 hash for everyone). Core users exist before
the templates run; the rest are added afterwards, so the template run costs the same at any size.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from argon2 import PasswordHasher  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from casework.children import ChildService  # noqa: E402
from casework.lifecycle import Casework  # noqa: E402
from casework.records import Child, Pep, School  # noqa: E402
from casework.rules import ensure_authority  # noqa: E402
from casework.terms import load_default_term_dates  # noqa: E402
from casework.users import User  # noqa: E402
from engine.clock import FrozenClock  # noqa: E402
from engine.db import unit_of_work  # noqa: E402
from engine.runtime import Actor, Runtime  # noqa: E402
from engine.service import WorkflowService  # noqa: E402
from engine.timer_pump import fire_due_timers  # noqa: E402
from processes import PROCESS_DIR  # noqa: E402

SUMMER = datetime(2026, 4, 20, 9, tzinfo=UTC)
AUTUMN = datetime(2026, 9, 7, 9, tzinfo=UTC)
NOW = datetime(2026, 10, 12, 9, tzinfo=UTC)  # the benchmark's "now": before the autumn reviews are due
AUTHORITIES = {"935": "Demo Borough Council", "936": "Northshire County Council"}
TEMPLATE_LA = "935"
TEMPLATE_SCHOOL = "935000"
TEMPLATE_SW = f"sw.{TEMPLATE_LA}.001"
PASSWORD = "bench-password-2026"
FANOUT_STEP = "quality_assure_pep"  # the VSH rates the PEP green: one social-worker task per action
FANOUT_ACTIONS = 3
LA_WIDE = ("vsh", "manager", "nominated_officer", "dcs", "admissions_officer", "sen_officer", "iro", "admin")
PER_LA = {"vsh": 2, "manager": 3}  # the other LA-wide roles: one each


@dataclass(frozen=True)
class Archetype:
    """A template child: what its processes have reached by ``NOW``; cloned in proportion to ``weight``."""

    key: str
    summer_actions: int  # actions of last summer's PEP still to confirm (0: came into care this autumn)
    autumn: str  # open | teacher_done | social_done | qa | red | green | initial_overdue | initial
    move: str = ""  # "" | started | proposed
    weight: int = 1


ARCHETYPES = [
    Archetype("T01", 14, "open", weight=3),
    Archetype("T02", 10, "teacher_done", move="started", weight=2),
    Archetype("T03", 12, "qa", weight=2),
    Archetype("T04", 16, "red", weight=2),
    Archetype("T05", 8, "green", move="proposed", weight=2),
    Archetype("T06", 0, "initial_overdue", weight=1),
    Archetype("T07", 12, "social_done", weight=2),
    Archetype("T08", 0, "initial", weight=1),
    Archetype("T09", 18, "open", move="proposed", weight=2),
]


@dataclass(frozen=True)
class Size:
    """How big an authority set is: per authority, children (clones), schools; social workers hold ~30."""

    label: str
    children_per_la: int
    schools_per_la: int
    fanout_children: int = 36
    views_per_child: int = 170  # child.viewed audit rows (UK GDPR: who opened whose record)

    @property
    def social_workers_per_la(self) -> int:
        return max(2, round(self.children_per_la / 30))


HASH = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1).hash(PASSWORD)
"""One argon2id hash, made once with low parameters: every bench user has it (signing in upgrades it)."""


def school_urns(la: str, size: Size) -> list[str]:
    return [f"{la}{n:03d}" for n in range(size.schools_per_la)]


def user_rows(size: Size, password_hash: str) -> list[dict[str, Any]]:
    """Everyone in both authorities: LA-wide roles, social workers, a designated teacher per school."""
    rows: list[dict[str, Any]] = []

    def add(username: str, name: str, role: str, la: str, school: str | None = None) -> None:
        rows.append({"username": username, "display_name": name, "email": f"{username}@la{la}.example",
                     "password_hash": password_hash, "roles": role, "la_code": la, "school_urn": school,
                     "active": True, "created_at": SUMMER - timedelta(days=400)})

    for la in AUTHORITIES:
        for role in LA_WIDE:
            for n in range(1, PER_LA.get(role, 1) + 1):
                add(f"{role}.{la}.{n}", f"{role.replace('_', ' ').title()} {n} ({la})", role, la)
        for n in range(1, size.social_workers_per_la + 1):
            add(f"sw.{la}.{n:03d}", f"Social Worker {n} ({la})", "social_worker", la)
        for urn in school_urns(la, size):
            add(f"dt.{urn}", f"Designated Teacher {urn}", "designated_teacher", la, urn)
    return rows


def is_core(username: str) -> bool:
    """The users the template run needs (the rest are added after it)."""
    return not username.startswith(("sw.", "dt.")) or username in (TEMPLATE_SW, f"dt.{TEMPLATE_SCHOOL}")


KINDS = [("maintained", True, "primary"), ("academy", False, "secondary"), ("maintained", False, "secondary"),
         ("la_special", True, "all-through"), ("academy", False, "primary")]


def school_rows(size: Size) -> list[dict[str, Any]]:
    rows = []
    for la in AUTHORITIES:
        for n, urn in enumerate(school_urns(la, size)):
            kind, la_admits, phase = KINDS[n % len(KINDS)]
            rows.append({"urn": urn, "name": f"School {urn} ({phase})", "school_type": kind,
                         "la_is_admission_authority": la_admits, "la_code": la, "phase": phase})
    return rows


def seed_people(factory: sessionmaker[Session], size: Size, core: bool) -> int:
    """Authorities, term dates, schools and the core users (``core``), or the remaining users."""
    users = [u for u in user_rows(size, HASH) if is_core(u["username"]) == core]
    with unit_of_work(factory) as session:
        if core:
            for la, name in AUTHORITIES.items():
                ensure_authority(session, la, name)
                load_default_term_dates(session, la)
            session.execute(insert(School), school_rows(size))
        session.execute(insert(User), users)
    return len(users)

# -- driving the template children through the service ---------------------------------------------------

ACTOR_SW = Actor(TEMPLATE_SW, frozenset({"social_worker"}))
ACTOR_DT = Actor(f"dt.{TEMPLATE_SCHOOL}", frozenset({"designated_teacher"}))
ACTOR_VSH = Actor(f"vsh.{TEMPLATE_LA}.1", frozenset({"vsh"}))
ADMIN = Actor(f"admin.{TEMPLATE_LA}.1", frozenset({"admin"}))
CONTRIBUTION = {"care_plan_context": "Long-term foster care with a plan for permanence.",
                "placement_stability": "Stable for eighteen months.",
                "carers_support": "Reading every night."}
VIEWS = {"childs_views": "I like maths and football; spelling is hard."}
PROPOSAL = {"reason": "carer_request", "reason_detail": "The foster carers are retiring at the end of term.",
            "planned_move_date": "2027-01-04", "emergency": False,
            "childs_wishes": "Wants to stay at the same school and keep seeing their brother."}


def pep_form(actions: list[date], meeting: date) -> dict[str, Any]:
    return {"meeting_date": meeting.isoformat(), "school_name": "School 935000", "school_year_group": 5, "attendance_percent": 91.5,
            "exclusions_this_term": 0,
            "attainment_summary": "Working towards the expected standard in maths.",
            "sen_support_status": "none", "pupil_premium_plus_spend": 300,
            "pupil_premium_plus_purpose": "Maths tutoring twice a week.",
            "targets": "Times tables to 12 by February; read a chapter book each half term.",
            "actions": [{"description": f"Action {n + 1}: tutoring, reading scheme or a review meeting",
                         "owner": "Ms Patel, designated teacher", "due_date": day.isoformat()}
                        for n, day in enumerate(actions)]}


def action_dates(count: int, first: date, days: int) -> list[date]:
    """``count`` due dates spread over ``days`` from ``first``."""
    return [first + timedelta(days=round(n * days / max(1, count))) for n in range(count)]


class Driver:
    """One unit of work per call, as a request would be; the clock only moves forward."""

    def __init__(self, factory: sessionmaker[Session], runtime: Runtime, clock: FrozenClock) -> None:
        self.factory, self.runtime, self.clock = factory, runtime, clock

    def at(self, when: datetime) -> None:
        self.clock.set(max(when, self.clock.now()))
        fire_due_timers(self.factory, self.runtime, self.clock)

    def casework(self, call: Any) -> Any:
        with unit_of_work(self.factory) as session:
            return call(Casework(session, self.clock, self.runtime))

    def pep(self, ref: str, term: str | None) -> int:
        """The running ``pep_review`` instance of the child's PEP (``term`` None: the initial PEP)."""
        with unit_of_work(self.factory) as session:
            child = session.scalars(select(Child).where(Child.ref == ref)).one()
            which = Pep.term == term if term else Pep.term.is_(None)
            query = select(Pep).where(Pep.child_id == child.id, which)
            return int(session.scalars(query).one().instance_id or 0)

    def complete(self, instance_id: int, element: str, data: dict[str, Any], actor: Actor) -> None:
        self.clock.advance(timedelta(minutes=7))
        with unit_of_work(self.factory) as session:
            service = WorkflowService(session, self.clock, self.runtime)
            task = next(t for t in service.instance_tasks(instance_id) if t.state == "open"
                        and (t.element_id == element or (element == "complete_pep"
                                                         and t.element_id.startswith("complete_pep_"))))
            service.complete(task.id, data, actor)

    def review(self, instance_id: int, stage: str, actions: list[date]) -> None:
        """Take a PEP review to ``stage`` (open, teacher_done, social_done, qa, red, green)."""
        if stage in ("teacher_done", "qa", "red", "green"):
            self.complete(instance_id, "complete_pep", pep_form(actions, self.clock.now().date()), ACTOR_DT)
        if stage in ("social_done", "qa", "red", "green"):
            self.complete(instance_id, "social_worker_contribution", CONTRIBUTION, ACTOR_SW)
            self.complete(instance_id, "record_childs_views", VIEWS, ACTOR_SW)
        if stage == "social_done":
            return
        if stage == "red":
            self.complete(instance_id, FANOUT_STEP, {"rag": "red", "return_reason": "Targets are not SMART."},
                          ACTOR_VSH)
        if stage == "green":
            self.complete(instance_id, FANOUT_STEP, {"rag": "green", "feedback": "Good plan."}, ACTOR_VSH)

    def add_child(self, ref: str, age: int, looked_after_since: date, initial_pep: bool) -> None:
        born = date(self.clock.now().year - age, 3, 14)
        data = {"ref": ref, "first_name": "Template", "last_name": ref, "date_of_birth": born, "upn": None,
                "legal_status": "C2", "looked_after_since": looked_after_since, "la_code": TEMPLATE_LA,
                "social_worker": TEMPLATE_SW, "school_urn": TEMPLATE_SCHOOL}
        with unit_of_work(self.factory) as session:
            if initial_pep:
                Casework(session, self.clock, self.runtime).add_child(ADMIN, **data)
            else:
                ChildService(session, self.clock).add(ADMIN.user_id, **data)
            ChildService(session, self.clock).record_placement(
                ref, ADMIN.user_id, placement_type="foster_care", carer_name="Grace and Daniel Ahmed",
                starts_on=looked_after_since, distance="in_area", area_authority=None)

    def move(self, ref: str, how: str) -> None:
        instance = self.casework(lambda c: c.start_move(ref, ACTOR_SW))
        if how == "proposed":
            self.complete(instance.id, "propose_move", PROPOSAL, ACTOR_SW)


def new_in_care(autumn: str) -> list[Archetype]:
    return [a for a in ARCHETYPES if not a.summer_actions and a.autumn == autumn]


def build_templates(factory: sessionmaker[Session], runtime: Runtime, fanout_children: int) -> list[str]:
    """Drive the template and fan-out children to ``NOW``; returns the fan-out children's refs."""
    clock = FrozenClock(SUMMER)
    drive = Driver(factory, runtime, clock)
    with unit_of_work(factory) as session:
        WorkflowService(session, clock, runtime).deploy_directory(PROCESS_DIR, ADMIN)
    earlier = [a for a in ARCHETYPES if a.summer_actions]
    for n, archetype in enumerate(earlier):
        drive.add_child(archetype.key, 6 + n, date(2024, 2, 1), initial_pep=False)
    drive.casework(lambda c: c.open_termly_reviews(TEMPLATE_LA))
    for n, archetype in enumerate(earlier):
        drive.at(SUMMER + timedelta(days=7 + n))
        actions = action_dates(archetype.summer_actions, date(2026, 6, 1) + timedelta(days=n), 240)
        drive.review(drive.pep(archetype.key, "summer"), "green", actions)

    drive.at(AUTUMN)
    fanout = [f"F{n:02d}" for n in range(fanout_children)]
    for n, ref in enumerate(fanout):
        drive.add_child(ref, 7 + n % 8, date(2023, 9, 1), initial_pep=False)
    drive.casework(lambda c: c.open_termly_reviews(TEMPLATE_LA))
    drive.at(datetime(2026, 9, 14, 9, tzinfo=UTC))
    for archetype in new_in_care("initial_overdue"):  # due 10 working days after 10 September: overdue by NOW
        drive.add_child(archetype.key, 11, date(2026, 9, 10), initial_pep=True)
    for n, archetype in enumerate(earlier):
        drive.at(datetime(2026, 9, 21, 9, tzinfo=UTC) + timedelta(days=n))
        actions = action_dates(6, date(2026, 10, 19) + timedelta(days=n), 60)
        drive.review(drive.pep(archetype.key, "autumn"), archetype.autumn, actions)
    drive.at(datetime(2026, 10, 1, 9, tzinfo=UTC))
    for archetype in ARCHETYPES:
        if archetype.move:
            drive.move(archetype.key, archetype.move)
    drive.at(datetime(2026, 10, 5, 9, tzinfo=UTC))
    for archetype in new_in_care("initial"):  # due after NOW
        drive.add_child(archetype.key, 9, date(2026, 10, 1), initial_pep=True)
    for n, ref in enumerate(fanout):
        drive.at(datetime(2026, 10, 6, 9, tzinfo=UTC) + timedelta(hours=n))
        actions = action_dates(FANOUT_ACTIONS, date(2026, 11, 2) + timedelta(days=n), 40)
        drive.review(drive.pep(ref, "autumn"), "qa", actions)  # waits for the VSH: FANOUT_STEP
    drive.at(NOW)
    return fanout
