"""Administering staff: creating people (by invitation or with a temporary password), changing their
details and roles, deactivating and reactivating them, and a person changing their own password.

Every change is written to the audit trail with who made it. A person created by invitation has no
password until they use their link (their hash is :data:`NO_PASSWORD`, which nothing matches); a
person given a temporary password must choose their own at their next sign-in (``must_change_password``).
Deactivating someone ends all their sessions at once; their children stay allocated to them until a
caseload is handed over (casework/caseloads.py). docs/staff.md. Services flush, never commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.errors import Conflict, InvalidData, NotFound
from engine.models import AuditEvent
from engine.paging import PAGE_SIZE, Page, check_page, cut

from .passwords import password_problems
from .records import Child, School
from .sessions import REVOKED, UserSession
from .users import ROLES, User, production_hasher

NO_PASSWORD = "!no-password-yet"
"""The stored hash of someone invited who has not chosen a password: not an argon2 hash, so no password matches."""
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
URN = re.compile(r"^\d{6}$")
LA_CODE = re.compile(r"^[A-Za-z0-9-]{1,10}$")
FIELDS = ("display_name", "email", "roles", "la_code", "school_urn", "team")
"""What an administrator may change about a person (not the username: it names them in the records)."""


@dataclass(frozen=True)
class StaffDetails:
    """A person as typed in a form or a file, before it is checked."""

    username: str
    display_name: str
    email: str
    roles: tuple[str, ...]
    la_code: str
    school_urn: str | None = None
    team: str | None = None

    @classmethod
    def of(cls, user: User) -> StaffDetails:
        return cls(user.username, user.display_name, user.email, tuple(sorted(user.roles_set)), user.la_code,
                   user.school_urn, user.team)

    def values(self) -> dict[str, Any]:
        return {"display_name": self.display_name, "email": self.email, "roles": ",".join(self.roles),
                "la_code": self.la_code, "school_urn": self.school_urn, "team": self.team}


def split_roles(text: str) -> tuple[str, ...]:
    """Role ids separated by semicolons, commas or spaces: ``social_worker; manager``."""
    return tuple(sorted({part for part in re.split(r"[;,\s]+", text or "") if part}))


def clean(details: StaffDetails) -> StaffDetails:
    """Trimmed, blank optional fields as None, and a school only for a designated teacher."""
    roles = tuple(sorted({r.strip() for r in details.roles if r.strip()}))
    urn = (details.school_urn or "").strip() or None
    return StaffDetails(details.username.strip(), details.display_name.strip(), details.email.strip(), roles,
                        details.la_code.strip(), urn if "designated_teacher" in roles else None,
                        (details.team or "").strip() or None)


def problems(details: StaffDetails, schools: set[str] | None = None) -> dict[str, str]:
    """What is wrong with cleaned ``details``, by field (empty if nothing). ``schools``: the URNs known."""
    errors: dict[str, str] = {}
    if not details.username:
        errors["username"] = "Enter a username"
    elif not USERNAME.fullmatch(details.username):
        errors["username"] = ("Username must be 100 characters or fewer, using only letters, digits and . _ - @, "
                              "and start with a letter or digit")
    if not details.display_name:
        errors["display_name"] = "Enter the person's name"
    elif len(details.display_name) > 200:
        errors["display_name"] = "Name must be 200 characters or fewer"
    if not EMAIL.fullmatch(details.email) or len(details.email) > 254:
        errors["email"] = "Enter an email address in the correct format, like name@example.org"
    unknown = [r for r in details.roles if r not in ROLES]
    if unknown:
        errors["roles"] = f"Unknown role: {', '.join(unknown)}. The roles are: {', '.join(sorted(ROLES))}"
    elif not details.roles:
        errors["roles"] = "Choose at least one role"
    if not LA_CODE.fullmatch(details.la_code):
        errors["la_code"] = "Enter the local authority code: up to 10 letters or digits, like 935"
    if "designated_teacher" in details.roles:
        if not details.school_urn:
            errors["school_urn"] = "Enter the URN of the designated teacher's school"
        elif not URN.fullmatch(details.school_urn):
            errors["school_urn"] = "A school's URN is 6 digits, like 100001"
        elif schools is not None and details.school_urn not in schools:
            errors["school_urn"] = f"No school with URN {details.school_urn} is recorded"
    if details.team and len(details.team) > 100:
        errors["team"] = "Team must be 100 characters or fewer"
    return errors


def known_schools(session: Session, urns: set[str]) -> set[str]:
    """Which of ``urns`` are recorded schools (one query)."""
    found = [u for u in urns if u and URN.fullmatch(u)]
    return set(session.scalars(select(School.urn).where(School.urn.in_(found)))) if found else set()


def _invalid(errors: dict[str, str]) -> InvalidData:
    return InvalidData({name: [reason] for name, reason in errors.items()}, next(iter(errors.values())))


def _audit(session: Session, now: Any, actor: str, action: str, data: dict[str, Any]) -> None:
    session.add(AuditEvent(at=now, actor=actor[:100], action=action, data=data))


class StaffService:
    """People, administered by ``actor`` (every change audited)."""

    def __init__(self, session: Session, clock: Clock, hasher: PasswordHasher | None = None) -> None:
        self.session, self.clock = session, clock
        self.hasher = hasher if hasher is not None else production_hasher()

    def schools(self, urns: set[str]) -> set[str]:
        return known_schools(self.session, urns)

    def get(self, username: str) -> User:
        user = self.session.scalars(select(User).where(User.username == username)).one_or_none()
        if user is None:
            raise NotFound(f"No user called {username!r}")
        return user

    def create(self, details: StaffDetails, actor: str, password: str | None = None) -> User:
        """A new person: with ``password`` (temporary, changed at first sign-in), else with no password yet
        (the caller sends an invitation). InvalidData names each bad field; Conflict if the username is taken."""
        details = clean(details)
        errors = problems(details, self.schools({details.school_urn or ""}))
        if password is not None:
            reason = password_problems(password, details.username, details.display_name, details.email)[:1]
            if reason:
                errors["password"] = reason[0]
        if errors:
            raise _invalid(errors)
        taken = self.session.scalars(select(User.id).where(func.lower(User.username) == details.username.lower()))
        if taken.first() is not None:
            raise Conflict(f"A user called {details.username!r} already exists")
        now = self.clock.now()
        user = User(username=details.username, active=True, created_at=now, password_hash=NO_PASSWORD,
                    must_change_password=password is not None, **details.values())
        if password is not None:
            user.set_password(password, self.hasher)
        self.session.add(user)
        self.session.flush()
        _audit(self.session, now, actor, "user.created",
               {"user": user.username, **details.values(), "by": "temporary password" if password else "invitation"})
        return user

    def change(self, username: str, details: StaffDetails, actor: str) -> dict[str, list[Any]]:
        """Change a person's details; what changed, ``{field: [before, after]}`` (audited when anything did)."""
        user = self.get(username)
        details = clean(replace(details, username=user.username))
        errors = problems(details, self.schools({details.school_urn or ""}))
        if errors:
            raise _invalid(errors)
        if user.username == actor and "admin" not in details.roles:
            raise Conflict("You cannot take the administrator role from yourself: ask another administrator")
        before, after = StaffDetails.of(user).values(), details.values()
        changes = {name: [before[name], after[name]] for name in FIELDS if before[name] != after[name]}
        if changes:
            for name in changes:
                setattr(user, name, after[name])
            self.session.flush()
            _audit(self.session, self.clock.now(), actor, "user.changed", {"user": user.username, "changes": changes})
        return changes

    def deactivate(self, username: str, actor: str) -> int:
        """Stop ``username`` signing in and end their sessions now; how many children are still theirs."""
        user = self.get(username)
        if user.username == actor:
            raise Conflict("You cannot deactivate yourself: ask another administrator")
        now = self.clock.now()
        ended = 0
        if user.active:
            user.active = False
            result = self.session.execute(
                update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
                .values(revoked_at=now, ended_because=REVOKED).execution_options(synchronize_session=False))
            ended = int(getattr(result, "rowcount", 0) or 0)
            self.session.flush()
            _audit(self.session, now, actor, "user.deactivated", {"user": user.username, "sessions_ended": ended})
        return self.caseload_size(user.username)

    def reactivate(self, username: str, actor: str) -> None:
        user = self.get(username)
        if not user.active:
            user.active = True
            self.session.flush()
            _audit(self.session, self.clock.now(), actor, "user.reactivated", {"user": user.username})

    def caseload_size(self, username: str) -> int:
        return int(self.session.scalar(select(func.count()).select_from(Child).where(Child.social_worker == username))
                   or 0)

    def set_temporary_password(self, username: str, password: str, actor: str) -> None:
        """A password the person must change at their next sign-in; their sessions end (audited, not the password)."""
        user = self.get(username)
        reason = password_problems(password or "", user.username, user.display_name, user.email)[:1]
        if reason:
            raise InvalidData({"password": reason}, reason[0])
        now = self.clock.now()
        user.set_password(password, self.hasher)
        user.must_change_password = True
        self.session.execute(
            update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
            .values(revoked_at=now, ended_because=REVOKED).execution_options(synchronize_session=False))
        self.session.flush()
        _audit(self.session, now, actor, "user.temporary_password_set", {"user": user.username})

    def change_own_password(self, user: User, current: str, new: str, confirm: str) -> None:
        """``user`` replaces their password, giving the current one; the project's password rules apply."""
        errors: dict[str, str] = {}
        if not user.check_password(current or "", self.hasher):
            errors["current_password"] = "Your current password is not right"
        reason = password_problems(new or "", user.username, user.display_name, user.email)[:1]
        if reason:
            errors["password"] = reason[0]
        elif new == current:
            errors["password"] = "Choose a new password that is not the same as the one you have now"
        elif new != confirm:
            errors["confirm_password"] = "The passwords do not match: type the same password twice"
        if errors:
            raise _invalid(errors)
        user.set_password(new, self.hasher)
        user.must_change_password = False
        self.session.flush()
        _audit(self.session, self.clock.now(), user.username, "user.password_changed", {"user": user.username})


@dataclass(frozen=True)
class StaffRow:
    """A person on the administrators' list, with how many sessions they have open and children allocated."""

    user: User
    open_sessions: int
    children: int


def search(session: Session, clock: Clock, idle: timedelta, *, text: str = "", role: str = "", status: str = "",
           la_code: str = "", page: int = 1, per_page: int = PAGE_SIZE) -> Page[StaffRow]:
    """People by username, filtered in SQL: ``text`` in the username, name or email; a role; ``active`` or
    ``deactivated``; an authority. The page's session and caseload counts are one query each."""
    check_page(page, per_page)
    query = select(User)
    text = text.strip()[:100]
    if text:
        needle = text.lower()
        query = query.where(or_(*(func.lower(column).contains(needle, autoescape=True)
                                  for column in (User.username, User.display_name, User.email))))
    if role:
        query = query.where(("," + User.roles + ",").contains(f",{role},", autoescape=True))
    if status in ("active", "deactivated"):
        query = query.where(User.active.is_(status == "active"))
    if la_code:
        query = query.where(User.la_code == la_code)
    people = list(session.scalars(query.order_by(User.username, User.id).offset((page - 1) * per_page)
                                  .limit(per_page + 1)))
    sessions: dict[int, int] = {}
    children: dict[str, int] = {}
    if people:
        now = clock.now()
        sessions = {uid: n for uid, n in session.execute(
            select(UserSession.user_id, func.count()).where(
                UserSession.user_id.in_([u.id for u in people]), UserSession.revoked_at.is_(None),
                UserSession.expires_at > now, UserSession.last_seen_at >= now - idle).group_by(UserSession.user_id))}
        children = {name: n for name, n in session.execute(
            select(Child.social_worker, func.count()).where(Child.social_worker.in_([u.username for u in people]))
            .group_by(Child.social_worker)) if name is not None}
    rows = [StaffRow(u, sessions.get(u.id, 0), children.get(u.username, 0)) for u in people]
    return cut(rows, page, per_page)
