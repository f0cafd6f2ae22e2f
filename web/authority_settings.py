"""The authority's settings, for administrators only (everyone else: 403): ``/admin/settings``.

- ``/admin/settings/terms``: the term dates by academic year; ``…/terms/upload`` checks a CSV file and
  shows the terms it would set (or every error by line), and "Replace the term dates" applies it (the file
  waits on the server, casework/csv_import.py; the form carries a random token); ``…/terms/<2026-27>``
  edits one academic year in a form.
- ``/admin/settings/rules``: the configurable rules with their allowed values and help.
- ``/admin/settings/processes``: every deployed version of every process with its cases, and deploying a
  BPMN file, checked exactly as ``vsw deploy`` checks it (engine/deploy.py).

Each change is audited and used at once, by every process, without a restart (docs/authority-settings.md).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from casework import authority_settings as settings
from casework.csv_import import keep_upload, take_upload
from casework.terms import CSV_COLUMNS, parse_term_dates_csv
from casework.users import User
from engine.errors import DeploymentError, InvalidData

from .auth import login_required
from .context import actor, clock, current_user, db, workflow
from .paging import page_links, page_number

bp = Blueprint("authority_settings", __name__, url_prefix="/admin/settings")

REFUSED = "Only an administrator may change the authority's settings."
TERMS_KIND = "term_dates"
MAX_FILE = 512 * 1024
"""The largest term dates or BPMN file (the request itself is bounded at 1 MiB: web/bounds.py)."""


def _admin() -> User:
    user = current_user()
    if user is None or "admin" not in user.roles_set or not user.la_code:
        abort(403, description=REFUSED)
    return user


def _file() -> tuple[str, bytes] | str:
    """The uploaded file's name and bytes, or why there is none."""
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        return "Choose a file to upload"
    data = sent.read(MAX_FILE + 1)
    if len(data) > MAX_FILE:
        abort(413, description=f"The file is larger than {MAX_FILE // 1024} KB")
    if not data.strip():
        return "The file is empty"
    return sent.filename[:200], data


@bp.get("")
@login_required
def index() -> str:
    _admin()
    return render_template("admin/settings.html")


# -- term dates -----------------------------------------------------------------------------------------


@bp.get("/terms")
@login_required
def terms() -> str:
    user = _admin()
    years, own = settings.term_years(db(), user.la_code)
    return render_template("admin/terms.html", years=years, own=own)


def _upload_page(errors: list[str], status: int = 200) -> tuple[str, int]:
    return render_template("admin/terms_upload.html", errors=errors, columns=CSV_COLUMNS), status


@bp.get("/terms/upload")
@login_required
def terms_upload() -> tuple[str, int]:
    _admin()
    return _upload_page([])


@bp.post("/terms/upload")
@login_required
def terms_check() -> tuple[str, int] | Response:
    user = _admin()
    token = request.form.get("upload_token", "")
    if token:
        return _terms_confirm(user, token)
    found = _file()
    if isinstance(found, str):
        return _upload_page([found], 400)
    filename, data = found
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _upload_page([f"The file is not UTF-8 text (byte {exc.start + 1}): save it as CSV UTF-8"], 400)
    try:
        rows, insets = parse_term_dates_csv(text)
    except InvalidData as invalid:
        errors = sorted(((*_where(key), reason) for key, reasons in invalid.errors.items() for reason in reasons),
                        key=lambda error: int(error[0]) if error[0].isdigit() else 0)
        return render_template("admin/terms_preview.html", errors=errors, years=[], token=None,
                               filename=filename), 400
    kept = keep_upload(db(), clock().now(), TERMS_KIND, user.username, user.la_code, filename, data)
    return render_template("admin/terms_preview.html", errors=[], years=settings.by_year(rows, insets),
                           token=kept, filename=filename), 200


def _where(key: str) -> tuple[str, str]:
    """``"line 3, starts_on"`` as ("3", "starts_on")."""
    line, _, column = key.partition(", ")
    return line.removeprefix("line ").strip(), column or "(whole line)"


def _terms_confirm(user: User, token: str) -> tuple[str, int] | Response:
    session = db()
    upload = take_upload(session, clock().now(), token, TERMS_KIND, user.username)
    if upload is None:
        return _upload_page(["The uploaded file has expired or was used already: upload it again"], 400)
    written = settings.import_terms(session, clock().now(), user.username, user.la_code,
                                    upload.content.decode("utf-8-sig"), upload.filename)
    session.delete(upload)
    flash(f"Term dates replaced from {upload.filename}: {written} rows. They are used at once.", "success")
    return redirect(url_for("authority_settings.terms"))


@bp.route("/terms/<slug>", methods=["GET", "POST"])
@login_required
def terms_year(slug: str) -> tuple[str, int] | Response:
    user = _admin()
    academic_year = settings.academic_year_of_slug(slug)
    if academic_year is None:
        abort(404)
    years, own = settings.term_years(db(), user.la_code)
    current = next((y for y in years if y.academic_year == academic_year), None)
    values = settings.year_form_values(current)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = {name: request.form.get(name, "")[:4000] for name in values}
        try:
            settings.save_year(db(), clock().now(), user.username, user.la_code, academic_year, values)
        except InvalidData as invalid:
            errors = invalid.errors
        else:
            flash(f"Term dates for {academic_year} saved. They are used at once.", "success")
            return redirect(url_for("authority_settings.terms"))
    return render_template("admin/terms_year.html", academic_year=academic_year, values=values, errors=errors,
                           own=own, exists=current is not None, parts=settings.TERM_PARTS), 400 if errors else 200


# -- rules ----------------------------------------------------------------------------------------------


@bp.route("/rules", methods=["GET", "POST"])
@login_required
def rules() -> tuple[str, int] | Response:
    user = _admin()
    errors: dict[str, list[str]] = {}
    typed: dict[str, str] = {}
    if request.method == "POST":
        typed = {name: request.form.get(name, "")[:100] for name in settings.RULE_TEXT}
        try:
            changed = settings.change_rules(db(), clock().now(), user.username, user.la_code, typed)
        except InvalidData as invalid:
            errors = invalid.errors
        else:
            flash(f"Rules saved: {len(changed)} changed." if changed else "No rule was changed.", "success")
            return redirect(url_for("authority_settings.rules"))
    fields = settings.rule_fields(db(), user.la_code)
    return render_template("admin/rules.html", fields=fields, errors=errors, typed=typed), 400 if errors else 200


# -- process definitions --------------------------------------------------------------------------------


def _processes_page(problem: str | None = None, status: int = 200) -> tuple[str, int]:
    page = settings.definition_versions(db(), page_number())
    return render_template("admin/processes.html", page=page, pages=page_links(page), problem=problem), status


@bp.get("/processes")
@login_required
def processes() -> tuple[str, int]:
    _admin()
    return _processes_page()


@bp.post("/processes")
@login_required
def deploy() -> tuple[str, int] | Response:
    _admin()
    found = _file()
    if isinstance(found, str):
        return _processes_page(found, 400)
    filename, data = found
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return _processes_page(f"{filename}: cannot be read: {error}", 400)  # as engine/deploy.py says it
    try:
        deployed: list[Any] = workflow().deploy_text(text, filename, actor())
    except DeploymentError as error:
        return _processes_page(error.message, 400)
    flash("Deployed: " + "; ".join(f"{d.process_id}: version {d.version} ({d.filename}, {d.content_sha256[:12]})"
                                   for d in deployed), "success")
    return redirect(url_for("authority_settings.processes"))
