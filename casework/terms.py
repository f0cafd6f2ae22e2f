"""School term dates: each authority's own (rows in ``term_date`` and ``inset_day``), and a default set.

The default set follows the common pattern of English local authorities (autumn, spring and
summer terms with a half term in each, and INSET days). Each authority's own dates are
configurable data; the defaults are the demo's and the fallback for an authority with none.

Term dates are imported as CSV, one row per term, half term or INSET day::

    kind,academic_year,term,starts_on,ends_on
    term,2026/27,autumn,2026-09-03,2026-12-18
    half_term,2026/27,autumn,2026-10-26,2026-10-30
    inset,2026/27,autumn,2026-09-03,

``kind`` is ``term``, ``half_term`` or ``inset``; dates are ISO (YYYY-MM-DD); ``academic_year`` is like
``2026/27``; ``term`` is ``autumn``, ``spring`` or ``summer``. An INSET day needs only ``starts_on``
(``ends_on`` empty or the same day). A half term names its term, which must be in the file, and lies
inside it; an INSET day lies inside a term; terms do not overlap, and each lies in its academic year
(1 August to 31 August the next year). Importing replaces all the
authority's dates at once, or changes nothing and names each bad line and field.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.session import SessionTransaction

from engine.calendar import TermCalendar
from engine.errors import InvalidData

from .records import TERM_NAMES, InsetDay, TermDate
from .schoolyear import academic_year_label

DEFAULT_TERMS: tuple[tuple[date, date], ...] = (
    (date(2025, 9, 3), date(2025, 12, 19)),
    (date(2026, 1, 5), date(2026, 3, 27)),
    (date(2026, 4, 13), date(2026, 7, 22)),
    (date(2026, 9, 3), date(2026, 12, 18)),
    (date(2027, 1, 5), date(2027, 3, 25)),
    (date(2027, 4, 12), date(2027, 7, 21)),
    (date(2027, 9, 2), date(2027, 12, 17)),
    (date(2028, 1, 4), date(2028, 3, 31)),
    (date(2028, 4, 18), date(2028, 7, 21)),
)

DEFAULT_CLOSURES: tuple[tuple[date, date], ...] = (
    # half terms
    (date(2025, 10, 27), date(2025, 10, 31)),
    (date(2026, 2, 16), date(2026, 2, 20)),
    (date(2026, 5, 25), date(2026, 5, 29)),
    (date(2026, 10, 26), date(2026, 10, 30)),
    (date(2027, 2, 15), date(2027, 2, 19)),
    (date(2027, 5, 31), date(2027, 6, 4)),
    (date(2027, 10, 25), date(2027, 10, 29)),
    (date(2028, 2, 21), date(2028, 2, 25)),
    (date(2028, 5, 29), date(2028, 6, 2)),
    # INSET days (first day of each autumn and spring term, as many authorities do)
    (date(2025, 9, 3), date(2025, 9, 3)),
    (date(2026, 1, 5), date(2026, 1, 5)),
    (date(2026, 9, 3), date(2026, 9, 3)),
    (date(2027, 1, 5), date(2027, 1, 5)),
    (date(2027, 9, 2), date(2027, 9, 2)),
    (date(2028, 1, 4), date(2028, 1, 4)),
)


def default_term_calendar() -> TermCalendar:
    return TermCalendar(terms=DEFAULT_TERMS, closures=DEFAULT_CLOSURES)


@dataclass(frozen=True)
class Term:
    """One term of an authority. ``first_half_ends_on`` is the last school day before half term."""

    academic_year: str
    term: str
    starts_on: date
    first_half_ends_on: date
    ends_on: date
    half_term: tuple[date, date] | None = None


@dataclass(frozen=True)
class _TermRow:
    academic_year: str
    term: str
    starts_on: date
    ends_on: date
    half_term: tuple[date, date] | None


def _term_name(starts_on: date) -> str:
    return "autumn" if starts_on.month >= 8 else "spring" if starts_on.month <= 2 else "summer"


def _default_rows() -> tuple[list[_TermRow], list[date]]:
    rows = []
    for start, end in DEFAULT_TERMS:
        halves = [c for c in DEFAULT_CLOSURES if c[0] != c[1] and start <= c[0] and c[1] <= end]
        rows.append(
            _TermRow(academic_year_label(start), _term_name(start), start, end, halves[0] if halves else None)
        )
    insets = [c[0] for c in DEFAULT_CLOSURES if c[0] == c[1]]
    return rows, insets


def _rows_for(session: Session, la_code: str) -> tuple[list[_TermRow], list[date]]:
    stored = session.scalars(select(TermDate).where(TermDate.la_code == la_code).order_by(TermDate.starts_on))
    rows = [
        _TermRow(
            t.academic_year,
            t.term,
            t.starts_on,
            t.ends_on,
            (t.half_term_starts_on, t.half_term_ends_on)
            if t.half_term_starts_on is not None and t.half_term_ends_on is not None
            else None,
        )
        for t in stored
    ]
    if not rows:
        return _default_rows()
    insets = list(
        session.scalars(select(InsetDay.day).where(InsetDay.la_code == la_code).order_by(InsetDay.day))
    )
    return rows, insets


def _calendar(rows: list[_TermRow], insets: list[date]) -> TermCalendar:
    closures = [r.half_term for r in rows if r.half_term is not None] + [(d, d) for d in insets]
    return TermCalendar(terms=tuple((r.starts_on, r.ends_on) for r in rows), closures=tuple(closures))


def terms_of(session: Session, la_code: str) -> list[tuple[date, date]]:
    """The first and last day of each of the authority's terms (the default set if it has loaded none)."""
    return [(r.starts_on, r.ends_on) for r in _rows_for(session, la_code)[0]]


def term_calendar_for(session: Session, la_code: str) -> TermCalendar:
    """The authority's school days: its own term dates, or the default set if it has loaded none."""
    return _calendar(*_rows_for(session, la_code))


def has_own_term_dates(session: Session, la_code: str) -> bool:
    return (
        session.scalars(select(TermDate.id).where(TermDate.la_code == la_code).limit(1)).first() is not None
    )


def _term(row: _TermRow, calendar: TermCalendar) -> Term:
    first_half_end = row.ends_on
    if row.half_term is not None:
        first_half_end = row.half_term[0] - timedelta(days=1)
    while first_half_end > row.starts_on and not calendar.is_school_day(first_half_end):
        first_half_end -= timedelta(days=1)
    return Term(row.academic_year, row.term, row.starts_on, first_half_end, row.ends_on, row.half_term)


def terms_between(session: Session, la_code: str, start: date, end: date) -> list[Term]:
    """The authority's terms that overlap ``start``..``end`` (inclusive), in date order."""
    rows, insets = _rows_for(session, la_code)
    calendar = _calendar(rows, insets)
    return [
        _term(r, calendar)
        for r in sorted(rows, key=lambda r: r.starts_on)
        if r.starts_on <= end and r.ends_on >= start
    ]


def term_on(session: Session, la_code: str, day: date) -> Term | None:
    """The term ``day`` falls in (half terms and INSET days included), or None in the holidays."""
    found = terms_between(session, la_code, day, day)
    return found[0] if found else None


def load_default_term_dates(session: Session, la_code: str) -> int:
    """Replace the authority's term dates with the default set; returns the number of rows written."""
    rows, insets = _default_rows()
    return _replace(session, la_code, rows, insets)


TermRow = _TermRow
"""One term with its half term, as :func:`term_dates_of` gives and :func:`replace_term_dates` takes them."""


def term_dates_of(session: Session, la_code: str) -> tuple[list[TermRow], list[date]]:
    """The authority's terms (in date order, each with its half term) and INSET days; the default set if
    it has loaded none (:func:`has_own_term_dates` tells which)."""
    return _rows_for(session, la_code)


def replace_term_dates(session: Session, la_code: str, rows: list[TermRow], insets: list[date]) -> int:
    """Replace all the authority's term dates with checked ``rows`` and ``insets`` (what
    :func:`check_term_records` returns); the number of rows written."""
    return _replace(session, la_code, rows, insets)


_CHANGED = "term_dates_changed"
_committed_changes = 0


def term_dates_committed() -> int:
    """How many transactions of this process have committed changed term dates: a process that keeps a
    calendar (app/wiring.py) reloads it at once when this moves; other processes see a new data version."""
    return _committed_changes


@event.listens_for(Session, "after_commit")
def _count_committed_change(session: Session) -> None:
    global _committed_changes
    if session.info.pop(_CHANGED, False):
        _committed_changes += 1


@event.listens_for(Session, "after_soft_rollback")
def _forget_change(session: Session, _previous: SessionTransaction) -> None:
    session.info.pop(_CHANGED, None)


def _replace(session: Session, la_code: str, rows: list[_TermRow], insets: list[date]) -> int:
    session.info[_CHANGED] = True
    session.execute(delete(TermDate).where(TermDate.la_code == la_code))
    session.execute(delete(InsetDay).where(InsetDay.la_code == la_code))
    for r in rows:
        session.add(
            TermDate(
                la_code=la_code,
                academic_year=r.academic_year,
                term=r.term,
                starts_on=r.starts_on,
                ends_on=r.ends_on,
                half_term_starts_on=r.half_term[0] if r.half_term else None,
                half_term_ends_on=r.half_term[1] if r.half_term else None,
            )
        )
    session.add_all(InsetDay(la_code=la_code, day=d) for d in insets)
    session.flush()
    from .attendance_summary import (
        refresh,  # a term's attendance is summed by its dates (it imports this module)
    )

    refresh(session, la_code)
    return len(rows) + len(insets)


CSV_COLUMNS = ("kind", "academic_year", "term", "starts_on", "ends_on")


def import_term_dates_csv(session: Session, la_code: str, text: str) -> int:
    """Replace the authority's term dates with those in the CSV ``text`` (format in the module docstring).

    Returns the number of rows imported. On any error nothing changes and InvalidData maps
    ``"line N, field"`` to the reasons (line 1 is the header).
    """
    rows, insets = parse_term_dates_csv(text)
    return _replace(session, la_code, rows, insets)


def parse_term_dates_csv(text: str) -> tuple[list[_TermRow], list[date]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidData(
            {
                "line 1": [
                    f"The header must have the columns {', '.join(CSV_COLUMNS)}; missing {', '.join(missing)}"
                ]
            }
        )
    records = ((line, {k: (raw.get(k) or "").strip() for k in CSV_COLUMNS})
               for line, raw in enumerate(reader, start=2))
    return check_term_records(records, "The term dates file has errors; nothing was imported")


def check_term_records(
    records: Iterable[tuple[int, dict[str, str]]], message: str
) -> tuple[list[TermRow], list[date]]:
    """The terms and INSET days of ``(line, {column: text})`` records (the CSV's columns), checked as a
    whole file is; InvalidData(``message``) maps ``"line N, field"`` to the reasons. Blank records are skipped."""
    errors: dict[str, list[str]] = {}
    terms: dict[tuple[str, str], tuple[int, date, date]] = {}
    halves: list[tuple[int, str, str, date, date]] = []
    insets: list[tuple[int, date]] = []
    for line, record in records:
        if not any(record.values()):
            continue
        _parse_line(line, record, errors, terms, halves, insets)
    _check_whole_file(errors, terms, halves, insets)
    if errors:
        raise InvalidData(errors, message)
    half_by_term = {(y, t): (s, e) for _, y, t, s, e in halves}
    rows = [_TermRow(y, t, s, e, half_by_term.get((y, t))) for (y, t), (_, s, e) in terms.items()]
    return sorted(rows, key=lambda r: r.starts_on), sorted(d for _, d in insets)


def _add(errors: dict[str, list[str]], line: int, field: str, message: str) -> None:
    errors.setdefault(f"line {line}, {field}", []).append(message)


def _date(errors: dict[str, list[str]], line: int, field: str, value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        _add(errors, line, field, f"Enter a date as YYYY-MM-DD, not {value!r}" if value else "Enter a date")
        return None


def _parse_line(
    line: int,
    record: dict[str, str],
    errors: dict[str, list[str]],
    terms: dict[tuple[str, str], tuple[int, date, date]],
    halves: list[tuple[int, str, str, date, date]],
    insets: list[tuple[int, date]],
) -> None:
    kind = record["kind"]
    if kind not in ("term", "half_term", "inset"):
        _add(errors, line, "kind", f"Must be term, half_term or inset, not {kind!r}")
        return
    year, term = record["academic_year"], record["term"]
    if kind != "inset" or year:
        if not _is_academic_year(year):
            _add(errors, line, "academic_year", f"Enter the academic year like 2026/27, not {year!r}")
    if kind != "inset" or term:
        if term not in TERM_NAMES:
            _add(errors, line, "term", f"Must be autumn, spring or summer, not {term!r}")
    starts_on = _date(errors, line, "starts_on", record["starts_on"])
    if kind == "inset":
        if record["ends_on"] and record["ends_on"] != record["starts_on"]:
            _add(
                errors,
                line,
                "ends_on",
                "An INSET day is one day: leave ends_on empty or the same as starts_on",
            )
        elif starts_on is not None:
            insets.append((line, starts_on))
        return
    ends_on = _date(errors, line, "ends_on", record["ends_on"])
    if (
        starts_on is None
        or ends_on is None
        or f"line {line}, academic_year" in errors
        or f"line {line}, term" in errors
    ):
        return
    if ends_on < starts_on:
        _add(errors, line, "ends_on", f"Ends ({ends_on}) before it starts ({starts_on})")
    elif not _in_academic_year(year, starts_on, ends_on):
        _add(errors, line, "starts_on", f"Not in the academic year {year} (1 August {year[:4]} to "
                                        f"31 August {int(year[:4]) + 1})")
    elif kind == "term":
        if (year, term) in terms:
            _add(
                errors, line, "term", f"The {term} term of {year} is already on line {terms[(year, term)][0]}"
            )
        else:
            terms[(year, term)] = (line, starts_on, ends_on)
    else:
        halves.append((line, year, term, starts_on, ends_on))


def _in_academic_year(year: str, starts_on: date, ends_on: date) -> bool:
    first = int(year[:4])
    return date(first, 8, 1) <= starts_on and ends_on <= date(first + 1, 8, 31)


def _is_academic_year(value: str) -> bool:
    head, _, tail = value.partition("/")
    return (
        len(head) == 4
        and head.isdigit()
        and len(tail) == 2
        and tail.isdigit()
        and int(tail) == (int(head) + 1) % 100
    )


def _check_whole_file(
    errors: dict[str, list[str]],
    terms: dict[tuple[str, str], tuple[int, date, date]],
    halves: list[tuple[int, str, str, date, date]],
    insets: list[tuple[int, date]],
) -> None:
    ordered = sorted(terms.items(), key=lambda item: item[1][1])
    for (prev_key, (_, _, prev_end)), (_key, (line, start, _)) in zip(ordered, ordered[1:], strict=False):
        if start <= prev_end:
            _add(
                errors,
                line,
                "starts_on",
                f"Overlaps the {prev_key[1]} term of {prev_key[0]} (ends {prev_end})",
            )
    seen: set[tuple[str, str]] = set()
    for line, year, term, start, end in halves:
        found = terms.get((year, term))
        if found is None:
            _add(errors, line, "term", f"No {term} term of {year} in the file for this half term")
        elif not (found[1] <= start and end <= found[2]):
            _add(
                errors,
                line,
                "starts_on",
                f"The half term must lie inside its term ({found[1]} to {found[2]})",
            )
        elif (year, term) in seen:
            _add(errors, line, "term", f"The {term} term of {year} already has a half term")
        seen.add((year, term))
    for line, day in insets:
        if not any(s <= day <= e for _, s, e in terms.values()):
            _add(errors, line, "starts_on", f"The INSET day {day} is not inside any term in the file")
