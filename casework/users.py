"""People who sign in, their roles, and their passwords (argon2id).

Services flush; they never commit. The caller's unit of work commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

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
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()
# Verifying against this keeps unknown usernames as slow as wrong passwords.
_DUMMY_HASH = _hasher.hash("not-a-real-password-for-timing")


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
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]

    @property
    def roles_set(self) -> frozenset[str]:
        return frozenset(r for r in self.roles.split(",") if r)

    def set_password(self, password: str) -> None:
        self.password_hash = _hasher.hash(password)

    def check_password(self, password: str) -> bool:
        """True if ``password`` matches; upgrades the stored hash when parameters changed."""
        try:
            _hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        if _hasher.check_needs_rehash(self.password_hash):
            self.set_password(password)
        return True


class UserService:
    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock

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
        if not password:
            errors["password"] = ["Enter a password"]
        elif len(password) < MIN_PASSWORD_LENGTH:
            errors["password"] = [f"Password must be {MIN_PASSWORD_LENGTH} characters or more"]
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
        user.set_password(password)
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
                _hasher.verify(_DUMMY_HASH, password or "")
            except VerificationError:
                pass
            return None
        if not user.check_password(password or ""):
            return None
        self.session.flush()
        return user

    def get(self, user_id: int) -> User:
        user = self.session.get(User, user_id)
        if user is None:
            raise NotFound(f"No user with id {user_id}")
        return user
