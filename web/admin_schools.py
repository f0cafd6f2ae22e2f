"""``/admin/schools``: the schools register from the GIAS establishment download, in the browser.

An administrator uploads the download (at most 100 MB: the national file is about 60 MB); the preview counts
the schools to add, to change in place and unchanged, the establishments passed over (not schools) and the
closed ones left out, and lists every error with its line; "Import" applies it, all or nothing. Only the
columns read wait for the confirmation (compressed, in ``import_upload``: casework/csv_import.py), never the
whole file. Only the admin role: the register is shared by every authority. docs/import-schools.md.
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from casework import gias
from casework.csv_import import keep_upload, take_upload
from casework.records import School
from engine.errors import InvalidData

from .auth import login_required
from .context import clock, current_user, db, require_admin

bp = Blueprint("admin_schools", __name__)
ERRORS_SHOWN = 50
REASON = "Only an administrator can import the schools register."


def init_app(app: Flask) -> None:
    """The blueprint, and the body limit the national file needs, set before any check reads the form."""
    app.register_blueprint(bp)
    app.before_request_funcs.setdefault(None, []).insert(0, _allow_upload_size)


def _allow_upload_size() -> None:
    if request.method == "POST" and request.endpoint == "admin_schools.submit":
        request.max_content_length = gias.MAX_BYTES + 64 * 1024  # the file and the multipart envelope


def _upload_page(errors: list[str], status: int = 200) -> tuple[str, int]:
    counts = {status: int(n) for status, n in db().execute(select(School.status, func.count()).group_by(School.status))}
    return render_template("admin/schools.html", errors=errors, counts=counts,
                           max_mb=gias.MAX_BYTES // (1024 * 1024)), status


def _preview_page(result: gias.GiasPreview, token: str | None, filename: str) -> tuple[str, int]:
    return render_template("admin/schools_preview.html", result=result, token=token, filename=filename,
                           errors_shown=result.errors[:ERRORS_SHOWN],
                           passed_over=sorted(result.passed_over.items())), 200 if result.ok else 400


@bp.get("/admin/schools")
@login_required
def upload() -> tuple[str, int]:
    require_admin(REASON)
    return _upload_page([])


@bp.post("/admin/schools")
@login_required
def submit() -> tuple[str, int] | Response:
    username = require_admin(REASON)
    token = request.form.get("upload_token", "")
    if token:
        return _confirm(username, token)
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        return _upload_page(["Choose the GIAS establishment download (a CSV file) to upload"], 400)
    data = sent.read(gias.MAX_BYTES + 1)
    if len(data) > gias.MAX_BYTES:
        abort(413, description=f"The file is larger than {gias.MAX_BYTES // (1024 * 1024)} MB")
    try:
        rows = list(gias.read(gias.decode(data)))
    except InvalidData as invalid:
        return _upload_page([reason for reasons in invalid.errors.values() for reason in reasons], 400)
    del data
    result = gias.preview(db(), rows)
    filename = sent.filename[:200]
    user = current_user()
    kept = (keep_upload(db(), clock().now(), gias.KIND, username, str(user.la_code or "") if user else "",
                        filename, gias.pack(rows)) if result.ok and result.changes else None)
    return _preview_page(result, kept, filename)


def _confirm(username: str, token: str) -> tuple[str, int] | Response:
    session = db()
    upload = take_upload(session, clock().now(), token, gias.KIND, username)
    if upload is None:
        return _upload_page(["The uploaded file has expired or was imported already: upload it again"], 400)
    result = gias.preview(session, gias.unpack(upload.content))
    if not result.ok:
        return _preview_page(result, None, upload.filename)
    gias.write(session, clock(), result, username, upload.filename)
    session.delete(upload)
    flash(f"Schools register imported from {upload.filename}: {result.summary()}", "success")
    return redirect(url_for("admin_schools.upload"))
