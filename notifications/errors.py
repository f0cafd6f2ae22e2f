"""Errors of the notifications package (engine errors, so the web layer maps them to a status)."""

from __future__ import annotations

from engine.errors import EngineError


class NotificationError(EngineError):
    """A notification could not be rendered: unknown name, or a context key missing."""

    status = 500


class MailError(Exception):
    """A mailer could not hand a message over. ``permanent`` errors are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
