"""Single sign-on: who an OpenID Connect identity provider's verified ID token names, and their roles.

The web layer (``web/sso.py``) runs the authorization code flow and verifies the ID token (signature
against the provider's JWKS, issuer, audience, expiry, nonce); this module takes the token's verified
claims and finds the product's own user they name. Nobody is created here: the user must already exist
and be active, matched by one configured claim to their username or email (case-insensitive, exactly
one user). With a group-to-role mapping configured, each sign-in *sets* the user's roles to those its
groups map to (a change is audited as ``roles_set_by_sso``); a user whose groups map to no role is
refused. Every sign-in is audited as ``sign_in`` with ``method: oidc``; every refusal of a verified
token as ``sign_in_failed`` with the reason. docs/sso.md. Services flush, never commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.models import AuditEvent

from .users import ROLES, User

MATCH_FIELDS = ("email", "username")
"""What the configured claim is compared with: the user's email address or their username."""
DEFAULT_NAME = "your organisation's account"


@dataclass(frozen=True)
class OidcSettings:
    """``VSW_OIDC_*`` (read in app/settings.py); docs/sso.md explains each."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    name: str = DEFAULT_NAME
    """Shown on the sign-in page as "Sign in with <name>"."""
    claim: str = "email"
    """The ID token claim that carries the username or email address."""
    match: str = "email"
    """``email`` or ``username``: which of the user's fields the claim is compared with."""
    scopes: str = "openid email profile"
    groups_claim: str = "groups"
    role_map: tuple[tuple[str, frozenset[str]], ...] = ()
    """(group, roles) pairs; empty: roles are managed in this product only."""
    redirect_uri: str | None = None
    """The callback address registered with the provider (``VSW_BASE_URL`` + /login/sso/callback);
    None: the address the request came to."""

    @property
    def metadata_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


def parse_role_map(text: str) -> tuple[tuple[tuple[str, frozenset[str]], ...], str | None]:
    """``group=role,role;group=role`` as pairs, and what is wrong with it (None when nothing)."""
    pairs: list[tuple[str, frozenset[str]]] = []
    for number, entry in enumerate((part.strip() for part in text.split(";")), start=1):
        if not entry:
            continue
        group, equals, roles_text = entry.rpartition("=")
        group = group.strip()
        roles = frozenset(role.strip() for role in roles_text.split(",") if role.strip())
        if not equals or not group or not roles:
            return (), f"entry {number} ({entry!r}) is not group=role[,role]"
        unknown = sorted(roles - ROLES)
        if unknown:
            known = ", ".join(sorted(ROLES))
            return (), f"entry {number} names unknown roles {', '.join(unknown)} (roles: {known})"
        pairs.append((group, roles))
    return tuple(pairs), None


class SsoRefused(Exception):
    """A verified sign-in this product will not accept: ``reason`` (for the audit) and a message for the person."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class SingleSignOn:
    """Verified ID token claims -> the product's user (on ``session``; the caller commits)."""

    def __init__(self, session: Session, clock: Clock, settings: OidcSettings) -> None:
        self.session = session
        self.clock = clock
        self.settings = settings

    def sign_in(self, claims: Mapping[str, Any], address: str | None) -> User:
        """The active user ``claims`` name, their roles set from their groups if mapped; audited.
        :class:`SsoRefused` (audited) when there is no such user, or they may not sign in."""
        settings = self.settings
        value = claims.get(settings.claim)
        if not isinstance(value, str) or not value.strip():
            raise SsoRefused("no_claim", f"Your organisation's sign-in did not say who you are: it carried no "
                                         f"{settings.claim!r} claim. Ask your IT service desk to send it.")
        value = value.strip()
        data: dict[str, Any] = {"method": "oidc", "address": address, "claim": settings.claim,
                                "sub": claims.get("sub")}
        if settings.claim == "email" and claims.get("email_verified") is False:
            self._refuse(value, data, "email_not_verified",
                         f"Your organisation has not verified the email address {value}, so it cannot be used to "
                         "sign in here.")
        column = User.email if settings.match == "email" else User.username
        found = list(self.session.scalars(select(User).where(func.lower(column) == value.lower())
                                          .order_by(User.id).limit(2)))
        if not found:
            self._refuse(value, data, "unknown_user",
                         f"There is no account in this service for {value}. Accounts are not created when you "
                         "sign in: ask your service's administrator to add you.")
        if len(found) > 1:
            self._refuse(value, data, "ambiguous",
                         f"More than one account in this service has the {settings.match} {value}. Ask your "
                         "service's administrator to correct them.")
        user = found[0]
        data["user"] = user.username
        if not user.active:
            self._refuse(value, data, "inactive",
                         "Your account in this service has been deactivated. Ask your service's administrator "
                         "if you still need it.")
        if settings.role_map:
            self._set_roles(user, claims, value, data)
        self._audit(user.username, "sign_in", data)
        self.session.flush()
        return user

    def _set_roles(self, user: User, claims: Mapping[str, Any], value: str, data: dict[str, Any]) -> None:
        groups = claims.get(self.settings.groups_claim)
        if isinstance(groups, str):
            groups = [groups]
        if not isinstance(groups, list):
            self._refuse(value, data, "no_groups",
                         "Your organisation's sign-in did not list your groups (the "
                         f"{self.settings.groups_claim!r} claim), and this service takes your roles from them. "
                         "Ask your IT service desk.")
        mine = {group for group in groups if isinstance(group, str)}
        roles: set[str] = set()
        for group, mapped in self.settings.role_map:
            if group in mine:
                roles |= mapped
        if not roles:
            self._refuse(value, data, "no_role",
                         "None of your groups in your organisation gives you a role in this service. Ask your "
                         "service's administrator which group you need to be in.")
        if frozenset(roles) != user.roles_set:
            before = sorted(user.roles_set)
            user.roles = ",".join(sorted(roles))
            self._audit(user.username, "roles_set_by_sso", {"user": user.username, "before": before,
                                                             "after": sorted(roles)})

    def _refuse(self, value: str, data: dict[str, Any], reason: str, message: str) -> NoReturn:
        self._audit(data.get("user") or value, "sign_in_failed", {**data, "reason": reason})
        self.session.flush()
        raise SsoRefused(reason, message)

    def _audit(self, actor: str, action: str, data: dict[str, Any]) -> None:
        self.session.add(AuditEvent(at=self.clock.now(), actor=actor[:100], action=action,
                                    data={k: v for k, v in data.items() if v is not None}))
