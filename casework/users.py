"""People who sign in, their roles, and their passwords (argon2id).

Services flush; they never commit. The caller's unit of work commits.

The password hasher is injected: ``UserService(session, clock, hasher)``, production strength
(:func:`production_hasher`) unless given. On every successful sign-in the stored hash is checked
against *this* hasher's parameters and, if they differ, replaced by a new hash made with them
(argon2's ``check_needs_rehash``): a user whose hash was made with other parameters (older,
weaker or stronger) is moved to the service's own on their next sign-in. The web app and the CLI
must therefore use the same hasher, or each would keep rewriting the other's hashes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, false, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from casework.passwords import password_problems
from engine.clock import Clock
from engine.errors import Conflict, InvalidData, NotFound
from engine.models import Base

ROLES: frozenset[str] = frozenset(
    {
        "social_worker",
        "designated_teacher",
        "vsh",
        "manager",
        "nominated_officer",
        "dcs",
        "admissions_officer",
        "sen_officer",
        "iro",
        "admin",
    }
)
_DUMMY_PASSWORD = "not-a-real-password-for-timing"
_dummy_hashes: dict[tuple[object, ...], str] = {}


def production_hasher() -> PasswordHasher:
    """argon2id with argon2-cffi's default parameters (RFC 9106's low-memory choice: 3 passes over
    64 MiB with 4 lanes), what the service uses unless told otherwise."""
    return PasswordHasher()


def _parameters(hasher: PasswordHasher) -> tuple[object, ...]:
    return (hasher.type, hasher.time_cost, hasher.memory_cost, hasher.parallelism, hasher.hash_len,
            hasher.salt_len)


def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash made with ``hasher``'s parameters (once per parameters): verifying a password against it
    keeps an unknown username exactly as slow as a wrong password."""
    key = _parameters(hasher)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = hasher.hash(_DUMMY_PASSWORD)
    return _dummy_hashes[key]


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(Text)
    roles: Mapped[str] = mapped_column(String(500), default="")  # comma-separated role ids
    la_code: Mapped[str] = mapped_column(String(10), index=True)
    school_urn: Mapped[str | None] = mapped_column(String(10), index=True)
    team: Mapped[str | None] = mapped_column(String(100))  # a social work team, for the cohort's breakdowns
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Set when an administrator gives a temporary password: the user must choose their own at their next
    sign-in before anything else (web/staff.py)."""

    @property
    def roles_set(self) -> frozenset[str]:
        return frozenset(r for r in self.roles.split(",") if r)

    def set_password(self, password: str, hasher: PasswordHasher) -> None:
        self.password_hash = hasher.hash(password)

    def check_password(self, password: str, hasher: PasswordHasher) -> bool:
        """True if ``password`` matches; rehashes it with ``hasher`` when the stored hash was made with
        other parameters."""
        try:
            hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        if hasher.check_needs_rehash(self.password_hash):
            self.set_password(password, hasher)
        return True


class StaffInvitation(Base):
    """One invitation link to choose a password (casework/invitations.py), found by the SHA-256 of its token;
    ``used_at`` once it was used or replaced."""

    __tablename__ = "staff_invitation"
    __table_args__ = (
        Index("ix_staff_invitation_token", "token_hash", unique=True),
        Index("ix_staff_invitation_user", "user_id", "used_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class UserService:
    def __init__(self, session: Session, clock: Clock, hasher: PasswordHasher | None = None) -> None:
        self.session = session
        self.clock = clock
        self.hasher = hasher if hasher is not None else production_hasher()

    def add(
        self,
        username: str,
        display_name: str,
        email: str,
        password: str,
        roles: Iterable[str],
        la_code: str,
        school_urn: str | None = None,
    ) -> User:
        username = (username or "").strip()
        role_list = sorted({r.strip() for r in roles if r.strip()})
        errors: dict[str, list[str]] = {}
        if not username:
            errors["username"] = ["Enter a username"]
        if not (display_name or "").strip():
            errors["display_name"] = ["Enter a display name"]
        if "@" not in (email or ""):
            errors["email"] = ["Enter an email address in the correct format, like name@example.org"]
        password_problem = password_problems(password or "", username, display_name or "", email or "")[:1]
        if password_problem:
            errors["password"] = password_problem  # the most important reason (casework/passwords.py)
        unknown = [r for r in role_list if r not in ROLES]
        if unknown:
            errors["roles"] = [f"Unknown role: {', '.join(unknown)}"]
        elif not role_list:
            errors["roles"] = ["Give the user at least one role"]
        if not (la_code or "").strip():
            errors["la_code"] = ["Enter the local authority code"]
        if errors:
            raise InvalidData(errors)
        if self.by_username(username) is not None:
            raise Conflict(f"A user called {username!r} already exists")
        user = User(
            username=username,
            display_name=display_name.strip(),
            email=email.strip(),
            roles=",".join(role_list),
            la_code=la_code.strip(),
            school_urn=school_urn,
            active=True,
            created_at=self.clock.now(),
        )
        user.set_password(password, self.hasher)
        self.session.add(user)
        self.session.flush()
        return user

    def by_username(self, username: str) -> User | None:
        return self.session.scalars(select(User).where(User.username == username)).one_or_none()

    def authenticate(self, username: str, password: str) -> User | None:
        """The active user with this username and password, or None (never says which was wrong)."""
        user = self.by_username((username or "").strip())
        if user is None or not user.active:
            try:
                self.hasher.verify(_dummy_hash(self.hasher), password or "")
            except VerificationError:
                pass
            return None
        if not user.check_password(password or "", self.hasher):
            return None
        self.session.flush()
        return user

    def get(self, user_id: int) -> User:
        user = self.session.get(User, user_id)
        if user is None:
            raise NotFound(f"No user with id {user_id}")
        return user
