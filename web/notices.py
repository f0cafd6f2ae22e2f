"""In-app notifications, each person's email preference, and the admin list of dead-lettered emails."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from engine.errors import Forbidden, InvalidData, NotFound
from notifications.delivery import REASON_LIMIT, cancel_dead, dead_letter, dead_letters, retry_dead
from notifications.inbox import InAppInbox
from notifications.models import EMAIL_MODES
from notifications.preferences import get_preference, set_preference

from .auth import login_required
from .context import clock, current_user, db, require_admin
from .paging import page_links, page_number

log = logging.getLogger(__name__)

bp = Blueprint("notices", __name__)

MODE_LABELS = {
    "immediate": ("Immediately", "One email each time something needs you."),
    "daily_digest": ("Once a day", "One email a day listing everything, at the hour you choose."),
}
ERROR_TEXT = {
    "email_mode": "Select how often you want emails",
    "digest_hour": "Select the hour for your daily email",
}


def hour_label(hour: int) -> str:
    """0 -> midnight, 12 -> midday, 7 -> 7am, 15 -> 3pm."""
    if hour == 0:
        return "Midnight"
    if hour == 12:
        return "Midday"
    return f"{hour % 12}{'am' if hour < 12 else 'pm'}"


def nav_context() -> dict[str, Any]:
    """The signed-in user's unread notification count, for the header on every page."""
    user = current_user()
    if user is None:
        return {}
    try:
        return {"unread_notifications": InAppInbox(db(), clock()).unread_count(user.username)}
    except SQLAlchemyError:  # an error page for a failed transaction still renders
        log.warning("could not count unread notifications", exc_info=True)
        return {}


def _username() -> str:
    user = current_user()
    assert user is not None
    return user.username


# -- in-app notifications ---------------------------------------------------------------------------


@bp.get("/notifications")
@login_required
def index() -> str:
    inbox = InAppInbox(db(), clock())
    page = inbox.list(_username(), page=page_number())
    return render_template("notices/index.html", messages=page.items, page=page, pages=page_links(page),
                           unread_count=inbox.unread_count(_username()))


@bp.post("/notifications/<id:message_id>/read")
@login_required
def mark_read(message_id: int) -> Response:
    try:
        message = InAppInbox(db(), clock()).mark_read(_username(), message_id)
    except (NotFound, Forbidden):
        abort(404)  # someone else's notification is answered as if it did not exist
    flash(f"‘{message.subject}’ is marked as read", "success")
    return redirect(url_for("notices.index"))


@bp.post("/notifications/read-all")
@login_required
def mark_all_read() -> Response:
    count = InAppInbox(db(), clock()).mark_all_read(_username())
    if count:
        flash(f"{count} {'notification' if count == 1 else 'notifications'} marked as read", "success")
    else:
        flash("You have no unread notifications", "success")
    return redirect(url_for("notices.index"))


# -- preferences ------------------------------------------------------------------------------------


@bp.get("/notifications/preferences")
@login_required
def preferences() -> str:
    current = get_preference(db(), _username())
    return _preferences_page(current.email_mode, str(current.digest_hour), {})


@bp.post("/notifications/preferences")
@login_required
def save_preferences() -> Response | tuple[str, int]:
    mode = request.form.get("email_mode", "").strip()
    hour_text = request.form.get("digest_hour", "").strip()
    errors: dict[str, str] = {}
    if mode not in EMAIL_MODES:
        errors["email_mode"] = ERROR_TEXT["email_mode"]
    hour: int | None = None
    if hour_text:
        if hour_text.isascii() and hour_text.isdigit() and len(hour_text) <= 2:  # bounded: no '²', no 10**4000
            hour = int(hour_text)
        else:
            errors["digest_hour"] = "The hour must be a whole number from 0 (midnight) to 23 (11pm)"
    elif mode == "daily_digest":
        errors["digest_hour"] = ERROR_TEXT["digest_hour"]
    if hour is None and "digest_hour" not in errors:
        hour = get_preference(db(), _username()).digest_hour
    if not errors:
        assert hour is not None
        try:
            set_preference(db(), _username(), mode, hour)
        except InvalidData as invalid:
            for name in invalid.errors:
                errors[name] = (
                    "The hour must be from 0 (midnight) to 23 (11pm)"
                    if name == "digest_hour"
                    else ERROR_TEXT.get(name, "Check this answer")
                )
    if errors:
        return _preferences_page(mode, hour_text, errors), 400
    flash("Your email preference is saved", "success")
    return redirect(url_for("notices.preferences"))


def _preferences_page(mode: str, hour: str, errors: dict[str, str]) -> str:
    return render_template(
        "notices/preferences.html",
        mode=mode,
        hour=hour,
        errors=errors,
        modes=MODE_LABELS,
        hours=[(str(h), hour_label(h)) for h in range(24)],
    )


# -- dead letters (administrators) ------------------------------------------------------------------


def _require_admin() -> str:
    return require_admin("Only an administrator can see and resend dead-lettered emails.")


@bp.get("/admin/dead-letters")
@login_required
def dead_letter_list() -> str:
    _require_admin()
    page = dead_letters(db(), page=page_number())
    return render_template("notices/dead_letters.html", messages=page.items, page=page, pages=page_links(page))


@bp.post("/admin/dead-letters/<id:message_id>/retry")
@login_required
def send_again(message_id: int) -> Response:
    admin = _require_admin()
    row = retry_dead(db(), message_id, clock(), admin)  # NotFound -> 404, not dead -> 409; audited
    flash(f"The email ‘{row.subject}’ to {row.recipient_email} will be sent again", "success")
    return redirect(url_for("notices.dead_letter_list"))


@bp.route("/admin/dead-letters/<id:message_id>/cancel", methods=["GET", "POST"])
@login_required
def give_up(message_id: int) -> str | tuple[str, int] | Response:
    """Give up on a dead letter, with a reason (required): it is never sent; audited with who, when, why."""
    admin = _require_admin()
    reason = request.form.get("reason", "") if request.method == "POST" else ""
    if request.method == "POST":
        try:
            row = cancel_dead(db(), message_id, clock(), admin, reason)  # NotFound -> 404, not dead -> 409
        except InvalidData as invalid:
            return _cancel_page(message_id, reason[:REASON_LIMIT * 2], invalid.errors), 400
        flash(f"The email ‘{row.subject}’ to {row.recipient_email} is cancelled: it will not be sent", "success")
        return redirect(url_for("notices.dead_letter_list"))
    return _cancel_page(message_id, "", {})


def _cancel_page(message_id: int, reason: str, errors: dict[str, Any]) -> str:
    message = dead_letter(db(), message_id)  # NotFound -> 404, not dead -> 409
    return render_template("notices/cancel_dead_letter.html", message=message, reason=reason, errors=errors,
                           limit=REASON_LIMIT)
