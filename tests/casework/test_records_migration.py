from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, Table

import casework.records
import casework.rules
from engine.models import Base

CASEWORK_TABLES = {
    table.name
    for module in (casework.records, casework.rules)
    for table in Base.metadata.sorted_tables
    if table.name in {getattr(v, "__tablename__", None) for v in vars(module).values()}
}


def _touches(diff: object) -> set[str]:
    """The table names a diff entry from compare_metadata is about."""
    items = diff if isinstance(diff, list) else [diff]
    names: set[str] = set()
    for item in items:
        for part in item if isinstance(item, tuple) else ():
            if isinstance(part, str):
                names.add(part)
            elif isinstance(part, Table):
                names.add(part.name)
            elif isinstance(getattr(part, "table", None), Table):
                names.add(part.table.name)
    return names & CASEWORK_TABLES


def test_the_migration_creates_exactly_the_casework_tables_the_models_declare(db_engine: Engine) -> None:
    assert {"child", "school", "placement", "pep", "pep_action", "term_date", "authority"} <= CASEWORK_TABLES
    with db_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    ours = [d for d in diffs if _touches(d)]
    assert ours == []
