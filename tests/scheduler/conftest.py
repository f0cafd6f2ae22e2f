"""Scheduler tests. ``postgres_only`` tests here race real row locks: on SQLite (where exactly one
scheduler may run, and the guard tests show the second is refused) they are deselected, as the
Makefile's SQLite pass does with ``-m "not postgres_only"``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import on_postgres

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if on_postgres():
        return
    mine = [i for i in items if HERE in Path(str(i.path)).parents and i.get_closest_marker("postgres_only")]
    if mine:
        config.hook.pytest_deselected(items=mine)
        items[:] = [i for i in items if i not in mine]
