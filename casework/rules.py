"""Each authority's configurable rules (docs/processes.md, "The authority's configurable rules"), with the defaults.

The rules are stored as JSON text on the ``authority`` row; keys an authority has not set take the
default, so adding a rule later needs no data migration. Changes are validated as a whole and
applied all together or not at all.

Statutory limits are not configurable beyond the law: the area authority must be told of every
out-of-area placement before it starts, or within 5 working days of an emergency one (reg. 13(4), Care
Planning, Placement and Case Review (England) Regulations 2010), so an authority may only shorten that
period; and a distant placement is approved by the Director of Children's Services (reg. 11), so that
approver is fixed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from marshmallow import RAISE, Schema, ValidationError, validate
from marshmallow import fields as mf
from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.calendar import BusinessCalendar
from engine.errors import InvalidData
from engine.models import Base

if TYPE_CHECKING:
    from .terms import Term


class Authority(Base):
    """A local authority using the service, by its three-digit LA number."""

    __tablename__ = "authority"

    la_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    rules: Mapped[str] = mapped_column(Text, default="{}")  # JSON text: only the rules it has set


@dataclass(frozen=True)
class AuthorityRules:
    # How many school days a child may be without a school place before escalation (commonly 10 or 20).
    school_place_limit_school_days: int = 20
    # Who approves a Key Stage 4 move (reg. 10): the nominated officer, or in some LAs the VSH.
    ks4_move_approver_role: str = "nominated_officer"
    # Who approves a distant out-of-area placement (reg. 11): the Director of Children's Services.
    distant_placement_approver_role: str = "dcs"
    # Notice to the area authority after an emergency out-of-area placement (reg. 13(4): within 5).
    area_notice_working_days: int = 5
    # The initial PEP: within 10 working days of becoming looked after; many LAs use 20 school days.
    initial_pep_days: int = 10
    initial_pep_day_kind: str = "working"
    # A new PEP meeting after a change of school.
    school_change_pep_working_days: int = 10
    # When the termly PEP review is due: by the end of the term's first half, or of the whole term.
    termly_review_window: str = "first_half"
    # Chase the admission authority when a direction consultation gets no answer.
    direction_chase_working_days: int = 5
    # Escalate when the ESFA has not answered an academy direction request.
    esfa_outcome_working_days: int = 20
    # Escalate an open PEP action this many working days after it falls due (0: at once).
    action_escalation_working_days: int = 0
    # Remind owners this many working days before something falls due.
    reminder_working_days_before_due: int = 3


def _days(low: int, high: int, hint: str) -> mf.Integer:
    return mf.Integer(
        strict=True,
        validate=validate.Range(min=low, max=high, error=f"Enter a whole number from {low} to {high}{hint}"),
    )


def _one_of(options: list[str], reason: str) -> mf.String:
    return mf.String(validate=validate.OneOf(options, error=f"Choose one of: {', '.join(options)}{reason}"))


class AuthorityRulesSchema(Schema):
    class Meta:
        unknown = RAISE

    school_place_limit_school_days = _days(1, 60, " (commonly 10 or 20 school days)")
    ks4_move_approver_role = _one_of(["nominated_officer", "vsh"], "")
    distant_placement_approver_role = _one_of(
        ["dcs"], " (reg. 11 requires the Director of Children's Services to approve a distant placement)"
    )
    area_notice_working_days = _days(1, 5, " (reg. 13(4) allows at most 5 working days)")
    initial_pep_days = _days(1, 60, "")
    initial_pep_day_kind = _one_of(["working", "school"], "")
    school_change_pep_working_days = _days(1, 60, "")
    termly_review_window = _one_of(["first_half", "whole_term"], "")
    direction_chase_working_days = _days(1, 30, "")
    esfa_outcome_working_days = _days(1, 60, "")
    action_escalation_working_days = _days(0, 30, "")
    reminder_working_days_before_due = _days(0, 20, "")


RULE_NAMES = frozenset(f.name for f in fields(AuthorityRules))


def _stored(session: Session, la_code: str) -> dict[str, Any]:
    authority = session.get(Authority, la_code)
    if authority is None or not authority.rules:
        return {}
    stored = json.loads(authority.rules)
    return {k: v for k, v in stored.items() if k in RULE_NAMES}


def rules_for(session: Session, la_code: str) -> AuthorityRules:
    """The authority's rules: what it has set, and the defaults for the rest (all defaults if unknown)."""
    return AuthorityRules(**_stored(session, la_code))


def set_rules(session: Session, la_code: str, changes: dict[str, Any]) -> AuthorityRules:
    """Change some rules. InvalidData names each bad field and why; nothing is applied then."""
    try:
        loaded = AuthorityRulesSchema().load(changes)
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {"rules": error.messages}
        raise InvalidData({k: v if isinstance(v, list) else [str(v)] for k, v in messages.items()}) from None
    authority = session.get(Authority, la_code)
    if authority is None:
        authority = Authority(la_code=la_code, name=f"Local authority {la_code}", rules="{}")
        session.add(authority)
    merged = {**_stored(session, la_code), **loaded}
    authority.rules = json.dumps(merged, sort_keys=True)
    session.flush()
    return AuthorityRules(**merged)


def ensure_authority(session: Session, la_code: str, name: str) -> Authority:
    """The authority row, created with default rules if missing. la_code is the three-digit LA number."""
    if not (la_code.isdigit() and len(la_code) == 3):
        raise InvalidData({"la_code": ["Enter the three-digit LA number, like 935"]})
    if not (name or "").strip():
        raise InvalidData({"name": ["Enter the authority's name"]})
    authority = session.get(Authority, la_code)
    if authority is None:
        authority = Authority(la_code=la_code, name=name.strip(), rules="{}")
        session.add(authority)
        session.flush()
    return authority


def lane_roles(rules: AuthorityRules) -> dict[str, str]:
    """The run-time lane bindings for process data (``lane_roles``): configurable approvers."""
    return {"ks4_approver": rules.ks4_move_approver_role, "dcs": rules.distant_placement_approver_role}


def as_dict(rules: AuthorityRules) -> dict[str, Any]:
    return asdict(rules)


# -- deadlines that follow from the rules -------------------------------------------------------------


def calendar_for(session: Session, la_code: str) -> BusinessCalendar:
    """The business calendar of an authority: working days and its own school days."""
    from .terms import term_calendar_for

    return BusinessCalendar(term_calendar_for(session, la_code))


def initial_pep_due_on(session: Session, la_code: str, looked_after_since: date) -> date:
    """The initial PEP's due date: ``initial_pep_days`` working (or school) days after becoming looked after."""
    rules = rules_for(session, la_code)
    calendar = calendar_for(session, la_code)
    if rules.initial_pep_day_kind == "school":
        return calendar.add_school_days(looked_after_since, rules.initial_pep_days)
    return calendar.add_working_days(looked_after_since, rules.initial_pep_days)


def school_change_pep_due_on(session: Session, la_code: str, changed_on: date) -> date:
    """A new PEP meeting after a change of school: ``school_change_pep_working_days`` working days."""
    rules = rules_for(session, la_code)
    return calendar_for(session, la_code).add_working_days(changed_on, rules.school_change_pep_working_days)


def termly_review_due_on(session: Session, la_code: str, term: Term) -> date:
    """The termly PEP review's due date: the last school day before half term, or of the whole term."""
    if rules_for(session, la_code).termly_review_window == "first_half":
        return term.first_half_ends_on
    calendar = calendar_for(session, la_code)
    day = term.ends_on
    while day > term.starts_on and not calendar.is_school_day(day):
        day -= timedelta(days=1)
    return day
