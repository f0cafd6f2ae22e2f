"""The dashboard's tables: the same numbers for the page, the charts' companion tables and the exports
(CSV and XLSX, web/cohort.py). Each row may name the roll filters of its children (``filters``)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from .cohort import AREAS, Dashboard, Figures, Group

Cell = str | int | float | None


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    headers: list[str]
    rows: list[list[Cell]]
    filters: list[list[tuple[str, str]]] = field(default_factory=list)
    """For each row, the roll's query parameters of its children (empty: the whole roll)."""


BREAKDOWN_HEADERS = [
    "Children on roll", "Attendance %", "Persistently absent", "Persistently absent %", "Severely absent",
    "Severely absent %", "Children suspended", "Days of suspension", "Permanently excluded", "Without a school place",
    "Out of area", "SEN support", "EHC plan", "NEET aged 16-17", "Initial PEPs due", "Initial PEPs in timescale",
    "Termly PEPs due", "Termly PEPs complete", "Red", "Amber", "Green", "Open escalations",
]
ROLL_PARAMETER = {"key_stage": "key_stage", "school": "school", "social_worker": "social_worker", "team": "team",
                  "area": "area"}


def figures_row(f: Figures) -> list[Cell]:
    return [f.children, f.attendance_percent, f.persistent, f.persistent_percent, f.severe, f.severe_percent,
            f.suspended, f.suspension_days, f.excluded, f.no_school, f.out_of_area, f.sen_support, f.ehcp, f.neet,
            f.initial_due, f.initial_on_time, f.termly_due, f.termly_done, f.rag_red, f.rag_amber, f.rag_green,
            f.escalations]


def _group_filters(dimension: str, group: Group) -> list[tuple[str, str]]:
    if group.value is None:
        return [("no_school", "yes")] if dimension == "school" else []
    if dimension == "area" and group.value not in AREAS or group.value == "unknown":
        return []
    return [(ROLL_PARAMETER[dimension], group.value)]


def headline(d: Dashboard) -> Table:
    f = d.total
    rows: list[tuple[str, Cell, list[tuple[str, str]]]] = [
        ("Children on roll", f.children, []),
        ("Initial PEPs due in the period", f.initial_due, []),
        ("Initial PEPs completed in timescale", f.initial_on_time, [("pep_status", "complete")]),
        ("Initial PEPs in timescale %", f.initial_percent, []),
        ("Termly PEPs due", f.termly_due, []),
        ("Termly PEPs complete", f.termly_done, [("pep_status", "complete")]),
        ("Termly PEPs complete %", f.termly_percent, []),
        ("PEPs signed off rated red", f.rag_red, [("rag", "red")]),
        ("PEPs signed off rated amber", f.rag_amber, [("rag", "amber")]),
        ("PEPs signed off rated green", f.rag_green, [("rag", "green")]),
        ("Children with attendance recorded", f.with_attendance, []),
        ("Attendance %", f.attendance_percent, [("sort", "attendance")]),
        ("Persistently absent", f.persistent, [("attendance", "persistent")]),
        ("Persistently absent %", f.persistent_percent, [("attendance", "persistent")]),
        ("Severely absent", f.severe, [("attendance", "severe")]),
        ("Severely absent %", f.severe_percent, [("attendance", "severe")]),
        ("Children suspended", f.suspended, [("suspended", "yes")]),
        ("Days of suspension", f.suspension_days, [("suspended", "yes")]),
        ("Permanently excluded", f.excluded, [("suspended", "yes")]),
        ("Without a school place", f.no_school, [("no_school", "yes")]),
        ("Longest without a school place (days)", d.no_school.longest_days, [("no_school", "yes")]),
        ("Out of area", f.out_of_area, [("area", "out")]),
        ("SEN support", f.sen_support, [("sen", "sen_support")]),
        ("EHC plan", f.ehcp, [("sen", "ehc_plan")]),
        ("Aged 16-17", f.aged_16_17, [("key_stage", "ks5")]),
        ("NEET aged 16-17", f.neet, [("key_stage", "ks5")]),
        ("Open escalations", f.escalations, []),
    ]
    return Table("headline", f"Headline figures, {d.period.label}", ["Figure", "Value"],
                 [[label, value] for label, value, _ in rows], [filters for _, _, filters in rows])


def breakdown(d: Dashboard, dimension: str, title: str) -> Table:
    groups = d.breakdowns[dimension]
    return Table(dimension, f"By {title.lower()}, {d.period.label}", [title, *BREAKDOWN_HEADERS],
                 [[g.label, *figures_row(g.figures)] for g in groups], [_group_filters(dimension, g) for g in groups])


def trend(d: Dashboard) -> Table:
    headers = ["Term", "Children on roll", "Attendance %", "Persistently absent %", "Severely absent %",
               "Children suspended", "Termly PEPs complete %", "Initial PEPs in timescale %"]
    rows: list[list[Cell]] = [[p.label, f.children, f.attendance_percent, f.persistent_percent, f.severe_percent,
                               f.suspended, f.termly_percent, f.initial_percent] for p, f in d.trend]
    return Table("trend", "The last six terms", headers, rows, [[] for _ in rows])


def escalations(d: Dashboard) -> Table:
    rows: list[list[Cell]] = [[label, n] for _, label, n in d.escalations_by_kind]
    return Table("escalations", f"Open escalations by kind, {d.period.label}", ["Kind", "Open"], rows,
                 [[] for _ in rows])


def rag_mix(d: Dashboard) -> Table:
    f = d.total
    rows: list[list[Cell]] = [["Red", f.rag_red], ["Amber", f.rag_amber], ["Green", f.rag_green]]
    return Table("rag", f"PEPs signed off by rating, {d.period.label}", ["Rating", "PEPs"], rows,
                 [[("rag", "red")], [("rag", "amber")], [("rag", "green")]])


def tables(d: Dashboard) -> dict[str, Table]:
    """Every table of the dashboard, by the name its export address uses."""
    found = [headline(d), rag_mix(d), trend(d), escalations(d),
             *(breakdown(d, name, title) for name, title in d.breakdown_titles)]
    return {t.name: t for t in found}


def as_csv(table: Table) -> str:
    """The table as CSV text (a cell starting with =, +, - or @ is quoted with ' so a spreadsheet never
    runs it as a formula)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.headers)
    writer.writerows([_safe(c) for c in row] for row in table.rows)
    return out.getvalue()


def as_xlsx(table: Table) -> bytes:
    """The table as an Excel workbook: one sheet, bold headers, numbers as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = table.name[:31]
    sheet.append(table.headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append([_safe(c) for c in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _safe(cell: Cell) -> Cell:
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@"):
        return "'" + cell
    return cell
