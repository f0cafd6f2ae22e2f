"""Children looked after: their record, care placements, school and permanent exclusions.

Every change is validated (InvalidData naming each field), flushed, never committed, and written to
the audit trail under the child's ref.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.errors import Conflict, InvalidData, NotFound

from .records import (
    DISTANCES,
    LEGAL_STATUSES,
    PLACEMENT_TYPES,
    Child,
    PermanentExclusion,
    Placement,
    School,
    audit_change,
    values,
)
from .schools import load
from .upn import upn_errors
from .users import User


def _required(message: str) -> dict[str, Any]:
    return {"required": message, "null": message}


def _name(label: str) -> fields.String:
    message = f"Enter the child's {label}"
    return fields.String(
        required=True,
        validate=validate.Length(min=1, max=100, error=message),
        error_messages=_required(message),
    )


class ChildSchema(Schema):
    ref = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[A-Za-z0-9][A-Za-z0-9-]{0,39}$", error="Use letters, digits and -, like C-1001"
        ),
        error_messages=_required("Enter the child's case reference, like C-1001"),
    )
    first_name = _name("first name")
    last_name = _name("last name")
    date_of_birth = fields.Date(required=True, error_messages=_required("Enter the child's date of birth"))
    upn = fields.String(load_default=None, allow_none=True)
    legal_status = fields.String(
        required=True,
        validate=validate.OneOf(
            values(LEGAL_STATUSES), error="Choose a legal status code (SSDA903), like C2"
        ),
        error_messages=_required("Choose the child's legal status"),
    )
    looked_after_since = fields.Date(
        required=True, error_messages=_required("Enter the date the child became looked after")
    )
    la_code = fields.String(
        required=True,
        validate=validate.Regexp(r"^\d{3}$", error="Enter the three-digit LA number, like 935"),
        error_messages=_required("Enter the LA number of the authority looking after the child"),
    )
    social_worker = fields.String(load_default=None, allow_none=True)
    school_urn = fields.String(load_default=None, allow_none=True)

    @validates_schema(skip_on_field_errors=False)
    def _rules(self, data: dict[str, Any], **_: Any) -> None:
        errors: dict[str, list[str]] = {}
        upn = data.get("upn")
        if isinstance(upn, str) and upn:
            problems = upn_errors(upn)
            if problems:
                errors["upn"] = problems
        born, since = data.get("date_of_birth"), data.get("looked_after_since")
        if born and since and since < born:
            errors["looked_after_since"] = ["A child cannot become looked after before they are born"]
        if errors:
            raise ValidationError(errors)


class PlacementSchema(Schema):
    placement_type = fields.String(
        required=True,
        validate=validate.OneOf(values(PLACEMENT_TYPES), error="Choose one of the placement types"),
        error_messages=_required("Choose the type of placement"),
    )
    carer_name = fields.String(load_default="")
    starts_on = fields.Date(required=True, error_messages=_required("Enter the date the placement starts"))
    distance = fields.String(
        required=True,
        validate=validate.OneOf(values(DISTANCES), error="Choose in area, adjoining or distant"),
        error_messages=_required("Say where the placement is"),
    )
    area_authority = fields.String(load_default=None, allow_none=True)

    @validates_schema(skip_on_field_errors=False)
    def _area(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("distance", "in_area") != "in_area" and not (data.get("area_authority") or "").strip():
            raise ValidationError("Name the authority whose area the placement is in", "area_authority")


class ChildService:
    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock

    # -- the child's record ----------------------------------------------------------------------

    def add(self, actor: str = "system", **data: Any) -> Child:
        loaded = self._load(data, data)
        if self.by_ref(loaded["ref"]) is not None:
            raise Conflict(f"A child with reference {loaded['ref']} already exists")
        now = self.clock.now()
        if loaded.get("upn"):
            loaded["upn"] = loaded["upn"].strip().upper()
        child = Child(**loaded, created_at=now, updated_at=now)
        self.session.add(child)
        self.session.flush()
        audit_change(self.session, now, actor, "child.added", child.ref, _public(loaded))
        return child

    def update(self, ref: str, changes: dict[str, Any], actor: str = "system") -> Child:
        """Change some fields of the record; ``ref`` cannot change. Cross-field rules see the result."""
        child = self.get(ref)
        if "ref" in changes and changes["ref"] != ref:
            raise InvalidData({"ref": ["A child's case reference cannot change"]})
        current = {name: getattr(child, name) for name in ChildSchema().fields}
        current = {k: v.isoformat() if isinstance(v, date) else v for k, v in current.items()}
        loaded = self._load({**current, **changes}, changes)
        changed = {k: v for k, v in loaded.items() if k in changes}
        if changed.get("upn"):
            changed["upn"] = changed["upn"].strip().upper()
        for name, value in changed.items():
            setattr(child, name, value)
        child.updated_at = self.clock.now()
        self.session.flush()
        audit_change(self.session, child.updated_at, actor, "child.updated", ref, _public(changed))
        return child

    def _load(self, data: dict[str, Any], checked: dict[str, Any]) -> dict[str, Any]:
        """Load ``data``; report every problem at once: the schema's and those only the records know."""
        errors: dict[str, list[str]] = {}
        loaded: dict[str, Any] = {}
        try:
            loaded = load(ChildSchema(), data)
        except InvalidData as invalid:
            errors.update(invalid.errors)
        try:
            self._check_facts({k: v for k, v in checked.items() if k not in errors})
        except InvalidData as invalid:
            for name, reasons in invalid.errors.items():
                errors.setdefault(name, []).extend(reasons)
        if errors:
            raise InvalidData(errors)
        return loaded

    def _check_facts(self, data: dict[str, Any]) -> None:
        errors: dict[str, list[str]] = {}
        today = self.clock.now().date()
        for name in ("date_of_birth", "looked_after_since"):
            if _as_date(data.get(name)) > today:
                errors[name] = ["The date cannot be in the future"]
        worker = data.get("social_worker")
        if worker:
            user = self.session.scalars(select(User).where(User.username == worker)).one_or_none()
            if user is None or not user.active or "social_worker" not in user.roles_set:
                errors["social_worker"] = [f"{worker!r} is not an active user with the social worker role"]
        urn = data.get("school_urn")
        if urn and self.session.get(School, urn) is None:
            errors["school_urn"] = [f"No school with URN {urn} is recorded"]
        if errors:
            raise InvalidData(errors)

    def by_ref(self, ref: str) -> Child | None:
        return self.session.scalars(select(Child).where(Child.ref == ref)).one_or_none()

    def get(self, ref: str) -> Child:
        child = self.by_ref(ref)
        if child is None:
            raise NotFound(f"No child with reference {ref}")
        return child

    # -- placements ------------------------------------------------------------------------------

    def record_placement(self, ref: str, actor: str = "system", **data: Any) -> Placement:
        """Start a new care placement; the open one ends the day the new one starts."""
        child = self.get(ref)
        loaded = load(PlacementSchema(), data)
        if loaded["distance"] == "in_area":
            loaded["area_authority"] = None
        if loaded["starts_on"] < child.date_of_birth:
            raise InvalidData({"starts_on": ["A placement cannot start before the child is born"]})
        previous = self.latest_placement(ref)
        if previous is not None:
            if loaded["starts_on"] < previous.starts_on:
                raise InvalidData(
                    {
                        "starts_on": [
                            f"The new placement cannot start before the current one ({previous.starts_on})"
                        ]
                    }
                )
            previous.ends_on = loaded["starts_on"]
        placement = Placement(child_id=child.id, **loaded)
        self.session.add(placement)
        self.session.flush()
        child.current_placement_id = placement.id
        child.updated_at = self.clock.now()
        self.session.flush()
        audit_change(self.session, child.updated_at, actor, "placement.recorded", ref, loaded)
        return placement

    def latest_placement(self, ref: str) -> Placement | None:
        """The placement recorded last, even one that starts in the future (a planned move)."""
        child = self.get(ref)
        if child.current_placement_id is None:
            return None
        return self.session.get(Placement, child.current_placement_id)

    def current_placement(self, ref: str, today: date | None = None) -> Placement | None:
        """The placement the child is in on ``today`` (the clock's date): the latest one that has
        started by then and not ended. A placement starting later is planned, not current."""
        day = self.clock.now().date() if today is None else today
        current = [p for p in self.placements(ref) if p.is_current(day)]
        return current[-1] if current else None

    def placements(self, ref: str) -> list[Placement]:
        child = self.get(ref)
        query = (
            select(Placement)
            .where(Placement.child_id == child.id)
            .order_by(Placement.starts_on, Placement.id)
        )
        return list(self.session.scalars(query))

    # -- school ----------------------------------------------------------------------------------

    def change_school(self, ref: str, school_urn: str | None, actor: str = "system") -> Child:
        """Record the child's current school (None: no school place)."""
        child = self.get(ref)
        if school_urn is not None:
            self._check_facts({"school_urn": school_urn})
        previous = child.school_urn
        child.school_urn = school_urn
        child.updated_at = self.clock.now()
        self.session.flush()
        audit_change(
            self.session,
            child.updated_at,
            actor,
            "child.school_changed",
            ref,
            {"from": previous, "to": school_urn},
        )
        return child

    def record_permanent_exclusion(
        self, ref: str, school_urn: str, excluded_on: date, actor: str = "system"
    ) -> PermanentExclusion:
        child = self.get(ref)
        errors: dict[str, list[str]] = {}
        if self.session.get(School, school_urn) is None:
            errors["school_urn"] = [f"No school with URN {school_urn} is recorded"]
        if excluded_on > self.clock.now().date():
            errors["excluded_on"] = ["The date cannot be in the future"]
        if errors:
            raise InvalidData(errors)
        if self.permanently_excluded_from(ref, school_urn):
            raise Conflict(f"{ref} is already recorded as permanently excluded from {school_urn}")
        exclusion = PermanentExclusion(child_id=child.id, school_urn=school_urn, excluded_on=excluded_on)
        self.session.add(exclusion)
        self.session.flush()
        audit_change(
            self.session,
            self.clock.now(),
            actor,
            "child.permanently_excluded",
            ref,
            {"school_urn": school_urn, "excluded_on": excluded_on},
        )
        return exclusion

    def permanently_excluded_from(self, ref: str, school_urn: str) -> bool:
        child = self.get(ref)
        query = select(PermanentExclusion.id).where(
            PermanentExclusion.child_id == child.id, PermanentExclusion.school_urn == school_urn
        )
        return self.session.scalars(query).first() is not None

    def school_facts(self, ref: str, school_urn: str) -> dict[str, Any]:
        """What the records add to a task's data once a form names a school (for the facts hook)."""
        school = self.session.get(School, school_urn)
        if school is None:
            raise InvalidData({"school_urn": [f"No school with URN {school_urn} is recorded"]})
        return {
            "school_name": school.name,
            "school_type": school.school_type,
            "la_is_admission_authority": school.la_is_admission_authority,
            "school_la_code": school.la_code,
            "permanently_excluded_from_school": self.permanently_excluded_from(ref, school_urn),
        }

    def process_data(self, ref: str) -> dict[str, Any]:
        """The child's facts a process starts with (dates as ISO text, as BPMN expressions expect)."""
        child = self.get(ref)
        placement = self.current_placement(ref)
        return {
            "child_ref": child.ref,
            "child_name": child.full_name,
            "date_of_birth": child.date_of_birth.isoformat(),
            "looked_after_since": child.looked_after_since.isoformat(),
            "legal_status": child.legal_status,
            "la_code": child.la_code,
            "social_worker": child.social_worker,
            "current_school_urn": child.school_urn,
            "current_placement_type": placement.placement_type if placement else None,
        }

    # -- queries ---------------------------------------------------------------------------------

    def for_social_worker(self, username: str) -> list[Child]:
        return self._list(Child.social_worker == username)

    def at_school(self, school_urn: str) -> list[Child]:
        return self._list(Child.school_urn == school_urn)

    def in_la(self, la_code: str) -> list[Child]:
        return self._list(Child.la_code == la_code)

    def _list(self, condition: Any) -> list[Child]:
        return list(self.session.scalars(select(Child).where(condition).order_by(Child.last_name, Child.ref)))


def child_names(session: Session, refs: Any) -> dict[str, str]:
    """Each known child's full name by reference, in one query (a task list names its children)."""
    wanted = sorted(set(refs))
    if not wanted:
        return {}
    return {c.ref: c.full_name for c in session.scalars(select(Child).where(Child.ref.in_(wanted)))}


def _as_date(value: Any) -> date:
    """A date from a date or ISO text; anything else counts as long ago (the schema reports it)."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return date.min


def _public(data: dict[str, Any]) -> dict[str, Any]:
    """What the audit keeps of a change: every field changed (the audit is itself protected data)."""
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in data.items()}
