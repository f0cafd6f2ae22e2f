"""The Virtual School's cohort "as a single school": the dashboard's figures for a term or a year.

Promoting the education of looked-after and previously looked-after children (DfE statutory guidance,
2018): the virtual school head monitors the children's attainment and progress "as if those children
attended a single school". :func:`dashboard` gives the headline figures, each broken down by key stage,
school, social worker, team and where the child lives, and the trend over the last six terms, counting
only the children the viewer may see (``visible``: a condition on ``child``, :func:`cohort_condition`).

Everything is summed in SQL (casework/cohort_figures.py), in a bounded number of queries whatever the
size of the cohort. Definitions and sources: docs/cohort.md, "The dashboard".
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from engine.access import Actor

from .cohort_figures import BREAKDOWNS, Figures, Group, grouped
from .cohort_period import Period, parse_period, trend_terms
from .cohort_sql import KEY_STAGES, on_roll
from .cohort_trend import trend_totals
from .escalations import Escalation
from .need_to_know import EDUCATION, ESCALATION_READ_AS, READERS, categories_read_by
from .processes import KINDS
from .records import Child, School
from .roll import cohort_visible
from .school_data import AttendanceRecord
from .users import User

AREAS = {"in": "In the authority's area", "out": "Out of area", "unknown": "No placement recorded"}


@dataclass(frozen=True)
class Viewer:
    """Who is looking at the cohort: the children they may see and the escalation kinds they read."""

    children: ColumnElement[bool]
    escalation_kinds: frozenset[str]
    la_code: str


def cohort_condition(session: Session, actor: Actor) -> Viewer | None:
    """The children whose education ``actor`` reads (docs/access.md, "Need to know"), or None if they read
    no child's education: the VSH and managers their authority's, a designated teacher their school's,
    a social worker their caseload. The same rule as the case list (casework/access.py, ``reach``)."""
    condition = cohort_visible(session, actor.user_id, actor.roles)
    user = session.scalars(select(User).where(User.username == actor.user_id)).one_or_none()
    if condition is None or user is None:
        return None
    roles = sorted(actor.roles & user.roles_set & READERS[EDUCATION])
    read = categories_read_by(roles)
    kinds = frozenset(kind for kind, category in ESCALATION_READ_AS.items() if category in read)
    return Viewer(condition, kinds, user.la_code or "")


@dataclass(frozen=True)
class NoSchool:
    """Children without a school place: how many, and for how long (calendar days, since the later of
    the day they became looked after and the last day of attendance recorded at a school)."""

    children: int
    longest_days: int | None
    median_days: int | None


@dataclass(frozen=True)
class Dashboard:
    period: Period
    as_of: date
    total: Figures
    breakdowns: dict[str, list[Group]]
    trend: list[tuple[Period, Figures]]
    escalations_by_kind: list[tuple[str, str, int]]
    no_school: NoSchool

    @property
    def breakdown_titles(self) -> list[tuple[str, str]]:
        return BREAKDOWNS


def dashboard(session: Session, visible: ColumnElement[bool], period: Period | str | None, today: date, *,
              la_code: str | None = None, escalation_kinds: Collection[str] | None = None) -> Dashboard:
    """The dashboard for ``period`` (a Period, "2026/27 autumn", "2026/27", or None: the current term) over
    the children matching ``visible``. Term dates are ``la_code``'s (the default dates if None)."""
    authority = la_code or ""
    chosen = period if isinstance(period, Period) else parse_period(session, authority, period, today)
    total, raw = grouped(session, visible, chosen, today, escalation_kinds)
    names = _labels(session, raw)
    breakdowns = {
        name: sorted((Group(value, names[name].get(value or "", _missing(name)), figures)
                      for value, figures in raw[name]), key=_order(name))
        for name, _ in BREAKDOWNS
    }
    terms = trend_terms(session, authority, chosen, today)
    others = trend_totals(session, visible, [t for t in terms if t != chosen], today)
    trend = [(term, total if term == chosen else others.pop(0)) for term in terms]
    as_of = chosen.as_of(today)
    return Dashboard(chosen, as_of, total, breakdowns, trend,
                     _escalations(session, visible, as_of, escalation_kinds), _no_school(session, visible, as_of))


def _missing(dimension: str) -> str:
    return {"school": "No school place", "social_worker": "No social worker", "team": "No team",
            "key_stage": "Not known", "area": AREAS["unknown"]}[dimension]


def _labels(session: Session, raw: dict[str, list[tuple[str | None, Figures]]]) -> dict[str, dict[str, str]]:
    urns = sorted({v for v, _ in raw["school"] if v})
    workers = sorted({v for v, _ in raw["social_worker"] if v})
    schools = dict(session.execute(select(School.urn, School.name).where(School.urn.in_(urns))).all()) \
        if urns else {}
    people = dict(session.execute(select(User.username, User.display_name).where(User.username.in_(workers)))
                  .all()) if workers else {}
    return {
        "key_stage": dict(KEY_STAGES),
        "school": {urn: schools.get(urn, urn) for urn in urns},
        "social_worker": {w: people.get(w, w) for w in workers},
        "team": {v: v for v, _ in raw["team"] if v},
        "area": {k: v for k, v in AREAS.items() if k != "unknown"},
    }


def _order(dimension: str) -> Callable[[Group], tuple[int, str]]:
    stages = [k for k, _ in KEY_STAGES]
    areas = list(AREAS)

    def key(group: Group) -> tuple[int, str]:
        if dimension == "key_stage":
            return (stages.index(group.value) if group.value in stages else 99, "")
        if dimension == "area":
            return (areas.index(group.value) if group.value in areas else 99, "")
        return (1 if group.value is None else 0, group.label.lower())

    return key


def _escalations(session: Session, visible: ColumnElement[bool], as_of: date,
                 kinds: Collection[str] | None) -> list[tuple[str, str, int]]:
    """Open escalations of the children on the roll, by kind (those of kinds the viewer reads)."""
    query = (select(Escalation.kind, func.count()).join(Child, Child.ref == Escalation.child_ref)
             .where(Escalation.state == "open", visible, on_roll(as_of)).group_by(Escalation.kind))
    if kinds is not None:
        query = query.where(Escalation.kind.in_(sorted(kinds)))
    rows = [(str(kind), KINDS.get(str(kind), str(kind)), int(n)) for kind, n in session.execute(query)]
    return sorted(rows, key=lambda r: (-r[2], r[1]))


def _no_school(session: Session, visible: ColumnElement[bool], as_of: date) -> NoSchool:
    """Only the children without a school place are read (a handful), for how long each has been without."""
    # correlated, so only those children's attendance is read (by its child_id index), never the whole table
    last_at_school = (select(func.max(AttendanceRecord.period_end))
                      .where(AttendanceRecord.child_id == Child.id, AttendanceRecord.school_urn.is_not(None),
                             AttendanceRecord.period_end <= as_of)
                      .correlate(Child).scalar_subquery())
    rows = session.execute(
        select(Child.looked_after_since, last_at_school)
        .where(visible, on_roll(as_of), Child.school_urn.is_(None))).all()
    days = sorted((as_of - max(since, last or since)).days for since, last in rows)
    if not days:
        return NoSchool(0, None, None)
    return NoSchool(len(days), days[-1], days[(len(days) - 1) // 2])


__all__ = ["AREAS", "BREAKDOWNS", "Dashboard", "Figures", "Group", "NoSchool", "Period", "Viewer",
           "cohort_condition", "dashboard"]
