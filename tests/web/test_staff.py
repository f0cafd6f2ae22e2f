"""Staff administration over HTTP (web/staff.py and the users list in web/account.py): adding people by
invitation or with a temporary password, the first sign-in's password change, deactivating, the import."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from casework.users import ROLES, User, UserService
from engine.db import unit_of_work
from engine.models import AuditEvent
from notifications.models import OutboxMessage
from tests.hashing import FAST_HASHER

from .support import PASSWORD, csrf_token, login, post_form

NEW_PASSWORD = "paper lantern orchard"


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    state = app.extensions["vsw"]
    with unit_of_work(state.sessions) as session:
        UserService(session, state.clock, FAST_HASHER).add("ada", "Ada Admin", "ada@la.example", PASSWORD,
                                                           ["admin"], "LA-100")
    client = app.test_client()
    assert login(client, "ada").status_code == 302
    return client


def new_user(client: FlaskClient, **fields: str) -> TestResponse:
    data = {"username": "nina", "display_name": "Nina Patel", "email": "nina@la.example", "roles": "social_worker",
            "la_code": "LA-100", "school_urn": "", "team": "North", "how": "invite", **fields}
    return post_form(client, "/admin/users/new", "/admin/users/new", data)


def outbox(app: Flask) -> list[OutboxMessage]:
    with app.extensions["vsw"].sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_an_invited_person_chooses_a_password_with_the_emailed_link_once_and_signs_in(
        app: Flask, admin: FlaskClient) -> None:
    added = new_user(admin)
    assert added.status_code == 302 and added.location.endswith("/admin/users/nina")
    (mail,) = outbox(app)
    path = re.sub(r"^http://localhost", "", mail.link)
    assert path.startswith("/invitation/") and mail.recipient_email == "nina@la.example"
    newcomer = app.test_client()
    page = newcomer.get(path)
    assert page.status_code == 200 and "Welcome, Nina Patel" in page.text
    weak = newcomer.post(path, data={"password": "password123", "confirm_password": "password123",
                                     "csrf_token": csrf_token(page.text)})
    assert weak.status_code == 400 and 'href="#password"' in weak.text and "too common" in weak.text
    done = newcomer.post(path, data={"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD,
                                     "csrf_token": csrf_token(page.text)})
    assert done.status_code == 302 and done.location.endswith("/login")
    assert newcomer.get(path).status_code == 404
    assert login(newcomer, "nina", NEW_PASSWORD).status_code == 302
    assert newcomer.get("/").status_code == 200


def test_a_person_given_a_temporary_password_reaches_nothing_until_they_change_it(
        app: Flask, admin: FlaskClient) -> None:
    assert new_user(admin, how="password", password="temporary words here").status_code == 302
    assert outbox(app) == []
    person = app.test_client()
    assert login(person, "nina", "temporary words here").status_code == 302
    for path in ("/", "/account", "/notifications", "/children"):
        answer = person.get(path)
        assert answer.status_code == 302 and answer.location.endswith("/account/password"), path
    page = person.get("/account/password")
    assert page.status_code == 200 and "You signed in with a temporary password" in page.text
    token = csrf_token(page.text)
    wrong = person.post("/account/password", data={"current_password": "guess", "password": NEW_PASSWORD,
                                                    "confirm_password": NEW_PASSWORD, "csrf_token": token})
    assert wrong.status_code == 400 and 'href="#current_password"' in wrong.text
    assert person.get("/").status_code == 302
    changed = person.post("/account/password", data={"current_password": "temporary words here",
                                                      "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD,
                                                      "csrf_token": token})
    assert changed.status_code == 302
    assert person.get("/").status_code == 200
    with app.extensions["vsw"].sessions() as session:
        assert session.scalars(select(User.must_change_password).where(User.username == "nina")).one() is False


def test_a_user_added_by_the_command_line_is_not_asked_to_change_their_password(
        app: Flask, client: FlaskClient) -> None:
    assert login(client, "sam").status_code == 302
    assert client.get("/").status_code == 200


def test_bad_details_are_refused_with_an_error_summary_linking_to_each_field(admin: FlaskClient) -> None:
    form = admin.get("/admin/users/new").text
    assert all(f'name="roles" type="checkbox" value="{role}"' in form for role in ROLES)
    refused = new_user(admin, username="", email="nope", roles="", how="password", password="short")
    assert refused.status_code == 400
    for field in ("username", "email", "roles", "password"):
        assert f'href="#{field}"' in refused.text and f'id="{field}"' in refused.text
    assert new_user(admin, username="sam").status_code == 409


def test_only_an_administrator_may_add_change_or_import_users(client: FlaskClient) -> None:
    login(client, "val")
    for path in ("/admin/users", "/admin/users/new", "/admin/users/sam", "/admin/staff/import"):
        assert client.get(path).status_code == 403, path
    page = client.get("/account")
    answer = client.post("/admin/users/sam/deactivate", data={"csrf_token": csrf_token(page.text)})
    assert answer.status_code == 403


def test_deactivating_signs_the_person_out_at_once_and_reactivating_lets_them_back(
        app: Flask, admin: FlaskClient) -> None:
    sam = app.test_client()
    login(sam, "sam")
    assert sam.get("/").status_code == 200
    done = post_form(admin, "/admin/users/sam", "/admin/users/sam/deactivate", {})
    assert done.status_code == 302
    assert sam.get("/").status_code == 302
    assert login(sam, "sam").status_code == 200  # refused: the sign-in page again
    assert "Deactivated" in admin.get("/admin/users/sam").text
    post_form(admin, "/admin/users/sam", "/admin/users/sam/reactivate", {})
    assert login(sam, "sam").status_code == 302
    assert post_form(admin, "/admin/users/ada", "/admin/users/ada/deactivate", {}).status_code == 409
    assert admin.get("/admin/users/nobody").status_code == 404
    with app.extensions["vsw"].sessions() as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.actor == "ada", AuditEvent.action.like("user.%"))).all()
    assert actions == ["user.deactivated", "user.reactivated"]


def test_an_administrator_changes_roles_and_sets_a_temporary_password(app: Flask, admin: FlaskClient) -> None:
    changed = post_form(admin, "/admin/users/sam", "/admin/users/sam", {
        "display_name": "Sam Social", "email": "sam@la.example", "roles": "manager", "la_code": "LA-100",
        "school_urn": "", "team": "East"})
    assert changed.status_code == 302
    assert "2 changes saved" in admin.get("/admin/users/sam").text
    weak = post_form(admin, "/admin/users/sam", "/admin/users/sam/temporary-password", {"password": "abc"})
    assert weak.status_code == 400 and 'href="#password"' in weak.text
    post_form(admin, "/admin/users/sam", "/admin/users/sam/temporary-password", {"password": "temporary words here"})
    sam = app.test_client()
    login(sam, "sam", "temporary words here")
    assert sam.get("/").location.endswith("/account/password")
    with app.extensions["vsw"].sessions() as session:
        user = session.scalars(select(User).where(User.username == "sam")).one()
        assert (user.roles, user.team, user.must_change_password) == ("manager", "East", True)


def test_the_users_list_is_searched_and_filtered(admin: FlaskClient) -> None:
    found = admin.get("/admin/users?q=SAM")
    assert found.status_code == 200 and "Sam Social" in found.text and "Val Head" not in found.text
    by_role = admin.get("/admin/users?role=vsh")
    assert "Val Head" in by_role.text and "Sam Social" not in by_role.text
    assert "No user matches" in admin.get("/admin/users?la=LA-999").text
    assert admin.get("/admin/users?page=0").status_code == 400


def upload(client: FlaskClient, text: str) -> TestResponse:
    page = client.get("/admin/staff/import")
    return client.post("/admin/staff/import", data={"csrf_token": csrf_token(page.text),
                                                    "file": (io.BytesIO(text.encode()), "staff.csv")},
                       content_type="multipart/form-data")


def test_the_staff_import_previews_refuses_a_bad_file_by_line_and_imports_a_good_one_once(
        app: Flask, admin: FlaskClient) -> None:
    bad = "username,display_name,email,roles\nnina,Nina,nina@la.example,social_worker\nzed,Zed,zed,cook\n"
    refused = upload(admin, bad)
    assert refused.status_code == 400 and "Nothing can be imported" in refused.text
    assert "<td class=\"govuk-table__cell\">3</td>" in refused.text
    assert 'name="upload_token"' not in refused.text
    good = bad.replace("zed,Zed,zed,cook", "zed,Zed Zane,zed@la.example,manager")
    preview = upload(admin, good)
    assert preview.status_code == 200 and 'data-count="add">2<' in preview.text
    token = re.search(r'name="upload_token" value="([^"]+)"', preview.text)
    assert token
    done = admin.post("/admin/staff/import", data={"csrf_token": csrf_token(preview.text),
                                                   "upload_token": token.group(1)})
    assert done.status_code == 302
    assert sorted(m.recipient_username for m in outbox(app)) == ["nina", "zed"]
    again = admin.post("/admin/staff/import", data={"csrf_token": csrf_token(preview.text),
                                                    "upload_token": token.group(1)})
    assert again.status_code == 400 and "expired or was imported already" in again.text
    same = upload(admin, good)
    assert "there is nothing to import" in same.text


def test_a_new_invitation_ends_the_old_link_and_a_deactivated_persons_link_is_404(
        app: Flask, admin: FlaskClient) -> None:
    new_user(admin)
    resent = post_form(admin, "/admin/users/nina", "/admin/users/nina/invite", {})
    assert resent.status_code == 302
    first, second = (re.sub(r"^http://localhost", "", m.link) for m in outbox(app))
    newcomer = app.test_client()
    assert newcomer.get(first).status_code == 404
    assert newcomer.get(second).status_code == 200
    post_form(admin, "/admin/users/nina", "/admin/users/nina/deactivate", {})
    assert newcomer.get(second).status_code == 404
    assert post_form(admin, "/admin/users/nina", "/admin/users/nina/invite", {}).status_code == 409
