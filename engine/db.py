"""Database connections and the one-commit-per-unit-of-work edge.

Services flush; only :func:`unit_of_work` (CLI, scheduler jobs) or the web
request teardown commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_URL = "sqlite:///vsw.db"


def database_url(url: str) -> str:
    """``url`` as SQLAlchemy should open it: ``postgresql://`` becomes ``postgresql+psycopg://`` (psycopg 3).

    Pure: the setting itself (``DATABASE_URL``, default :data:`DEFAULT_URL`) is read in ``app/settings.py``.
    """
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` (normalised by :func:`database_url`); SQLite gets WAL and foreign keys, PostgreSQL
    plans every statement for its own values (no server-side prepared statements)."""
    url = database_url(url)
    if url.startswith("sqlite"):
        connect_args = kwargs.pop("connect_args", {})
        connect_args.setdefault("timeout", 30)
        connect_args.setdefault("check_same_thread", False)
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    connect_args = kwargs.pop("connect_args", {})
    # No server-side prepared statements: psycopg prepares a statement after its fifth run on a connection,
    # and PostgreSQL then switches to one generic plan, blind to the values. For the lists that is ruinous
    # (a manager's team view with a search went from 40 ms to 1.5 s from its eleventh run on a connection);
    # planning each run costs far less. It also keeps the engine usable behind PgBouncer's transaction mode.
    connect_args.setdefault("prepare_threshold", None)
    return create_engine(url, connect_args=connect_args, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit once at the edge, roll back everything on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
