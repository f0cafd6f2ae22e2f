"""Filling the message waits of instances that were already waiting before the table existed."""

from __future__ import annotations

from sqlalchemy import delete

from engine.backfill import fill_message_waits
from engine.models import MessageWait
from tests.engine.conftest import SOCIAL_WORKER, Harness

STARTED = {"started_at": "2026-12-01T09:00:00+00:00"}


def test_the_missing_message_waits_of_running_instances_are_filled_once(wf: Harness) -> None:
    with wf() as svc:
        waiting = svc.start("review", "child-1", STARTED, SOCIAL_WORKER).id
        ended = svc.start("review", "child-2", STARTED, SOCIAL_WORKER).id
    with wf() as svc:
        svc.cancel(ended, SOCIAL_WORKER, "Started by mistake")
        svc.session.execute(delete(MessageWait))  # as before the table existed
    with wf() as svc:
        assert fill_message_waits(svc.session, wf.runtime, wf.clock.now(), batch=1) == 1
    with wf() as svc:
        assert [(m.instance_id, m.element_id, m.boundary) for m in svc.waiting_messages(waiting)] == [
            (waiting, "withdrawn", True)]
        assert svc.waiting_messages(ended) == []
        assert fill_message_waits(svc.session, wf.runtime, wf.clock.now()) == 0
