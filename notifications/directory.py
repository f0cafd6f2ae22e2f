"""Who people are: the contract the domain layer implements for notifications.

``notifications`` never imports the domain; the integrator passes an object that satisfies
:class:`Directory` (for example one backed by ``casework.users.User`` and the child's allocations).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Recipient:
    username: str
    email: str
    display_name: str


class Directory(Protocol):
    def person(self, session: Session, username: str) -> Recipient | None:
        """The active person with this username, or None."""
        ...

    def people(self, session: Session, role: str, business_key: str | None) -> list[Recipient]:
        """Active holders of ``role`` who may see the child ``business_key`` (all holders if None)."""
        ...


class ChildNames(Protocol):
    """Optional: how a child is named in a message (the reference is used without it)."""

    def child_name(self, session: Session, business_key: str) -> str | None: ...
