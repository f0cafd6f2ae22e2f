"""The composition root: the engine runtime wired with this service's forms, calendar and access rules."""

from __future__ import annotations

from engine.calendar import BusinessCalendar
from engine.runtime import Runtime
from processes.forms import FORMS

from .schoolyear import SCRIPT_FUNCTIONS
from .terms import default_term_calendar


def build_runtime() -> Runtime:
    return Runtime(forms=FORMS, calendar=BusinessCalendar(default_term_calendar()), functions=SCRIPT_FUNCTIONS)
