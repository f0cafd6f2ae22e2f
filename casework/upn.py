"""Unique Pupil Numbers (UPN): the 13-character identifier of a pupil in an English state school.

Format (DfE "Unique Pupil Numbers (UPN)" guidance; UK Government Data Standards Catalogue,
"Unique Pupil Number" v2.0):

* character 1: a check letter;
* characters 2-4: the LA number (3 digits);
* characters 5-8: the DfE establishment number (4 digits);
* characters 9-10: the last two digits of the academic year it was allocated;
* characters 11-13: a serial number, 3 digits for a permanent UPN, or 2 digits and a letter
  for a temporary UPN.

The check letter: multiply characters 2-13 by the weights 2, 3, ... 13 (a letter in position 13 counts
as its value in the letter table, A=0 ... Z=22), add them up, take the sum mod 23 and map 0-22 to
A B C D E F G H J K L M N P Q R T U V W X Y Z (I, O and S are never used).
"""

from __future__ import annotations

LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # 23 letters: value = index (A=0 ... Z=22)
UPN_LENGTH = 13


def check_letter(body: str) -> str:
    """The check letter for characters 2-13 of a UPN (12 characters)."""
    if len(body) != UPN_LENGTH - 1:
        raise ValueError("A UPN body is 12 characters")
    total = 0
    for weight, char in enumerate(body, start=2):
        total += weight * (int(char) if char.isdigit() else LETTERS.index(char))
    return LETTERS[total % 23]


def upn_errors(text: str | None) -> list[str]:
    """What is wrong with ``text`` as a UPN, in words a social worker can act on (empty if valid)."""
    upn = (text or "").strip().upper()
    if len(upn) != UPN_LENGTH:
        return [f"A UPN is {UPN_LENGTH} characters; this one has {len(upn)}"]
    errors: list[str] = []
    first, middle, last = upn[0], upn[1:12], upn[12]
    if first not in LETTERS:
        errors.append("The first character must be a check letter (A-Z, not I, O or S)")
    if not middle.isdigit() or not middle.isascii():
        errors.append("Characters 2 to 12 must be digits (LA number, school number, year and serial)")
    if not ((last.isdigit() and last.isascii()) or last in LETTERS):
        errors.append("The last character must be a digit, or a letter (not I, O or S) for a temporary UPN")
    if errors:
        return errors
    expected = check_letter(upn[1:])
    if first != expected:
        return [f"The check letter is wrong: for these digits the check letter should be {expected}"]
    return []


def validate_upn(text: str) -> str:
    """The UPN in canonical form (upper case, no surrounding spaces), or ValueError saying what is wrong."""
    errors = upn_errors(text)
    if errors:
        raise ValueError("; ".join(errors))
    return text.strip().upper()


def is_temporary(upn: str) -> bool:
    """A temporary UPN ends in a letter (issued while the permanent one is unknown)."""
    return upn.strip().upper()[-1:].isalpha()
