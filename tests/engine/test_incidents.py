"""Incidents: an instance whose timer step fails is held back, visibly, until an administrator retries it.

Both pump paths run here on whichever database the suite uses: claimed batches (PostgreSQL's path, one
transaction for a batch of locked instances) and one instance per transaction (SQLite's path).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from engine import timer_pump
from engine.calendar import BusinessCalendar
from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.errors import Conflict, NotFound, ProcessError
from engine.incidents import ERROR_LIMIT, describe, failed_element, open_incidents, record_failures, retry
from engine.limits import ScriptLimits
from engine.models import AuditEvent, Incident
from engine.runtime import NoHooks, Runtime, StepEvent
from engine.timer_pump import FireReport, claim_due_instances, due_instances
from tests.engine.conftest import SOCIAL_WORKER, TERMS_2026_27, Harness

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
Pump = Callable[[Harness], FireReport]
PUMPS = {"claimed_batches": timer_pump._fire_claimed_batches, "one_by_one": timer_pump._fire_one_by_one}


class LockedRecords(NoHooks):
    """Domain hooks that fail, after the step's write, when a timer fires for a locked child's case."""

    def __init__(self) -> None:
        self.locked: set[str] = set()

    def after_step(self, session: Session, event: StepEvent) -> None:
        if event.instance.business_key in self.locked and event.actor == "system":
            raise RuntimeError("the records for this child are locked")


@pytest.fixture
def teams() -> dict[str, int]:
    """How many people each team has: the ``empty`` team's share is a division by zero."""
    return {"north": 2, "south": 4, "empty": 0}


@pytest.fixture
def hooks() -> LockedRecords:
    return LockedRecords()


@pytest.fixture
def fragile(factory: sessionmaker[Session], clock: FrozenClock, teams: dict[str, int],
            hooks: LockedRecords) -> Harness:
    runtime = Runtime(calendar=BusinessCalendar(TERMS_2026_27), hooks=hooks,
                      functions={"team_size": lambda team: teams[team]})
    harness = Harness(factory, clock, runtime)
    harness.deploy("fragile.bpmn")
    return harness


def pump_named(name: str) -> Pump:
    """One pass of one of the pump's two paths, in batches of 10, at the harness clock's time."""
    run = PUMPS[name]

    def tick(wf: Harness) -> FireReport:
        return run(wf.factory, wf.runtime, wf.clock.now(), 10, 1000)

    return tick


@pytest.fixture(params=sorted(PUMPS))
def pump(request: pytest.FixtureRequest) -> Pump:
    return pump_named(request.param)


def start(wf: Harness, key: str, team: str) -> int:
    with wf() as svc:
        return svc.start("fragile", key, {"team": team, "budget": 100}, SOCIAL_WORKER).id


def at(wf: Harness, when: datetime, pump: Pump) -> FireReport:
    wf.clock.set(when)
    return pump(wf)


def incidents(wf: Harness) -> list[Incident]:
    with wf.factory() as session:
        return list(session.scalars(select(Incident).order_by(Incident.id)))


def incident_events(wf: Harness, instance_id: int) -> list[tuple[str, str, dict[str, Any] | None]]:
    with wf.factory() as session:
        query = (select(AuditEvent).where(AuditEvent.instance_id == instance_id,
                                          AuditEvent.action.like("incident%")).order_by(AuditEvent.id))
        return [(e.action, e.actor, e.data) for e in session.scalars(query)]


def waiting(wf: Harness, instance_id: int) -> list[str]:
    with wf() as svc:
        return [t.element_id for t in svc.waiting_timers(instance_id)]


def retry_as(wf: Harness, incident_id: int, admin: str = "ada") -> Incident:
    with unit_of_work(wf.factory) as session:
        return retry(session, incident_id, admin, wf.clock.now())


def test_a_script_that_raises_opens_one_incident_with_its_error_and_an_audit_event_while_the_others_fire(
    fragile: Harness, pump: Pump
) -> None:
    ids = {key: start(fragile, key, team) for key, team in (("C-1", "north"), ("C-2", "empty"), ("C-3", "south"))}
    report = at(fragile, START + DAY, pump)
    assert (report.fired, report.failed) == (2, 1)
    [incident] = incidents(fragile)
    assert (incident.instance_id, incident.process_id, incident.business_key, incident.element_id,
            incident.status, incident.attempts) == (ids["C-2"], "fragile", "C-2", "share_out", "open", 1)
    assert "ZeroDivisionError" in incident.error and "\n" not in incident.error
    assert incident.first_failed_at == incident.last_failed_at == START + DAY
    assert incident_events(fragile, ids["C-2"]) == [
        ("incident_opened", "system", {"incident": incident.id, "error": incident.error, "attempts": 1})]
    assert waiting(fragile, ids["C-2"]) == ["wait_a_day"]  # its step was rolled back
    assert waiting(fragile, ids["C-1"]) == waiting(fragile, ids["C-3"]) == ["wait_a_week"]


def test_an_instance_with_an_open_incident_is_left_out_of_the_due_queries_and_of_later_passes(
    fragile: Harness, pump: Pump
) -> None:
    broken, other = start(fragile, "C-2", "empty"), start(fragile, "C-4", "empty")
    fragile.clock.set(START + DAY)
    with unit_of_work(fragile.factory) as session:  # the incident is written as the pump would write it
        record_failures(fragile.factory, [(broken, ProcessError("The process 'fragile' failed"))], START + DAY)
        assert due_instances(session, START + DAY, 10) == [other]
        assert [row.id for row, _ in claim_due_instances(session, START + DAY, 10)] == [other]
    assert at(fragile, START + DAY, pump).failed == 1  # only the other one was tried
    later = at(fragile, START + 3 * DAY, pump)
    assert (later.fired, later.failed) == (0, 0)
    assert [(i.instance_id, i.attempts) for i in incidents(fragile)] == [(broken, 1), (other, 1)]
    assert [a for a, _, _ in incident_events(fragile, broken)] == ["incident_opened"]


def test_a_retried_incident_is_run_again_by_the_next_pass_and_counts_another_attempt_when_it_fails(
    fragile: Harness, pump: Pump
) -> None:
    broken = start(fragile, "C-2", "empty")
    at(fragile, START + DAY, pump)
    [incident] = incidents(fragile)
    fragile.clock.set(START + DAY + timedelta(hours=2))
    retried = retry_as(fragile, incident.id)
    assert (retried.status, retried.retried_by, retried.retried_at) == ("retried", "ada", START + DAY + timedelta(hours=2))
    assert incident_events(fragile, broken)[-1][:2] == ("incident_retried", "ada")
    report = at(fragile, START + 2 * DAY, pump)
    assert (report.fired, report.failed) == (0, 1)
    [again] = incidents(fragile)
    assert (again.id, again.status, again.attempts) == (incident.id, "open", 2)
    assert (again.first_failed_at, again.last_failed_at) == (START + DAY, START + 2 * DAY)
    assert incident_events(fragile, broken)[-1] == (
        "incident_failed_again", "system", {"incident": incident.id, "error": again.error, "attempts": 2})
    assert at(fragile, START + 3 * DAY, pump).failed == 0  # held back again


def test_a_retried_instance_that_now_runs_resolves_its_incident_and_a_later_failure_reopens_it(
    fragile: Harness, pump: Pump, teams: dict[str, int]
) -> None:
    broken = start(fragile, "C-2", "empty")
    at(fragile, START + DAY, pump)
    teams["empty"] = 5  # the cause is fixed
    retry_as(fragile, incidents(fragile)[0].id)
    report = at(fragile, START + 2 * DAY, pump)
    assert (report.fired, report.failed) == (1, 0)
    [resolved] = incidents(fragile)
    assert (resolved.status, resolved.resolved_by, resolved.resolved_at) == ("resolved", "system", START + 2 * DAY)
    assert incident_events(fragile, broken)[-1][:2] == ("incident_resolved", "system")
    assert waiting(fragile, broken) == ["wait_a_week"]

    teams["empty"] = 0  # broken again: the week's timer fails at the second script
    assert at(fragile, START + 9 * DAY, pump).failed == 1
    [reopened] = incidents(fragile)
    assert (reopened.id, reopened.status, reopened.attempts, reopened.element_id) == (
        resolved.id, "open", 1, "share_again")
    assert (reopened.first_failed_at, reopened.resolved_at, reopened.resolved_by) == (START + 9 * DAY, None, None)
    assert incident_events(fragile, broken)[-1][:2] == ("incident_opened", "system")


def test_a_script_over_its_cpu_bound_opens_an_incident_and_no_later_pass_pays_the_bound_again(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    runaway = Harness(factory, clock, Runtime(limits=ScriptLimits(cpu_seconds=0.2)))
    runaway.deploy("runaway.bpmn")
    with runaway() as svc:
        endless, short = (svc.start("runaway", key, {"count": count}, SOCIAL_WORKER).id
                          for key, count in (("C-1", 10**12), ("C-2", 10)))
    clock.set(START + DAY)
    report = timer_pump.fire_due_timers(factory, runaway.runtime, clock)  # this database's own path
    assert (report.fired, report.failed) == (1, 1)
    [incident] = incidents(runaway)
    assert (incident.instance_id, incident.element_id, incident.attempts) == (endless, "count_up", 1)
    assert incident.error.startswith("script in element 'count_up' ran for more than 0.2 seconds of CPU time")
    assert waiting(runaway, short) == [] and waiting(runaway, endless) == ["wait_a_day"]
    clock.set(START + 2 * DAY)
    assert timer_pump.fire_due_timers(factory, runaway.runtime, clock).failed == 0  # not run again
    assert [a for a, _, _ in incident_events(runaway, endless)] == ["incident_opened"]


def test_a_hook_failing_unexpectedly_after_the_write_opens_an_incident_while_the_others_fire(
    fragile: Harness, pump: Pump, hooks: LockedRecords
) -> None:
    hooks.locked.add("C-9")
    ids = {key: start(fragile, key, "north") for key in ("C-1", "C-9", "C-3")}
    report = at(fragile, START + DAY, pump)
    assert (report.fired, report.failed) == (2, 1)
    assert report.failures == [(ids["C-9"], "RuntimeError: the records for this child are locked")]
    [incident] = incidents(fragile)
    assert (incident.instance_id, incident.error, incident.element_id) == (
        ids["C-9"], "RuntimeError: the records for this child are locked", None)
    assert waiting(fragile, ids["C-9"]) == ["wait_a_day"] and waiting(fragile, ids["C-1"]) == ["wait_a_week"]
    assert at(fragile, START + 2 * DAY, pump).failed == 0


def test_every_failure_in_a_batch_that_is_lost_still_opens_its_incident(fragile: Harness, hooks: LockedRecords) -> None:
    """Claimed batches: a script fails (skipped), then a hook fails after its write (the batch is lost)."""
    hooks.locked.add("C-9")
    script_fails, hook_fails = start(fragile, "C-2", "empty"), start(fragile, "C-9", "north")
    fine = start(fragile, "C-1", "north")
    report = at(fragile, START + DAY, pump_named("claimed_batches"))
    assert (report.fired, report.failed) == (1, 2)
    assert sorted(i.instance_id for i in incidents(fragile) if i.status == "open") == [script_fails, hook_fails]
    assert waiting(fragile, fine) == ["wait_a_week"]


def test_a_lost_race_or_a_busy_database_is_tried_again_on_the_next_pass_not_held_as_an_incident(
    fragile: Harness,
) -> None:
    instance_id = start(fragile, "C-2", "empty")
    busy = OperationalError("UPDATE process_instance", {}, Exception("database is locked"))
    record_failures(fragile.factory, [(instance_id, Conflict("Someone else changed this process")),
                                      (instance_id, busy)], START)
    assert incidents(fragile) == []


def test_only_an_open_incident_can_be_retried(fragile: Harness, pump: Pump) -> None:
    start(fragile, "C-2", "empty")
    at(fragile, START + DAY, pump)
    [incident] = incidents(fragile)
    retry_as(fragile, incident.id)
    with pytest.raises(Conflict, match=f"Incident {incident.id} is no longer open: it was retried already"):
        retry_as(fragile, incident.id, "bob")
    with pytest.raises(NotFound, match="No incident 999999"):
        retry_as(fragile, 999999)
    assert [(a, actor) for a, actor, _ in incident_events(fragile, incident.instance_id)] == [
        ("incident_opened", "system"), ("incident_retried", "ada")]


def test_retrying_the_incident_of_a_cancelled_instance_closes_it_as_there_is_nothing_to_run(
    fragile: Harness, pump: Pump
) -> None:
    broken = start(fragile, "C-2", "empty")
    at(fragile, START + DAY, pump)
    with fragile() as svc:
        svc.cancel(broken, SOCIAL_WORKER, "Child returned home")
    closed = retry_as(fragile, incidents(fragile)[0].id)
    assert (closed.status, closed.resolved_by, closed.retried_by) == ("resolved", "ada", None)
    action, actor, data = incident_events(fragile, broken)[-1]
    assert (action, actor) == ("incident_resolved", "ada") and data and data["instance_status"] == "cancelled"


def test_open_incidents_are_listed_most_recent_failure_first_a_page_at_a_time(fragile: Harness, pump: Pump) -> None:
    first, second = start(fragile, "C-2", "empty"), start(fragile, "C-4", "empty")
    at(fragile, START + DAY, pump)
    third = start(fragile, "C-6", "empty")
    at(fragile, START + 2 * DAY, pump)
    retry_as(fragile, next(i.id for i in incidents(fragile) if i.instance_id == first))
    with fragile.factory() as session:
        page_one, page_two = open_incidents(session, 1, 1), open_incidents(session, 2, 1)
    assert ([i.instance_id for i in page_one], page_one.has_next) == ([third], True)
    assert ([i.instance_id for i in page_two], page_two.has_next) == ([second], False)


def test_an_error_is_kept_as_one_line_clipped_and_names_the_element_that_raised_it() -> None:
    assert describe(RuntimeError("first line\nsecond line")) == "RuntimeError: first line"
    assert describe(ProcessError("  The process 'x' failed: boom. ")) == "The process 'x' failed: boom."
    clipped = describe(ValueError("x" * 2000))
    assert len(clipped) == ERROR_LIMIT and clipped.endswith("…")

    class Spec:
        bpmn_id = "share_out"

    class TaskError(Exception):
        task_spec = Spec()

    try:
        try:
            raise TaskError("division by zero")
        except TaskError:
            raise ProcessError("The process 'fragile' failed") from None
    except ProcessError as error:
        assert failed_element(error) == "share_out"
    assert failed_element(RuntimeError("no task")) is None


def test_a_persons_failed_step_is_a_step_incident_that_holds_nothing_back_and_is_acknowledged_by_a_retry(
    fragile: Harness, pump: Pump
) -> None:
    """A step incident sits beside the instance's timer incident (one of each kind) and never stops the
    pump; retrying it closes it (the person may try again), audited as acknowledged."""
    from engine.incidents import STEP, TIMER, open_count, record_step_failure

    broken = start(fragile, "C-2", "empty")
    failure = ProcessError("The process 'fragile' failed: script in element 'share_out' ran for too long")
    assert record_step_failure(fragile.factory, failure, START, actor="sam", instance_id=broken)
    assert not record_step_failure(fragile.factory, Conflict("lost a race"), START, actor="sam", instance_id=broken)
    assert not record_step_failure(fragile.factory, failure, START, actor="sam", task_id="no-such-task")
    [step] = incidents(fragile)
    assert (step.kind, step.actor, step.status, step.attempts) == (STEP, "sam", OPEN_STATUS, 1)
    assert incident_events(fragile, broken) == [("incident_opened", "sam", {
        "incident": step.id, "error": step.error, "attempts": 1, "kind": STEP, "actor": "sam", "task_id": None})]

    assert at(fragile, START + DAY, pump).failed == 1  # not held back by the step incident: it ran, and failed
    kinds = {i.kind: i for i in incidents(fragile)}
    assert set(kinds) == {STEP, TIMER} and kinds[TIMER].element_id == "share_out"
    with fragile.factory() as session:
        assert open_count(session) == 2
    done = retry_as(fragile, step.id)
    assert (done.status, done.resolved_by) == ("resolved", "ada")
    assert incident_events(fragile, broken)[-1][:2] == ("incident_acknowledged", "ada")
    assert {i.kind: i.status for i in incidents(fragile)} == {STEP: "resolved", TIMER: OPEN_STATUS}


OPEN_STATUS = "open"
