"""The in-app notification list: each person sees only their own messages."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.errors import Forbidden, NotFound
from engine.paging import PAGE_SIZE, Page, fetch_page

from .models import InAppMessage


class InAppInbox:
    def __init__(self, session: Session, clock: Clock) -> None:
        self.session, self.clock = session, clock

    def list(self, username: str, unread_only: bool = False, page: int = 1,
             per_page: int = PAGE_SIZE) -> Page[InAppMessage]:
        """One page of a person's messages, newest first."""
        query = select(InAppMessage).where(InAppMessage.username == username)
        if unread_only:
            query = query.where(InAppMessage.read_at.is_(None))
        query = query.order_by(InAppMessage.created_at.desc(), InAppMessage.id.desc())
        return fetch_page(self.session, query, page, per_page)

    def unread_count(self, username: str) -> int:
        query = select(func.count()).where(InAppMessage.username == username, InAppMessage.read_at.is_(None))
        return int(self.session.scalar(query) or 0)

    def mark_read(self, username: str, message_id: int) -> InAppMessage:
        """NotFound if there is no such message, Forbidden if it is someone else's."""
        message = self.session.get(InAppMessage, message_id)
        if message is None:
            raise NotFound(f"There is no notification {message_id}")
        if message.username != username:
            raise Forbidden("That notification belongs to someone else")
        if message.read_at is None:
            message.read_at = self.clock.now()
            self.session.flush()
        return message

    def mark_all_read(self, username: str) -> int:
        """How many were marked read."""
        result = self.session.execute(
            update(InAppMessage)
            .where(InAppMessage.username == username, InAppMessage.read_at.is_(None))
            .values(read_at=self.clock.now())
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0))
