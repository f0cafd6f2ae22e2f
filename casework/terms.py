"""Default school term dates, used until an authority loads its own.

These follow the common pattern of English local authorities (autumn, spring and
summer terms with a half term in each, and five INSET days). Each authority's own
dates are configurable data; these are the demo's and the fallback.
"""

from __future__ import annotations

from datetime import date

from engine.calendar import TermCalendar

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
    (date(2025, 10, 27), date(2025, 10, 31)), (date(2026, 2, 16), date(2026, 2, 20)),
    (date(2026, 5, 25), date(2026, 5, 29)), (date(2026, 10, 26), date(2026, 10, 30)),
    (date(2027, 2, 15), date(2027, 2, 19)), (date(2027, 5, 31), date(2027, 6, 4)),
    (date(2027, 10, 25), date(2027, 10, 29)), (date(2028, 2, 21), date(2028, 2, 25)),
    (date(2028, 5, 29), date(2028, 6, 2)),
    # INSET days (first day of each autumn and spring term, as many authorities do)
    (date(2025, 9, 3), date(2025, 9, 3)), (date(2026, 1, 5), date(2026, 1, 5)),
    (date(2026, 9, 3), date(2026, 9, 3)), (date(2027, 1, 5), date(2027, 1, 5)),
    (date(2027, 9, 2), date(2027, 9, 2)), (date(2028, 1, 4), date(2028, 1, 4)),
)


def default_term_calendar() -> TermCalendar:
    return TermCalendar(terms=DEFAULT_TERMS, closures=DEFAULT_CLOSURES)
