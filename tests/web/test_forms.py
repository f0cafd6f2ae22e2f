from __future__ import annotations

import pytest
from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.datastructures import MultiDict

from web.forms import REFUSED, attach_errors, field_views, read_form

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
    assert data["move_date"] is REFUSED
    assert errors == {"move_date": ["Date of the move must be a real date"]}
    with pytest.raises(ValidationError) as refused:
        RecordMove().load(data)
    assert "move_date" in refused.value.messages


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


# -- bounds: nothing posted can make reading fail; what is refused is named, and never loads --------------


@pytest.mark.parametrize("raw", ["²", "٩", "9" * 10, "9" * 5000, "1.5", "1e3", "--1", " "])
def test_a_whole_number_is_one_to_nine_ascii_digits_or_it_is_refused_naming_the_field_and_its_range(
    raw: str,
) -> None:
    views = field_views(RecordMove())
    data, errors = read_form(views, MultiDict({"year_group": raw}))
    if not raw.strip():
        assert "year_group" not in data and errors == {}
        return
    assert data["year_group"] is REFUSED
    assert errors == {"year_group": ["Year group must be a whole number from 0 to 14"]}


def test_a_whole_number_in_ascii_digits_is_read_as_a_number_for_the_schema_to_bound() -> None:
    data, errors = read_form(field_views(RecordMove()), MultiDict({"year_group": "-3"}))
    assert data == {"year_group": -3} and errors == {}


class _Amounts(Schema):
    hours = fields.Float(validate=validate.Range(min=0, max=60), metadata={"label": "Hours"})
    spend = fields.Float(metadata={"label": "Spend"})


@pytest.mark.parametrize(("raw", "read"), [("12", "12"), ("91.5", "91.5"), (".5", ".5"), ("٩٠", None),
                                           ("1e400", None), ("nan", None), ("9" * 13, None)])
def test_a_number_is_ascii_digits_with_at_most_six_decimals_or_it_is_refused(
    raw: str, read: str | None
) -> None:
    data, errors = read_form(field_views(_Amounts()), MultiDict({"hours": raw, "spend": raw}))
    if read is not None:
        assert data == {"hours": read, "spend": read} and errors == {}
        return
    assert data == {"hours": REFUSED, "spend": REFUSED}
    assert errors == {"hours": ["Hours must be a number from 0 to 60"], "spend": ["Spend must be a number"]}


@pytest.mark.parametrize(("day", "month", "year", "problem"), [
    ("1", "2", "99999999999999999999", "must have a year from 1900 to 2100"),
    ("1", "2", "26", "must have a year from 1900 to 2100"),
    ("1", "2", "1899", "must have a year from 1900 to 2100"),
    ("1", "2", "²⁰²⁶", "must have a year from 1900 to 2100"),
    ("1", "999", "2026", "must be a real date"),
    ("١", "2", "2026", "must be a real date"),
    ("", "2", "2026", "must include a day"),
])
def test_a_dates_parts_are_bounded_so_no_year_can_overflow(
    day: str, month: str, year: str, problem: str
) -> None:
    views = field_views(RecordMove())
    form = MultiDict({"move_date-day": day, "move_date-month": month, "move_date-year": year})
    data, errors = read_form(views, form)
    assert data["move_date"] is REFUSED
    assert errors == {"move_date": [f"Date of the move {problem}"]}
    date_view = next(v for v in views if v.name == "move_date")
    assert date_view.value == {"day": day, "month": month, "year": year}  # shown again as typed


@pytest.mark.parametrize("bad", ["\x00", "\x1b", "\x7f", "\x0b"])
def test_a_control_character_in_any_field_is_refused_naming_the_field_and_taken_out_of_what_is_shown(
    bad: str,
) -> None:
    views = field_views(RecordMove())
    form = MultiDict({"reason": f"Carers{bad} moving", "new_school": f"Hi{bad}ll",
                      "school_kind": f"acad{bad}emy", "move_date-day": f"1{bad}1", "move_date-month": "2",
                      "move_date-year": "2026"})
    data, errors = read_form(views, form)
    named = ("reason", "new_school", "school_kind", "move_date")
    assert {name: data[name] for name in named} == dict.fromkeys(named, REFUSED)
    assert errors["reason"] == ["Reason for the move had a character that is not allowed, which has been "
                                "taken out: check it and send it again"]
    assert set(errors) == {"reason", "new_school", "school_kind", "move_date"}
    shown = {v.name: v.value for v in views}
    assert shown["reason"] == "Carers moving" and shown["new_school"] == "Hill"
    assert shown["move_date"] == {"day": "11", "month": "2", "year": "2026"}


def test_tabs_and_new_lines_are_kept_and_a_text_areas_new_lines_are_one_character_each() -> None:
    views = field_views(RecordMove())
    form = MultiDict({"reason": "One\tTwo\r\nThree\rFour\r\n", "new_school": "A\tB"})
    data, errors = read_form(views, form)
    assert errors == {}
    assert data == {"reason": "One\tTwo\nThree\nFour", "new_school": "A\tB"}


def test_no_field_of_any_kind_loads_a_refused_answer() -> None:
    data = dict.fromkeys(RecordMove().fields, REFUSED)
    with pytest.raises(ValidationError) as refused:
        RecordMove().load(data)
    assert set(refused.value.messages) == set(RecordMove().fields)
    with pytest.raises(ValidationError):
        _Amounts().load({"hours": REFUSED})
    with pytest.raises(ValidationError):
        _Plan().load({"actions": [{"description": REFUSED, "owner": "Me", "due_date": "2026-01-01"}]})


class _Limited(Schema):
    notes = fields.String(validate=[validate.Length(max=500), validate.Length(max=300)],
                          metadata={"label": "Notes", "multiline": True})
    name = fields.String(validate=validate.Length(max=100), metadata={"label": "Name"})
    code = fields.String(validate=validate.OneOf(["a", "b"]), metadata={"label": "Code"})


def test_a_text_fields_maximum_length_comes_from_its_schema() -> None:
    views = {v.name: v for v in field_views(_Limited())}
    assert (views["notes"].kind, views["notes"].max_length) == ("textarea", 300)
    assert (views["name"].kind, views["name"].max_length) == ("text", 100)
    assert views["code"].max_length is None  # a choice


def test_the_same_message_from_two_validators_is_shown_once() -> None:
    views = field_views(_Limited())
    summary = attach_errors(views, {"name": ["Too long.", "Too long."]})
    assert summary == [("Too long.", "name")]
