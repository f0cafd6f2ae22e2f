"""A small, realistic demo authority: staff of each role and placement moves under way."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.runtime import Actor, Runtime
from engine.service import WorkflowService
from processes import PROCESS_DIR

from .users import UserService

DEMO_PASSWORD = "demo-password-2026"
DEMO_LA = "935"  # a three-digit LA number, as in UPNs

STAFF = [
    ("sarah.social", "Sarah Okafor", "social_worker"),
    ("tom.social", "Tom Reynolds", "social_worker"),
    ("vera.vsh", "Vera Lindqvist", "vsh"),
    ("mike.manager", "Mike Chen", "manager"),
    ("dana.teacher", "Dana Price", "designated_teacher"),
    ("nina.officer", "Nina Patel", "nominated_officer"),
    ("alex.admin", "Alex Morgan", "admin"),
]

MOVES = [("C-1001", "sarah.social"), ("C-1002", "sarah.social"), ("C-1003", "tom.social")]
CHILDREN = {  # name, date of birth, current school URN (the placement move's start data)
    "C-1001": ("Amira Khan", "2015-03-14", "100000"),
    "C-1002": ("Jayden Brooks", "2011-11-20", "100000"),
    "C-1003": ("Lily Evans", "2018-06-02", None),
}

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


def load_demo(session: Session, clock: Clock, runtime: Runtime, school_place_limit_school_days: int = 10) -> DemoSummary:
    """Seed staff and start placement moves; safe to run on an empty database only."""
    users = UserService(session, clock)
    for username, name, role in STAFF:
        if users.by_username(username) is None:
            users.add(username, name, f"{username}@demo-council.example", DEMO_PASSWORD, [role], DEMO_LA,
                      school_urn="100000" if role == "designated_teacher" else None)
    workflows = WorkflowService(session, clock, runtime)
    workflows.deploy_directory(PROCESS_DIR, Actor("alex.admin", frozenset({"admin"})))
    started = 0
    for child, worker in MOVES:
        if workflows.instances(child):
            continue
        actor = Actor(worker, frozenset({"social_worker"}))
        name, date_of_birth, school_urn = CHILDREN[child]
        instance = workflows.start("placement_move", child, {
            "child_ref": child, "child_name": name, "date_of_birth": date_of_birth,
            "current_school_urn": school_urn, "move_proposed_at": clock.now().isoformat(),
            "school_place_limit_school_days": school_place_limit_school_days, "area_notice_working_days": 5,
            "lane_roles": {"ks4_approver": "nominated_officer", "dcs": "dcs"},
        }, actor)
        started += 1
        if child == "C-1002":  # one move already proposed: its two branches run in parallel
            [proposal] = workflows.instance_tasks(instance.id)
            workflows.complete(proposal.id, PROPOSAL, actor)
    return DemoSummary(users=len(STAFF), instances=started)
