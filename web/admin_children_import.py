"""``/admin/children/import``: the authority's looked-after children from its SSDA903 return, in the browser.

An administrator uploads the return's header and episodes files (each at most 5 MB, CSV); the preview counts
the children new, changed, leaving and unchanged, and lists every error with its file, line and column.
"Import" applies it in one transaction, asking how the PEPs of children already in care start. A file with
errors in some children may be imported without them only once the administrator ticks that those children,
named on the page, are skipped. Both files wait for the confirmation in ``import_upload`` (the form carries
random tokens only). Only the admin role. docs/import-children.md.
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from casework import ssda903_apply
from casework.csv_import import MAX_BYTES, ImportUpload, decode, keep_upload, take_upload
from casework.ssda903_codes import DEFAULT_PEP_START, PEP_START_CHOICES
from casework.users import User
from engine.errors import InvalidData

from .auth import login_required
from .context import actor, clock, current_user, db, state

bp = Blueprint("admin_children_import", __name__)
PATH = "/admin/children/import"
FILES = {"header": "ssda903_header", "episodes": "ssda903_episodes"}
"""Form field -> the upload's kind."""
ERRORS_SHOWN = 50
REASON = "Only an administrator of an authority can import its children."


def init_app(app: Flask) -> None:
    """The blueprint, and the body limit two files need, set before any check reads the form."""
    app.register_blueprint(bp)
    app.before_request_funcs.setdefault(None, []).insert(0, _allow_upload_size)


def _allow_upload_size() -> None:
    if request.method == "POST" and request.endpoint == "admin_children_import.submit":
        request.max_content_length = 2 * MAX_BYTES + 64 * 1024  # both files and the multipart envelope


def _admin() -> User:
    user = current_user()
    if user is None or "admin" not in user.roles_set or not user.la_code:
        abort(403, description=REASON)
    return user


def _upload_page(errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    return render_template("admin/ssda903.html", errors=errors, max_mb=MAX_BYTES // (1024 * 1024)), status


def _preview_page(result: ssda903_apply.Preview, tokens: dict[str, str] | None, pep_start: str = DEFAULT_PEP_START,
                  errors: dict[str, str] | None = None) -> tuple[str, int]:
    found = result.found
    skip = sorted(found.children_in_error) if not found.unskippable else []
    # errors the administrator may skip keep the files (a 400 would roll their upload back): 200, a choice
    status = 400 if (found.error_count and not tokens) or errors else 200
    return render_template("admin/ssda903_preview.html", result=result, found=found, tokens=tokens, skip=skip,
                           errors_shown=found.errors[:ERRORS_SHOWN], choices=PEP_START_CHOICES,
                           pep_start=pep_start, errors=errors or {}), status


@bp.get(PATH)
@login_required
def upload() -> tuple[str, int]:
    _admin()
    return _upload_page({})


@bp.post(PATH)
@login_required
def submit() -> tuple[str, int] | Response:
    user = _admin()
    if request.form.get("header_token"):
        return _confirm(user)
    texts: dict[str, str] = {}
    names: dict[str, str] = {}
    contents: dict[str, bytes] = {}
    errors: dict[str, str] = {}
    for field in FILES:
        sent = request.files.get(field)
        if sent is None or not sent.filename:
            errors[field] = f"Choose the return's {field} file"
            continue
        data = sent.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            abort(413, description=f"The {field} file is larger than {MAX_BYTES // (1024 * 1024)} MB")
        try:
            texts[field], names[field], contents[field] = decode(data), sent.filename[:200], data
        except InvalidData as invalid:
            errors[field] = f"{sent.filename}: {_first(invalid)}"
    if errors:
        return _upload_page(errors, 400)
    try:
        result = _preview(user, texts, names)
    except InvalidData as invalid:
        return _upload_page(_file_errors(invalid, names), 400)
    tokens = None
    if result.changes and not result.found.unskippable:
        now = clock().now()
        tokens = {field: keep_upload(db(), now, kind, user.username, str(user.la_code), names[field], contents[field])
                  for field, kind in FILES.items()}
    return _preview_page(result, tokens)


def _preview(user: User, texts: dict[str, str], names: dict[str, str]) -> ssda903_apply.Preview:
    return ssda903_apply.preview(db(), str(user.la_code), texts["header"], texts["episodes"], clock().now().date(),
                                 names["header"], names["episodes"])


def _first(invalid: InvalidData) -> str:
    return next((reason for reasons in invalid.errors.values() for reason in reasons), invalid.message)


def _file_errors(invalid: InvalidData, names: dict[str, str]) -> dict[str, str]:
    """A file that cannot be read: its reasons, under its form field."""
    by_name = {name: field for field, name in names.items()}
    return {by_name.get(key, "header"): " ".join(reasons) for key, reasons in invalid.errors.items()}


def _confirm(user: User) -> tuple[str, int] | Response:
    session, now = db(), clock().now()
    tokens = {field: request.form.get(f"{field}_token", "") for field in FILES}
    uploads: dict[str, ImportUpload | None] = {
        field: take_upload(session, now, tokens[field], kind, user.username) for field, kind in FILES.items()}
    if any(found is None for found in uploads.values()):
        return _upload_page({"header": "The uploaded files have expired or were imported already: upload them again"},
                            400)
    kept = {field: found for field, found in uploads.items() if found is not None}
    texts = {field: decode(found.content) for field, found in kept.items()}
    names = {field: found.filename for field, found in kept.items()}
    pep_start = request.form.get("pep_start", "")
    skip = [ref for ref in request.form.get("skip", "").split(",") if ref]
    errors: dict[str, str] = {}
    if pep_start not in PEP_START_CHOICES:
        errors["pep_start"] = "Choose how the PEPs of children already in care start"
    if skip and request.form.get("confirm_skip") != "yes":
        errors["confirm_skip"] = "Tick the box to import the other children without those named"
    if errors:
        return _preview_page(_preview(user, texts, names), tokens, pep_start or DEFAULT_PEP_START, errors)
    try:
        result = ssda903_apply.apply(session, clock(), state().runtime, str(user.la_code), texts["header"],
                                     texts["episodes"], actor(), pep_start, skip, names["header"], names["episodes"])
    except InvalidData:  # the records changed since the preview: show what is wrong now
        return _preview_page(_preview(user, texts, names), tokens, pep_start,
                             {"confirm_skip": "The files now have errors in other children: check them again"})
    for found in kept.values():
        session.delete(found)
    flash(f"Imported: {result.summary()}" + (f"; skipped {', '.join(skip)}" if skip else ""), "success")
    return redirect(url_for("admin_children_import.upload"))
