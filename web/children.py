"""The case list and a child's record: only the children the signed-in user may see.

A child the user may not see is answered 404, exactly as a child who does not exist
(never confirm another child's record exists). Opening a record is written to the
audit trail (UK GDPR: who saw whose personal data, and when). What a record and a row
of the list show follows the reader's need to know (docs/access.md, "Need to know"):
placements are care, PEPs are education, tasks and escalations follow their steps.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from sqlalchemy import and_, exists, func, or_, select
from werkzeug.wrappers import Response

from casework.access import CaseAccess
from casework.children import ChildService
from casework.lifecycle import Casework
from casework.need_to_know import CARE, EDUCATION, SCHOOL_PLACE, Reader
from casework.processes import admission_direction, placement_move
from casework.records import (
    DISTANCES,
    LEGAL_STATUSES,
    PLACEMENT_TYPES,
    Child,
    Pep,
    PepAction,
    Placement,
    School,
    audit_change,
)
from casework.schoolyear import age_on, year_group
from casework.users import User
from engine.errors import Conflict
from engine.models import HumanTask, ProcessInstance
from engine.paging import PAGE_SIZE, Page

from .auth import login_required
from .context import actor, clock, current_user, db, may_see, need_to_know, state, workflow
from .paging import page_links, page_number
from .timeline import for_record as timeline_for_record
from .timeline import lines as timeline_lines

bp = Blueprint("children", __name__)

PEP_STATUS = {
    "not_started": ("Not started", "grey"),
    "in_progress": ("In progress", "blue"),
    "submitted": ("Submitted", "purple"),
    "returned": ("Returned for changes", "orange"),
    "complete": ("Complete", "green"),
    "cancelled": ("Cancelled", "grey"),
}
PEP_KINDS = {"initial": "Initial PEP", "termly": "Termly review", "school_change": "New school PEP"}
PEP_STAGES = {"early_years": "Early years", "school_age": "School age", "post_16": "Post-16"}
RAG = {"red": ("Red", "red"), "amber": ("Amber", "yellow"), "green": ("Green", "green")}


def year_group_label(date_of_birth: date, on: date) -> str:
    year = year_group(date_of_birth, on)
    if year < 0:
        return "Early years"
    if year == 0:
        return "Reception"
    return f"Year {year}"


@dataclass(frozen=True)
class CaseRow:
    child: Child
    age: int
    year_group: str
    school: School | None
    placement: Placement | None
    pep: Pep | None
    open_tasks: int
    shows_placement: bool = True
    shows_pep: bool = True


def _visible_children(number: int) -> tuple[Page[Child], int]:
    """One page of the children the user may see, and how many they may see in all."""
    access = state().runtime.access
    if not isinstance(access, CaseAccess):  # a runtime without the case access policy lists no children
        return Page([], number, PAGE_SIZE, has_next=False), 0
    scope = access.scope(db(), actor())
    page = access.visible_children(db(), actor(), number, scope=scope)
    total = db().scalar(select(func.count()).select_from(Child).where(scope.children))
    return page, int(total or 0)


def _case_rows(children: list[Child]) -> list[CaseRow]:
    session = db()
    today = clock().now().date()
    urns = {c.school_urn for c in children if c.school_urn}
    schools = {s.urn: s for s in session.scalars(select(School).where(School.urn.in_(urns)))} if urns else {}
    placement_ids = {c.current_placement_id for c in children if c.current_placement_id}
    placements = (
        {p.id: p for p in session.scalars(select(Placement).where(Placement.id.in_(placement_ids)))}
        if placement_ids
        else {}
    )
    child_ids = [c.id for c in children]
    latest: dict[int, Pep] = {}
    if child_ids:
        for pep in session.scalars(select(Pep).where(Pep.child_id.in_(child_ids)).order_by(Pep.id)):
            latest[pep.child_id] = pep
    refs = [c.ref for c in children]
    reading = need_to_know()
    counts = reading.open_task_counts(refs)  # only the tasks the reader may read
    readers = reading.readers(refs)
    return [
        CaseRow(
            child=c,
            age=age_on(c.date_of_birth, today),
            year_group=year_group_label(c.date_of_birth, today),
            school=schools.get(c.school_urn or ""),
            placement=placements.get(c.current_placement_id or 0),
            pep=latest.get(c.id),
            open_tasks=counts.get(c.ref, 0),
            shows_placement=readers[c.ref].reads(CARE),
            shows_pep=readers[c.ref].reads(EDUCATION),
        )
        for c in children
    ]


@bp.get("/children")
@login_required
def index() -> str:
    page, total = _visible_children(page_number())
    rows = _case_rows(page.items)
    return render_template("children/index.html", rows=rows, page=page, pages=page_links(page), total=total,
                           now=clock().now(), **_labels())


def _labels() -> dict[str, Any]:
    return {
        "pep_status": PEP_STATUS,
        "pep_kinds": PEP_KINDS,
        "pep_stages": PEP_STAGES,
        "rag": RAG,
        "placement_types": dict(PLACEMENT_TYPES),
        "distances": dict(DISTANCES),
        "legal_statuses": dict(LEGAL_STATUSES),
    }


def _visible_child(ref: str) -> Child:
    child = ChildService(db(), clock()).by_ref(ref)
    if child is None or not may_see(child.ref):
        abort(404)  # the same answer whether the child does not exist or is not yours to see
    return child


def _allocated_social_worker(child: Child) -> bool:
    user = current_user()
    return user is not None and "social_worker" in user.roles_set and child.social_worker == user.username


MOVES_SHOWN = 10
"""How many of a child's moves and directions the record lists (the newest; a count says how many more)."""
MOVE_KINDS = {placement_move.PROCESS_ID: "Placement move", admission_direction.PROCESS_ID: "Admission direction"}
INSTANCE_STATUS = {"running": "In progress", "completed": "Finished", "cancelled": "Cancelled"}


def _moves_and_directions(reader: Reader) -> tuple[list[ProcessInstance], int]:
    """The child's placement moves and admission directions the reader may read (the rule of
    ``NeedToKnow.may_read_instance``, decided in SQL), newest first: the first MOVES_SHOWN, and how many."""
    if not reader.sees:
        return [], 0
    readable = [
        ProcessInstance.process_id == process_id if reader.reads_process(process_id) else and_(
            ProcessInstance.process_id == process_id,
            exists().where(HumanTask.instance_id == ProcessInstance.id, reader.tasks()))
        for process_id in MOVE_KINDS
    ]
    condition = and_(ProcessInstance.business_key == reader.key, or_(*readable))
    session = db()
    shown = list(session.scalars(select(ProcessInstance).where(condition)
                                 .order_by(ProcessInstance.started_at.desc(), ProcessInstance.id.desc())
                                 .limit(MOVES_SHOWN)))
    total = len(shown) if len(shown) < MOVES_SHOWN else int(
        session.scalar(select(func.count()).select_from(ProcessInstance).where(condition)) or 0)
    return shown, total


def _move_in_progress(ref: str) -> Any:
    running = workflow().instances(ref, status="running")
    return next((i for i in running if i.process_id == placement_move.PROCESS_ID), None)


@bp.get("/children/<key:ref>")
@login_required
def show(ref: str) -> str:
    child = _visible_child(ref)
    session = db()
    now = clock().now()
    audit_change(session, now, actor().user_id, "child.viewed", child.ref, {})
    children = ChildService(session, clock())
    reading = need_to_know()
    reader = reading.reader(child.ref)
    school = session.get(School, child.school_urn) if child.school_urn else None
    social_worker = (
        session.scalars(select(User).where(User.username == child.social_worker)).one_or_none()
        if child.social_worker
        else None
    )
    placements = list(reversed(children.placements(child.ref))) if reader.reads(CARE) else []
    carer = (children.current_placement(child.ref)  # the placement the child is in now, not a planned one
             if reader.reads_any(CARE, SCHOOL_PLACE, EDUCATION) else None)
    peps = (list(session.scalars(select(Pep).where(Pep.child_id == child.id).order_by(Pep.id.desc())))
            if reader.reads(EDUCATION) else [])
    actions: dict[int, list[PepAction]] = defaultdict(list)
    if peps:
        query = select(PepAction).where(PepAction.pep_id.in_([p.id for p in peps]))
        for action in session.scalars(query.order_by(PepAction.due_on, PepAction.id)):
            actions[action.pep_id].append(action)
    tasks = reading.open_tasks(child.ref)
    escalations = reading.open_escalations(child.ref)
    move = _move_in_progress(child.ref)
    moves, moves_total = _moves_and_directions(reader)
    today = now.date()
    return render_template(
        "children/child.html",
        child=child,
        age=age_on(child.date_of_birth, today),
        year_group=year_group_label(child.date_of_birth, today),
        school=school,
        social_worker=social_worker,
        placements=placements,
        current_placement_id=child.current_placement_id,
        carer=carer,
        shows_placements=reader.reads(CARE),
        shows_peps=reader.reads(EDUCATION),
        peps=peps,
        actions=actions,
        tasks=tasks,
        escalations=escalations,
        may_start_move=_allocated_social_worker(child),
        move=move if move is not None and reading.may_read_instance(move) else None,
        moves=moves,
        moves_total=moves_total,
        timeline=timeline_lines(timeline_for_record(child)),
        move_kinds=MOVE_KINDS,
        instance_status=INSTANCE_STATUS,
        now=now,
        today=today,
        **_labels(),
    )


@bp.post("/children/<key:ref>/moves")
@login_required
def start_move(ref: str) -> Response:
    child = _visible_child(ref)
    if not _allocated_social_worker(child):
        abort(403, description="Only the child's allocated social worker can start a placement move.")
    if _move_in_progress(child.ref) is not None:
        raise Conflict(f"A placement move for {child.ref} is already in progress: finish or cancel it first.")
    instance = Casework(db(), clock(), state().runtime).start_move(child.ref, actor())
    first = next(
        (
            t
            for t in workflow().instance_tasks(instance.id)
            if t.element_id == placement_move.FIRST_TASK and t.state == "open"
        ),
        None,
    )
    flash(f"A placement move for {child.full_name} has started", "success")
    if first is None:
        return redirect(url_for("instances.show", instance_id=instance.id))
    return redirect(url_for("tasks.show", task_id=first.id))

