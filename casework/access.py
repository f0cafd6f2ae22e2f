"""Who may see and act on a child's cases, decided on the server as one SQL rule (docs/access.md).

* A social worker: only the children allocated to them (``child.social_worker``).
* A designated teacher: only the children whose current school is their school (``User.school_urn``).
* Everyone else (VSH, manager, nominated officer, DCS, admissions officer, SEN officer, IRO, admin):
  the children of their own local authority (``User.la_code == child.la_code``).

Acting on a task also needs the task's role (its lane, after ``lane_roles``), and the child must be
within the reach *of that role*: a designated teacher who is also a social worker elsewhere cannot
complete a social-worker task for a child they only see as a teacher.

A business key with no child record that work was opened for (generic processes, tests; the hooks
note such keys in ``unrecorded_key``): only the roles in ``unrecorded_key_roles`` (VSH, manager and
admin by default) may see or act, by role alone. An unknown
or inactive user may do nothing.

The rule is written once, in :func:`reach`, as a condition on the child's columns given the user's
username, school and authority. Given a user's values it is the actor's scope, which every list
joins (the inbox, the case list, escalations); given the ``app_user`` columns it finds the people
who may act for a child (whom to notify) in one query. The single checks evaluate the same scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeAlias

from sqlalchemy import (
    ColumnElement,
    ColumnExpressionArgument,
    String,
    and_,
    exists,
    false,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session

from engine.access import Actor, Grant, KeyColumn, Scope, ScopedAccess
from engine.paging import PAGE_SIZE, Page, fetch_page

from .records import Child, UnrecordedKey
from .users import User

LA_WIDE_ROLES = frozenset(
    {"vsh", "manager", "nominated_officer", "dcs", "admissions_officer", "sen_officer", "iro", "admin"}
)
UNRECORDED_KEY_ROLES = frozenset({"vsh", "manager", "admin"})

Value: TypeAlias = str | None | ColumnExpressionArgument[Any]
"""A Python value (one user) or an ``app_user`` column (every user)."""


def reach(role: str, username: Value, school_urn: Value, la_code: Value) -> ColumnElement[bool]:
    """The children a holder of ``role`` reaches: a condition on :class:`Child`. The rule, once."""
    if role == "social_worker":
        return Child.social_worker == username
    if role == "designated_teacher":
        return false() if school_urn is None else Child.school_urn == school_urn
    if role in LA_WIDE_ROLES:
        return Child.la_code == la_code
    return false()


def unrecorded(key: KeyColumn) -> ColumnElement[bool]:
    """Work was opened for the key and it belongs to no child record. Reached from the short list of
    such keys the hooks keep, so a list never scans every task looking for keys that are not children."""
    return and_(key.in_(select(UnrecordedKey.business_key)), ~exists().where(Child.ref == key))


def holds_role(role: str) -> ColumnElement[bool]:
    """The user holds ``role`` (roles are stored comma-separated)."""
    return ("," + User.roles + ",").contains(f",{role},", autoescape=True)


@dataclass(frozen=True)
class CaseScope(Scope):
    """A scope that can also filter the ``child`` table itself (case lists), by the same rule."""

    children: ColumnElement[bool] = field(default_factory=false)


class CaseAccess(ScopedAccess):
    """The engine's access policy for this service: per child, per role, as SQL."""

    def __init__(self, unrecorded_key_roles: frozenset[str] = UNRECORDED_KEY_ROLES) -> None:
        self.unrecorded_key_roles = unrecorded_key_roles

    def scope(self, session: Session, actor: Actor) -> CaseScope:
        user = session.scalars(select(User).where(User.username == actor.user_id)).one_or_none()
        if user is None or not user.active:
            return CaseScope(actor, (), false())
        roles = actor.roles & user.roles_set
        grants: list[Grant] = []
        by_rule = [(r,) for r in sorted(roles - LA_WIDE_ROLES)] + [tuple(sorted(roles & LA_WIDE_ROLES))]
        child_conditions = []
        for group in by_rule:
            if not group:
                continue
            condition = reach(group[0], user.username, user.school_urn, user.la_code)
            child_conditions.append(condition)
            grants.append(Grant(frozenset(group), _keys_of(condition)))
        if roles & self.unrecorded_key_roles:
            grants.append(Grant(frozenset(roles & self.unrecorded_key_roles), unrecorded))
        return CaseScope(actor, tuple(grants), or_(false(), *child_conditions))

    def visible_children(self, session: Session, actor: Actor, page: int = 1, per_page: int = PAGE_SIZE,
                         scope: CaseScope | None = None) -> Page[Child]:
        """One page of the children ``actor`` may see (by ``scope``, if already found), by surname then ref."""
        query = select(Child).where((scope or self.scope(session, actor)).children)
        return fetch_page(session, query.order_by(Child.last_name, Child.ref), page, per_page)

    def holders(self, role: str, business_key: str | None) -> Any:
        """One query for the active holders of ``role`` who may act for this key (whom to notify)."""
        query = select(User).where(User.active.is_(True), holds_role(role))
        if business_key is None:
            return query.order_by(User.username)
        reached: ColumnElement[bool] = exists().where(
            Child.ref == business_key, reach(role, User.username, User.school_urn, User.la_code))
        if role in self.unrecorded_key_roles:
            reached = or_(reached, unrecorded(literal(business_key, String())))
        return query.where(reached).order_by(User.username)


def _keys_of(condition: ColumnElement[bool]) -> Any:
    """Keys of children meeting ``condition``, as a correlated ``EXISTS``: a list probes the child of
    each row it considers by ``child.ref`` (or drives from the few children a person holds), and never
    builds the set of every child of an authority."""
    return lambda key: exists().where(Child.ref == key, condition)
