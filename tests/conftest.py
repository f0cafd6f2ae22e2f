"""Shared fixtures: a real, migrated, empty database for every test.

SQLite by default (a migrated template file copied per test). When
``VSW_TEST_DATABASE_URL`` points at a PostgreSQL server, every test runs on
PostgreSQL instead: one database per test run, migrated once, emptied between
tests.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

import casework.escalations  # noqa: F401  (every table on the metadata)
import casework.records  # noqa: F401
import casework.rules  # noqa: F401
import casework.sessions  # noqa: F401  (user_session)
import casework.signin  # noqa: F401  (sign_in_throttle)
import casework.users  # noqa: F401
import engine.drafts  # noqa: F401  (task_draft)
import notifications.models  # noqa: F401  (notification tables, truncated between tests)
from engine.clock import FrozenClock
from engine.db import make_engine, session_factory
from engine.models import Base

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("VSW_TEST_DATABASE_URL", "")


def _normalise(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def migrate(url: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = url
    command.upgrade(config, "head")


def on_postgres() -> bool:
    return bool(PG_URL)


@pytest.fixture(scope="session")
def _database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if PG_URL:
        base = make_url(_normalise(PG_URL))
        name = f"vsw_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        admin = make_engine(base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = base.set(database=name).render_as_string(hide_password=False)
        migrate(url)
        yield url
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        url = f"sqlite:///{path}"
        migrate(url)
        yield str(path)


@pytest.fixture
def db_url(_database_template: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated, empty database for this test (SQLite file or PostgreSQL)."""
    if PG_URL:
        engine = make_engine(_database_template)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        yield _database_template
    else:
        path = tmp_path / "vsw.db"
        shutil.copyfile(_database_template, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(db_engine: Engine) -> sessionmaker[Session]:
    return session_factory(db_engine)


@pytest.fixture
def clock() -> FrozenClock:
    """Tuesday 1 December 2026, 09:00 UTC: autumn term, a working day."""
    return FrozenClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
