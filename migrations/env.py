"""Alembic environment: one metadata for every package's tables."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import casework  # noqa: F401  (registers the domain's tables on the shared metadata)
import casework.escalations  # noqa: F401
import casework.records  # noqa: F401
import casework.rules  # noqa: F401
import casework.sessions  # noqa: F401
import casework.signin  # noqa: F401
import casework.users  # noqa: F401
import engine.drafts  # noqa: F401
import notifications.models  # noqa: F401
from engine.db import make_engine
from engine.models import Base

config = context.config
target_metadata = Base.metadata


def database_url() -> str:
    """The URL the caller gave (``vsw db upgrade``, the tests), else ``DATABASE_URL`` (read in app/settings.py)."""
    given = config.attributes.get("url")
    if given:
        return str(given)
    from app.settings import Settings

    return Settings.from_env().database_url


def run_migrations_offline() -> None:
    url = database_url()
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(database_url())
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
