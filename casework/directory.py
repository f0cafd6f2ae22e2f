"""Who is told: the notifications ``Directory`` over the people and children records.

A role's holders are told about a child only if they may act for that child in that role
(the case access rule, ``casework.access.reach``): the allocated social worker, the
designated teacher of the child's school, LA-wide roles of the child's LA. Whom to tell is
one query whatever the number of users.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications.directory import Recipient

from .access import CaseAccess
from .records import Child
from .users import User


def _recipient(user: User) -> Recipient:
    return Recipient(username=user.username, email=user.email, display_name=user.display_name)


class CaseDirectory:
    def __init__(self, access: CaseAccess | None = None) -> None:
        self.access = access or CaseAccess()

    def person(self, session: Session, username: str) -> Recipient | None:
        user = session.scalars(select(User).where(User.username == username)).one_or_none()
        return _recipient(user) if user is not None and user.active else None

    def people(self, session: Session, role: str, business_key: str | None) -> list[Recipient]:
        return [_recipient(u) for u in session.scalars(self.access.holders(role, business_key))]

    def child_name(self, session: Session, business_key: str) -> str | None:
        child = session.scalars(select(Child).where(Child.ref == business_key)).one_or_none()
        return child.full_name if child is not None else None
