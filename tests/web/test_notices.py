"""In-app notifications, the email preference and the admin dead-letter list, through HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from casework.users import UserService
from engine.clock import FrozenClock
from engine.db import unit_of_work
from notifications.models import InAppMessage, NotificationPreference, OutboxMessage
from tests.hashing import FAST_HASHER

from .support import PASSWORD, csrf_token, login, post_form


def _sessions(app: Flask) -> sessionmaker[Session]:
    sessions: sessionmaker[Session] = app.extensions["vsw"].sessions
    return sessions


def add_message(app: Flask, clock: FrozenClock, username: str, subject: str, minutes_ago: int,
                read: bool = False, link: str = "/") -> int:
    with unit_of_work(_sessions(app)) as session:
        at = clock.now() - timedelta(minutes=minutes_ago)
        row = InAppMessage(username=username, name="task_assigned", subject=subject, text=f"About {subject}.",
                           link=link, created_at=at, read_at=at if read else None)
        session.add(row)
        session.flush()
        return row.id


def add_outbox(app: Flask, clock: FrozenClock, subject: str, state: str = "dead") -> int:
    with unit_of_work(_sessions(app)) as session:
        row = OutboxMessage(
            message_id=f"<{subject.replace(' ', '-')}@vsw>", name="task_assigned", recipient_username="sam",
            recipient_email="sam@la.example", recipient_name="Sam Social", subject=subject, text="Hello",
            html="<p>Hello</p>", link="", channel="email", state=state, attempts=5,
            next_attempt_at=clock.now(), last_error="550 mailbox unavailable", created_at=clock.now())
        session.add(row)
        session.flush()
        return row.id


def outbox(app: Flask, message_pk: int) -> OutboxMessage:
    with _sessions(app)() as session:
        return session.get(OutboxMessage, message_pk)  # type: ignore[return-value]


def read_at(app: Flask, message_id: int):  # type: ignore[no-untyped-def]
    with _sessions(app)() as session:
        return session.get(InAppMessage, message_id).read_at  # type: ignore[union-attr]


@pytest.fixture
def messages(app: Flask, clock: FrozenClock) -> dict[str, int]:
    return {
        "old": add_message(app, clock, "sam", "Old news", 60, read=True),
        "middle": add_message(app, clock, "sam", "Record the proposed move", 30, link="/tasks/abc"),
        "newest": add_message(app, clock, "sam", "PEP overdue for C-1", 5),
        "vals": add_message(app, clock, "val", "Val only", 1),
    }


@pytest.fixture
def admin(app: Flask, clock: FrozenClock) -> str:
    with unit_of_work(_sessions(app)) as session:
        UserService(session, clock, FAST_HASHER).add("ada", "Ada Admin", "ada@la.example", PASSWORD, ["admin"], "LA-100")
    return "ada"


def test_notifications_are_listed_newest_first_with_the_unread_marked(
    client: FlaskClient, messages: dict[str, int]
) -> None:
    login(client, "sam")
    page = client.get("/notifications")
    assert page.status_code == 200
    text = page.text
    assert text.index("PEP overdue for C-1") < text.index("Record the proposed move") < text.index("Old news")
    assert text.count("Unread</strong>") == 2
    assert "Val only" not in text
    assert 'href="/tasks/abc"' in text
    assert "Mark all as read" in text


def test_the_unread_count_is_in_the_header_on_every_page(
    app: Flask, client: FlaskClient, messages: dict[str, int]
) -> None:
    assert 'id="unread-count"' not in app.test_client().get("/login").text  # signed out: no count
    login(client, "sam")
    for url in ("/", "/notifications", "/children"):
        page = client.get(url).text
        assert 'id="unread-count">2<span class="govuk-visually-hidden"> unread</span>' in page
    assert 'id="unread-count">2<' in client.get("/tasks/no-such-task").text  # error pages too


def test_no_unread_count_when_everything_is_read(client: FlaskClient, app: Flask, clock: FrozenClock) -> None:
    add_message(app, clock, "sam", "Seen it", 10, read=True)
    login(client, "sam")
    page = client.get("/").text
    assert 'href="/notifications"' in page and 'id="unread-count"' not in page


def test_marking_one_notification_as_read(app: Flask, client: FlaskClient, messages: dict[str, int]) -> None:
    login(client, "sam")
    response = post_form(client, "/notifications", f"/notifications/{messages['newest']}/read", {})
    assert response.status_code == 302 and response.headers["Location"] == "/notifications"
    assert read_at(app, messages["newest"]) is not None
    assert read_at(app, messages["middle"]) is None
    page = client.get("/notifications").text
    assert "is marked as read" in page
    assert 'id="unread-count">1<' in page


def test_marking_all_as_read(app: Flask, client: FlaskClient, messages: dict[str, int]) -> None:
    login(client, "sam")
    response = post_form(client, "/notifications", "/notifications/read-all", {})
    assert response.status_code == 302
    assert read_at(app, messages["newest"]) is not None and read_at(app, messages["middle"]) is not None
    assert read_at(app, messages["vals"]) is None  # someone else's stays unread
    page = client.get("/notifications").text
    assert "2 notifications marked as read" in page and 'id="unread-count"' not in page


def test_someone_elses_notification_or_a_missing_one_is_404_and_stays_unread(
    app: Flask, client: FlaskClient, messages: dict[str, int]
) -> None:
    login(client, "sam")
    assert post_form(client, "/notifications", f"/notifications/{messages['vals']}/read", {}).status_code == 404
    assert post_form(client, "/notifications", "/notifications/999999/read", {}).status_code == 404
    assert read_at(app, messages["vals"]) is None


def test_marking_read_needs_the_csrf_token(app: Flask, client: FlaskClient, messages: dict[str, int]) -> None:
    login(client, "sam")
    assert client.post(f"/notifications/{messages['newest']}/read").status_code == 400
    assert read_at(app, messages["newest"]) is None


def test_preferences_default_to_immediate_and_save_a_daily_digest(app: Flask, client: FlaskClient) -> None:
    login(client, "sam")
    page = client.get("/notifications/preferences")
    assert page.status_code == 200
    assert 'value="immediate" aria-describedby="email_mode-item-hint" checked' in page.text
    assert '<option value="7" selected>7am</option>' in page.text
    response = post_form(client, "/notifications/preferences", "/notifications/preferences",
                         {"email_mode": "daily_digest", "digest_hour": "17"})
    assert response.status_code == 302
    with _sessions(app)() as session:
        row = session.get(NotificationPreference, "sam")
        assert row is not None and (row.email_mode, row.digest_hour) == ("daily_digest", 17)
    again = client.get("/notifications/preferences").text
    assert "Your email preference is saved" in again
    assert 'value="daily_digest" aria-describedby="email_mode-2-item-hint" checked' in again
    assert '<option value="17" selected>5pm</option>' in again


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"digest_hour": "7"}, "email_mode", "Select how often you want emails"),
        ({"email_mode": "weekly", "digest_hour": "7"}, "email_mode", "Select how often you want emails"),
        ({"email_mode": "daily_digest", "digest_hour": ""}, "digest_hour", "Select the hour for your daily email"),
        ({"email_mode": "daily_digest", "digest_hour": "seven"}, "digest_hour", "must be a whole number"),
        ({"email_mode": "daily_digest", "digest_hour": "24"}, "digest_hour", "from 0 (midnight) to 23 (11pm)"),
    ],
)
def test_preferences_show_field_errors_govuk_style_and_save_nothing(
    app: Flask, client: FlaskClient, data: dict[str, str], field: str, message: str
) -> None:
    login(client, "sam")
    response = post_form(client, "/notifications/preferences", "/notifications/preferences", data)
    assert response.status_code == 400
    text = response.text
    assert "govuk-error-summary" in text and "There is a problem" in text
    assert f'<a href="#{field}">' in text and message in text
    assert f'id="{field}-error" class="govuk-error-message"' in text
    assert "<title>Error: " in text
    with _sessions(app)() as session:
        assert session.get(NotificationPreference, "sam") is None


def test_dead_letters_are_for_administrators_only(client: FlaskClient, app: Flask, clock: FrozenClock) -> None:
    add_outbox(app, clock, "Your task is overdue")
    login(client, "val")
    response = client.get("/admin/dead-letters")
    assert response.status_code == 403 and "Only an administrator" in response.text
    assert "Your task is overdue" not in response.text
    assert 'href="/admin/dead-letters"' not in client.get("/").text


def test_the_admin_sees_dead_letters_and_send_again_requeues_one(
    client: FlaskClient, app: Flask, clock: FrozenClock, admin: str
) -> None:
    dead = add_outbox(app, clock, "Your task is overdue")
    sent = add_outbox(app, clock, "Already delivered", state="sent")
    clock.advance(timedelta(hours=2))
    login(client, admin)
    page = client.get("/admin/dead-letters")
    assert page.status_code == 200
    text = page.text
    assert "Your task is overdue" in text and "sam@la.example" in text and "550 mailbox unavailable" in text
    assert 'govuk-table__cell--numeric">5</td>' in text
    assert "Already delivered" not in text
    assert 'href="/admin/dead-letters"' in text
    response = client.post(f"/admin/dead-letters/{dead}/retry", data={"csrf_token": csrf_token(text)})
    assert response.status_code == 302
    row = outbox(app, dead)
    assert (row.state, row.attempts) == ("pending", 0)
    assert row.next_attempt_at.replace(tzinfo=None) == clock.now().replace(tzinfo=None)
    after = client.get("/admin/dead-letters").text
    assert "will be sent again" in after and "There are no dead-lettered emails" in after
    assert client.post(f"/admin/dead-letters/{sent}/retry", data={"csrf_token": csrf_token(after)}).status_code == 409
    assert client.post("/admin/dead-letters/999999/retry", data={"csrf_token": csrf_token(after)}).status_code == 404


def test_a_non_admin_cannot_send_a_dead_letter_again(client: FlaskClient, app: Flask, clock: FrozenClock) -> None:
    dead = add_outbox(app, clock, "Your task is overdue")
    login(client, "sam")
    response = post_form(client, "/", f"/admin/dead-letters/{dead}/retry", {})
    assert response.status_code == 403
    assert outbox(app, dead).state == "dead"
    with _sessions(app)() as session:
        assert list(session.scalars(select(OutboxMessage.state))) == ["dead"]


def test_notifications_are_paged_newest_first_and_the_unread_count_covers_every_page(
    app: Flask, client: FlaskClient, clock: FrozenClock,
) -> None:
    for n in range(30):
        add_message(app, clock, "sam", f"Message number {n:02d}", minutes_ago=n)
    login(client, "sam")
    first = client.get("/notifications").text
    assert "Message number 00" in first and "Message number 24" in first and "Message number 25" not in first
    assert "You have 30 unread notifications" in first
    assert 'href="/notifications?page=2" rel="next"' in first and 'rel="prev"' not in first
    second = client.get("/notifications?page=2").text
    assert "Message number 25" in second and "Message number 29" in second and "Message number 24" not in second
    assert 'href="/notifications?page=1" rel="prev"' in second and 'rel="next"' not in second


def test_dead_letters_are_paged_for_the_administrator(
    app: Flask, client: FlaskClient, clock: FrozenClock, admin: str,
) -> None:
    for n in range(27):
        add_outbox(app, clock, f"Lost email {n:02d}")
    login(client, admin)
    first, second = client.get("/admin/dead-letters").text, client.get("/admin/dead-letters?page=2").text
    assert first.count("Send again<") == 25 and second.count("Send again<") == 2
    assert 'rel="next"' in first and 'rel="prev"' in second


@pytest.mark.parametrize("page", ["0", "abc", "-1", "2001", "1e3"])
def test_a_page_number_out_of_range_is_a_400_naming_the_field(client: FlaskClient, page: str) -> None:
    login(client, "sam")
    for path in ("/notifications", "/"):
        response = client.get(f"{path}?page={page}", headers={"Accept": "application/json"})
        assert response.status_code == 400
        assert "page" in response.get_json()["errors"]


def test_the_admin_cancels_a_dead_letter_with_a_reason_and_the_audit_says_who_and_why(
    client: FlaskClient, app: Flask, clock: FrozenClock, admin: str
) -> None:
    from engine.models import AuditEvent

    dead = add_outbox(app, clock, "Your task is overdue")
    login(client, admin)
    listed = client.get("/admin/dead-letters").text
    assert f'href="/admin/dead-letters/{dead}/cancel"' in listed
    form = client.get(f"/admin/dead-letters/{dead}/cancel")
    assert form.status_code == 200 and "Your task is overdue" in form.text and 'name="reason"' in form.text
    empty = post_form(client, f"/admin/dead-letters/{dead}/cancel", f"/admin/dead-letters/{dead}/cancel",
                      {"reason": " "})
    assert empty.status_code == 400 and "Enter why you are cancelling this email" in empty.text
    assert 'href="#reason"' in empty.text and outbox(app, dead).state == "dead"
    done = post_form(client, f"/admin/dead-letters/{dead}/cancel", f"/admin/dead-letters/{dead}/cancel",
                     {"reason": "Sam has left the authority"})
    assert done.status_code == 302 and outbox(app, dead).state == "cancelled"
    after = client.get("/admin/dead-letters").text
    assert "is cancelled: it will not be sent" in after and "There are no dead-lettered emails" in after
    with _sessions(app)() as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "dead_letter_cancelled")).all()
        assert (event.actor, event.at, (event.data or {})["reason"]) == ("ada", clock.now(),
                                                                         "Sam has left the authority")
    assert client.get(f"/admin/dead-letters/{dead}/cancel").status_code == 409
    assert client.get("/admin/dead-letters/999999/cancel").status_code == 404


def test_sending_a_dead_letter_again_is_audited_with_the_administrator(
    client: FlaskClient, app: Flask, clock: FrozenClock, admin: str
) -> None:
    from engine.models import AuditEvent

    dead = add_outbox(app, clock, "Your task is overdue")
    login(client, admin)
    assert post_form(client, "/admin/dead-letters", f"/admin/dead-letters/{dead}/retry", {}).status_code == 302
    with _sessions(app)() as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "dead_letter_retried")).all()
        assert (event.actor, (event.data or {})["message"], (event.data or {})["attempts"]) == ("ada", dead, 5)


def test_a_non_admin_cannot_cancel_a_dead_letter(client: FlaskClient, app: Flask, clock: FrozenClock) -> None:
    dead = add_outbox(app, clock, "Your task is overdue")
    login(client, "sam")
    assert client.get(f"/admin/dead-letters/{dead}/cancel").status_code == 403
    assert post_form(client, "/", f"/admin/dead-letters/{dead}/cancel", {"reason": "No"}).status_code == 403
    assert outbox(app, dead).state == "dead"
