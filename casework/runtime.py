"""The composition root: the engine runtime wired with this service's forms, calendar,
per-child access rules, domain hooks (records, escalations, notifications) and the
school-year functions BPMN expressions call.

The calendar's school days come from the authority's own term dates when a
session factory is given (one authority per deployment: ``VSW_LA_CODE``, or the
only authority in the database); otherwise from the default term dates.
"""

from __future__ import annotations

import os

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.calendar import BusinessCalendar
from engine.runtime import Runtime
from processes.forms import FORMS

from .access import CaseAccess
from .hooks import CaseworkHooks
from .rules import Authority
from .schoolyear import SCRIPT_FUNCTIONS
from .terms import default_term_calendar, term_calendar_for


def deployment_la_code(session: Session) -> str | None:
    """The authority this deployment serves: ``VSW_LA_CODE``, or the only one recorded."""
    configured = os.environ.get("VSW_LA_CODE", "").strip()
    if configured:
        return configured
    codes = list(session.scalars(select(Authority.la_code).limit(2)))
    return codes[0] if len(codes) == 1 else None


def build_runtime(factory: sessionmaker[Session] | None = None) -> Runtime:
    terms = default_term_calendar()
    if factory is not None:
        with factory() as session:
            la_code = deployment_la_code(session)
            if la_code is not None:
                terms = term_calendar_for(session, la_code)
    return Runtime(forms=FORMS, calendar=BusinessCalendar(terms), access=CaseAccess(),
                   hooks=CaseworkHooks(base_url=os.environ.get("VSW_BASE_URL")), functions=SCRIPT_FUNCTIONS)
