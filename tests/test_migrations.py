"""The migrations build exactly the tables the models declare, for every package."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

import casework.escalations  # noqa: F401
import casework.records  # noqa: F401
import casework.rules  # noqa: F401
import casework.users  # noqa: F401
import notifications.models  # noqa: F401
from engine.models import Base


def test_the_migrated_database_matches_every_model_table_column_and_index(db_engine: Engine) -> None:
    with db_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    assert diffs == []
