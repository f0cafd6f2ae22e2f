"""What the benchmarks share: a throwaway database, PostgreSQL if reachable, else SQLite."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import make_url

from engine.db import make_engine

ROOT = Path(__file__).resolve().parent.parent


def migrate(url: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = url
    command.upgrade(config, "head")


@contextmanager
def bench_database() -> Iterator[tuple[str, str]]:
    """Yields (url, label) of an empty database that is dropped afterwards."""
    base = os.environ.get("VSW_BENCH_DATABASE_URL", "")
    if base:
        if base.startswith("postgresql://"):
            base = "postgresql+psycopg://" + base[len("postgresql://"):]
        name = f"vsw_bench_{uuid.uuid4().hex[:8]}"
        admin = make_engine(base, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as error:  # noqa: BLE001 - fall back to SQLite, and say so
            print(f"PostgreSQL at {make_url(base).render_as_string()} not usable ({type(error).__name__}); using SQLite")
            admin.dispose()
            base = ""
        else:
            url = make_url(base).set(database=name).render_as_string(hide_password=False)
            try:
                yield url, "PostgreSQL"
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
            return
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{folder}/bench.db", "SQLite (WAL)"
