"""Web fixtures: an app on a fresh database (the lead's ``db_url``), users, a started move."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from casework.users import UserService
from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.models import ProcessInstance
from engine.runtime import Actor, Runtime
from engine.service import WorkflowService
from tests.hashing import FAST_HASHER
from web import create_app

from .support import BPMN_DIR, CHILD, FORMS, PASSWORD, PROCESS_ID, USERS


@pytest.fixture
def runtime() -> Runtime:
    return Runtime(forms=FORMS)


@pytest.fixture
def app_config(db_url: str, clock: FrozenClock, runtime: Runtime) -> dict[str, object]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": db_url,
        "VSW_CLOCK": clock,
        "VSW_RUNTIME": runtime,
        "VSW_PASSWORD_HASHER": FAST_HASHER,
    }


@pytest.fixture
def app(app_config: dict[str, object], clock: FrozenClock, runtime: Runtime) -> Iterator[Flask]:
    """The app, with the test process deployed and three users: sam (social worker), val (VSH), tess (DT)."""
    app = create_app(app_config)
    with unit_of_work(app.extensions["vsw"].sessions) as session:
        WorkflowService(session, clock, runtime).deploy_directory(BPMN_DIR)
        users = UserService(session, clock, FAST_HASHER)
        for username, (name, roles) in USERS.items():
            users.add(username, name, f"{username}@la.example", PASSWORD, roles, "LA-100")
    yield app
    app.extensions["vsw"].engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture
def started(app: Flask, clock: FrozenClock, runtime: Runtime) -> ProcessInstance:
    """A running test move for CHILD-001, waiting on the social worker's first task."""
    with unit_of_work(app.extensions["vsw"].sessions) as session:
        service = WorkflowService(session, clock, runtime)
        return service.start(PROCESS_ID, CHILD, {}, Actor("sam", frozenset({"social_worker"})))


@pytest.fixture
def first_task_id(app: Flask, started: ProcessInstance, clock: FrozenClock, runtime: Runtime) -> str:
    with unit_of_work(app.extensions["vsw"].sessions) as session:
        (task,) = WorkflowService(session, clock, runtime).instance_tasks(started.id)
        return task.id
