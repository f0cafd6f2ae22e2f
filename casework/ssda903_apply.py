"""What an SSDA903 return changes, and changing it: children, legal status, placements, leavers, PEPs.

:func:`preview` compares the checked return (casework/ssda903.py) with the authority's records: each child
is new, changed, leaving or unchanged. :func:`apply` writes it in the caller's unit of work, all or
nothing: only if the return has no error, or if every child in error is among those the operator chose to
skip. A child whose latest episode ended (a ``REC`` other than X1) leaves care: ``left_care_on`` is set and
each of their running processes is cancelled with the reason (the engine closes its tasks and timers and
audits it). docs/import-children.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.errors import InvalidData
from engine.models import ProcessInstance
from engine.runtime import Actor, Runtime

from .lifecycle import EARLY_YEARS_FROM_AGE, PEP_AGE_LIMIT, Casework
from .records import Child, Placement, School, audit_change
from .rules import initial_pep_due_on
from .schoolyear import age_on
from .ssda903 import ChildRows, Return, read_return
from .ssda903_codes import (
    ENDED_CODES,
    PEP_START_CHOICES,
    PROVIDER_CODES,
    STARTS_CARE,
    STARTS_PLACEMENT,
    placement_type,
)

CHUNK = 500
FIELDS = ("first_name", "last_name", "date_of_birth", "upn", "legal_status", "looked_after_since",
          "left_care_on", "school_urn")


@dataclass(frozen=True)
class PlacementPlan:
    starts_on: date
    ends_on: date | None
    placement_type: str
    carer_name: str


@dataclass
class ChildPlan:
    ref: str
    outcome: str  # new | changed | leaving | unchanged
    values: dict[str, Any]
    changed: list[str]
    placements: list[PlacementPlan]
    starts_care: bool
    leaving_reason: str | None


@dataclass
class Preview:
    found: Return
    plans: list[ChildPlan] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for plan in self.plans if plan.outcome == outcome)

    def counts(self) -> dict[str, int]:
        return {outcome: self.count(outcome) for outcome in ("new", "changed", "leaving", "unchanged")}

    @property
    def changes(self) -> int:
        return len(self.plans) - self.count("unchanged")

    def summary(self) -> str:
        counts = self.counts()
        return (f"{counts['new']} new, {counts['changed']} changed, {counts['leaving']} leaving, "
                f"{counts['unchanged']} unchanged")


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    items = sorted(set(values))
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


def preview(session: Session, la_code: str, header_text: str, episodes_text: str, today: date,
            header_file: str = "header.csv", episodes_file: str = "episodes.csv") -> Preview:
    """What importing the two files would do, with every error (InvalidData if a file cannot be read)."""
    found = read_return(header_text, episodes_text, today, header_file, episodes_file)
    result = Preview(found)
    wanted = [c for c in found.children.values() if c.ref not in found.children_in_error]
    ours = {c.ref: c for c in session.scalars(select(Child).where(Child.la_code == la_code))}
    theirs: set[str] = set()
    upn_owner: dict[str, str] = {}
    for part in _chunks(c.ref for c in wanted):
        theirs |= set(session.scalars(select(Child.ref).where(Child.ref.in_(part), Child.la_code != la_code)))
    for part in _chunks(c.upn for c in wanted if c.upn):
        for upn, ref in session.execute(select(Child.upn, Child.ref).where(Child.upn.in_(part))):
            upn_owner[str(upn)] = ref
    schools: set[str] = set()
    for part in _chunks(e.urn for c in wanted for e in c.episodes if e.urn):
        schools |= set(session.scalars(select(School.urn).where(School.urn.in_(part))))
    placements: dict[int, dict[date, Placement]] = {}
    for placement in session.scalars(select(Placement).join(Child, Child.id == Placement.child_id)
                                     .where(Child.la_code == la_code)):
        placements.setdefault(placement.child_id, {})[placement.starts_on] = placement
    for rows in wanted:
        if rows.ref in theirs:
            found.error(found.header_file, rows.line, "child", f"The reference {rows.ref} is another "
                                                               "authority's child", rows.ref)
        elif rows.upn and upn_owner.get(rows.upn, rows.ref) != rows.ref:
            found.error(found.header_file, rows.line, "upn", f"The UPN is recorded for the child "
                                                             f"{upn_owner[rows.upn]}", rows.ref)
        else:
            existing = ours.get(rows.ref)
            recorded = placements.get(existing.id, {}) if existing else {}
            result.plans.append(_plan(rows, existing, recorded, schools))
    return result


def _placements(rows: ChildRows) -> list[PlacementPlan]:
    """A placement starts with the first episode, each S/P/T/U episode and each new period of care, and
    runs over the episodes that only change the legal status (L); it ends on its last episode's DEC."""
    plans: list[PlacementPlan] = []
    previous = None
    for episode in rows.episodes:
        starts = previous is None or episode.rne in STARTS_PLACEMENT or previous.ends_care
        if starts:
            provider = PROVIDER_CODES.get(episode.provider, "Provider not recorded")
            carer = f"{provider}, {episode.district}" if episode.district else provider
            plans.append(PlacementPlan(episode.decom, episode.dec, placement_type(episode.place, episode.provider),
                                       carer))
        else:
            last = plans[-1]
            plans[-1] = PlacementPlan(last.starts_on, episode.dec, last.placement_type, last.carer_name)
        previous = episode
    return plans


def _period_start(rows: ChildRows, existing: Child | None) -> date:
    """The start of the current period of care: back from the last episode while the one before continued
    into it (X1) and it did not start care (S). If the file does not reach the period's start (no S), an
    earlier date already recorded for the child is kept."""
    episodes = rows.episodes
    index = len(episodes) - 1
    while index > 0 and episodes[index].rne != STARTS_CARE and not episodes[index - 1].ends_care:
        index -= 1
    start = episodes[index].decom
    if episodes[index].rne != STARTS_CARE and existing is not None and existing.looked_after_since < start:
        return existing.looked_after_since
    return start


def _plan(rows: ChildRows, existing: Child | None, recorded: dict[date, Placement], schools: set[str]) -> ChildPlan:
    last = rows.episodes[-1]
    values: dict[str, Any] = {
        "date_of_birth": rows.date_of_birth, "upn": rows.upn, "legal_status": last.ls,
        "looked_after_since": _period_start(rows, existing),
        "left_care_on": last.dec if last.ends_care else None,
    }
    if last.urn in schools:
        values["school_urn"] = last.urn
    if rows.first_name or existing is None:
        values["first_name"] = rows.first_name or "Child"
    if rows.last_name or existing is None:
        values["last_name"] = rows.last_name or rows.ref
    leaving_reason = f"{last.rec}: {ENDED_CODES[last.rec]}" if last.ends_care and last.rec else None
    placements = _placements(rows)
    if existing is None:
        return ChildPlan(rows.ref, "new", values, list(values), placements, not last.ends_care, leaving_reason)
    changed = [name for name in FIELDS if name in values and getattr(existing, name) != values[name]]
    changed += [f"placement from {p.starts_on:%d/%m/%Y}" for p in placements if _differs(recorded.get(p.starts_on), p)]
    leaving = existing.left_care_on is None and values["left_care_on"] is not None
    outcome = "leaving" if leaving else "changed" if changed else "unchanged"
    returning = existing.left_care_on is not None and values["left_care_on"] is None
    return ChildPlan(rows.ref, outcome, values, changed, placements, returning, leaving_reason)


def _differs(placement: Placement | None, plan: PlacementPlan) -> bool:
    """A placement recorded on the same day is the same one: its type and end are the return's; its carer
    (written from the provider when first recorded, or by hand) is kept."""
    return placement is None or (placement.placement_type, placement.ends_on) != (plan.placement_type, plan.ends_on)


# -- applying --------------------------------------------------------------------------------------------


def apply(session: Session, clock: Clock, runtime: Runtime, la_code: str, header_text: str, episodes_text: str,
          actor: Actor, pep_start: str, skip: Iterable[str] = (), header_file: str = "header.csv",
          episodes_file: str = "episodes.csv") -> Preview:
    """Import the return (flushes; the caller commits). InvalidData, changing nothing, if it has an error
    that is not in a child named in ``skip``."""
    if pep_start not in PEP_START_CHOICES:
        raise InvalidData({"pep_start": [f"Choose how PEPs start: {', '.join(PEP_START_CHOICES)}"]})
    today = clock.now().date()
    result = preview(session, la_code, header_text, episodes_text, today, header_file, episodes_file)
    found, skipped = result.found, set(skip)
    if found.unskippable or not found.children_in_error <= skipped:
        missing = sorted(found.children_in_error - skipped)
        raise InvalidData({"file": [str(e) for e in found.errors[:20]]},
                          "The files have errors: correct them, or skip the children in error"
                          + (f" ({', '.join(missing[:20])})" if missing else ""))
    result.plans = [plan for plan in result.plans if plan.ref not in skipped]
    casework = Casework(session, clock, runtime)
    due_on = lru_cache(maxsize=None)(lambda day: initial_pep_due_on(session, la_code, day))  # one calendar a day
    for plan in result.plans:
        if plan.outcome != "unchanged":
            _apply_child(casework, la_code, plan, actor, pep_start, today, due_on)
    audit_change(session, clock.now(), actor.user_id, "ssda903.imported", None,
                 {**result.counts(), "skipped": sorted(skipped & set(found.children)), "pep_start": pep_start,
                  "header_file": header_file, "episodes_file": episodes_file})
    return result


def _apply_child(casework: Casework, la_code: str, plan: ChildPlan, actor: Actor, pep_start: str,
                 today: date, due_on: Callable[[date], date]) -> None:
    session, now = casework.session, casework.clock.now()
    values = plan.values
    if plan.outcome == "new":
        data = {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items() if k != "left_care_on"}
        child = casework.children.add(actor.user_id, ref=plan.ref, la_code=la_code, **data)
        child.left_care_on = values["left_care_on"]
        audit_change(session, now, actor.user_id, "child.placements_imported", plan.ref,
                     {"source": "ssda903", "placements": [f"{p.placement_type} from {p.starts_on.isoformat()}"
                                                          for p in plan.placements]})
    else:
        child = casework.children.get(plan.ref)
        for name in FIELDS:
            if name in values:
                setattr(child, name, values[name])
        child.updated_at = now
        audit_change(session, now, actor.user_id, "child.updated", plan.ref,
                     {"source": "ssda903", "changed": plan.changed})
    _write_placements(session, child, plan.placements, plan.outcome != "new")
    session.flush()
    if plan.outcome == "leaving" or (plan.outcome != "unchanged" and child.left_care_on is not None):
        _end_processes(casework, child, plan.leaving_reason or "Left care", actor)
    if plan.starts_care and child.left_care_on is None:
        _start_peps(casework, child, actor, pep_start, today, due_on)


def _write_placements(session: Session, child: Child, plans: list[PlacementPlan], existing: bool) -> None:
    recorded = {p.starts_on: p for p in session.scalars(select(Placement).where(Placement.child_id == child.id))
                } if existing else {}
    for plan in plans:
        placement = recorded.get(plan.starts_on)
        if placement is None:
            placement = Placement(child_id=child.id, starts_on=plan.starts_on, distance="in_area",
                                  carer_name=plan.carer_name)
            session.add(placement)
            recorded[plan.starts_on] = placement
        placement.placement_type, placement.ends_on = plan.placement_type, plan.ends_on
    session.flush()
    latest = max(recorded.values(), key=lambda p: (p.starts_on, p.id), default=None)
    child.current_placement_id = latest.id if latest is not None else None


def _end_processes(casework: Casework, child: Child, reason: str, actor: Actor) -> None:
    """Cancel the child's running processes (tasks and timers end; the engine audits the reason)."""
    running = casework.session.scalars(select(ProcessInstance.id).where(
        ProcessInstance.business_key == child.ref, ProcessInstance.status == "running")
        .order_by(ProcessInstance.id)).all()
    why = f"Left care on {child.left_care_on:%d/%m/%Y} ({reason}): SSDA903 import"
    for instance_id in running:
        casework.workflows.cancel(instance_id, actor, why)
    audit_change(casework.session, casework.clock.now(), actor.user_id, "child.left_care", child.ref,
                 {"left_care_on": child.left_care_on, "reason": reason, "processes_cancelled": list(running)})


def _start_peps(casework: Casework, child: Child, actor: Actor, pep_start: str, today: date,
                due_on: Callable[[date], date]) -> None:
    """New to care: the initial PEP as for a child added by hand, unless it would already be overdue; a
    child already in care then gets what ``pep_start`` says (``next_termly``: nothing now)."""
    if due_on(child.looked_after_since) >= today:
        casework.open_initial_pep(child.ref, actor)
        return
    age = age_on(child.date_of_birth, today)
    if pep_start == "initial_now" and EARLY_YEARS_FROM_AGE <= age < PEP_AGE_LIMIT:
        casework.start_pep(child.ref, "initial", due_on(today), actor=actor)
