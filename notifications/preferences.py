"""Each person's choice: every email at once, or one digest a day at an hour (UK time)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.errors import InvalidData

from .models import EMAIL_MODES, NotificationPreference

DEFAULT_MODE = "immediate"
DEFAULT_DIGEST_HOUR = 7


def get_preference(session: Session, username: str) -> NotificationPreference:
    """The stored preference, or the default (immediate, 7am) — the default is not written."""
    found = session.get(NotificationPreference, username)
    if found is not None:
        return found
    return NotificationPreference(username=username, email_mode=DEFAULT_MODE, digest_hour=DEFAULT_DIGEST_HOUR)


def set_preference(
    session: Session, username: str, email_mode: str, digest_hour: int = DEFAULT_DIGEST_HOUR
) -> NotificationPreference:
    """Store the preference; InvalidData naming the field if a value is not allowed. Flushes only."""
    errors: dict[str, list[str]] = {}
    if not username:
        errors["username"] = ["Say whose preference this is."]
    if email_mode not in EMAIL_MODES:
        errors["email_mode"] = ["Choose 'immediate' (each email as it happens) or 'daily_digest' (one a day)."]
    if isinstance(digest_hour, bool) or not isinstance(digest_hour, int) or not 0 <= digest_hour <= 23:
        errors["digest_hour"] = ["Give the hour of the day for the digest, a whole number from 0 to 23."]
    if errors:
        raise InvalidData(errors, "The notification preference is not valid")
    row = session.get(NotificationPreference, username)
    if row is None:
        row = NotificationPreference(username=username)
        session.add(row)
    row.email_mode = email_mode
    row.digest_hour = digest_hour
    session.flush()
    return row
