from __future__ import annotations

import pytest

from casework.upn import check_letter, is_temporary, upn_errors, validate_upn

# Worked example of the school census error 1510 help (Arbor, Pupil Asset): for 207000016049 the
# weighted sum is (2x2)+(4x7)+(9x1)+(10x6)+(12x4)+(13x9). That help says 267 and "Q", but the sum is
# 266 (4+28+9+60+48+117) and 266 - 11x23 = 13, which is P in the table (P=13, Q=14): the published
# example has an arithmetic slip. The stdnum example below (B801200005001) confirms the method:
# 16+4+10+50+13 = 93, 93 mod 23 = 1 -> B.
WORKED_EXAMPLE = "P207000016049"


def test_the_dfe_worked_example_is_a_valid_upn() -> None:
    assert upn_errors(WORKED_EXAMPLE) == []
    assert validate_upn(" p207000016049 ") == WORKED_EXAMPLE
    assert check_letter("207000016049") == "P"


def test_a_second_published_example_is_valid() -> None:
    # python-stdnum's doctest for stdnum.gb.upn: B801200005001 is valid, A801200005001 is not.
    assert upn_errors("B801200005001") == []
    assert upn_errors("A801200005001") != []


def test_a_wrong_check_letter_says_which_letter_it_should_be() -> None:
    errors = upn_errors("Q207000016049")
    assert errors == ["The check letter is wrong: for these digits the check letter should be P"]
    with pytest.raises(ValueError, match="should be P"):
        validate_upn("B207000016049")


@pytest.mark.parametrize("text", ["Q20700001604", "Q2070000160490", "", None])
def test_a_upn_of_the_wrong_length_is_refused_with_the_length(text: str | None) -> None:
    errors = upn_errors(text)
    assert len(errors) == 1 and "13 characters" in errors[0]


def test_a_temporary_upn_ending_in_a_letter_is_valid_with_the_letter_valued_from_the_table() -> None:
    # 20700001604 weighted as above without position 13 = 149; A=0 -> 149 mod 23 = 11 -> M;
    # B=1 at weight 13 -> 162 mod 23 = 1 -> B.
    assert upn_errors("M20700001604A") == []
    assert upn_errors("B20700001604B") == []
    assert is_temporary("M20700001604A") and not is_temporary(WORKED_EXAMPLE)
    assert "should be B" in upn_errors("M20700001604B")[0]


def test_letters_i_o_and_s_are_never_check_letters_or_temporary_letters() -> None:
    assert "check letter (A-Z, not I, O or S)" in upn_errors("I207000016049")[0]
    assert "temporary UPN" in upn_errors("M20700001604O")[0]


def test_letters_in_the_middle_of_a_upn_are_refused() -> None:
    assert "Characters 2 to 12 must be digits" in upn_errors("Q2070A0016049")[0]
