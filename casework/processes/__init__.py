"""One glue module per process: the domain's side of each BPMN file in ``processes/``.

- :mod:`.placement_move`, :mod:`.admission_direction`, :mod:`.pep_review`: each names its
  BPMN elements once (its ``Step`` enum) and owns its start data, server-side facts,
  after-step handling, escalation rules and notices (:class:`.glue.ProcessGlue`).
- :mod:`casework.hooks` dispatches every step to the glue of its process.

Adding a process: a BPMN file, its forms (``processes/forms/``), a glue module here, and
one line in ``GLUES`` (docs/processes.md, "Changing a process").
"""

from __future__ import annotations

from collections.abc import Mapping

from ..escalations import Rule
from . import admission_direction, pep_review, placement_move
from .glue import ProcessGlue

GLUES: Mapping[str, ProcessGlue] = {
    glue.process_id: glue for glue in (placement_move.GLUE, admission_direction.GLUE, pep_review.GLUE)
}
"""Process id -> its glue."""

RULES: Mapping[tuple[str, str], Rule] = {
    (glue.process_id, str(task)): rule for glue in GLUES.values() for task, rule in glue.escalations.items()
}
"""(process id, manager escalation task) -> the escalation it raises."""

KINDS: Mapping[str, str] = {rule.kind: rule.label for rule in RULES.values()}
"""Escalation kind -> its label, as managers see it."""


def glue_for(process_id: str) -> ProcessGlue | None:
    return GLUES.get(process_id)


__all__ = ["GLUES", "KINDS", "RULES", "ProcessGlue", "glue_for"]
