"""The Virtual School's cohort "as a single school": the dashboard (GET /virtual-school), its tables as
CSV and XLSX (GET /virtual-school/tables/<name>.csv|.xlsx), and the virtual school head's annual report
for the corporate parenting board (GET /virtual-school/report, and .pdf).

Only people whose roles read children's education see them (casework/need_to_know.py): the VSH and
managers their authority's children, a designated teacher their school's, a social worker their caseload;
anyone else is refused (403). Every figure counts only the children the reader may see (casework/cohort.py).
Each figure links to the roll filtered to its children (docs/cohort.md, "The dashboard").
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, render_template, request, url_for

from casework.cohort import Viewer, cohort_condition
from casework.cohort_cache import remembered_dashboard
from casework.cohort_period import current_term, period_choices, year_period
from casework.cohort_report import annual_report
from casework.cohort_tables import Table, as_csv, as_xlsx, tables
from casework.records import audit_change
from casework.schoolyear import academic_year_label
from engine.errors import InvalidData

from .auth import login_required
from .context import actor, clock, current_user, db

bp = Blueprint("cohort", __name__)

REFUSED = ("The Virtual School's figures are for people who read children's education: the virtual school "
           "head, managers, designated teachers and social workers.")
CHARTS = ("trend", "rag", "key_stage")


def _viewer() -> Viewer:
    viewer = cohort_condition(db(), actor())
    if viewer is None:
        abort(403, description=REFUSED)
    return viewer


def roll_link(filters: list[tuple[str, str]]) -> str:
    """The roll with these query parameters (the children behind a figure)."""
    return url_for("roll.index") + (f"?{urlencode(filters)}" if filters else "")


def _board(viewer: Viewer) -> Any:
    """The dashboard for ``?period=``, remembered until the records change (casework/cohort_cache.py)."""
    return remembered_dashboard(db(), viewer, request.args.get("period", "") or None, clock().now().date())


def _chart(table: Table, kind: str, columns: list[int]) -> dict[str, Any]:
    """What cohort-charts.js draws: the table's own numbers (labels from its first column)."""
    return {"type": kind, "labels": [row[0] for row in table.rows],
            "series": [{"label": table.headers[c], "data": [row[c] for row in table.rows]} for c in columns]}


@bp.get("/virtual-school", endpoint="dashboard")
@login_required
def dashboard_page() -> str:
    viewer = _viewer()
    board = _board(viewer)
    found = tables(board)
    charts = {"trend": _chart(found["trend"], "line", [2, 3, 4]), "rag": _chart(found["rag"], "bar", [1]),
              "key_stage": _chart(found["key_stage"], "bar", [1])}
    user = current_user()
    roles = user.roles_set if user is not None else frozenset()
    return render_template(
        "cohort/dashboard.html", board=board, tables=found, charts=charts, roll_link=roll_link,
        choices=period_choices(db(), viewer.la_code, clock().now().date()),
        escalations_link=url_for("escalations.dashboard") if roles & {"vsh", "manager"} else None)


@bp.get("/virtual-school/tables/<name>.<any(csv, xlsx):kind>")
@login_required
def table_export(name: str, kind: str) -> Response:
    viewer = _viewer()
    board = _board(viewer)
    table = tables(board).get(name)
    if table is None:
        abort(404)
    audit_change(db(), clock().now(), actor().user_id, "cohort.exported", None,
                 {"table": name, "format": kind, "period": board.period.key})
    filename = f"virtual-school-{name}-{board.period.key.replace('/', '-').replace(' ', '-')}.{kind}"
    if kind == "csv":
        response = Response(as_csv(table), mimetype="text/csv")
    else:
        response = Response(as_xlsx(table),
                            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _report(viewer: Viewer) -> Any:
    today = clock().now().date()
    year = request.args.get("year", "").strip()
    if not year:
        year = current_term(db(), viewer.la_code, today).academic_year or academic_year_label(today)
    try:
        year_period(year)
    except InvalidData:
        raise InvalidData({"year": [f"Enter the academic year like 2026/27, not {year[:40]!r}"]},
                          "The year of the report is not valid") from None
    return annual_report(db(), viewer.children, year, today, la_code=viewer.la_code,
                         escalation_kinds=viewer.escalation_kinds)


def _years(viewer: Viewer) -> list[str]:
    return sorted({p.academic_year for p in period_choices(db(), viewer.la_code, clock().now().date())},
                  reverse=True)


@bp.get("/virtual-school/report")
@login_required
def report() -> str:
    viewer = _viewer()
    found = _report(viewer)
    audit_change(db(), clock().now(), actor().user_id, "cohort.report_viewed", None, {"year": found.year})
    return render_template("cohort/report.html", report=found, years=_years(viewer), printed=clock().now())


@bp.get("/virtual-school/report.pdf")
@login_required
def report_pdf() -> Response:
    from .peps import render_pdf

    viewer = _viewer()
    found = _report(viewer)
    audit_change(db(), clock().now(), actor().user_id, "cohort.report_downloaded", None, {"year": found.year})
    html = render_template("cohort/report_pdf.html", report=found, printed=clock().now())
    response = Response(render_pdf(html), mimetype="application/pdf")
    filename = f"virtual-school-annual-report-{found.year.replace('/', '-')}.pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
