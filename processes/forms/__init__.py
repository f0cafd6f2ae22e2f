"""The forms of user tasks: process id -> user task element id -> marshmallow schema.

Every user task in a BPMN file under ``processes/`` has an entry here; the task's
``id`` in the diagram is the key. One schema renders the form, validates on the
server and documents the API.

Each module in this package named after a process (``placement_move.py`` for
``processes/placement_move.bpmn``) declares ``FORMS: dict[str, type[Schema]]``
for its user tasks; this catalogue gathers them, so adding a process never
means editing this file.
"""

from __future__ import annotations

import importlib
import pkgutil

from marshmallow import Schema


def _catalogue() -> dict[str, dict[str, type[Schema]]]:
    found: dict[str, dict[str, type[Schema]]] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        forms = getattr(module, "FORMS", None)
        if isinstance(forms, dict):
            found[module_info.name] = dict(forms)
    return found


FORMS: dict[str, dict[str, type[Schema]]] = _catalogue()

__all__ = ["FORMS"]
