"""What the database holds, as one comparable value: a refused request must leave it exactly as it was."""

from __future__ import annotations

import hashlib

from sqlalchemy import Engine, func, select

from engine.models import AuditEvent, Base


def snapshot(engine: Engine) -> dict[str, str]:
    """Every table's rows, in primary-key order, as a digest per table (so a difference names the table)."""
    digests: dict[str, str] = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            digest = hashlib.sha256()
            for row in connection.execute(select(table).order_by(*order)):
                digest.update(repr(tuple(row)).encode())
            digests[table.name] = digest.hexdigest()
    return digests


def audit_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(AuditEvent)) or 0)
