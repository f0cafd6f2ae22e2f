"""Finding a school, a person or an authority by part of its name: what the form fields' autocomplete asks.

Each search is one SQL query with at most :data:`LIMIT` results (one more is read to say there are more);
what the searcher may see is part of its condition, never filtered afterwards:

* **schools**: the register is public (GIAS), so everyone signed in finds any school that is open or proposed
  to open, by part of its name or the start of its URN; a closed school is never offered.
* **authorities**: the authorities using the service and those the schools register names, by part of the
  name or the LA code.
* **people**: active staff of the searcher's own authority. A designated teacher (and nobody else in their
  roles) finds the authority's staff other than designated teachers, and the designated teachers of their
  own school only — never another school's. Nobody finds a deactivated account or another authority's staff.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, false, func, literal, or_, select, union
from sqlalchemy.orm import Session

from engine.errors import InvalidData

from .access import LA_WIDE_ROLES, holds_role
from .records import School
from .rules import Authority
from .users import ROLES, User

LIMIT = 10
MAX_QUERY = 100
SHOWN_STATUSES = ("open", "proposed")


@dataclass(frozen=True)
class Found:
    """One result: what the field takes (``value``: a URN, a username, an authority's name) and what is shown."""

    value: str
    label: str


@dataclass(frozen=True)
class Results:
    items: list[Found]
    more: bool

    def as_json(self) -> dict[str, Any]:
        return {"results": [{"value": f.value, "label": f.label} for f in self.items], "more": self.more}


def query_text(q: str) -> str:
    """The typed text, trimmed; over :data:`MAX_QUERY` characters is refused (400)."""
    text = " ".join(q.split())
    if len(text) > MAX_QUERY:
        raise InvalidData({"q": [f"Type at most {MAX_QUERY} characters"]})
    return text


def _results(rows: list[Found]) -> Results:
    return Results(rows[:LIMIT], len(rows) > LIMIT)


def _matches(column: Any, text: str) -> tuple[ColumnElement[bool], Any]:
    """Contains ``text`` (any case); and an ordering that puts names starting with it first."""
    lowered, wanted = func.lower(column), text.lower()
    return lowered.contains(wanted, autoescape=True), case((lowered.startswith(wanted, autoescape=True), 0),
                                                           else_=1)


def schools(session: Session, q: str) -> Results:
    text = query_text(q)
    if not text:
        return Results([], False)
    by_name, first = _matches(School.name, text)
    found = or_(by_name, School.urn.startswith(text, autoescape=True)) if text.isdigit() else by_name
    rows = session.execute(select(School.urn, School.name, School.postcode, School.la_name)
                           .where(School.status.in_(SHOWN_STATUSES), found)
                           .order_by(first, School.name, School.urn).limit(LIMIT + 1))
    return _results([Found(urn, f"{name} ({urn}{', ' + postcode if postcode else ''})")
                     for urn, name, postcode, _la in rows])


def authorities(session: Session, q: str) -> Results:
    text = query_text(q)
    if not text:
        return Results([], False)
    named = union(select(Authority.la_code.label("la_code"), Authority.name.label("name")),
                  select(School.la_code, func.cast(School.la_name, String(200))).where(School.la_name.is_not(None))
                  ).subquery()
    by_name, first = _matches(named.c.name, text)
    found = or_(by_name, named.c.la_code == text) if text.isdigit() else by_name
    rows = session.execute(select(named.c.la_code, named.c.name).where(found)
                           .order_by(first, named.c.name, named.c.la_code).limit(LIMIT + 1))
    return _results([Found(name, f"{name} ({la_code})") for la_code, name in rows])


def visible_people(searcher: User) -> ColumnElement[bool]:
    """The staff ``searcher`` may find, as a condition on :class:`User` (the rule in the module's doc)."""
    if not searcher.active or not searcher.la_code:
        return false()
    own = and_(User.active.is_(True), User.la_code == searcher.la_code)
    if searcher.roles_set & (LA_WIDE_ROLES | {"social_worker"}):
        return own
    if "designated_teacher" in searcher.roles_set:
        same_school = User.school_urn == literal(searcher.school_urn, String()) if searcher.school_urn else false()
        return and_(own, or_(~holds_role("designated_teacher"), same_school))
    return false()


def people(session: Session, searcher: User, q: str, role: str = "") -> Results:
    text = query_text(q)
    if role and role not in ROLES:
        raise InvalidData({"role": [f"{role[:40]} is not a role"]})
    if not text:
        return Results([], False)
    by_name, first = _matches(User.display_name, text)
    found = or_(by_name, func.lower(User.username).startswith(text.lower(), autoescape=True))
    query = select(User.username, User.display_name).where(visible_people(searcher), found)
    if role:
        query = query.where(holds_role(role))
    rows = session.execute(query.order_by(first, User.display_name, User.username).limit(LIMIT + 1))
    return _results([Found(username, f"{name} ({username})") for username, name in rows])
