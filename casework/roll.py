"""The Virtual School's roll: the children it monitors "as if those children attended a single school"
(Promoting the education of looked-after and previously looked-after children, DfE statutory guidance).

On the roll are the children the viewer may see who are looked after and under 18, and those who left
care in this academic year (marked); ``left_care=include`` adds the previously looked-after children
still under 18, ``left_care=only`` keeps only those who left care this year. Every filter is one SQL
condition on the ``child`` table (correlated subqueries for its placement, PEPs, attendance and
suspensions), so the cohort dashboard counts with the very same conditions (docs/cohort.md, "The roll").
A page is decided in SQL: the viewer's condition and the filters before the order, offset and limit, in
one query, whatever the page size; no workflow is read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from engine.errors import EngineError, InvalidData
from engine.paging import PAGE_SIZE, Page, check_page, cut

from . import roll_columns as rc
from .access import reach
from .need_to_know import EDUCATION, READERS
from .records import Child, Pep, Placement, School
from .roll_columns import RollRow as RollRow
from .school_data import Suspension
from .schoolyear import age_on, year_group
from .users import User

EXPORT_LIMIT = 50_000
MAX_VALUES = 50
CHOICES: dict[str, Mapping[str, str]] = {
    "key_stage": {k: v[0] for k, v in rc.KEY_STAGES.items()},
    "year_group": {str(y): rc.year_group_label(y) for y in rc.YEAR_GROUPS},
    "school_type": rc.SCHOOL_TYPE_LABELS, "area": rc.AREAS, "placement_type": rc.PLACEMENT_LABELS,
    "legal_status": rc.LEGAL_LABELS, "sen": rc.SEN_STATUSES, "pep_status": rc.PEP_STATUSES, "rag": rc.RAGS,
    "attendance": rc.ATTENDANCE_BANDS, "suspended": rc.YES, "no_school": rc.YES,
}
"""Parameter -> its allowed values and their labels (the other parameters are free text)."""
SINGLE: dict[str, Mapping[str, str]] = {"left_care": rc.LEFT_CARE, "sort": rc.SORTS, "order": rc.ORDERS}


class TooManyRows(EngineError):
    status = 413


@dataclass(frozen=True)
class Filters:
    """The roll's query parameters, checked. Each tuple holds the values asked for (any of them)."""

    q: str = ""
    key_stage: tuple[str, ...] = ()
    year_group: tuple[str, ...] = ()
    school: tuple[str, ...] = ()
    school_type: tuple[str, ...] = ()
    area: tuple[str, ...] = ()
    placement_type: tuple[str, ...] = ()
    legal_status: tuple[str, ...] = ()
    sen: tuple[str, ...] = ()
    social_worker: tuple[str, ...] = ()
    team: tuple[str, ...] = ()
    pep_status: tuple[str, ...] = ()
    rag: tuple[str, ...] = ()
    attendance: tuple[str, ...] = ()
    suspended: tuple[str, ...] = ()
    no_school: tuple[str, ...] = ()
    left_care: str = ""
    sort: str = "name"
    order: str = "asc"

    @classmethod
    def parse(cls, args: Mapping[str, Sequence[str]]) -> Filters:
        """From query parameters (name -> values); an unknown value is InvalidData naming its parameter.
        Empty values are ignored; parameters the roll does not know (``page``) are left to others."""
        errors: dict[str, list[str]] = {}
        found: dict[str, Any] = {}
        for f in fields(cls):
            given = list(dict.fromkeys(v.strip() for v in args.get(f.name, ()) if v.strip()))
            allowed = CHOICES.get(f.name) or SINGLE.get(f.name)
            wrong = [v for v in given if allowed is not None and v not in allowed]
            if wrong:
                errors[f.name] = [f"'{wrong[0][:40]}' is not a valid {f.name.replace('_', ' ')}: use one of "
                                  + ", ".join(allowed or ())]
            elif any(len(v) > 100 for v in given):
                errors[f.name] = ["must be 100 characters or fewer"]
            elif len(given) > (MAX_VALUES if f.type != "str" else 1):
                errors[f.name] = ["is given too many times" if f.type == "str" else
                                  f"takes at most {MAX_VALUES} values"]
            elif given:
                found[f.name] = given[0] if f.type == "str" else tuple(given)
        if errors:
            raise InvalidData(errors, "A filter of the roll is not valid")
        return cls(**found)

    def args(self) -> list[tuple[str, str]]:
        """The query parameters that give these filters back (defaults left out)."""
        pairs: list[tuple[str, str]] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                pairs.extend((f.name, v) for v in value)
            elif value and value != f.default:
                pairs.append((f.name, value))
        return pairs

    def chosen(self) -> list[tuple[str, str]]:
        """The filters chosen (not the sort), as (parameter, value) pairs."""
        return [(n, v) for n, v in self.args() if n not in ("sort", "order")]

    def without(self, name: str, value: str) -> Filters:
        current = getattr(self, name)
        changes: dict[str, Any] = {name: tuple(v for v in current if v != value) if isinstance(current, tuple) else ""}
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """For the audit trail: what was asked for."""
        return {n: (list(v) if isinstance(v, tuple) else v) for n, v in vars(self).items() if v}


def cohort_visible(session: Session, username: str, roles: frozenset[str]) -> ColumnElement[bool] | None:
    """The children whose education ``username`` may read (by the roles of theirs that read it, each
    by its reach: casework/access.py), as a condition on ``child``; None if they read no child's education."""
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None or not user.active:
        return None
    readers = sorted(roles & user.roles_set & READERS[EDUCATION])
    if not readers:
        return None
    return or_(false(), *(reach(r, user.username, user.school_urn, user.la_code) for r in readers))


def on_roll(filters: Filters, today: date) -> ColumnElement[bool]:
    start, _ = rc.school_year_bounds(today)
    under_18 = Child.date_of_birth > rc.years_before(today, 18)
    looked_after = and_(Child.left_care_on.is_(None), under_18)
    left_this_year = Child.left_care_on >= start
    if filters.left_care == "only":
        return left_this_year
    if filters.left_care == "include":
        return or_(looked_after, left_this_year, and_(Child.left_care_on.is_not(None), under_18))
    return or_(looked_after, left_this_year)


def _search(q: str) -> ColumnElement[bool]:
    words = q.lower().split()
    names = and_(*(or_(func.lower(Child.first_name).contains(w, autoescape=True),
                       func.lower(Child.last_name).contains(w, autoescape=True)) for w in words))
    return or_(names, func.lower(Child.ref) == q.lower(), Child.upn == q.upper())


def filter_conditions(filters: Filters, today: date) -> list[ColumnElement[bool]]:
    """The roll and its filters as conditions on ``child`` (each self-contained: any query over ``child``
    may use them). Values of one filter are alternatives; filters combine."""
    f = filters
    school, place, worker, pep = aliased(School), aliased(Placement), aliased(User), aliased(Pep)
    conditions = [on_roll(f, today)]
    if f.q:
        conditions.append(_search(f.q))
    spans = [rc.KEY_STAGES[k][1:] for k in f.key_stage] + [(int(y), int(y)) for y in f.year_group]
    if spans:
        conditions.append(or_(*(rc.year_span(first, last, today) for first, last in spans)))
    if f.school:
        conditions.append(Child.school_urn.in_(f.school))
    if f.school_type:
        conditions.append(exists().where(school.urn == Child.school_urn, school.school_type.in_(f.school_type)))
    if f.no_school:
        conditions.append(Child.school_urn.is_(None))
    placement = rc.current_placement_id(today)
    if f.area:
        wanted = [place.distance == "in_area" if a == "in" else place.distance != "in_area" for a in f.area]
        conditions.append(exists().where(place.id == placement, or_(*wanted)))
    if f.placement_type:
        conditions.append(exists().where(place.id == placement, place.placement_type.in_(f.placement_type)))
    for column, values in ((Child.legal_status, f.legal_status), (Child.sen_status, f.sen),
                           (Child.social_worker, f.social_worker)):
        if values:
            conditions.append(column.in_(values))
    if f.team:
        conditions.append(exists().where(worker.username == Child.social_worker, worker.team.in_(f.team)))
    if f.pep_status:
        statuses = [s for s in f.pep_status if s != "none"]
        options: list[ColumnElement[bool]] = (
            [exists().where(pep.id == rc.latest_pep_id(), pep.status.in_(statuses))] if statuses else [])
        if "none" in f.pep_status:
            options.append(~exists().where(pep.child_id == Child.id))
        conditions.append(or_(*options))
    if f.rag:
        conditions.append(exists().where(pep.id == rc.latest_pep_id(rated=True), pep.rag.in_(f.rag)))
    if f.attendance:
        conditions.append(or_(*(rc.attendance_band_condition(b, today) for b in f.attendance)))
    if f.suspended:
        days = rc.suspension_days(today).with_only_columns(Suspension.child_id)
        conditions.append(Child.id.in_(days))
    return conditions


def _query(visible: ColumnElement[bool], filters: Filters, today: date) -> Any:
    worker = aliased(User)
    latest, rated = aliased(Pep), aliased(Pep)
    placement = aliased(Placement)
    attendance = rc.attendance_totals(today).subquery("attendance")
    suspended = rc.suspension_days(today).subquery("suspended")
    percent = case((attendance.c.possible > 0, attendance.c.attended * 100.0 / attendance.c.possible))
    columns: dict[str, list[Any]] = {
        "name": [Child.last_name, Child.first_name], "ref": [], "year_group": [Child.date_of_birth],
        "school": [School.name], "attendance": [percent], "next_pep": [latest.due_at]}
    sort = columns[filters.sort]
    descending = (filters.order == "desc") != (filters.sort == "year_group")  # the older, the higher the year
    order: list[Any] = []
    for column in sort:
        if filters.sort in ("school", "attendance", "next_pep"):
            order.append(case((column.is_(None), 1), else_=0))  # those with none last, either way
        order.append(column.desc() if descending else column.asc())
    if filters.sort == "ref":
        order.append(Child.ref.desc() if descending else Child.ref.asc())
    query = (
        select(Child, School.name, School.school_type, placement.distance, placement.placement_type,
               worker.display_name, worker.team, latest.status, latest.due_at, rated.rag,
               attendance.c.possible, attendance.c.attended, suspended.c.days)
        .outerjoin(School, School.urn == Child.school_urn)
        .outerjoin(placement, placement.id == rc.current_placement_id(today))
        .outerjoin(worker, worker.username == Child.social_worker)
        .outerjoin(latest, latest.id == rc.latest_pep_id())
        .outerjoin(rated, rated.id == rc.latest_pep_id(rated=True))
        .outerjoin(attendance, attendance.c.child_id == Child.id)
        .outerjoin(suspended, suspended.c.child_id == Child.id)
        .where(visible, *filter_conditions(filters, today))
    )
    return query.order_by(*order, Child.ref)


def _row(values: Any, today: date) -> RollRow:
    child: Child = values[0]
    _, school, school_type, distance, kind, worker, team, status, due, rag, possible, attended, days = values
    group = year_group(child.date_of_birth, today)
    return RollRow(
        ref=child.ref, name=child.full_name, date_of_birth=child.date_of_birth,
        age=age_on(child.date_of_birth, today), year_group=group, year_group_label=rc.year_group_label(group),
        key_stage=rc.key_stage_of(group), school_urn=child.school_urn, school_name=school, school_type=school_type,
        area=None if distance is None else ("in" if distance == "in_area" else "out"), placement_type=kind,
        legal_status=child.legal_status, sen_status=child.sen_status, social_worker=child.social_worker,
        social_worker_name=worker, team=team, pep_status=status or "none",
        next_pep=due.date() if due is not None else None, rag=rag,
        attendance_percent=round(attended * 100 / possible, 1) if possible else None,
        attendance_band=rc.attendance_band(possible, attended), suspended_days=float(days or 0),
        left_care_on=child.left_care_on,
    )


def roll_page(session: Session, visible: ColumnElement[bool] | None, filters: Filters, today: date,
              page: int = 1, size: int = PAGE_SIZE) -> Page[RollRow]:
    """One page of the roll, in one query."""
    check_page(page, size)
    if visible is None:
        return Page([], page, size, has_next=False)
    query = _query(visible, filters, today).offset((page - 1) * size).limit(size + 1)
    return cut([_row(values, today) for values in session.execute(query)], page, size)


def roll_count(session: Session, visible: ColumnElement[bool] | None, filters: Filters, today: date) -> int:
    if visible is None:
        return 0
    query = select(func.count()).select_from(Child).where(visible, *filter_conditions(filters, today))
    return int(session.scalar(query) or 0)


def roll_rows(session: Session, visible: ColumnElement[bool] | None, filters: Filters, today: date,
              batch: int = 1000, limit: int | None = None) -> tuple[int, Iterator[RollRow]]:
    """How many rows the roll has, and all of them (an export), read ``batch`` rows at a time.
    More than ``limit`` rows is refused (TooManyRows, 413) before any is read."""
    limit = EXPORT_LIMIT if limit is None else limit
    total = roll_count(session, visible, filters, today)
    if total > limit:
        raise TooManyRows(f"The roll with these filters has {total:,} children and an export takes at most "
                          f"{limit:,}: choose more filters and export again.")
    if visible is None or total == 0:
        return 0, iter(())
    query = _query(visible, filters, today).execution_options(yield_per=batch)
    return total, (_row(values, today) for values in session.execute(query))
