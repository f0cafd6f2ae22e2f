"""Access as a query: what an actor may see and act on, as SQL conditions every list joins.

An access policy gives, for one actor, a :class:`Scope`: a few :class:`Grant` s, each a set of
task roles and a condition on a business-key column saying which keys those roles reach. Lists
(the inbox, case lists, dashboards, the people to notify) join that condition in the database
*before* ordering and paging, so nothing is filtered after a ``LIMIT``.

The single-object checks (:meth:`ScopedAccess.may_see`, :meth:`ScopedAccess.may_act`) evaluate
the very same condition for one key, so a list and a single check can never disagree.

The engine knows nothing of children: the domain's policy supplies the conditions (see
``docs/access.md``). The engine's default, :class:`RoleAccess`, lets a role holder reach every key.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import ColumnElement, SQLColumnExpression, String, and_, false, literal, or_, select, true
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user id and the roles they hold."""

    user_id: str
    roles: frozenset[str] = frozenset()


KeyColumn = SQLColumnExpression[str]
KeyCondition = Callable[[KeyColumn], ColumnElement[bool]]
"""Given a business-key column (or a bound key), the SQL condition that the key is reached."""


@dataclass(frozen=True)
class Grant:
    """Holders of ``roles`` reach the business keys for which ``keys(column)`` holds."""

    roles: frozenset[str]
    keys: KeyCondition


@dataclass(frozen=True)
class Scope:
    """What one actor reaches. Empty ``grants``: nothing at all (an unknown or inactive user)."""

    actor: Actor
    grants: tuple[Grant, ...]

    @property
    def roles(self) -> frozenset[str]:
        """The roles the actor may act in (held, and granted by the policy)."""
        return frozenset().union(*(g.roles for g in self.grants))

    def sees(self, key: KeyColumn) -> ColumnElement[bool]:
        """The actor may see the record with this key: some grant reaches it."""
        if not self.grants:
            return false()
        return or_(*(g.keys(key) for g in self.grants))

    def acts(self, role: SQLColumnExpression[str | None], key: KeyColumn) -> ColumnElement[bool]:
        """The actor may act on a task of ``role`` for ``key``: a grant of that role reaches the key."""
        if not self.grants:
            return false()
        return or_(*(and_(role.in_(sorted(g.roles)), g.keys(key)) for g in self.grants if g.roles))


class AccessPolicy(Protocol):
    """Decides, on the server, what an actor may see and act on. Given the request's session,
    a policy may read records (which children a social worker holds, a teacher's school)."""

    def scope(self, session: Session, actor: Actor) -> Scope: ...

    def may_see(self, session: Session, actor: Actor, business_key: str) -> bool: ...

    def may_act(self, session: Session, actor: Actor, role: str | None, business_key: str) -> bool: ...


def _bound(business_key: str) -> KeyColumn:
    return literal(business_key, String())


class ScopedAccess(ABC):
    """Single-object checks evaluated from the same :class:`Scope` the lists join; a policy
    gives :meth:`scope`."""

    @abstractmethod
    def scope(self, session: Session, actor: Actor) -> Scope: ...

    def may_see(self, session: Session, actor: Actor, business_key: str) -> bool:
        scope = self.scope(session, actor)
        if not scope.grants:
            return False
        return bool(session.scalar(select(scope.sees(_bound(business_key)))))

    def may_act(self, session: Session, actor: Actor, role: str | None, business_key: str) -> bool:
        if role is None:
            return self.may_see(session, actor, business_key)
        scope = self.scope(session, actor)
        if role not in scope.roles:
            return False
        return bool(session.scalar(select(scope.acts(literal(role, String()), _bound(business_key)))))


class RoleAccess(ScopedAccess):
    """The engine's default: every actor sees every key, and acts in the roles they hold."""

    def scope(self, session: Session, actor: Actor) -> Scope:
        return Scope(actor, (Grant(actor.roles, lambda key: true()),))
