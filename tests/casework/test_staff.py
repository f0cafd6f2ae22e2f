"""Administering staff (casework/staff.py) and invitations (casework/invitations.py), on a real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from casework.invitations import INVITATION_DAYS, accept, invite, open_invitation
from casework.sessions import SessionStore, UserSession
from casework.staff import NO_PASSWORD, StaffDetails, StaffService, search
from casework.users import StaffInvitation, UserService
from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.errors import Conflict, InvalidData, NotFound
from engine.models import AuditEvent
from notifications.models import InAppMessage, OutboxMessage
from tests.hashing import FAST_HASHER

from .records_support import LA, PASSWORD, add_school, add_user

NEW_PASSWORD = "paper lantern orchard"


def details(username: str = "nina", **changes: object) -> StaffDetails:
    values: dict[str, object] = {"username": username, "display_name": "Nina Patel", "email": "nina@la.example",
                                 "roles": ("social_worker",), "la_code": LA, "school_urn": None, "team": "North"}
    values.update(changes)
    return StaffDetails(**values)  # type: ignore[arg-type]


def staff(session: Session, clock: FrozenClock) -> StaffService:
    return StaffService(session, clock, FAST_HASHER)


def actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_an_invited_person_has_no_password_until_they_use_their_link_once(
        factory: sessionmaker[Session], clock: FrozenClock) -> None:
    with unit_of_work(factory) as session:
        add_user(session, clock, "admin", ["admin"])
        user = staff(session, clock).create(details(), "admin")
        token = invite(session, clock, user, "admin", "https://vsw.example")
    with unit_of_work(factory) as session:
        assert UserService(session, clock, FAST_HASHER).authenticate("nina", NO_PASSWORD) is None
        mail = session.scalars(select(OutboxMessage)).one()
        assert mail.recipient_email == "nina@la.example" and mail.state == "pending"
        assert mail.link == f"https://vsw.example/invitation/{token}" and token in mail.text
        assert "Your username is nina" in mail.text and "Admin" in mail.text
        assert session.scalars(select(InAppMessage)).first() is None  # the link is never in the app
        accept(session, clock, FAST_HASHER, token, NEW_PASSWORD, NEW_PASSWORD)
    with unit_of_work(factory) as session:
        assert UserService(session, clock, FAST_HASHER).authenticate("nina", NEW_PASSWORD) is not None
        with pytest.raises(NotFound, match="expired or has been used"):
            accept(session, clock, FAST_HASHER, token, "another long phrase", "another long phrase")
        assert actions(session) == ["user.created", "user.invited", "user.invitation_accepted"]
        written = " ".join(str(e.data) for e in session.scalars(select(AuditEvent)))
        assert token not in written and NEW_PASSWORD not in written


def test_an_invitation_expires_and_a_new_one_ends_the_one_before(
        factory: sessionmaker[Session], clock: FrozenClock) -> None:
    with unit_of_work(factory) as session:
        user = staff(session, clock).create(details(), "admin")
        first = invite(session, clock, user, "admin", None)
        second = invite(session, clock, user, "admin", None)
        with pytest.raises(NotFound):
            open_invitation(session, clock.now(), first)
        assert open_invitation(session, clock.now(), second)[1].username == "nina"
        later = clock.now() + timedelta(days=INVITATION_DAYS, seconds=1)
        with pytest.raises(NotFound, match="expired"):
            open_invitation(session, later, second)
        with pytest.raises(NotFound, match="not right"):
            open_invitation(session, clock.now(), "no-such-token")
        assert len(session.scalars(select(StaffInvitation)).all()) == 2


def test_an_invitation_refuses_a_weak_or_mismatched_password_and_stays_usable(
        factory: sessionmaker[Session], clock: FrozenClock) -> None:
    with unit_of_work(factory) as session:
        token = invite(session, clock, staff(session, clock).create(details(), "admin"), "admin", None)
        with pytest.raises(InvalidData, match="10 characters"):
            accept(session, clock, FAST_HASHER, token, "short", "short")
        with pytest.raises(InvalidData, match="do not match"):
            accept(session, clock, FAST_HASHER, token, NEW_PASSWORD, NEW_PASSWORD + "x")
        assert open_invitation(session, clock.now(), token)[1].username == "nina"


def test_a_deactivated_persons_invitation_no_longer_works(factory: sessionmaker[Session], clock: FrozenClock) -> None:
    with unit_of_work(factory) as session:
        token = invite(session, clock, staff(session, clock).create(details(), "admin"), "admin", None)
        staff(session, clock).deactivate("nina", "admin")
        with pytest.raises(NotFound):
            open_invitation(session, clock.now(), token)


def test_a_temporary_password_signs_in_and_must_then_be_changed(
        factory: sessionmaker[Session], clock: FrozenClock) -> None:
    with unit_of_work(factory) as session:
        user = staff(session, clock).create(details(), "admin", password="temporary words here")
        assert user.must_change_password
    with unit_of_work(factory) as session:
        signed_in = UserService(session, clock, FAST_HASHER).authenticate("nina", "temporary words here")
        assert signed_in is not None and signed_in.must_change_password
        user = signed_in
        with pytest.raises(InvalidData) as same:
            staff(session, clock).change_own_password(user, "temporary words here", "temporary words here",
                                                      "temporary words here")
        assert "not the same" in same.value.errors["password"][0]
        with pytest.raises(InvalidData) as wrong:
            staff(session, clock).change_own_password(user, "not it at all", NEW_PASSWORD, NEW_PASSWORD)
        assert set(wrong.value.errors) == {"current_password"}
        staff(session, clock).change_own_password(user, "temporary words here", NEW_PASSWORD, NEW_PASSWORD)
        assert not user.must_change_password
    with unit_of_work(factory) as session:
        assert UserService(session, clock, FAST_HASHER).authenticate("nina", NEW_PASSWORD) is not None
        assert actions(session)[-1] == "user.password_changed"


def test_bad_details_are_refused_naming_each_field(factory: sessionmaker[Session], clock: FrozenClock) -> None:
    with unit_of_work(factory) as session:
        bad = StaffDetails("no spaces allowed", "", "not-an-email", ("wizard",), "", None, "x" * 101)
        with pytest.raises(InvalidData) as refused:
            staff(session, clock).create(bad, "admin", password="nina")
        assert set(refused.value.errors) == {"username", "display_name", "email", "roles", "la_code", "team",
                                             "password"}
        teacher = details(roles=("designated_teacher",), school_urn="999999")
        with pytest.raises(InvalidData, match="No school with URN 999999"):
            staff(session, clock).create(teacher, "admin")
        with pytest.raises(InvalidData, match="URN of the designated teacher"):
            staff(session, clock).create(details(roles=("designated_teacher",)), "admin")
        assert session.scalars(select(AuditEvent)).first() is None


def test_a_username_is_taken_whatever_its_case(factory: sessionmaker[Session], clock: FrozenClock) -> None:
    with unit_of_work(factory) as session:
        staff(session, clock).create(details(), "admin")
        with pytest.raises(Conflict):
            staff(session, clock).create(details("NINA"), "admin")


def test_a_change_is_audited_with_before_and_after_and_a_school_is_kept_only_for_a_teacher(
        factory: sessionmaker[Session], clock: FrozenClock) -> None:
    with unit_of_work(factory) as session:
        add_school(session, clock, "100001")
        staff(session, clock).create(details(), "admin")
        changes = staff(session, clock).change(
            "nina", details(roles=("designated_teacher", "social_worker"), school_urn="100001", team=""), "admin")
        assert changes == {"roles": ["social_worker", "designated_teacher,social_worker"],
                           "school_urn": [None, "100001"], "team": ["North", None]}
        assert staff(session, clock).change("nina", details(roles=("social_worker",), school_urn="100001",
                                                            team=""), "admin") == {
            "roles": ["designated_teacher,social_worker", "social_worker"], "school_urn": ["100001", None]}
        assert staff(session, clock).change("nina", details(team=""), "admin") == {}
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.changed")).all()
        assert [a.data["changes"] for a in audit if a.data] == [changes, {
            "roles": ["designated_teacher,social_worker", "social_worker"], "school_urn": ["100001", None]}]


def test_an_administrator_cannot_lock_themselves_out(factory: sessionmaker[Session], clock: FrozenClock) -> None:
    with unit_of_work(factory) as session:
        staff(session, clock).create(details("boss", roles=("admin",)), "boss")
        with pytest.raises(Conflict):
            staff(session, clock).deactivate("boss", "boss")
        with pytest.raises(Conflict):
            staff(session, clock).change("boss", details("boss", roles=("manager",)), "boss")


def test_deactivating_ends_every_session_and_reactivating_lets_them_sign_in_again(
        factory: sessionmaker[Session], clock: FrozenClock) -> None:
    with unit_of_work(factory) as session:
        user = add_user(session, clock, "sam", ["social_worker"])
        SessionStore(session, clock).start(user, "10.0.0.1")
        SessionStore(session, clock).start(user, "10.0.0.2")
        assert staff(session, clock).deactivate("sam", "admin") == 0
    with unit_of_work(factory) as session:
        assert all(s.revoked_at is not None for s in session.scalars(select(UserSession)))
        assert UserService(session, clock, FAST_HASHER).authenticate("sam", PASSWORD) is None
        staff(session, clock).reactivate("sam", "admin")
        assert UserService(session, clock, FAST_HASHER).authenticate("sam", PASSWORD) is not None
        assert actions(session) == ["user.deactivated", "user.reactivated"]
        event = session.scalars(select(AuditEvent)).first()
        assert event is not None and event.data == {"user": "sam", "sessions_ended": 2}


def test_the_list_is_searched_and_filtered_in_the_database_and_paged(
        factory: sessionmaker[Session], clock: FrozenClock) -> None:
    with unit_of_work(factory) as session:
        for number in range(7):
            add_user(session, clock, f"worker{number}", ["social_worker"])
        add_user(session, clock, "mo", ["manager"], la_code="936")
        staff(session, clock).deactivate("worker3", "admin")
        idle = timedelta(minutes=30)
        page = search(session, clock, idle, text="WORKER", page=2, per_page=3)
        assert [row.user.username for row in page.items] == ["worker3", "worker4", "worker5"] and page.has_next
        assert [r.user.username for r in search(session, clock, idle, status="deactivated").items] == ["worker3"]
        assert [r.user.username for r in search(session, clock, idle, role="manager").items] == ["mo"]
        assert [r.user.username for r in search(session, clock, idle, la_code="936").items] == ["mo"]
        assert [r.user.username for r in search(session, clock, idle, text="mo@la").items] == ["mo"]


def test_the_invitation_email_escapes_what_people_typed_in_its_html(
        factory: sessionmaker[Session], clock: FrozenClock) -> None:
    with unit_of_work(factory) as session:
        user = staff(session, clock).create(details(display_name="Nina <b>Patel</b>"), "admin")
        invite(session, clock, user, "admin", None)
        mail = session.scalars(select(OutboxMessage)).one()
        assert "Dear Nina &lt;b&gt;Patel&lt;/b&gt;," in mail.html and "<b>Patel" not in mail.html
        assert "Dear Nina <b>Patel</b>," in mail.text  # plain text is never shown as HTML
        assert mail.subject == "You are invited to Virtual School Workflow"
