"""Process-lifetime parts of the engine: parsed specs, forms, calendar, access.

One :class:`Runtime` per process (web worker, scheduler, CLI). It holds nothing
that belongs to a request; services get it alongside their session and clock.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from lxml import etree
from marshmallow import Schema
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser
from sqlalchemy.orm import Session

from .access import AccessPolicy as AccessPolicy
from .access import Actor as Actor
from .access import RoleAccess as RoleAccess
from .calendar import BusinessCalendar
from .errors import DeploymentError, ScriptRefused
from .sandbox import SandboxedScriptEngine
from .state import StateSerializer
from .timers import use_engine_clock

FormCatalogue = Mapping[str, Mapping[str, type[Schema]]]
"""process id -> user task element id -> marshmallow schema class."""


SYSTEM = Actor("system", frozenset())


@dataclass(frozen=True)
class Reached:
    """A BPMN element completed during a step (a user task, script, gateway, timer, end event)."""

    element_id: str
    name: str
    data: Mapping[str, Any]


@dataclass
class StepEvent:
    """What one committed-to-be step did, handed to :class:`StepHooks` in the step's transaction."""

    at: datetime
    actor: str
    instance: Any  # engine.models.ProcessInstance
    runtime: Runtime
    reached: list[Reached]
    opened_tasks: list[dict[str, Any]]
    closed_tasks: list[dict[str, Any]]
    status: str
    deadlines: dict[str, datetime] = field(default_factory=dict)
    """Opened task id -> when the deadline that opened it passed: the due time of the timer
    that fired just before it (an escalation is overdue since then, not since the pump ran)."""

    def reached_ids(self) -> list[str]:
        return [r.element_id for r in self.reached]

    def data_at(self, element_id: str) -> Mapping[str, Any] | None:
        """The task data as it stood when ``element_id`` completed in this step, if it did."""
        for reached in reversed(self.reached):
            if reached.element_id == element_id:
                return reached.data
        return None


class StepHooks(Protocol):
    """How the layer above the engine takes part in a step, inside its transaction.

    ``facts`` runs after a human task's form data is validated and before the task
    runs: it may add server-side facts to the task data (looked up from records,
    never typed by the user) or refuse the data with ``InvalidData``.
    ``after_step`` runs once the step's write has succeeded, in the same
    transaction: it may write records, start other processes, queue notices.
    Anything it raises rolls the whole step back.
    """

    def facts(self, session: Session, task: Any, data: Mapping[str, Any]) -> Mapping[str, Any]: ...

    def after_step(self, session: Session, event: StepEvent) -> None: ...


class NoHooks:
    def facts(self, session: Session, task: Any, data: Mapping[str, Any]) -> Mapping[str, Any]:
        return {}

    def after_step(self, session: Session, event: StepEvent) -> None:
        return None


@dataclass(frozen=True)
class ParsedProcess:
    process_id: str
    name: str
    spec: Any
    subprocess_specs: dict[str, Any]


class StepScriptEngine(SandboxedScriptEngine):
    """The sandbox for one step, knowing the time the engine says it is."""

    def __init__(self, calendar: BusinessCalendar, at: datetime,
                 extra: Mapping[str, Callable[..., Any]] | None = None) -> None:
        self.current_time = at
        functions = calendar.script_functions(lambda: self.current_time)
        functions.update(extra or {})
        super().__init__(functions=functions)


class Runtime:
    def __init__(
        self,
        forms: FormCatalogue | None = None,
        calendar: BusinessCalendar | None = None,
        access: AccessPolicy | None = None,
        hooks: StepHooks | None = None,
        functions: Mapping[str, Callable[..., Any]] | None = None,
    ) -> None:
        """``functions``: extra pure functions BPMN expressions may call (e.g. a child's school year)."""
        self.forms: FormCatalogue = forms or {}
        self.calendar = calendar or BusinessCalendar()
        self.access: AccessPolicy = access or RoleAccess()
        self.hooks: StepHooks = hooks or NoHooks()
        self.functions: dict[str, Callable[..., Any]] = dict(functions or {})
        self.serializer = StateSerializer()
        self._specs: dict[tuple[str, str], ParsedProcess] = {}
        self._lock = threading.Lock()

    def script_engine(self, at: datetime) -> StepScriptEngine:
        return StepScriptEngine(self.calendar, at, self.functions)

    def form_schema(self, process_id: str, element_id: str) -> Schema | None:
        schema_class = self.forms.get(process_id, {}).get(element_id)
        return schema_class() if schema_class is not None else None

    def cached_spec(self, process_id: str, content_sha256: str) -> ParsedProcess | None:
        with self._lock:
            return self._specs.get((process_id, content_sha256))

    def spec(self, process_id: str, bpmn_xml: str, filename: str) -> ParsedProcess:
        """The parsed spec of one definition version, parsed once per process."""
        key = (process_id, content_hash(bpmn_xml))
        with self._lock:
            cached = self._specs.get(key)
        if cached is None:
            cached = self.parse(bpmn_xml, filename)[process_id]
            with self._lock:
                self._specs[key] = cached
        return cached

    def parse(self, bpmn_xml: str, filename: str) -> dict[str, ParsedProcess]:
        """Validate and parse a BPMN document, or refuse it naming file, element and problem."""
        parser = SpiffBpmnParser(validator=VALIDATOR)
        try:
            parser.add_bpmn_str(bpmn_xml.encode("utf-8"), filename=filename)
            executable = _executable_process_ids(bpmn_xml)
            parsed = {}
            for pid in executable:
                spec = parser.get_spec(pid)
                subs = parser.get_subprocess_specs(pid)
                parsed[pid] = ParsedProcess(pid, spec.description or pid, spec, subs)
        except ValidationException as error:
            raise DeploymentError(_describe(error, filename)) from None
        except etree.XMLSyntaxError as error:
            raise DeploymentError(f"{filename}: not well-formed XML: {error}") from None
        except SpiffWorkflowException as error:
            raise DeploymentError(f"{filename}: {error}") from None
        if not parsed:
            raise DeploymentError(f"{filename}: no executable process (isExecutable=\"true\") found")
        for process in parsed.values():
            for spec in [process.spec, *process.subprocess_specs.values()]:
                use_engine_clock(spec)
                self._check_spec(spec, filename)
        return parsed

    def _check_spec(self, spec: Any, filename: str) -> None:
        checker = self.script_engine(datetime.fromtimestamp(0))
        for task_spec in spec.task_specs.values():
            element = getattr(task_spec, "bpmn_id", None) or task_spec.name
            if isinstance(task_spec, UserTask) and not task_spec.lane:
                raise DeploymentError(
                    f"{filename}: element '{element}': user task is not in a lane, so no role may do it"
                )
            for what, source in _sources(task_spec):
                try:
                    checker.validate(source)
                except ScriptRefused as refused:
                    raise DeploymentError(f"{filename}: element '{element}': {what}: {refused.message}") from None


def _sources(task_spec: Any) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    script = getattr(task_spec, "script", None)
    if isinstance(script, str):
        found.append(("script", script))
    for attr in ("prescript", "postscript"):
        extra = getattr(task_spec, attr, None)
        if isinstance(extra, str) and extra.strip():
            found.append((attr, extra))
    for condition, _target in getattr(task_spec, "cond_task_specs", []) or []:
        if condition is not None and condition.args:
            found.append(("condition", str(condition.args[0])))
    definition = getattr(task_spec, "event_definition", None)
    expression = getattr(definition, "expression", None)
    if isinstance(expression, str):
        found.append(("timer expression", expression))
    return found


def _describe(error: ValidationException, filename: str) -> str:
    where = [error.file_name or filename]
    if getattr(error, "line_number", ""):
        where.append(f"line {error.line_number}")
    if getattr(error, "id", ""):
        where.append(f"element '{error.id}'")
    return ", ".join(str(w) for w in where) + f": {str(error).strip()}"


def _executable_process_ids(bpmn_xml: str) -> list[str]:
    root = etree.fromstring(bpmn_xml.encode("utf-8"))
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
    return [str(p.get("id")) for p in root.findall("bpmn:process", ns) if p.get("isExecutable") == "true"]


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


