"""A small, realistic demo authority: staff of every role, schools of each kind, looked-after
children aged 2 to 17 with their care placements, their PEPs for this term (one initial PEP
already overdue, which escalates to the manager once the timers run; one termly PEP waiting for the
virtual school head's quality assurance and one she returned to the designated teacher), and placement
moves under way.

Load it into an empty database (``vsw demo``); loading again adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.runtime import Actor, Runtime
from engine.service import WorkflowService
from processes import PROCESS_DIR

from .children import ChildService
from .demo_cohort import load_demo_cohort
from .demo_peps import progress_demo_peps
from .escalations import Escalation
from .lifecycle import Casework
from .processes import placement_move
from .records import School
from .rules import ensure_authority
from .schools import SchoolService
from .terms import has_own_term_dates, load_default_term_dates
from .upn import check_letter
from .users import UserService

DEMO_PASSWORD = "demo-password-2026"
DEMO_LA = "935"  # a three-digit LA number, as in UPNs
DEMO_LA_NAME = "Demo Borough Council"
ADMIN = Actor("alex.admin", frozenset({"admin"}))

# urn, name, type, LA is admission authority, phase
SCHOOLS = [
    ("100000", "Riverside Primary School", "maintained", True, "primary"),
    ("100001", "Hillcrest Academy", "academy", False, "secondary"),
    ("100002", "St Anne's CE Voluntary Aided High School", "maintained", False, "secondary"),
    ("100003", "Oakfield Special School", "la_special", True, "all-through"),
    ("100004", "Little Acorns Nursery", "early_years_setting", False, "nursery"),
    ("100005", "Northgate College", "further_education", False, "16 plus"),
]
# username, name, role, school (designated teachers only)
STAFF = [
    ("sarah.social", "Sarah Okafor", "social_worker", None),
    ("tom.social", "Tom Reynolds", "social_worker", None),
    ("vera.vsh", "Vera Lindqvist", "vsh", None),
    ("mike.manager", "Mike Chen", "manager", None),
    ("dana.teacher", "Dana Price", "designated_teacher", "100000"),
    ("harry.teacher", "Harry Osei", "designated_teacher", "100001"),
    ("priya.teacher", "Priya Shah", "designated_teacher", "100004"),
    ("colin.teacher", "Colin Wright", "designated_teacher", "100005"),
    ("nina.officer", "Nina Patel", "nominated_officer", None),
    ("david.dcs", "David Adeyemi", "dcs", None),
    ("anna.admissions", "Anna Kowalski", "admissions_officer", None),
    ("sam.send", "Sam Fletcher", "sen_officer", None),
    ("alex.admin", "Alex Morgan", "admin", None),
]
# ref, first, last, years old on load, legal status, months looked after, social worker, school
CHILDREN = [
    ("C-1001", "Amira", "Khan", 10, "C2", 30, "sarah.social", "100000"),
    ("C-1002", "Jayden", "Brooks", 14, "C2", 48, "sarah.social", "100001"),
    ("C-1003", "Lily", "Evans", 7, "C1", 8, "tom.social", "100000"),
    ("C-1004", "Noah", "Campbell", 2, "V2", 5, "tom.social", "100004"),
    ("C-1005", "Chloe", "Murray", 17, "C2", 60, "sarah.social", "100005"),
]
# ref, first, last, years old, legal status, days looked after, social worker, school: children who came
# into care recently, each with an initial PEP: one this week, one five weeks ago whose PEP is overdue
NEW_CHILDREN = [
    ("C-1006", "Ethan", "Walsh", 9, "L2", 2, "tom.social", "100000"),
    ("C-1007", "Mia", "Robinson", 12, "C1", 35, "tom.social", "100001"),
]
# ref: placement type, carer or home, distance, area authority, days since it started (within the care episode)
PLACEMENTS = {
    "C-1001": ("foster_care", "Grace and Daniel Ahmed", "in_area", None, 420),
    "C-1002": ("childrens_home", "Beech House", "in_area", None, 600),
    "C-1003": ("kinship_care", "Margaret Evans (grandmother)", "in_area", None, 240),
    "C-1004": ("agency_foster_care", "Bright Futures Fostering: the Coles", "out_of_area_adjoining",
               "Northshire County Council", 150),
    "C-1005": ("semi_independent", "Harbour View supported lodgings", "in_area", None, 180),
    "C-1006": ("foster_care", "Priya and Sam Lee (emergency carers)", "in_area", None, 2),
    "C-1007": ("foster_care", "Joan Fairweather", "in_area", None, 35),
}
MOVES = ["C-1001", "C-1002", "C-1003"]

PROPOSAL = {
    "reason": "carer_request",
    "reason_detail": "The foster carers are retiring at the end of term.",
    "planned_move_date": "2027-01-04",
    "emergency": False,
    "childs_wishes": "Wants to stay at the same school and keep seeing their brother.",
}


@dataclass
class DemoSummary:
    users: int
    instances: int
    children: int = 0
    peps: int = 0


def _upn(serial: int, birth_year: int) -> str:
    body = f"{DEMO_LA}2000{birth_year % 100:02d}{serial:03d}"
    return check_letter(body) + body


def load_demo(session: Session, clock: Clock, runtime: Runtime, school_place_limit_school_days: int = 10,
              hasher: PasswordHasher | None = None) -> DemoSummary:
    """Seed the authority, its people and children, and start their processes; adds nothing twice.

    The staff's passwords are hashed with ``hasher`` (production strength unless given)."""
    del school_place_limit_school_days  # the authority's rule decides (default 20 school days)
    today = clock.now().date()
    ensure_authority(session, DEMO_LA, DEMO_LA_NAME)
    if not has_own_term_dates(session, DEMO_LA):
        load_default_term_dates(session, DEMO_LA)
    schools = SchoolService(session, clock)
    for urn, name, kind, la_admits, phase in SCHOOLS:
        if session.get(School, urn) is None:
            schools.add(ADMIN.user_id, urn=urn, name=name, school_type=kind, la_is_admission_authority=la_admits,
                        la_code=DEMO_LA, phase=phase)
    users = UserService(session, clock, hasher)
    for username, name, role, school in STAFF:
        if users.by_username(username) is None:
            users.add(username, name, f"{username}@demo-council.example", DEMO_PASSWORD, [role], DEMO_LA,
                      school_urn=school)
    WorkflowService(session, clock, runtime).deploy_directory(PROCESS_DIR, ADMIN)

    casework = Casework(session, clock, runtime)
    children = ChildService(session, clock)
    added = 0
    for serial, (ref, first, last, age, status, months, worker, school) in enumerate(CHILDREN, start=1):
        if children.by_ref(ref) is not None:
            continue
        born = _birthday(today, age)
        children.add(ADMIN.user_id, ref=ref, first_name=first, last_name=last, date_of_birth=born,
                     upn=_upn(serial, born.year) if age >= 4 else None, legal_status=status,
                     looked_after_since=today - timedelta(days=30 * months), la_code=DEMO_LA,
                     social_worker=worker, school_urn=school)
        added += 1
    peps = 0
    for serial, (ref, first, last, age, status, days, worker, school) in enumerate(NEW_CHILDREN,
                                                                                  start=len(CHILDREN) + 1):
        if children.by_ref(ref) is not None:
            continue
        born = _birthday(today, age)
        casework.add_child(ADMIN, ref=ref, first_name=first, last_name=last, date_of_birth=born,
                           upn=_upn(serial, born.year), legal_status=status,
                           looked_after_since=today - timedelta(days=days), la_code=DEMO_LA,
                           social_worker=worker, school_urn=school)
        added += 1
        peps += 1
    for ref, (kind, carer, distance, area, days) in PLACEMENTS.items():
        if children.current_placement(ref) is None:
            children.record_placement(ref, ADMIN.user_id, placement_type=kind, carer_name=carer,
                                      starts_on=today - timedelta(days=days), distance=distance, area_authority=area)
    peps += casework.open_termly_reviews(DEMO_LA).opened

    started = 0
    workflows = WorkflowService(session, clock, runtime)
    for child_ref in MOVES:
        if workflows.instances(child_ref) and any(i.process_id == placement_move.PROCESS_ID
                                                  for i in workflows.instances(child_ref)):
            continue
        child = children.get(child_ref)
        actor = Actor(child.social_worker or "", frozenset({"social_worker"}))
        instance = casework.start_move(child_ref, actor)
        started += 1
        if child_ref == "C-1002":  # one move already proposed: its two branches run in parallel
            [proposal] = [t for t in workflows.instance_tasks(instance.id) if t.state == "open"]
            workflows.complete(proposal.id, PROPOSAL, actor)
    progress_demo_peps(session, clock, runtime)  # one PEP waits for the VSH's rating, one was returned
    cohort = load_demo_cohort(session, clock, hasher, password=DEMO_PASSWORD)  # the mid-size authority's roll
    return DemoSummary(users=len(STAFF) + cohort.users, instances=started, children=added + cohort.children,
                       peps=peps + cohort.peps)


def _birthday(today: date, age: int) -> date:
    """A date of birth that makes the child ``age`` today (born in March, or last year's)."""
    born = date(today.year - age, 3, 14)
    return born if born <= today else date(today.year - age - 1, 3, 14)


def open_escalations(session: Session) -> int:
    """How many of the demo authority's escalations are open."""
    query = select(func.count()).select_from(Escalation).where(Escalation.state == "open",
                                                               Escalation.la_code == DEMO_LA)
    return int(session.scalar(query) or 0)
