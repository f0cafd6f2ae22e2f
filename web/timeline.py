"""A child's timeline (casework/timeline.py), a page at a time: the child's record shows the newest
:data:`ON_RECORD` and links here. A child the reader may not see is 404, as on the record itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import Blueprint, abort, current_app, render_template, url_for

from casework.children import ChildService
from casework.records import DISTANCES, PLACEMENT_TYPES, Child
from casework.timeline import ESCALATION, PEP, PLACEMENT, PROCESS, SCHOOL, Event, timeline
from engine.paging import PAGE_SIZE, Page

from .auth import login_required
from .context import clock, db, may_see, need_to_know
from .filters import govuk_date
from .paging import page_links, page_number

bp = Blueprint("timeline", __name__)

ON_RECORD = 10
"""How many entries the child's record shows (the newest)."""
STATES = {
    PROCESS: {"running": ("In progress", "blue"), "completed": ("Finished", "green"), "cancelled": ("Cancelled", "grey")},
    PEP: {"not_started": ("Not started", "grey"), "in_progress": ("In progress", "blue"),
          "submitted": ("Submitted", "purple"), "returned": ("Returned for changes", "orange"),
          "complete": ("Complete", "green"), "cancelled": ("Cancelled", "grey")},
    ESCALATION: {"open": ("Open", "red"), "resolved": ("Resolved", "green")},
}
PEP_KINDS = {"initial": "Initial PEP", "termly": "Termly PEP review", "school_change": "New school PEP"}
KIND_NAMES = {PROCESS: "Process", PEP: "Personal Education Plan", ESCALATION: "Escalation",
              PLACEMENT: "Placement", SCHOOL: "School"}


@dataclass(frozen=True)
class Line:
    """One timeline entry as the page words it."""

    kind: str
    when: str
    title: str
    detail: str
    href: str | None
    tag: tuple[str, str] | None


def lines(events: Page[Event]) -> list[Line]:
    return [_line(e) for e in events.items]


def _line(event: Event) -> Line:
    facts = event.facts
    tag = STATES.get(event.kind, {}).get(event.state)
    href = url_for("instances.show", instance_id=event.instance_id) if event.instance_id else None
    ended = f", ended {_day(event.ended)}" if event.ended else ""
    why = f". Cancelled: {facts['cancelled_reason']}" if facts.get("cancelled_reason") else ""
    if event.kind == PROCESS:
        return Line(event.kind, _day(event.at), event.subject, f"Started {_day(event.at)}{ended}{why}", href, tag)
    if event.kind == PEP:
        term = f", {facts['term']} term" if facts.get("term") else ""
        title = f"{PEP_KINDS.get(event.subject, event.subject)}{term} {facts.get('academic_year') or ''}".strip()
        if "peps.show" in current_app.view_functions:
            href = url_for("peps.show", pep_id=event.pep_id)
        signed = f", signed off {_day(event.ended)}" if event.ended else ""
        return Line(event.kind, _day(event.at), title, f"Opened {_day(event.at)}{signed}{why}", href, tag)
    if event.kind == ESCALATION:
        resolved = f", resolved {_day(event.ended)}" if event.ended else ""
        return Line(event.kind, _day(event.at), event.subject, f"{facts.get('reason', '')}{resolved}".strip(),
                    href, tag)
    if event.kind == PLACEMENT:
        where = dict(DISTANCES).get(str(facts.get("distance")), "")
        area = f" ({facts['area_authority']})" if facts.get("area_authority") else ""
        carer = f"With {facts['carer_name']}. " if facts.get("carer_name") else ""
        until = f" to {_day(event.ended)}" if event.ended else ", ongoing"
        return Line(event.kind, _day(event.at), dict(PLACEMENT_TYPES).get(event.subject, event.subject),
                    f"{carer}{where}{area}. From {_day(event.at)}{until}".strip(), None, None)
    to = facts.get("to") or "no school place"
    earlier = f" (from {facts['from']})" if facts.get("from") else ""
    return Line(event.kind, _day(event.at), "Change of school", f"Now {to}{earlier}", None, None)


def _day(value: datetime | date | None) -> str:
    return govuk_date(value)


def visible_child(ref: str) -> Child:
    child = ChildService(db(), clock()).by_ref(ref)
    if child is None or not may_see(child.ref) or not need_to_know().reader(child.ref).sees:
        abort(404)  # the same answer whether the child does not exist or is not the reader's to see
    return child


def for_record(child: Child) -> Page[Event]:
    """The newest entries the reader may read, for the child's record."""
    return timeline(db(), need_to_know().reader(child.ref), child, 1, ON_RECORD)


@bp.get("/children/<key:ref>/timeline")
@login_required
def show(ref: str) -> str:
    child = visible_child(ref)
    page = timeline(db(), need_to_know().reader(child.ref), child, page_number(), PAGE_SIZE)
    return render_template("children/timeline.html", child=child, entries=lines(page), page=page,
                           pages=page_links(page), kind_names=KIND_NAMES)
