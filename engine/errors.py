"""Errors the engine raises. Each maps to one HTTP status in the web layer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class EngineError(Exception):
    """Base class: a clear, user-facing message and no traceback needed."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(EngineError):
    status = 404


class Forbidden(EngineError):
    status = 403


class Conflict(EngineError):
    """Someone else changed the same state first; nothing of this attempt was applied."""

    status = 409


class InvalidData(EngineError):
    """Submitted data failed its schema. ``errors`` maps each field to its reasons."""

    status = 400

    def __init__(self, errors: Mapping[str, Any], message: str = "The data submitted is not valid") -> None:
        super().__init__(message)
        self.errors = dict(errors)


class DeploymentError(EngineError):
    """A BPMN file was refused. The message names the file, the element and the problem."""

    status = 400


class ScriptRefused(EngineError):
    """A script or expression used something outside the sandbox's allow-list."""

    status = 400


class ProcessError(EngineError):
    """The process itself failed while running (a script or expression error)."""

    status = 409


class Unavailable(EngineError):
    """Something the request needs (the database) cannot be reached just now; nothing was saved.

    The message is for the log: the web layer logs it and answers 503 with a generic page."""

    status = 503


class ScriptLimitExceeded(ProcessError):
    """A script, condition or expression went over its CPU-time, size or memory bound (engine/limits.py).

    The message names what ran and where ("script in element 'x' ran for more than 2 seconds of CPU
    time"); ``reason`` is the part after where ("ran for more than 2 seconds of CPU time (line 3)")."""

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message
