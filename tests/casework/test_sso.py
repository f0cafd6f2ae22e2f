"""Verified ID token claims -> the product's user (casework/sso.py): matching, refusals, roles from groups."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from casework.sso import OidcSettings, SingleSignOn, SsoRefused, parse_role_map
from casework.users import UserService
from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.models import AuditEvent
from tests.hashing import FAST_HASHER

PASSWORD = "correct horse battery"
SETTINGS = OidcSettings(issuer="https://idp.example", client_id="c", client_secret="s")


@pytest.fixture
def people(factory: sessionmaker[Session], clock: FrozenClock) -> sessionmaker[Session]:
    with unit_of_work(factory) as session:
        users = UserService(session, clock, FAST_HASHER)
        users.add("ann", "Ann Able", "ann@la.example", PASSWORD, ["social_worker"], "LA-1")
        users.add("bo", "Bo Bell", "shared@la.example", PASSWORD, ["vsh"], "LA-1")
        users.add("cy", "Cy Cole", "Shared@LA.example", PASSWORD, ["vsh"], "LA-1")
    return factory


def sign_in(factory: sessionmaker[Session], clock: FrozenClock, claims: dict[str, Any],
            settings: OidcSettings = SETTINGS) -> str:
    with unit_of_work(factory) as session:
        try:
            return SingleSignOn(session, clock, settings).sign_in(claims, "10.0.0.1").username
        except SsoRefused as refused:
            return f"refused: {refused.reason}"


def test_the_email_claim_finds_its_user_whatever_the_case(people: sessionmaker[Session], clock: FrozenClock) -> None:
    assert sign_in(people, clock, {"sub": "1", "email": "ANN@la.example"}) == "ann"


def test_an_email_two_users_share_is_refused_rather_than_guessed(
    people: sessionmaker[Session], clock: FrozenClock
) -> None:
    assert sign_in(people, clock, {"sub": "1", "email": "shared@la.example"}) == "refused: ambiguous"


def test_an_email_the_provider_says_is_unverified_is_refused(people: sessionmaker[Session], clock: FrozenClock) -> None:
    assert sign_in(people, clock, {"sub": "1", "email": "ann@la.example", "email_verified": False}) == \
        "refused: email_not_verified"


def test_a_token_without_the_configured_claim_is_refused(people: sessionmaker[Session], clock: FrozenClock) -> None:
    assert sign_in(people, clock, {"sub": "1", "preferred_username": "ann"}) == "refused: no_claim"


def test_with_a_role_map_a_token_without_groups_is_refused_and_the_refusal_is_audited(
    people: sessionmaker[Session], clock: FrozenClock
) -> None:
    mapped = OidcSettings(issuer="https://idp.example", client_id="c", client_secret="s",
                          role_map=(("Heads", frozenset({"vsh"})),))
    assert sign_in(people, clock, {"sub": "1", "email": "ann@la.example"}, mapped) == "refused: no_groups"
    assert sign_in(people, clock, {"sub": "1", "email": "ann@la.example", "groups": "Heads"}, mapped) == "ann"
    with unit_of_work(people) as session:
        actions = [(e.actor, e.action, (e.data or {}).get("reason"))
                   for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions[-3:] == [("ann", "sign_in_failed", "no_groups"), ("ann", "roles_set_by_sso", None),
                            ("ann", "sign_in", None)]


def test_a_role_map_is_read_group_by_group() -> None:
    assert parse_role_map(" A=vsh ; B=social_worker,manager ;") == (
        (("A", frozenset({"vsh"})), ("B", frozenset({"social_worker", "manager"}))), None)
    assert parse_role_map("A=") == ((), "entry 1 ('A=') is not group=role[,role]")
