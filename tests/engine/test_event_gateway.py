"""An event-based gateway: whichever of its events comes first decides the path, and the other is dropped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from engine.errors import Conflict
from engine.models import TimerRow
from engine.runtime import SYSTEM
from engine.timer_pump import fire_due_timers
from tests.engine.conftest import MANAGER, SOCIAL_WORKER, Harness

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def gateway(wf: Harness) -> Harness:
    wf.deploy("gateway.bpmn")
    wf.clock.set(START)
    return wf


def waiting_at_the_gateway(wf: Harness) -> int:
    """Start an instance and ask the school: it then waits for a reply or three days' silence."""
    with wf() as svc:
        instance_id = svc.start("gateway", "child-1", {}, SOCIAL_WORKER).id
        [ask] = svc.instance_tasks(instance_id)
        svc.complete(ask.id, {}, SOCIAL_WORKER)
    return instance_id


def open_tasks(wf: Harness, instance_id: int) -> list[str]:
    with wf() as svc:
        return sorted(t.element_id for t in svc.instance_tasks(instance_id) if t.state == "open")


def waiting(wf: Harness, instance_id: int) -> list[tuple[str, datetime]]:
    with wf() as svc:
        return [(t.element_id, t.due_at) for t in svc.waiting_timers(instance_id)]


def timer_rows(wf: Harness, instance_id: int) -> list[tuple[str, str]]:
    """Every timer the instance ever waited on, and how it ended (waiting, fired or cancelled)."""
    with wf() as svc:
        rows = svc.session.scalars(select(TimerRow).where(TimerRow.instance_id == instance_id).order_by(TimerRow.id))
        return [(row.element_id, row.state) for row in rows]


def test_an_event_based_gateway_waits_for_its_timer_and_its_message_at_once(gateway: Harness) -> None:
    instance_id = waiting_at_the_gateway(gateway)
    assert open_tasks(gateway, instance_id) == []
    assert waiting(gateway, instance_id) == [("reply_or_silence", START + timedelta(days=3))]


def test_an_event_based_gateway_timer_wins_when_no_message_arrives(gateway: Harness) -> None:
    instance_id = waiting_at_the_gateway(gateway)
    gateway.clock.set(START + timedelta(days=3))
    report = fire_due_timers(gateway.factory, gateway.runtime, gateway.clock)
    assert (report.fired, report.failed, report.failures) == (1, 0, [])
    assert open_tasks(gateway, instance_id) == ["chase"]
    assert timer_rows(gateway, instance_id) == [("reply_or_silence", "fired")]
    with gateway() as svc:  # the message branch was dropped with the gateway
        with pytest.raises(Conflict):
            svc.send_message(instance_id, "school_replied", {"place": True}, SYSTEM)
        [chase] = [t for t in svc.instance_tasks(instance_id) if t.element_id == "chase"]
        svc.complete(chase.id, {}, MANAGER)
    with gateway() as svc:
        assert svc.instance(instance_id).status == "completed"
        fired = [e.element_id for e in svc.history(instance_id) if e.action == "timer_fired"]
    assert fired == ["reply_or_silence"]


def test_an_event_based_gateway_message_wins_when_it_arrives_before_the_timer(gateway: Harness) -> None:
    instance_id = waiting_at_the_gateway(gateway)
    gateway.clock.set(START + timedelta(days=1))
    with gateway() as svc:
        svc.send_message(instance_id, "school_replied", {"place": True}, SYSTEM)
    assert open_tasks(gateway, instance_id) == ["read_reply"]
    assert timer_rows(gateway, instance_id) == [("reply_or_silence", "cancelled")]  # dropped with the gateway
    gateway.clock.set(START + timedelta(days=10))
    assert fire_due_timers(gateway.factory, gateway.runtime, gateway.clock).fired == 0
    with gateway() as svc:
        assert svc.instance_data(instance_id)["reply"] == {"place": True}
        [read] = [t for t in svc.instance_tasks(instance_id) if t.element_id == "read_reply"]
        svc.complete(read.id, {}, SOCIAL_WORKER)
    with gateway() as svc:
        assert svc.instance(instance_id).status == "completed"
        assert "timer_fired" not in [e.action for e in svc.history(instance_id)]


def message_waits(wf: Harness, instance_id: int) -> list[tuple[str, str, bool]]:
    with wf() as svc:
        return [(m.element_id, m.message, m.boundary) for m in svc.waiting_messages(instance_id)]


def test_an_event_based_gateway_is_recorded_as_waiting_for_its_message_until_one_of_its_events_comes(
        gateway: Harness) -> None:
    instance_id = waiting_at_the_gateway(gateway)
    assert message_waits(gateway, instance_id) == [("reply_or_silence", "school_replied", False)]
    gateway.clock.set(START + timedelta(days=1))
    with gateway() as svc:
        svc.send_message(instance_id, "school_replied", {"place": True}, SYSTEM)
    assert message_waits(gateway, instance_id) == []


def test_an_event_based_gateway_stops_waiting_for_its_message_when_its_timer_fires(gateway: Harness) -> None:
    instance_id = waiting_at_the_gateway(gateway)
    gateway.clock.set(START + timedelta(days=3))
    assert fire_due_timers(gateway.factory, gateway.runtime, gateway.clock).fired == 1
    assert message_waits(gateway, instance_id) == []
