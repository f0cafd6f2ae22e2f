"""The dashboard's figures: the facts of casework/cohort_sql.py summed, in total and by each breakdown.

All the breakdowns of a period come from ONE query (a ``UNION ALL`` of ``GROUP BY``s over the facts as a
common table expression); the trend is one more query (casework/cohort_trend.py). Definitions: docs/cohort.md, "The dashboard".
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, String, cast, func, literal, select, union_all
from sqlalchemy.orm import Session

from .cohort_period import Period
from .cohort_sql import SUMMED, facts

BREAKDOWNS: list[tuple[str, str]] = [
    ("key_stage", "Key stage"), ("school", "School"), ("social_worker", "Social worker"), ("team", "Team"),
    ("area", "Where they live"),
]


def percent(part: float, whole: float) -> float | None:
    """``part`` as a percentage of ``whole``, to one decimal place; None when there is no whole."""
    return None if not whole else round(100.0 * part / whole, 1)


@dataclass(frozen=True)
class Figures:
    """The sums of a group of children (the whole cohort, a key stage, a school...)."""

    children: int = 0
    with_attendance: int = 0
    possible: int = 0
    attended: int = 0
    persistent: int = 0
    severe: int = 0
    suspended: int = 0
    suspension_days: float = 0.0
    excluded: int = 0
    no_school: int = 0
    out_of_area: int = 0
    sen_support: int = 0
    ehcp: int = 0
    aged_16_17: int = 0
    neet: int = 0
    initial_due: int = 0
    initial_on_time: int = 0
    termly_due: int = 0
    termly_done: int = 0
    rag_red: int = 0
    rag_amber: int = 0
    rag_green: int = 0
    escalations: int = 0

    @classmethod
    def of(cls, row: Any) -> Figures:
        values = {name: int(row.get(name) or 0) for name in _COUNTS}
        return cls(suspension_days=float(row.get("suspension_days") or 0), **values)

    @property
    def attendance_percent(self) -> float | None:
        return percent(self.attended, self.possible)

    @property
    def persistent_percent(self) -> float | None:
        return percent(self.persistent, self.with_attendance)

    @property
    def severe_percent(self) -> float | None:
        return percent(self.severe, self.with_attendance)

    @property
    def initial_percent(self) -> float | None:
        return percent(self.initial_on_time, self.initial_due)

    @property
    def termly_percent(self) -> float | None:
        return percent(self.termly_done, self.termly_due)

    @property
    def rated(self) -> int:
        return self.rag_red + self.rag_amber + self.rag_green


_COUNTS = tuple(f.name for f in fields(Figures) if f.name != "suspension_days")


@dataclass(frozen=True)
class Group:
    """One row of a breakdown: the group's value (a key stage, a URN, a username...), its label, its sums."""

    value: str | None
    label: str
    figures: Figures


def _sums(columns: Any) -> list[Any]:
    return [func.sum(getattr(columns, name)).label(name) for name in SUMMED]


def grouped(session: Session, visible: ColumnElement[bool], period: Period, today: date,
            escalation_kinds: Collection[str] | None = None) -> tuple[Figures, dict[str, list[tuple[str | None,
                                                                                               Figures]]]]:
    """The cohort's totals and each breakdown's rows (value, sums), in one query."""
    cohort = facts(visible, period, today, escalation_kinds).cte("cohort")
    parts = [select(literal("total").label("dimension"), cast(literal(None), String).label("value"), *_sums(cohort.c))]
    for name, _label in BREAKDOWNS:
        column = getattr(cohort.c, name)
        parts.append(select(literal(name).label("dimension"), cast(column, String).label("value"), *_sums(cohort.c))
                     .group_by(column))
    total = Figures()
    groups: dict[str, list[tuple[str | None, Figures]]] = {name: [] for name, _ in BREAKDOWNS}
    for row in session.execute(union_all(*parts)).mappings():
        figures = Figures.of(row)
        if row["dimension"] == "total":
            total = figures
        else:
            groups[str(row["dimension"])].append((row["value"], figures))
    return total, groups
