"""Who may see and act on a child's cases, decided on the server (DESIGN.md decision 11).

* A social worker: only the children allocated to them (``child.social_worker``).
* A designated teacher: only the children whose current school is their school (``User.school_urn``).
* Everyone else (VSH, manager, nominated officer, DCS, admissions officer, SEN officer, IRO, admin):
  the children of their own local authority (``User.la_code == child.la_code``).

Acting on a task also needs the task's role (its lane, after ``lane_roles``), and the child must be
within the reach *of that role*: a designated teacher who is also a social worker elsewhere cannot
complete a social-worker task for a child they only see as a teacher.

A business key with no child record (generic processes, tests): only the roles in
``unrecorded_key_roles`` (VSH, manager and admin by default) may see or act, by role alone. An unknown
or inactive user may do nothing.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.runtime import Actor

from .records import Child
from .users import User

LA_WIDE_ROLES = frozenset(
    {"vsh", "manager", "nominated_officer", "dcs", "admissions_officer", "sen_officer", "iro", "admin"}
)
UNRECORDED_KEY_ROLES = frozenset({"vsh", "manager", "admin"})


class CaseAccess:
    """The engine's ``AccessPolicy`` for this service: per child, per role."""

    def __init__(self, unrecorded_key_roles: frozenset[str] = UNRECORDED_KEY_ROLES) -> None:
        self.unrecorded_key_roles = unrecorded_key_roles

    def may_see(self, session: Session, actor: Actor, business_key: str) -> bool:
        return any(self._reaches(session, actor, role, business_key) for role in actor.roles)

    def may_act(self, session: Session, actor: Actor, role: str | None, business_key: str) -> bool:
        if role is None:
            return self.may_see(session, actor, business_key)
        return role in actor.roles and self._reaches(session, actor, role, business_key)

    def _reaches(self, session: Session, actor: Actor, role: str, business_key: str) -> bool:
        """Whether ``actor``, acting as ``role``, reaches the child with this ref."""
        user = session.scalars(select(User).where(User.username == actor.user_id)).one_or_none()
        if user is None or not user.active or role not in user.roles_set:
            return False
        child = session.scalars(select(Child).where(Child.ref == business_key)).one_or_none()
        if child is None:
            return role in self.unrecorded_key_roles
        if role == "social_worker":
            return child.social_worker == user.username
        if role == "designated_teacher":
            return user.school_urn is not None and child.school_urn == user.school_urn
        if role in LA_WIDE_ROLES:
            return user.la_code == child.la_code
        return False

    def visible_children(self, session: Session, actor: Actor) -> list[Child]:
        """Every child ``actor`` may see (for case lists), by the same rules."""
        user = session.scalars(select(User).where(User.username == actor.user_id)).one_or_none()
        if user is None or not user.active:
            return []
        roles = actor.roles & user.roles_set
        conditions = []
        if "social_worker" in roles:
            conditions.append(Child.social_worker == user.username)
        if "designated_teacher" in roles and user.school_urn:
            conditions.append(Child.school_urn == user.school_urn)
        if roles & LA_WIDE_ROLES:
            conditions.append(Child.la_code == user.la_code)
        if not conditions:
            return []
        query = select(Child).where(or_(*conditions)).order_by(Child.last_name, Child.ref)
        return list(session.scalars(query))
