"""Schools and other education settings, by their DfE URN."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.errors import Conflict, InvalidData, NotFound

from .records import SCHOOL_TYPES, School, audit_change, values

# Academies and independent schools are their own admission authority; so are FE colleges.
NEVER_LA_ADMITTED = frozenset({"academy", "independent", "further_education"})


def _required(message: str) -> dict[str, Any]:
    return {"required": message, "null": message}


class SchoolSchema(Schema):
    urn = fields.String(
        required=True,
        validate=validate.Regexp(r"^\d{6}$", error="A URN is 6 digits, like 123456"),
        error_messages=_required("Enter the school's URN"),
    )
    name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200, error="Enter the school's name"),
        error_messages=_required("Enter the school's name"),
    )
    school_type = fields.String(
        required=True,
        validate=validate.OneOf(values(SCHOOL_TYPES), error="Choose one of the school types"),
        error_messages=_required("Choose the type of school"),
    )
    la_is_admission_authority = fields.Boolean(
        required=True, error_messages=_required("Say whether the LA is the school's admission authority")
    )
    la_code = fields.String(
        required=True,
        validate=validate.Regexp(r"^\d{3}$", error="Enter the three-digit LA number, like 935"),
        error_messages=_required("Enter the school's LA number"),
    )
    phase = fields.String(load_default=None, allow_none=True)

    @validates_schema
    def _admission_authority(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("school_type") in NEVER_LA_ADMITTED and data.get("la_is_admission_authority"):
            raise ValidationError(
                "An academy, independent school or college is its own admission authority, never the LA",
                "la_is_admission_authority",
            )


def load(schema: Schema, data: dict[str, Any], partial: bool = False) -> dict[str, Any]:
    """Load with marshmallow; a ValidationError becomes InvalidData naming each field."""
    try:
        return dict(schema.load(data, partial=partial))
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
        raise InvalidData({k: v if isinstance(v, list) else [str(v)] for k, v in messages.items()}) from None


class SchoolService:
    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock

    def add(self, actor: str = "system", **data: Any) -> School:
        loaded = load(SchoolSchema(), data)
        if self.session.get(School, loaded["urn"]) is not None:
            raise Conflict(f"A school with URN {loaded['urn']} already exists")
        school = School(**loaded)
        self.session.add(school)
        self.session.flush()
        audit_change(self.session, self.now(), actor, "school.added", None, loaded)
        return school

    def get(self, urn: str) -> School:
        school = self.session.get(School, urn)
        if school is None:
            raise NotFound(f"No school with URN {urn}")
        return school

    def in_la(self, la_code: str) -> list[School]:
        return list(
            self.session.scalars(select(School).where(School.la_code == la_code).order_by(School.name))
        )

    def now(self) -> datetime:
        return self.clock.now()
