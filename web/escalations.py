"""The managers' escalation dashboard: open escalations, longest overdue first; resolved ones
(``?state=resolved``), most recently resolved first, stay findable.

Managers and the virtual school head only. Working and school days overdue are worked out
from each escalation's ``since`` with the runtime's calendar as the page is read (for a
resolved one, up to when it was resolved). What the manager decided on the escalation task
(the decision, their note, who and when) is shown with it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from casework.escalations import COUNT_UP_TO, Escalation, Escalations, Overdue
from casework.processes import KINDS
from casework.records import Child
from casework.users import User
from engine.models import HumanTask

from .auth import login_required
from .context import actor, clock, current_user, db, state
from .errors import wants_json
from .paging import page_links, page_number

bp = Blueprint("escalations", __name__)

DASHBOARD_ROLES = frozenset({"manager", "vsh"})
STATES = {"open": "Open", "resolved": "Resolved"}


def may_see_dashboard() -> bool:
    user = current_user()
    return user is not None and bool(user.roles_set & DASHBOARD_ROLES)


@bp.get("/escalations")
@login_required
def dashboard() -> str | Response:
    if not may_see_dashboard():
        abort(403, description="Only managers and the virtual school head can see the escalations dashboard.")
    kind = request.args.get("kind", "").strip() or None
    if kind is not None and kind not in KINDS:
        abort(400, description=f"There is no kind of escalation called ‘{kind}’. "
                               f"Choose one of: {', '.join(sorted(KINDS))}.")
    shown = request.args.get("state", "").strip() or "open"
    if shown not in STATES:
        abort(400, description=f"There is no list of escalations called ‘{shown}’. Choose open or resolved.")
    number = page_number()
    # The reader's access scope, joined in SQL: their authority's children (and, for these roles,
    # escalations not tied to a child record).
    visible = state().runtime.access.scope(db(), actor()).sees(Escalation.child_ref)
    escalations = Escalations(db())
    page = escalations.dashboard(clock().now(), state().runtime.calendar, visible, kind=kind, state=shown,
                                 page=number)
    total = escalations.count(visible, kind=kind, state=shown)
    rows = page.items
    names = _child_names([r.escalation.child_ref for r in rows])
    open_tasks = _open_task_ids([r.escalation.task_id for r in rows if r.escalation.task_id])
    deciders = _user_names([r.escalation.decided_by for r in rows if r.escalation.decided_by])
    if wants_json():
        links = page_links(page)
        return jsonify({
            "kind": kind,
            "state": shown,
            "total": total,
            "total_is_at_least": total >= COUNT_UP_TO,
            "page": page.number,
            "next": links["next"],
            "previous": links["previous"],
            "escalations": [_as_json(r, names, open_tasks, deciders) for r in rows],
        })
    return render_template(
        "escalations/dashboard.html",
        rows=rows,
        page=page,
        pages=page_links(page),
        total=total,
        count_up_to=COUNT_UP_TO,
        names=names,
        open_tasks=open_tasks,
        deciders=deciders,
        kind=kind,
        kinds=KINDS,
        shown=shown,
        states=STATES,
    )


def _child_names(refs: list[str]) -> dict[str, str]:
    if not refs:
        return {}
    query = select(Child).where(Child.ref.in_(set(refs)))
    return {c.ref: c.full_name for c in db().scalars(query)}


def _user_names(usernames: list[str]) -> dict[str, str]:
    if not usernames:
        return {}
    query = select(User.username, User.display_name).where(User.username.in_(set(usernames)))
    return {username: name for username, name in db().execute(query)}


def _open_task_ids(task_ids: list[str]) -> set[str]:
    if not task_ids:
        return set()
    query = select(HumanTask.id).where(HumanTask.id.in_(set(task_ids)), HumanTask.state == "open")
    return set(db().scalars(query))


def _as_json(row: Overdue, names: dict[str, str], open_tasks: set[str], deciders: dict[str, str]) -> dict[str, Any]:
    e = row.escalation
    task_open = e.task_id in open_tasks
    return {
        "id": e.id,
        "kind": e.kind,
        "label": e.label,
        "child_ref": e.child_ref,
        "child_name": names.get(e.child_ref),
        "child_url": url_for("children.show", ref=e.child_ref) if e.child_ref in names else None,
        "since": e.since.isoformat(),
        "working_days_overdue": row.working_days,
        "school_days_overdue": row.school_days,
        "reason": e.reason,
        "process_id": e.process_id,
        "instance_id": e.instance_id,
        "task_id": e.task_id if task_open else None,
        "task_url": url_for("tasks.show", task_id=e.task_id) if task_open and e.task_id else None,
        "state": e.state,
        "resolved_at": e.resolved_at.isoformat() if e.resolved_at else None,
        "decision": e.decision,
        "decision_note": e.decision_note,
        "decided_by": e.decided_by,
        "decided_by_name": deciders.get(e.decided_by or "", e.decided_by),
        "decided_at": e.decided_at.isoformat() if e.decided_at else None,
    }
