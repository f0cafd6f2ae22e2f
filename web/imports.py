"""Attendance and suspensions: imported in bulk by the Virtual School, and recorded on a child's record.

``/virtual-school/imports/attendance`` and ``/virtual-school/imports/suspensions``: the VSH, a manager or an
administrator uploads a CSV file (at most 5 MB, UTF-8); the preview counts the rows to add, replace and
leave unchanged and lists every error with its line and column; "Import" applies it, all or nothing. The
file waits for the confirmation on the server (casework/csv_import.py, ``ImportUpload``); the form carries
only a random token. Everyone else: 403.

``/children/<ref>/suspensions/new``: the child's designated teacher, social worker or the VSH records a
suspension or permanent exclusion (others who see the child: 403; a child they do not see: 404). The
child's record shows this year's attendance and suspensions to those who read their education
(:func:`child_school_record`, a template global). docs/cohort.md, "Importing attendance" and "Suspensions and exclusions".
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from casework import attendance, suspensions
from casework.children import ChildService
from casework.csv_import import MAX_BYTES, ImportPreview, decode, keep_upload, take_upload
from casework.need_to_know import EDUCATION
from casework.records import Child
from casework.school_data import EXCLUSION_REASONS
from casework.users import User
from engine.errors import InvalidData

from .auth import login_required
from .context import clock, current_user, db, may_see, need_to_know

bp = Blueprint("imports", __name__)

IMPORTS: dict[str, Any] = {"attendance": attendance, "suspensions": suspensions}
TITLES = {"attendance": "Import attendance", "suspensions": "Import suspensions and exclusions"}
IMPORTERS = frozenset({"vsh", "manager", "admin"})
RECORDERS = frozenset({"designated_teacher", "social_worker", "vsh"})
ERRORS_SHOWN = 50
UPLOAD_PATH = "/virtual-school/imports/"


def init_app(app: Flask) -> None:
    """The blueprint, and a larger body limit for the uploads alone, set before any check reads the form."""
    app.register_blueprint(bp)
    app.jinja_env.globals["child_school_record"] = child_school_record
    app.before_request_funcs.setdefault(None, []).insert(0, _allow_upload_size)


def _allow_upload_size() -> None:
    if request.method == "POST" and request.endpoint == "imports.submit":
        request.max_content_length = MAX_BYTES + 64 * 1024  # the file and the multipart envelope


def _importer() -> User:
    user = current_user()
    if user is None or not user.roles_set & IMPORTERS or not user.la_code:
        abort(403, description="Only the virtual school head, a manager or an administrator may import records.")
    return user


def _upload_page(kind: str, errors: list[str], status: int = 200) -> tuple[str, int]:
    return render_template("imports/upload.html", kind=kind, title=TITLES[kind], errors=errors,
                           max_mb=MAX_BYTES // (1024 * 1024)), status


def _preview_page(kind: str, result: ImportPreview, token: str | None, filename: str) -> tuple[str, int]:
    return render_template("imports/preview.html", kind=kind, title=TITLES[kind], result=result, token=token,
                           filename=filename, errors_shown=result.errors[:ERRORS_SHOWN]), 200 if result.ok else 400


@bp.get(f"{UPLOAD_PATH}<any(attendance, suspensions):kind>")
@login_required
def upload(kind: str) -> tuple[str, int]:
    _importer()
    return _upload_page(kind, [])


@bp.post(f"{UPLOAD_PATH}<any(attendance, suspensions):kind>")
@login_required
def submit(kind: str) -> tuple[str, int] | Response:
    user = _importer()
    module = IMPORTS[kind]
    token = request.form.get("upload_token", "")
    if token:
        return _confirm(kind, user, token)
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        return _upload_page(kind, ["Choose a CSV file to upload"], 400)
    data = sent.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        abort(413, description=f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        result = module.preview(db(), user.la_code, decode(data), clock().now().date())
    except InvalidData as invalid:
        return _upload_page(kind, [reason for reasons in invalid.errors.values() for reason in reasons], 400)
    filename = sent.filename[:200]
    kept = (keep_upload(db(), clock().now(), kind, user.username, str(user.la_code), filename, data)
            if result.ok and result.changes else None)
    return _preview_page(kind, result, kept, filename)


def _confirm(kind: str, user: User, token: str) -> tuple[str, int] | Response:
    session = db()
    upload = take_upload(session, clock().now(), token, kind, user.username)
    if upload is None:
        return _upload_page(kind, ["The uploaded file has expired or was imported already: upload it again"], 400)
    try:
        result = IMPORTS[kind].apply(session, clock(), str(user.la_code), decode(upload.content), user.username)
    except InvalidData:  # the records changed since the preview: show what is wrong now
        again = IMPORTS[kind].preview(session, str(user.la_code), decode(upload.content), clock().now().date())
        return _preview_page(kind, again, None, upload.filename)
    session.delete(upload)
    flash(f"Imported: {result.summary()}", "success")
    return redirect(url_for("imports.upload", kind=kind))


# -- a child's record -----------------------------------------------------------------------------------


def child_school_record(child: Child) -> dict[str, Any] | None:
    """This year's attendance and suspensions for the child's record (a template global, used by
    children/child.html); None for who does not read the child's education."""
    reader = need_to_know().reader(child.ref)
    if not reader.reads(EDUCATION):
        return None
    session, today = db(), clock().now().date()
    return {
        "attendance": attendance.for_child(session, child.id, today),
        "suspensions": suspensions.for_child(session, child.id, today),
        "may_record": bool(reader.roles & RECORDERS),
        "bands": attendance.BANDS,
        "reasons": suspensions.REASONS,
        "kinds": suspensions.KIND_LABELS,
    }


def _recording_child(ref: str) -> Child:
    child = ChildService(db(), clock()).by_ref(ref)
    if child is None or not may_see(child.ref):
        abort(404)
    if not need_to_know().reader(child.ref).roles & RECORDERS:
        abort(403, description="Only the child's designated teacher, social worker or the virtual school head "
                               "may record a suspension or exclusion.")
    return child


def _form_values(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    parts = [form.get(f"starts_on-{p}", "").strip() for p in ("day", "month", "year")]
    starts_on: date | None = None
    try:
        starts_on = date(int(parts[2]), int(parts[1]), int(parts[0])) if all(parts) else None
    except ValueError:
        errors["starts_on"] = "The start date must be a real date, like 27 3 2026"
    kind = form.get("kind", "")
    days_text = form.get("days", "").strip()
    days = suspensions.parse_days(days_text) if kind == "suspension" or days_text else None
    values = {"kind": kind, "school_urn": form.get("school_urn", "").strip(), "starts_on": starts_on,
              "days": days, "reason": form.get("reason", "")}
    return values, errors


@bp.route("/children/<key:ref>/suspensions/new", methods=["GET", "POST"])
@login_required
def new_suspension(ref: str) -> tuple[str, int] | Response:
    child = _recording_child(ref)
    values: dict[str, Any] = {"kind": "suspension", "school_urn": child.school_urn or "", "starts_on": None,
                              "days": None, "reason": ""}
    errors: dict[str, str] = {}
    form: dict[str, str] = {}
    if request.method == "POST":
        form = {k: v for k, v in request.form.items() if k != "csrf_token"}
        values, errors = _form_values(request.form)
        if not errors:
            try:
                user = current_user()
                suspensions.record(db(), clock(), child.ref, user.username if user else "", **values)
            except InvalidData as invalid:
                errors = {name: reasons[0] for name, reasons in invalid.errors.items()}
        if not errors:
            flash(f"{suspensions.KIND_LABELS[values['kind']]} recorded for {child.full_name}", "success")
            return redirect(url_for("children.show", ref=child.ref))
    return render_template("children/suspension_new.html", child=child, values=values, form=form, errors=errors,
                           reasons=EXCLUSION_REASONS, kinds=suspensions.KIND_LABELS), 400 if errors else 200
