"""The hints of the shipped forms speak of the controls people see: radios are chosen, never ticked;
and an answer, once recorded, does not go on saying an approval is needed."""

from __future__ import annotations

import re

from processes.forms import FORMS
from processes.forms.placement_move import FORMS as MOVE_FORMS
from web.forms import FieldView, field_views, recorded_answers

TICKING = re.compile(r"\b(un)?tick", re.IGNORECASE)


def radios(views: list[FieldView]) -> list[FieldView]:
    found = []
    for view in views:
        if view.kind in ("boolean", "choice"):  # rendered as radios (web/templates/macros/fields.html)
            found.append(view)
        for row in view.rows[:1]:
            found.extend(radios(row))
    return found


def test_no_hint_on_a_radio_field_of_any_form_talks_of_ticking() -> None:
    ticking = [f"{process}/{task}: {view.name}: {view.hint}"
               for process, tasks in FORMS.items() for task, schema in tasks.items()
               for view in radios(field_views(schema())) if view.hint and TICKING.search(view.hint)]
    assert ticking == []
    checked = sum(len(radios(field_views(schema()))) for tasks in FORMS.values() for schema in tasks.values())
    assert checked > 10  # the scan reached the forms' radios


def test_a_distant_placement_once_recorded_does_not_still_say_it_needs_the_dcss_approval() -> None:
    [(_label, text)] = recorded_answers(MOVE_FORMS, {"distance": "out_of_area_distant"})
    assert text == "Out of area and not adjoining ('at a distance')"
    assert "approval" not in text
    [distance] = [v for v in field_views(MOVE_FORMS["confirm_care_placement"]()) if v.name == "distance"]
    assert distance.hint and "Director of Children's Services' approval" in distance.hint  # said when choosing
