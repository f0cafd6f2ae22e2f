"""The Virtual School's roll (GET /roll): every child on it the reader may see, searched, filtered, sorted
and paged in SQL (casework/roll.py), in MOJ Frontend's filter layout; and its exports, /roll.csv and
/roll.xlsx, of every row the filters match (at most casework.roll.EXPORT_LIMIT; more is 413).

Only people whose roles read children's education see it (casework/need_to_know.py, "education"): the
VSH and managers their authority's children, a designated teacher their school's, a social worker their
caseload. Anyone else is refused (403). Each export is written to the audit trail with its filters.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from sqlalchemy import ColumnElement, select

from casework import roll_columns as rc
from casework.need_to_know import EDUCATION, READERS
from casework.records import Child, School, audit_change
from casework.roll import CHOICES, SINGLE, Filters, RollRow, cohort_visible, roll_count, roll_page, roll_rows
from casework.users import User
from engine.paging import PAGE_SIZE

from .auth import login_required
from .context import clock, current_user, db
from .paging import page_number

bp = Blueprint("roll", __name__)

GROUPS = {
    "q": "Search", "key_stage": "Key stage", "year_group": "Year group", "school": "School",
    "school_type": "School type", "area": "Area", "placement_type": "Placement type",
    "legal_status": "Legal status", "sen": "Special educational needs", "social_worker": "Social worker",
    "team": "Team", "pep_status": "Latest PEP", "rag": "Latest PEP rating", "attendance": "Attendance this year",
    "suspended": "Suspended this year", "no_school": "Without a school place", "left_care": "Left care",
}
"""Each filter's heading, in the order the panel shows them."""
SORTABLE = ("name", "ref", "year_group", "school", "next_pep", "attendance")
PER_PAGE = PAGE_SIZE


def may_see_cohort(roles: frozenset[str]) -> bool:
    return bool(roles & READERS[EDUCATION])


@bp.app_context_processor
def nav_context() -> dict[str, Any]:
    """The "Virtual School" item of the service navigation: the dashboard if there is one, else the roll."""
    user = current_user()
    if user is None or not may_see_cohort(user.roles_set):
        return {}
    endpoint = "cohort.dashboard" if "cohort.dashboard" in current_app.view_functions else "roll.index"
    return {"virtual_school_nav": (endpoint, tuple({endpoint, "roll.index"}))}


def _visible() -> ColumnElement[bool]:
    user = current_user()
    visible = None if user is None else cohort_visible(db(), user.username, user.roles_set)
    if visible is None:
        abort(403, description="The Virtual School's roll is for people who read children's education: "
                               "the virtual school head, managers, designated teachers and social workers.")
    return visible


def _filters() -> Filters:
    return Filters.parse(request.args.to_dict(flat=False))


def roll_url(filters: Filters, endpoint: str = "roll.index", **extra: Any) -> str:
    """The address of the roll (or an export) with these filters, keeping every value of each."""
    pairs = filters.args() + [(k, str(v)) for k, v in extra.items()]
    return url_for(endpoint) + (f"?{urlencode(pairs)}" if pairs else "")


def _names(visible: ColumnElement[bool]) -> dict[str, Any]:
    """The schools, social workers and teams of the children the reader may see (for the filter panel)."""
    session = db()
    schools = session.execute(select(School.urn, School.name).where(
        School.urn.in_(select(Child.school_urn).where(visible))).order_by(School.name, School.urn)).all()
    workers = session.execute(select(User.username, User.display_name, User.team).where(
        User.username.in_(select(Child.social_worker).where(visible))).order_by(User.display_name)).all()
    return {"schools": dict(schools), "social_workers": {u: n for u, n, _ in workers},
            "teams": {t: t for t in sorted({t for _, _, t in workers if t})}}


def _tags(filters: Filters, names: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The selected filters by group: each value's label and the address of the roll without it."""
    labels = {**CHOICES, **SINGLE, "school": names["schools"], "social_worker": names["social_workers"]}
    groups: dict[str, list[tuple[str, str]]] = {}
    for name, value in filters.chosen():
        label = f"“{value}”" if name == "q" else labels.get(name, {}).get(value, value)
        groups.setdefault(name, []).append((label, roll_url(filters.without(name, value))))
    return [(GROUPS[name], groups[name]) for name in GROUPS if name in groups]


def _sort_links(filters: Filters) -> dict[str, tuple[str, str]]:
    """Each sortable column's aria-sort value and the address that sorts by it (again: the other way)."""
    links: dict[str, tuple[str, str]] = {}
    for column in SORTABLE:
        current = filters.sort == column
        state = ("ascending" if filters.order == "asc" else "descending") if current else "none"
        order = "desc" if current and filters.order == "asc" else "asc"
        sorted_by = Filters(**{**vars(filters), "sort": column, "order": order})
        links[column] = (state, roll_url(sorted_by))
    return links


@bp.get("/roll")
@login_required
def index() -> str:
    visible = _visible()
    filters = _filters()
    number = page_number()
    today = clock().now().date()
    page = roll_page(db(), visible, filters, today, number, PER_PAGE)
    names = _names(visible)
    pages = {"previous": roll_url(filters, page=number - 1) if page.has_previous else None,
             "next": roll_url(filters, page=number + 1) if page.has_next else None}
    return render_template(
        "roll/index.html", rows=page.items, page=page, pages=pages,
        total=roll_count(db(), visible, filters, today), filters=filters, tags=_tags(filters, names),
        sorts=_sort_links(filters), names=names, choices=CHOICES, single=SINGLE, groups=GROUPS,
        labels={"key_stage": {k: v[0] for k, v in rc.KEY_STAGES.items()}, "school_type": rc.SCHOOL_TYPE_LABELS,
                "placement_type": rc.PLACEMENT_LABELS, "legal_status": rc.LEGAL_LABELS, "sen": rc.SEN_STATUSES,
                "pep_status": rc.PEP_STATUSES, "rag": rc.RAGS, "attendance": rc.ATTENDANCE_BANDS,
                "area": rc.AREAS},
        csv_url=roll_url(filters, "roll.export_csv"), xlsx_url=roll_url(filters, "roll.export_xlsx"),
        today=today,
    )


def _export(kind: str) -> tuple[Iterator[RollRow], str]:
    """Every row the filters match (refused over the limit before anything is read or audited)."""
    visible = _visible()
    filters = _filters()
    today = clock().now().date()
    total, rows = roll_rows(db(), visible, filters, today)
    user = current_user()
    assert user is not None
    audit_change(db(), clock().now(), user.username, "roll.exported", None,
                 {"format": kind, "filters": filters.as_dict(), "rows": total})
    return rows, f"virtual-school-roll-{today.isoformat()}.{kind}"


def _safe(value: Any) -> Any:
    """Text a spreadsheet would run as a formula (=, +, -, @ first) is kept as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _download(body: bytes | str, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/roll.csv")
@login_required
def export_csv() -> Response:
    rows, filename = _export("csv")
    buffer = io.StringIO()
    buffer.write("\ufeff")  # so spreadsheet programs read the file as UTF-8
    writer = csv.writer(buffer)
    writer.writerow(rc.EXPORT_HEADERS)
    for row in rows:
        writer.writerow(["" if v is None else _safe(v.isoformat() if isinstance(v, date) else v)
                         for v in rc.export_values(row)])
    return _download(buffer.getvalue(), "text/csv", filename)


@bp.get("/roll.xlsx")
@login_required
def export_xlsx() -> Response:
    rows, filename = _export("xlsx")
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Roll")
    bold = Font(bold=True)
    sheet.append([_cell(sheet, header, bold) for header in rc.EXPORT_HEADERS])
    for row in rows:
        sheet.append([_cell(sheet, _safe(v)) for v in rc.export_values(row)])
    buffer = io.BytesIO()
    book.save(buffer)
    return _download(buffer.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     filename)


def _cell(sheet: Any, value: Any, font: Font | None = None) -> Cell:
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula
    if isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    if font is not None:
        cell.font = font
    return cell
