"""Every form's answers are bounded in its schema: free text has a maximum length whose message names it,
and numbers have a range. The page shows each limit (web/forms.py reads it from the schema)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from marshmallow import Schema, ValidationError, fields, validate

from processes.forms import FORMS

LONGEST = 10_000


Found = tuple[str, type[Schema], str, fields.Field[object]]


def all_fields() -> Iterator[Found]:
    """(where, schema class, name, field) for every field of every form, nested rows included."""
    seen: set[tuple[type[Schema], str]] = set()

    def walk(where: str, schema_class: type[Schema]) -> Iterator[Found]:
        for name, field in schema_class().fields.items():
            if (schema_class, name) in seen:
                continue
            seen.add((schema_class, name))
            if isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
                nested = field.inner.nested
                assert isinstance(nested, type) and issubclass(nested, Schema)
                yield from walk(f"{where}.{name}[]", nested)
                continue
            yield where, schema_class, name, field

    for process_id, forms in FORMS.items():
        for task_id, schema_class in forms.items():
            yield from walk(f"{process_id}.{task_id}", schema_class)


FIELDS = list(all_fields())
TEXT = [(f"{where}.{name}", schema, name, field) for where, schema, name, field in FIELDS
        if isinstance(field, fields.String)
        and not any(isinstance(v, validate.OneOf) for v in field.validators)]
NUMBERS = [(f"{where}.{name}", field) for where, _, name, field in FIELDS if isinstance(field, fields.Number)]


def max_length(field: fields.Field[object]) -> int | None:
    limits = [v.max for v in field.validators if isinstance(v, validate.Length) and v.max is not None]
    return min(limits) if limits else None


def test_the_catalogue_has_free_text_and_number_fields_to_check() -> None:
    assert len(TEXT) > 40 and len(NUMBERS) >= 5


@pytest.mark.parametrize(("where", "schema", "name", "field"), TEXT, ids=[t[0] for t in TEXT])
def test_every_free_text_field_has_a_maximum_length_whose_message_names_it(
    where: str, schema: type[Schema], name: str, field: fields.Field[object]
) -> None:
    limit = max_length(field)
    assert limit is not None, f"{where} has no maximum length (validate.Length(max=...))"
    assert limit <= LONGEST
    key = field.data_key or name
    with pytest.raises(ValidationError) as refused:
        schema().load({key: "1" * (limit + 1)}, partial=True)
    messages = refused.value.messages
    assert isinstance(messages, dict) and key in messages
    text = " ".join(map(str, messages[key]))
    assert f"{limit:,}" in text or str(limit) in text, text


@pytest.mark.parametrize(("where", "schema", "name", "field"), TEXT, ids=[t[0] for t in TEXT])
def test_every_free_text_field_takes_text_at_its_limit(
    where: str, schema: type[Schema], name: str, field: fields.Field[object]
) -> None:
    limit = max_length(field)
    assert limit is not None
    key = field.data_key or name
    value = "1" * limit
    try:
        schema().load({key: value}, partial=True)
    except ValidationError as refused:  # only a rule across fields may object, never this field's own checks
        assert isinstance(refused.messages, dict) and key not in refused.messages, refused.messages


@pytest.mark.parametrize(("where", "field"), NUMBERS, ids=[n[0] for n in NUMBERS])
def test_every_number_field_has_a_range_with_both_ends(where: str, field: fields.Field[object]) -> None:
    ranges = [v for v in field.validators if isinstance(v, validate.Range)]
    assert ranges, f"{where} has no validate.Range"
    assert any(v.min is not None for v in ranges) and any(v.max is not None for v in ranges), where
