"""Process-lifetime parts of the engine: parsed specs, forms, calendar, access.

One :class:`Runtime` per process (web worker, scheduler, CLI). It holds nothing
that belongs to a request; services get it alongside their session and clock.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree
from marshmallow import Schema
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser import VALIDATOR

from .access import AccessPolicy as AccessPolicy
from .access import Actor as Actor
from .access import RoleAccess as RoleAccess
from .calendar import BusinessCalendar
from .checks import check_spec, executable_process_ids
from .contracts import NoHooks as NoHooks
from .contracts import Reached as Reached
from .contracts import StepEvent as StepEvent
from .contracts import StepHooks as StepHooks
from .errors import DeploymentError
from .sandbox import SandboxedScriptEngine, ScriptLimits
from .state import StateSerializer, connect_loop_merges
from .timers import ClockedBpmnParser

FormCatalogue = Mapping[str, Mapping[str, type[Schema]]]
"""process id -> user task element id -> marshmallow schema class."""


SYSTEM = Actor("system", frozenset())


@dataclass(frozen=True)
class ParsedProcess:
    process_id: str
    name: str
    spec: Any
    subprocess_specs: dict[str, Any]


class StepScriptEngine(SandboxedScriptEngine):
    """The sandbox for one step, knowing the time the engine says it is; ``limits`` bound each script."""

    def __init__(self, calendar: BusinessCalendar, at: datetime,
                 extra: Mapping[str, Callable[..., Any]] | None = None, limits: ScriptLimits | None = None) -> None:
        self.current_time = at
        functions = calendar.script_functions(lambda: self.current_time)
        functions.update(extra or {})
        super().__init__(functions=functions, limits=limits)


class Runtime:
    def __init__(
        self,
        forms: FormCatalogue | None = None,
        calendar: BusinessCalendar | None = None,
        access: AccessPolicy | None = None,
        hooks: StepHooks | None = None,
        functions: Mapping[str, Callable[..., Any]] | None = None,
        limits: ScriptLimits | None = None,
    ) -> None:
        """``functions``: extra pure functions BPMN expressions may call (e.g. a child's school year).
        ``limits``: the CPU-time, size and memory bounds of each script and expression (engine/limits.py)."""
        self.forms: FormCatalogue = forms or {}
        self.calendar = calendar or BusinessCalendar()
        self.access: AccessPolicy = access or RoleAccess()
        self.hooks: StepHooks = hooks or NoHooks()
        self.functions: dict[str, Callable[..., Any]] = dict(functions or {})
        self.limits = limits or ScriptLimits()
        self.serializer = StateSerializer()
        self._specs: dict[tuple[str, str], ParsedProcess] = {}
        self._lock = threading.Lock()

    def script_engine(self, at: datetime) -> StepScriptEngine:
        return StepScriptEngine(self.calendar, at, self.functions, self.limits)

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
        parser = ClockedBpmnParser(validator=VALIDATOR)  # timers read the engine's clock
        try:
            parser.add_bpmn_str(bpmn_xml.encode("utf-8"), filename=filename)
            executable = executable_process_ids(bpmn_xml, filename)
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
        for process in parsed.values():
            for spec in [process.spec, *process.subprocess_specs.values()]:
                connect_loop_merges(spec)
                check_spec(spec, filename)
        return parsed


def _describe(error: ValidationException, filename: str) -> str:
    where = [error.file_name or filename]
    if getattr(error, "line_number", ""):
        where.append(f"line {error.line_number}")
    if getattr(error, "id", ""):
        where.append(f"element '{error.id}'")
    return ", ".join(str(w) for w in where) + f": {str(error).strip()}"


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


