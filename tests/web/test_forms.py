from __future__ import annotations

from werkzeug.datastructures import MultiDict

from web.forms import attach_errors, field_views, read_form

from .support import RecordMove


def test_fields_follow_the_schema_in_order_with_their_kinds() -> None:
    views = field_views(RecordMove())
    assert [(v.name, v.kind, v.required) for v in views] == [
        ("reason", "textarea", True),
        ("move_date", "date", True),
        ("emergency", "boolean", True),
        ("year_group", "integer", True),
        ("school_kind", "choice", True),
        ("new_school", "text", False),
    ]


def test_posted_form_becomes_schema_data_and_blank_means_not_given() -> None:
    views = field_views(RecordMove())
    form = MultiDict(
        {
            "reason": " Moving ",
            "move_date-day": "1",
            "move_date-month": "9",
            "move_date-year": "2026",
            "emergency": "yes",
            "year_group": "10",
            "school_kind": "academy",
            "new_school": "  ",
        }
    )
    data, errors = read_form(views, form)
    assert errors == {}
    assert data == {
        "reason": "Moving",
        "move_date": "2026-09-01",
        "emergency": True,
        "year_group": 10,
        "school_kind": "academy",
    }


def test_impossible_date_is_passed_on_for_the_schema_to_refuse_and_worded_for_people() -> None:
    views = field_views(RecordMove())
    data, errors = read_form(
        views, MultiDict({"move_date-day": "30", "move_date-month": "2", "move_date-year": "2026"})
    )
    assert data["move_date"] == "2026-2-30"
    assert errors == {"move_date": ["Date of the move must be a real date"]}


def test_summary_follows_the_form_order_and_links_to_the_fields() -> None:
    views = field_views(RecordMove())
    summary = attach_errors(
        views,
        {
            "school_kind": ["Must be one of: maintained, academy."],
            "reason": ["Missing data for required field."],
            "_schema": ["Something about the whole form"],
        },
    )
    assert summary == [
        ("Enter reason for the move", "reason"),
        ("Select kind of new school", "school_kind"),
        ("Something about the whole form", None),
    ]
    emergency = next(v for v in views if v.name == "emergency")
    attach_errors(views, {"emergency": ["Missing data for required field."]})
    assert emergency.errors == ["Select an answer to: Is this an emergency move?"]
