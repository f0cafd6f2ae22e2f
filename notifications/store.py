"""Inserts that ignore a duplicate ``dedupe_key`` atomically, on SQLite and PostgreSQL alike.

``INSERT … ON CONFLICT (dedupe_key) DO NOTHING`` runs inside the caller's transaction: two steps racing
to queue the same event both succeed and exactly one row exists (on PostgreSQL the second waits for
the first to commit, then does nothing).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.models import Base


def insert_once(session: Session, model: type[Base], values: dict[str, Any]) -> bool:
    """Insert one row; False (and nothing written) if a row with the same ``dedupe_key`` exists."""
    if values.get("dedupe_key") is None:
        session.execute(insert(model).values(**values))
        return True
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement: Any = postgresql.insert(model).values(**values)
    elif dialect == "sqlite":
        statement = sqlite.insert(model).values(**values)
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"unsupported database {dialect}")
    # RETURNING (not rowcount, which drivers report differently for ON CONFLICT) says whether it was written.
    statement = statement.on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(model.__table__.c.id)
    return session.execute(statement).first() is not None
