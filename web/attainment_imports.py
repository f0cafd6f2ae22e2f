"""Importing attainment from CSV (``/virtual-school/imports/attainment``), and the attainment a child's record shows.

The virtual school head (the whole authority) and a designated teacher (their school's children) upload a
CSV file; the page previews it (what is new, changed or already recorded, and every error with its line
number) and nothing is written until they confirm. A file with any error changes nothing, and the same file
twice changes nothing the second time (casework/attainment_import.py; docs/cohort.md, "Attainment and post-16").
Only the children the importer may see are found: any other UPN or reference is "not on your roll".

A child's record includes ``attainment/_child.html`` for the readers of the child's education: the
:func:`child_attainment` helper gives it the latest assessments against target and the EET status.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import ColumnElement, false
from werkzeug.wrappers import Response

from casework import attainment_import
from casework.access import CaseAccess
from casework.attainment import (
    EET_LABELS,
    KEY_STAGE_RESULTS,
    LABELS,
    SUBJECT_LABELS,
    ChildAttainment,
    for_child,
)
from casework.records import Child
from casework.school_data import ASSESSMENT_KINDS

from .auth import login_required
from .context import actor, clock, current_user, db, state

bp = Blueprint("attainment_imports", __name__)

IMPORTERS = frozenset({"vsh", "designated_teacher"})
"""The roles that may import attainment (for the children they see: the authority's, or their school's)."""
REFUSED = "Only the virtual school head or a designated teacher can import attainment."
PAGE = "attainment/import.html"


def _visible() -> ColumnElement[bool]:
    """The children the importer may see and import for, as a condition on ``child``; others get 403."""
    user = current_user()
    if user is None or not (user.roles_set & IMPORTERS):
        abort(403, description=REFUSED)
    access = state().runtime.access
    if not isinstance(access, CaseAccess):  # a runtime without the case access policy finds no children
        return false()
    return access.scope(db(), actor()).children


def _page(status: int = 200, **context: Any) -> tuple[str, int]:
    counted = attainment_import.recorded_count(db(), _visible())
    return render_template(PAGE, recorded=counted, columns=attainment_import.COLUMNS, kinds=ASSESSMENT_KINDS,
                           subjects=SUBJECT_LABELS, values=LABELS, results=KEY_STAGE_RESULTS,
                           most=attainment_import.MAX_LINES, **context), status


@bp.get("/virtual-school/imports/attainment")
@login_required
def form() -> tuple[str, int]:
    return _page()


def _uploaded() -> bytes | None:
    upload = request.files.get("file")
    content = upload.read() if upload is not None else b""
    return content or None


@bp.post("/virtual-school/imports/attainment")
@login_required
def preview() -> tuple[str, int]:
    """Check the uploaded file and show what it would do; nothing is written."""
    visible = _visible()
    content = _uploaded()
    if content is None:
        return _page(400, problem="Choose a CSV file to import")
    try:
        result = attainment_import.preview(db(), visible, content)
    except attainment_import.FileError as exc:
        return _page(400, problem=str(exc))
    text = content.decode("utf-8-sig")
    status = 200 if result.ok else 400
    return render_template("attainment/preview.html", result=result, content=text,
                           filename=(request.files["file"].filename or "the file")), status


@bp.post("/virtual-school/imports/attainment/confirm")
@login_required
def confirm() -> Response | tuple[str, int]:
    """Record the previewed file: every line, or (if any line now has an error) nothing."""
    visible = _visible()
    content = request.form.get("content", "")
    if not content.strip():
        return _page(400, problem="The file to import was not sent: upload it again")
    try:
        result = attainment_import.apply(db(), visible, content, clock().now())
    except attainment_import.FileError as exc:
        return _page(400, problem=str(exc))
    if not result.ok:
        return render_template("attainment/preview.html", result=result, content=content, filename="the file"), 400
    flash(f"Attainment imported: {result.new} new, {result.changed} changed, {result.unchanged} already recorded",
          "success")
    return redirect(url_for("attainment_imports.form"))


@bp.app_context_processor
def attainment_helpers() -> dict[str, Any]:
    return {"child_attainment": child_attainment, "eet_labels": EET_LABELS}


def child_attainment(child: Child) -> ChildAttainment:
    """The child's latest attainment against target, results and EET status (the record's template asks for
    it only for a reader of the child's education)."""
    return for_child(db(), child.id)
