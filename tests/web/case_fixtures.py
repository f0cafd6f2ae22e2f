"""Fixtures for pages tested over the casework world: import them into a test module by name.

``world``: the authority, its people and children (tests/web/case_world.py); ``app``: the app wired
as production runs it over that world, disposed of after the test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import FrozenClock
from tests.casework.world import World

from .case_world import build_app, build_world


@pytest.fixture
def world(factory: sessionmaker[Session], clock: FrozenClock) -> World:
    return build_world(factory, clock)


@pytest.fixture
def app(db_url: str, clock: FrozenClock, world: World) -> Iterator[Flask]:
    app = build_app(db_url, clock, world)
    yield app
    app.extensions["vsw"].engine.dispose()
