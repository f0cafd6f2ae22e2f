"""Timer event definitions that read the engine's clock, never the wall clock.

SpiffWorkflow's own timers call ``datetime.now()`` both when a timer is reached
(to compute its due time) and when it is refreshed. Ours ask the workflow's
script engine for ``current_time``, which the engine sets from its injected clock
before every step.

They are put in through SpiffWorkflow's two extension points, with no class
swapping: :class:`ClockedBpmnParser` (the parser's ``OVERRIDE_PARSER_CLASSES``)
creates them in place of SpiffWorkflow's timer definitions when a BPMN file is
parsed, and :data:`TIMER_CONVERTERS` registers them with the serializer, which
must convert one whenever an event-based gateway stores the timer event it caught.
A timer keeps its state in the task's public ``internal_data`` dict, under
SpiffWorkflow's own keys (``event_value``, ``event_fired``), so stored state is
the same whichever class wrote it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.specs.defaults import BoundaryEvent, IntermediateCatchEvent, StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.spiff.parser import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.event_parsers import (
    SpiffBoundaryEventParser,
    SpiffIntermediateCatchEventParser,
    SpiffStartEventParser,
)
from SpiffWorkflow.util.task import TaskState

from .clock import as_utc


def engine_now(my_task: Any) -> datetime:
    """The time the engine says it is for this step."""
    now: datetime = my_task.workflow.script_engine.current_time
    return now


def parse_due(value: str) -> datetime:
    """A timer's due value (ISO text) as an aware UTC datetime."""
    parsed: datetime = datetime.fromisoformat(value)
    return as_utc(parsed)


def _duration_after(start: datetime, expression: str) -> datetime:
    parsed = TimerEventDefinition.parse_iso_duration(expression)
    delta: timedelta = TimerEventDefinition.get_timedelta_from_start(parsed, start)
    return start + delta


def _fired(my_task: Any, event_value: str) -> bool:
    if parse_due(event_value) <= engine_now(my_task):
        my_task.internal_data["event_fired"] = True
    return bool(my_task.internal_data.get("event_fired", False))


class ClockedTimeDate(TimeDateEventDefinition):  # type: ignore[misc]
    """``timeDate``: an expression giving ISO datetime text."""

    def has_fired(self, my_task: Any) -> bool:
        event_value = my_task.internal_data.get("event_value")
        if event_value is None:
            event_value = str(my_task.workflow.script_engine.evaluate(my_task, self.expression))
            parse_due(event_value)  # refuse a value that is not a date-time now, not when firing
            my_task.internal_data["event_value"] = event_value
        return _fired(my_task, event_value)


class ClockedDuration(DurationTimerEventDefinition):  # type: ignore[misc]
    """``timeDuration``: an expression giving ISO-8601 duration text, from when the timer is reached."""

    def has_fired(self, my_task: Any) -> bool:
        event_value = my_task.internal_data.get("event_value")
        if event_value is None:
            expression = str(my_task.workflow.script_engine.evaluate(my_task, self.expression))
            event_value = _duration_after(engine_now(my_task), expression).isoformat()
            my_task.internal_data["event_value"] = event_value
        return _fired(my_task, event_value)


class ClockedCycle(CycleTimerEventDefinition):  # type: ignore[misc]
    """``timeCycle``: ``R<n>/<duration>`` or ``R<n>/<start>/<duration>``, counted on the engine clock."""

    def cycle_complete(self, my_task: Any) -> bool:
        now = engine_now(my_task)
        event_value = my_task.internal_data.get("event_value")
        if event_value is None:
            expression = str(my_task.workflow.script_engine.evaluate(my_task, self.expression))
            event_value = _parse_cycle(expression, now)
        ready = False
        if event_value["cycles"] != 0:
            next_event = parse_due(event_value["next"])
            if next_event <= now:
                step = timedelta(seconds=event_value["duration"])
                event_value["next"] = (next_event + step).isoformat()
                event_value["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
        if "event_fired" not in my_task.internal_data:
            my_task.internal_data["event_value"] = event_value
        return ready


def _parse_cycle(expression: str, now: datetime) -> dict[str, Any]:
    parts = expression.upper().strip().lstrip("R").split("/")
    cycles = int(parts[0]) if parts[0] else -1
    if len(parts) == 3:
        start = parse_due(parts[1])
        duration = _duration_after(start, parts[2]) - start
    else:
        first = _duration_after(now, parts[1])
        duration = first - now
        start = first
    return {"cycles": cycles, "next": start.isoformat(), "duration": duration.total_seconds()}


TIMER_CLASSES = (ClockedTimeDate, ClockedDuration, ClockedCycle)

_CLOCKED: dict[type, type] = {
    TimeDateEventDefinition: ClockedTimeDate,
    DurationTimerEventDefinition: ClockedDuration,
    CycleTimerEventDefinition: ClockedCycle,
}

TIMER_CONVERTERS: dict[type, type] = {timer: TimerConditionalEventDefinitionConverter for timer in TIMER_CLASSES}
"""Serializer config entries (class -> converter) for the clocked timers, stored under their own class names."""


class _ClockedTimerParsing:
    """Parses ``timerEventDefinition`` as SpiffWorkflow does, into the clocked class of the same kind."""

    def parse_timer_event(self, event: Any) -> Any:
        definition = super().parse_timer_event(event)  # type: ignore[misc]
        clocked = _CLOCKED[type(definition)]
        return clocked(definition.name, definition.expression, description=definition.description)


class ClockedStartEventParser(_ClockedTimerParsing, SpiffStartEventParser):  # type: ignore[misc]
    pass


class ClockedIntermediateCatchEventParser(_ClockedTimerParsing, SpiffIntermediateCatchEventParser):  # type: ignore[misc]
    pass


class ClockedBoundaryEventParser(_ClockedTimerParsing, SpiffBoundaryEventParser):  # type: ignore[misc]
    pass


class ClockedBpmnParser(SpiffBpmnParser):  # type: ignore[misc]
    """SpiffWorkflow's parser, with the events that may catch a timer parsed into clocked timers.

    An event-based gateway takes its timer from the intermediate catch event after it, so it
    gets a clocked one too. (A throw event cannot throw a timer.)
    """

    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("startEvent"): (ClockedStartEventParser, StartEvent),
        full_tag("intermediateCatchEvent"): (ClockedIntermediateCatchEventParser, IntermediateCatchEvent),
        full_tag("boundaryEvent"): (ClockedBoundaryEventParser, BoundaryEvent),
    }


def is_timer(definition: Any) -> bool:
    if isinstance(definition, MultipleEventDefinition):
        return any(is_timer(inner) for inner in definition.event_definitions)
    return isinstance(definition, TimerEventDefinition)


def fired_by_timer(task: Any) -> bool:
    """Whether a completed task completed because a timer fired (not, at an event-based gateway, a message)."""
    definition = getattr(task.task_spec, "event_definition", None)
    if definition is None or not task.has_state(TaskState.COMPLETED):
        return False
    if isinstance(definition, MultipleEventDefinition):
        seen = task.internal_data.get("seen_events") or []
        return any(isinstance(event.event_definition, TimerEventDefinition) for event in seen)
    return isinstance(definition, TimerEventDefinition)


def timer_due(task: Any) -> datetime | None:
    """When a waiting timer task is due, if it has been reached."""
    if not task.has_state(TaskState.WAITING):
        return None
    definition = task.task_spec.event_definition
    if isinstance(definition, MultipleEventDefinition):
        dues = [d for d in (_value_due(task, inner) for inner in definition.event_definitions) if d]
        return min(dues) if dues else None
    return _value_due(task, definition)


def _value_due(task: Any, definition: Any) -> datetime | None:
    if not isinstance(definition, TimerEventDefinition):
        return None
    value = task.internal_data.get("event_value")
    if isinstance(value, dict):
        value = value.get("next") if value.get("cycles") != 0 else None
    return parse_due(value) if isinstance(value, str) else None


def fired_due(task: Any) -> datetime | None:
    """When a fired date or duration timer task was due (None for a cycle, or one not fired)."""
    if not fired_by_timer(task):
        return None
    value = task.internal_data.get("event_value")
    return parse_due(value) if isinstance(value, str) else None
