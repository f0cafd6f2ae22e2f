"""The period a cohort figure is for: a term ("2026/27 autumn") or an academic year ("2026/27").

A term runs from its first to its last day (the authority's term dates, casework/terms.py); an academic
year from 1 September to 31 August. Figures about the roll are taken on the period's *as-of* day: its last
day, or today if the period has not ended yet (docs/cohort.md, "The dashboard").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from engine.errors import InvalidData

from .records import TERM_NAMES
from .schoolyear import academic_year_label, academic_year_start
from .terms import Term, term_on, terms_between

TREND_TERMS = 6


@dataclass(frozen=True)
class Period:
    """A term (``term`` set) or a whole academic year (``term`` None), with its first and last day."""

    academic_year: str
    term: str | None
    starts_on: date
    ends_on: date

    @property
    def key(self) -> str:
        return self.academic_year if self.term is None else f"{self.academic_year} {self.term}"

    @property
    def label(self) -> str:
        if self.term is None:
            return f"Academic year {self.academic_year}"
        return f"{self.term.title()} term {self.academic_year}"

    @property
    def terms(self) -> tuple[str, ...]:
        return TERM_NAMES if self.term is None else (self.term,)

    def as_of(self, today: date) -> date:
        """The day the roll is taken: the last day of the period, or today while it runs."""
        return min(self.ends_on, max(today, self.starts_on))


def _year_start(label: str) -> int | None:
    head, _, tail = label.partition("/")
    if len(head) == 4 and head.isdigit() and len(tail) == 2 and tail.isdigit() and int(tail) == (int(head) + 1) % 100:
        return int(head)
    return None


def year_period(label: str) -> Period:
    start = _year_start(label)
    if start is None or not 1990 <= start <= 2099:
        raise InvalidData({"year": [f"Enter the academic year like 2026/27, not {label!r}"]})
    return Period(label, None, date(start, 9, 1), date(start + 1, 8, 31))


def term_period(term: Term) -> Period:
    return Period(term.academic_year, term.term, term.starts_on, term.ends_on)


def parse_period(session: Session, la_code: str, text: str | None, today: date) -> Period:
    """``"2026/27 autumn"``, ``"2026/27"`` or nothing (the current term, or the latest before today).

    An unknown term or a malformed period is InvalidData naming the ``period`` field."""
    value = " ".join((text or "").split())
    if not value:
        return current_term(session, la_code, today)
    year, _, term = value.partition(" ")
    if not term:
        try:
            return year_period(year)
        except InvalidData:
            raise InvalidData({"period": [f"Enter a term like 2026/27 autumn or a year like 2026/27, "
                                          f"not {value[:40]!r}"]}) from None
    if _year_start(year) is None or term not in TERM_NAMES:
        raise InvalidData({"period": [f"Enter a term like 2026/27 autumn or a year like 2026/27, not {value[:40]!r}"]})
    whole = year_period(year)
    for found in terms_between(session, la_code, whole.starts_on, whole.ends_on):
        if found.academic_year == year and found.term == term:
            return term_period(found)
    raise InvalidData({"period": [f"There are no dates for the {term} term of {year}"]})


def current_term(session: Session, la_code: str, today: date) -> Period:
    """The term today falls in; in the holidays, the last term before today (or the year, if none)."""
    found = term_on(session, la_code, today)
    if found is not None:
        return term_period(found)
    before = [t for t in terms_between(session, la_code, date(today.year - 2, 1, 1), today) if t.ends_on < today]
    if before:
        return term_period(before[-1])
    return year_period(academic_year_label(today))


def trend_terms(session: Session, la_code: str, period: Period, today: date) -> list[Period]:
    """The last six terms up to the period's (its last term started by today, for a year), oldest first."""
    end = min(period.ends_on, max(today, period.starts_on))
    earlier = terms_between(session, la_code, date(end.year - 3, 1, 1), end)
    chosen = [term_period(t) for t in earlier if t.starts_on <= end][-TREND_TERMS:]
    return chosen


def period_choices(session: Session, la_code: str, today: date) -> list[Period]:
    """The periods offered by the selector: the terms and years of the last three academic years."""
    start = academic_year_start(today)
    first = date(start.year - 2, 9, 1)
    terms = [term_period(t) for t in terms_between(session, la_code, first, date(start.year + 1, 8, 31))
             if t.starts_on <= today]
    years = sorted({t.academic_year for t in terms})
    choices: list[Period] = []
    for year in reversed(years):
        choices.extend(reversed([t for t in terms if t.academic_year == year]))
        choices.append(year_period(year))
    return choices
