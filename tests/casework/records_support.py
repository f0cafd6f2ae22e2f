"""Helpers for the casework record tests: a small authority with staff, schools and a child."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from casework.children import ChildService
from casework.records import Child, School
from casework.schools import SchoolService
from casework.users import User, UserService
from engine.clock import Clock
from tests.hashing import FAST_HASHER

LA = "935"
PASSWORD = "a long enough secret"


def add_user(session: Session, clock: Clock, username: str, roles: list[str], **extra: Any) -> User:
    return UserService(session, clock, FAST_HASHER).add(
        username=username,
        display_name=username.title(),
        email=f"{username}@la.example",
        password=PASSWORD,
        roles=roles,
        la_code=extra.pop("la_code", LA),
        **extra,
    )


def add_school(session: Session, clock: Clock, urn: str = "100001", **overrides: Any) -> School:
    data: dict[str, Any] = {
        "urn": urn,
        "name": f"School {urn}",
        "school_type": "maintained",
        "la_is_admission_authority": True,
        "la_code": LA,
    }
    data.update(overrides)
    return SchoolService(session, clock).add(**data)


def child_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "ref": "C-1001",
        "first_name": "Jade",
        "last_name": "Hughes",
        "date_of_birth": "2012-03-14",
        "legal_status": "C2",
        "looked_after_since": "2025-06-02",
        "la_code": LA,
    }
    data.update(overrides)
    return data


def add_child(session: Session, clock: Clock, **overrides: Any) -> Child:
    return ChildService(session, clock).add(**child_data(**overrides))


def born(years_before: date, age: int) -> str:
    """A date of birth making the child ``age`` on ``years_before`` (ISO text)."""
    return years_before.replace(year=years_before.year - age).isoformat()
