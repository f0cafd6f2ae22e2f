from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from engine.calendar import BusinessCalendar, TermCalendar
from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.runtime import Actor, Runtime
from engine.service import WorkflowService
from tests.engine.forms import FORMS

BPMN = Path(__file__).parent / "bpmn"

SOCIAL_WORKER = Actor("sam", frozenset({"social_worker"}))
OTHER_SOCIAL_WORKER = Actor("sid", frozenset({"social_worker"}))
MANAGER = Actor("mo", frozenset({"manager"}))
VSH = Actor("val", frozenset({"vsh"}))

TERMS_2026_27 = TermCalendar(
    terms=((date(2026, 9, 3), date(2026, 12, 18)), (date(2027, 1, 5), date(2027, 3, 26)),
           (date(2027, 4, 12), date(2027, 7, 21))),
    closures=((date(2026, 10, 26), date(2026, 10, 30)), (date(2027, 2, 15), date(2027, 2, 19)),
              (date(2027, 5, 31), date(2027, 6, 4)), (date(2027, 1, 5), date(2027, 1, 5))),
)


class Harness:
    """Runs engine calls the way the app does: one unit of work per call."""

    def __init__(self, factory: sessionmaker[Session], clock: FrozenClock, runtime: Runtime) -> None:
        self.factory, self.clock, self.runtime = factory, clock, runtime

    @contextmanager
    def __call__(self) -> Iterator[WorkflowService]:
        with unit_of_work(self.factory) as session:
            yield WorkflowService(session, self.clock, self.runtime)

    def deploy(self, name: str) -> None:
        with self() as svc:
            svc.deploy_file(BPMN / name)


@pytest.fixture
def runtime() -> Runtime:
    return Runtime(forms=FORMS, calendar=BusinessCalendar(TERMS_2026_27))


@pytest.fixture
def wf(factory: sessionmaker[Session], clock: FrozenClock, runtime: Runtime) -> Harness:
    harness = Harness(factory, clock, runtime)
    harness.deploy("review.bpmn")
    return harness
