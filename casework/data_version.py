"""The data version: a number every transaction that writes the cohort's records raises as it commits.

Something that sums those records (the dashboard, casework/cohort_cache.py) may keep what it computed
under the version it read: the first read after a committed write sees a new version and computes again.
``cohort_version`` holds one row: ``token`` names the database (made when the table is created, so two
databases never share a key) and ``number`` counts the commits that wrote one of the :data:`WATCHED`
tables. Writes are noticed through the ORM: objects flushed, and ``insert``/``update``/``delete``
statements run through a Session. The raise is the transaction's last statement (after its final flush),
so it never waits on a lock while holding this row's.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import Integer, String, event, insert, select, update
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column
from sqlalchemy.orm.session import SessionTransaction

from engine.models import Base

WATCHED = frozenset({
    "child", "placement", "pep", "attendance_record", "attendance_summary", "suspension", "eet_status",
    "escalation", "app_user", "school", "term_date", "inset_day", "attainment",
})
_FLAG = "cohort_records_changed"


class CohortVersion(Base):
    """One row: which database this is (``token``) and how many writes to the cohort's records it has seen."""

    __tablename__ = "cohort_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
    number: Mapped[int] = mapped_column(Integer, default=0)


def _table_name(target: Any) -> str | None:
    """The name of a mapped class's, a statement target's or a table's table."""
    for attribute in ("__table__", "persist_selectable"):
        found = getattr(target, attribute, None)
        if found is not None:
            target = found
            break
    name = getattr(target, "name", None)
    return name if isinstance(name, str) else None


@event.listens_for(Session, "before_flush")
def _notice_flush(session: Session, _context: Any, _instances: Any) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if _table_name(type(obj)) in WATCHED:
            session.info[_FLAG] = True
            return


@event.listens_for(Session, "do_orm_execute")
def _notice_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        if _table_name(getattr(state.statement, "table", None)) in WATCHED:
            state.session.info[_FLAG] = True


@event.listens_for(Session, "before_commit")
def _raise_version(session: Session) -> None:
    session.flush()  # anything pending is written (and noticed) first: the version is the last statement
    if session.info.pop(_FLAG, False):
        changed(session)


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, _previous: SessionTransaction) -> None:
    session.info.pop(_FLAG, None)


def changed(session: Session) -> None:
    """Raise the data version (in the session's transaction): every remembered dashboard is out of date."""
    raised = session.execute(update(CohortVersion).where(CohortVersion.id == 1)
                             .values(number=CohortVersion.number + 1))
    if not getattr(raised, "rowcount", 1):
        session.execute(insert(CohortVersion).values(id=1, token=secrets.token_hex(16), number=1))


def version(session: Session) -> tuple[str, int] | None:
    row = session.execute(select(CohortVersion.token, CohortVersion.number).where(CohortVersion.id == 1)).first()
    return None if row is None else (row[0], int(row[1]))
