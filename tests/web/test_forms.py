from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate
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


class _Action(Schema):
    description = fields.String(required=True, metadata={"label": "What will be done"})
    owner = fields.String(required=True, metadata={"label": "Who will do it"})
    due_date = fields.Date(required=True, metadata={"label": "Due by"})


class _Plan(Schema):
    actions = fields.List(
        fields.Nested(_Action), required=True, validate=validate.Length(min=1, error="Add at least one action."),
        metadata={"label": "Actions", "item_label": "Action", "rows": 3},
    )


def _action_form(rows: dict[int, tuple[str, str, str]]) -> MultiDict[str, str]:
    form: MultiDict[str, str] = MultiDict()
    for i, (what, who, day) in rows.items():
        form[f"actions-{i}-description"] = what
        form[f"actions-{i}-owner"] = who
        if day:
            d, m, y = day.split("/")
            form[f"actions-{i}-due_date-day"], form[f"actions-{i}-due_date-month"] = d, m
            form[f"actions-{i}-due_date-year"] = y
    return form


def test_a_list_of_records_is_shown_as_numbered_rows_of_sub_fields() -> None:
    [actions] = field_views(_Plan())
    assert actions.kind == "rows" and len(actions.rows) == 3
    assert [v.name for v in actions.rows[1]] == ["actions-1-description", "actions-1-owner", "actions-1-due_date"]


def test_filled_rows_become_the_list_and_blank_rows_are_left_out() -> None:
    views = field_views(_Plan())
    data, errors = read_form(views, _action_form({0: ("Phonics catch-up", "Class teacher", "15/1/2027"),
                                                  1: ("", "", ""),
                                                  2: ("Laptop", "Virtual school", "8/1/2027")}))
    assert errors == {}
    assert data == {"actions": [
        {"description": "Phonics catch-up", "owner": "Class teacher", "due_date": "2027-01-15"},
        {"description": "Laptop", "owner": "Virtual school", "due_date": "2027-01-08"},
    ]}
    assert _Plan().load(data)["actions"][1]["owner"] == "Virtual school"


def test_an_error_in_a_list_item_is_shown_on_the_row_it_came_from() -> None:
    views = field_views(_Plan())
    data, _ = read_form(views, _action_form({0: ("", "", ""), 2: ("Laptop", "", "8/1/2027")}))
    try:
        _Plan().load(data)
    except ValidationError as error:
        summary = attach_errors(views, error.messages)  # type: ignore[arg-type]
    [actions] = views
    assert actions.rows[2][1].errors == ["Enter who will do it"]
    assert summary == [("Enter who will do it", "actions-2-owner")]


def test_no_rows_filled_gives_the_list_error() -> None:
    views = field_views(_Plan())
    data, _ = read_form(views, _action_form({}))
    try:
        _Plan().load(data)
    except ValidationError as error:
        summary = attach_errors(views, error.messages)  # type: ignore[arg-type]
    assert summary == [("Add at least one action", "actions")]
