"""Money as people type it (issue 12): "£1,200.50" is read, stored as 1200.5, shown with a £ prefix."""

from __future__ import annotations

from typing import Any

import pytest
from marshmallow import Schema, ValidationError

from processes.forms._fields import MONEY_FORMAT, money
from web.forms import field_views, read_form


class _Spend(Schema):
    pupil_premium_plus_spend = money("Pupil Premium Plus spend", "This term.", "Enter the spend.",
                                     most=100_000)


def _load(typed: Any) -> Any:
    return _Spend().load({"pupil_premium_plus_spend": typed})["pupil_premium_plus_spend"]


@pytest.mark.parametrize(("typed", "stored"), [("£1,200.50", 1200.5), ("1200.5", 1200.5), ("1,200", 1200.0),
                                               ("0", 0.0), ("£100,000", 100_000.0), (300, 300.0)])
def test_an_amount_typed_as_people_type_it_is_stored_as_a_number(typed: Any, stored: float) -> None:
    assert _load(typed) == stored


@pytest.mark.parametrize("typed", ["£1,2,00", "12.345", "-5", "£-5", "twelve", "12a", "1e3", "NaN", "£"])
def test_an_amount_that_is_not_pounds_and_pence_is_refused_with_the_govuk_message(typed: str) -> None:
    with pytest.raises(ValidationError) as refused:
        _load(typed)
    assert refused.value.messages == {"pupil_premium_plus_spend": [MONEY_FORMAT]}
    assert MONEY_FORMAT == "Enter the amount in pounds, like £1,200.50"


def test_an_amount_over_the_limit_is_refused_naming_the_limit() -> None:
    with pytest.raises(ValidationError) as refused:
        _load("£100,000.01")
    assert refused.value.messages == {"pupil_premium_plus_spend": ["Pupil Premium Plus spend must be £100,000 or less"]}


def test_the_web_form_passes_the_typed_amount_to_the_schema_and_shows_a_pound_prefix() -> None:
    views = field_views(_Spend())
    assert [v.kind for v in views] == ["money"]
    data, errors = read_form(views, {"pupil_premium_plus_spend": " £1,200.50 "})
    assert (data, errors) == ({"pupil_premium_plus_spend": "£1,200.50"}, {})
    assert _Spend().load(data)["pupil_premium_plus_spend"] == 1200.5
