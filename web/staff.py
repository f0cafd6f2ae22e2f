"""Staff, for administrators: add a person (invited by email, or with a temporary password), change their
details and roles, deactivate and reactivate them, import staff from a CSV file. For everyone: choosing a
password from an invitation, and changing one's own password, which a person given a temporary password
must do before anything else. docs/staff.md. The list of users is web/account.py's ``/admin/users``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, url_for
from flask import session as cookie
from sqlalchemy import select
from werkzeug.wrappers import Response

from casework import staff_import
from casework.csv_import import MAX_BYTES, ImportPreview, decode, keep_upload, take_upload
from casework.invitations import accept, has_open_invitation, invite, open_invitation
from casework.sessions import UserSession, token_hash
from casework.staff import StaffDetails, StaffService, split_roles
from casework.users import ROLES, User
from engine.errors import InvalidData

from .auth import SESSION_KEY, login_required
from .context import clock, current_user, db, require_admin
from .sso import SIGNED_IN_WITH_PROVIDER

bp = Blueprint("staff", __name__)

CHECKED = "vsw_password_ok"
"""In the signed cookie: this session's user was found not to need a new password (asked once per session)."""
OPEN_WHILE_CHANGING = frozenset({"staff.change_password", "staff.accept_invitation", "auth.logout", "auth.login",
                                 "static", "govuk_assets"})
ERRORS_SHOWN = 50
IMPORT_PATH = "/admin/staff/import"


def init_app(app: Flask) -> None:
    """The blueprint; the check that sends someone with a temporary password to change it; the upload size."""
    app.register_blueprint(bp)
    app.before_request(_password_must_change)
    app.before_request_funcs.setdefault(None, []).insert(0, _allow_upload_size)


def _allow_upload_size() -> None:
    if request.method == "POST" and request.endpoint == "staff.import_staff":
        request.max_content_length = MAX_BYTES + 64 * 1024


def _password_must_change() -> Response | None:
    """A session whose user must change their password reaches only the password page (and signing out);
    not one signed in through the identity provider.
    Runs on its own (before or after the user is loaded): one indexed look-up per session, then remembered."""
    token = cookie.get(SESSION_KEY)
    if not isinstance(token, str) or request.endpoint in OPEN_WHILE_CHANGING or cookie.get(SIGNED_IN_WITH_PROVIDER):
        return None  # signed in through the identity provider: a local password is never used
    mark = token_hash(token)[:16]
    if cookie.get(CHECKED) == mark:
        return None
    must = db().scalar(select(User.must_change_password).join(UserSession, UserSession.user_id == User.id)
                       .where(UserSession.token_hash == token_hash(token), UserSession.revoked_at.is_(None)))
    if must:
        return redirect(url_for("staff.change_password"))
    if must is not None:
        cookie[CHECKED] = mark
    return None


def _admin() -> User:
    require_admin("Only an administrator can add and change users.")
    user = current_user()
    assert user is not None
    return user


def _service() -> StaffService:
    return StaffService(db(), clock(), current_app.extensions["vsw_password_hasher"])


def _base_url() -> str:
    return request.host_url.rstrip("/")


def _form_details(username: str | None = None) -> StaffDetails:
    form = request.form
    return StaffDetails(username if username is not None else form.get("username", ""),
                        form.get("display_name", ""), form.get("email", ""),
                        split_roles(" ".join(form.getlist("roles"))), form.get("la_code", ""),
                        form.get("school_urn", ""), form.get("team", ""))


def _form_page(template: str, status: int = 200, **values: Any) -> tuple[str, int]:
    errors: dict[str, str] = values.pop("errors", {})
    return render_template(f"admin/{template}", errors=errors, role_choices=sorted(ROLES), **values), status


def _errors(invalid: InvalidData) -> dict[str, str]:
    return {name: str(reasons[0]) for name, reasons in invalid.errors.items()} or {"file": invalid.message}


@bp.route("/admin/users/new", methods=["GET", "POST"])
@login_required
def new_user() -> tuple[str, int] | Response:
    admin = _admin()
    if request.method == "GET":
        details = StaffDetails("", "", "", (), admin.la_code)
        return _form_page("staff_new.html", details=details, how="invite")
    details, how = _form_details(), request.form.get("how", "")
    errors: dict[str, str] = {}
    if how not in ("invite", "password"):
        errors["how"] = "Choose how the person gets their password"
    else:
        try:
            user = _service().create(details, admin.username,
                                     request.form.get("password", "") if how == "password" else None)
        except InvalidData as invalid:
            errors = _errors(invalid)
        else:
            if how == "invite":
                invite(db(), clock(), user, admin.username, _base_url())
                flash(f"{user.display_name} has been added and sent an invitation to {user.email}", "success")
            else:
                flash(f"{user.display_name} has been added: give them the temporary password; they must change "
                      "it when they first sign in", "success")
            return redirect(url_for("staff.edit_user", username=user.username))
    return _form_page("staff_new.html", 400, details=details, how=how, errors=errors)


@bp.route("/admin/users/<key:username>", methods=["GET", "POST"])
@login_required
def edit_user(username: str) -> tuple[str, int] | Response:
    admin = _admin()
    service = _service()
    user = service.get(username)  # NotFound: 404
    errors: dict[str, str] = {}
    details = StaffDetails.of(user)
    if request.method == "POST":
        details = _form_details(user.username)
        try:
            changes = service.change(user.username, details, admin.username)
        except InvalidData as invalid:
            errors = _errors(invalid)
        else:
            flash(f"{user.display_name}: {len(changes)} change{'' if len(changes) == 1 else 's'} saved"
                  if changes else "Nothing was changed", "success")
            return redirect(url_for("staff.edit_user", username=user.username))
    return _form_page("staff_edit.html", 400 if errors else 200, person=user, details=details,
                      children=service.caseload_size(user.username), errors=errors,
                      invited=has_open_invitation(db(), clock().now(), user.id))


@bp.post("/admin/users/<key:username>/<any(deactivate, reactivate):action>")
@login_required
def set_active(username: str, action: str) -> Response:
    admin = _admin()
    service = _service()
    if action == "deactivate":
        children = service.deactivate(username, admin.username)  # Conflict (yourself): 409
        flash(f"{username} is deactivated and signed out everywhere"
              + (f". {children} children are still allocated to them: hand over their caseload" if children else ""),
              "success")
    else:
        service.reactivate(username, admin.username)
        flash(f"{username} is active again and can sign in", "success")
    return redirect(url_for("staff.edit_user", username=username))


@bp.post("/admin/users/<key:username>/invite")
@login_required
def send_invitation(username: str) -> Response:
    admin = _admin()
    user = _service().get(username)
    if not user.active:
        abort(409, description=f"{username} is deactivated: reactivate them before inviting them")
    invite(db(), clock(), user, admin.username, _base_url())
    flash(f"A new invitation has been sent to {user.email}; earlier links no longer work", "success")
    return redirect(url_for("staff.edit_user", username=user.username))


@bp.post("/admin/users/<key:username>/temporary-password")
@login_required
def temporary_password(username: str) -> tuple[str, int] | Response:
    admin = _admin()
    service = _service()
    user = service.get(username)
    try:
        service.set_temporary_password(user.username, request.form.get("password", ""), admin.username)
    except InvalidData as invalid:
        return _form_page("staff_edit.html", 400, person=user, details=StaffDetails.of(user),
                          children=service.caseload_size(user.username), errors=_errors(invalid),
                          invited=has_open_invitation(db(), clock().now(), user.id))
    flash(f"{username} has a temporary password and is signed out everywhere: they must change it when they "
          "next sign in", "success")
    return redirect(url_for("staff.edit_user", username=user.username))


# -- a person's own password ------------------------------------------------------------------------


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> tuple[str, int] | Response:
    signed_in = current_user()
    assert signed_in is not None
    service = _service()
    user = service.get(signed_in.username)  # on this request's session, to be saved with it
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = request.form
        try:
            service.change_own_password(user, form.get("current_password", ""), form.get("password", ""),
                                        form.get("confirm_password", ""))
        except InvalidData as invalid:
            errors = _errors(invalid)
        else:
            flash("Your password has been changed", "success")
            return redirect(url_for("tasks.inbox"))
    return _form_page("staff_password.html", 400 if errors else 200, person=user, errors=errors)


@bp.route("/invitation/<key:token>", methods=["GET", "POST"])
def accept_invitation(token: str) -> tuple[str, int] | Response:
    _invitation, user = open_invitation(db(), clock().now(), token)  # NotFound (used, expired, wrong): 404
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            accept(db(), clock(), current_app.extensions["vsw_password_hasher"], token,
                   request.form.get("password", ""), request.form.get("confirm_password", ""))
        except InvalidData as invalid:
            errors = _errors(invalid)
        else:
            flash(f"Your password is set. Sign in with your username, {user.username}", "success")
            return redirect(url_for("auth.login"))
    return _form_page("staff_invitation.html", 400 if errors else 200, person=user, token=token, errors=errors)


# -- the staff import -------------------------------------------------------------------------------


def _preview_page(result: ImportPreview, token: str | None, filename: str) -> tuple[str, int]:
    return render_template("admin/staff_import_preview.html", result=result, token=token, filename=filename,
                           errors_shown=result.errors[:ERRORS_SHOWN], describe=staff_import.describe), \
        200 if result.ok else 400


def _upload_page(errors: list[str], status: int = 200) -> tuple[str, int]:
    return render_template("admin/staff_import.html", errors=errors, max_mb=MAX_BYTES // (1024 * 1024),
                           role_choices=sorted(ROLES)), status


@bp.route(IMPORT_PATH, methods=["GET", "POST"])
@login_required
def import_staff() -> tuple[str, int] | Response:
    admin = _admin()
    if request.method == "GET":
        return _upload_page([])
    token = request.form.get("upload_token", "")
    if token:
        upload = take_upload(db(), clock().now(), token, staff_import.KIND, admin.username)
        if upload is None:
            return _upload_page(["The uploaded file has expired or was imported already: upload it again"], 400)
        try:
            result = staff_import.apply(db(), clock(), admin.la_code, decode(upload.content), admin.username,
                                        _base_url(), current_app.extensions["vsw_password_hasher"])
        except InvalidData:  # the users changed since the preview: show what is wrong now
            again = staff_import.preview(db(), admin.la_code, decode(upload.content))
            return _preview_page(again, None, upload.filename)
        db().delete(upload)
        flash(f"Imported: {len(result.add)} added and invited, {len(result.replace)} changed, "
              f"{result.unchanged} unchanged", "success")
        return redirect(url_for("account.users"))
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        return _upload_page(["Choose a CSV file to upload"], 400)
    data = sent.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        abort(413, description=f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        result = staff_import.preview(db(), admin.la_code, decode(data))
    except InvalidData as invalid:
        return _upload_page([str(r) for reasons in invalid.errors.values() for r in reasons], 400)
    filename = sent.filename[:200]
    kept = (keep_upload(db(), clock().now(), staff_import.KIND, admin.username, admin.la_code, filename, data)
            if result.ok and result.changes else None)
    return _preview_page(result, kept, filename)
