"""Fixtures for notifications: people in the real user table, a Directory over them, a real SMTP server."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from casework.users import User
from engine.clock import FrozenClock
from notifications.directory import Recipient
from notifications.mailer import SmtpMailer, SmtpSettings

PEOPLE = [
    ("sam", "Sam Social", "sam@la.example", "social_worker"),
    ("sid", "Sid Social", "sid@la.example", "social_worker"),
    ("dora", "Dora Teacher", "dora@school.example", "designated_teacher"),
    ("vera", "Vera Head", "vera@la.example", "vsh"),
    ("max", "Max Manager", "max@la.example", "manager"),
]
# Which social workers may see which child (the real Directory reads allocations).
ALLOCATED = {"C-1001": {"sam"}, "C-1002": {"sid"}}


class UserDirectory:
    """A small real Directory over ``app_user`` (the integrator's version reads allocations too)."""

    def person(self, session: Session, username: str) -> Recipient | None:
        user = session.scalars(select(User).where(User.username == username, User.active.is_(True))).one_or_none()
        return None if user is None else Recipient(user.username, user.email, user.display_name)

    def people(self, session: Session, role: str, business_key: str | None) -> list[Recipient]:
        users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.username))
        found = []
        for user in users:
            if role not in user.roles_set:
                continue
            if role == "social_worker" and business_key and user.username not in ALLOCATED.get(business_key, set()):
                continue
            found.append(Recipient(user.username, user.email, user.display_name))
        return found


@pytest.fixture
def directory() -> UserDirectory:
    return UserDirectory()


@pytest.fixture
def people(factory: sessionmaker[Session], clock: FrozenClock) -> None:
    with factory.begin() as session:
        for username, name, email, role in PEOPLE:
            session.add(User(username=username, display_name=name, email=email, password_hash="-", roles=role,
                             la_code="999", active=True, created_at=clock.now()))


class Collector:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        self.messages.append({"rcpt_tos": list(envelope.rcpt_tos), "mail_from": envelope.mail_from,
                              "message": message_from_bytes(envelope.content, policy=policy.default)})
        return "250 Message accepted for delivery"

    def emails(self) -> list[EmailMessage]:
        return [m["message"] for m in self.messages]

    def message_ids(self) -> list[str]:
        return [str(m["message"]["Message-ID"]) for m in self.messages]


class SmtpServer:
    """A real aiosmtpd server on 127.0.0.1 that can be stopped and started again on the same port."""

    def __init__(self) -> None:
        self.handler = Collector()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def mailer(self) -> SmtpMailer:
        return SmtpMailer(SmtpSettings(host="127.0.0.1", port=self.port, timeout_seconds=5,
                                       mail_from="Virtual School <vsw@la.example>"))


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def task_context(**overrides: Any) -> dict[str, Any]:
    return {"child_ref": "C-1001", "child_name": "Amy Example", "task_title": "Review the PEP",
            "due_at": "2026-12-03T17:00:00+00:00", "path": "/tasks/t-1", **overrides}
