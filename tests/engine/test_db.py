"""engine/db.py: how connections are opened."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from engine.db import database_url, make_engine


def test_a_postgresql_url_is_opened_with_psycopg_3() -> None:
    assert database_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert database_url("sqlite:///x.db") == "sqlite:///x.db"


@pytest.mark.postgres_only
def test_postgresql_never_keeps_a_prepared_statement_so_each_run_is_planned_for_its_own_values(db_url: str) -> None:
    from tests.conftest import on_postgres

    assert on_postgres(), "run with VSW_TEST_DATABASE_URL pointing at PostgreSQL"
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            for n in range(12):  # psycopg would prepare it from the fifth run on, PostgreSQL would go generic five runs later
                assert conn.execute(text("SELECT count(*) FROM human_task WHERE role = :role"),
                                    {"role": f"role-{n}"}).scalar_one() == 0
            prepared = conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar_one()
        assert prepared == 0
    finally:
        engine.dispose()
