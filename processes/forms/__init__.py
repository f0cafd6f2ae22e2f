"""The forms of user tasks: process id -> user task element id -> marshmallow schema.

Every user task in a BPMN file under ``processes/`` has an entry here; the task's
``id`` in the diagram is the key. One schema renders the form, validates on the
server and documents the API.
"""

from __future__ import annotations

from marshmallow import Schema

from processes.forms.placement_move import (
    ArrangeSchoolPlace,
    ConfirmCarePlacement,
    EscalateNoSchoolPlace,
    ProposeMove,
    RecordVshViews,
    SignOffMove,
)

FORMS: dict[str, dict[str, type[Schema]]] = {
    "placement_move": {
        "propose_move": ProposeMove,
        "confirm_care_placement": ConfirmCarePlacement,
        "arrange_school_place": ArrangeSchoolPlace,
        "escalate_no_school_place": EscalateNoSchoolPlace,
        "record_vsh_views": RecordVshViews,
        "sign_off_move": SignOffMove,
    },
}

__all__ = ["FORMS"]
