"""Reading the SSDA903 return (children looked after): the header and episodes files, checked line by line.

The header file has one row per child (``CHILD, SEX, DOB, ETHNIC, UPN, MOTHER, MC_DOB``, optionally
``FORENAME`` and ``SURNAME``); the episodes file one row per episode of care (``CHILD, DECOM, RNE, LS, CIN,
PLACE, PLACE_PROVIDER, DEC, REC, REASON_PLACE_CHANGE, HOME_POST, PL_POST, URN``), dates as ``dd/mm/YYYY``.
:func:`read_return` gives each child's checked row and episodes in date order, and every error with its
file, line, column and child. Only what the records need is kept: never a full postcode, the sex, the
ethnicity or the mother's details. What the rows change is worked out by casework/ssda903_apply.py.
docs/import-children.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from engine.errors import InvalidData

from .csv_import import MAX_ERRORS, Row, parse_date, read_csv
from .ssda903_codes import (
    CONTINUES,
    ENDED_CODES,
    LEGAL_STATUS_CODES,
    NEW_EPISODE_CODES,
    NOT_APPLICABLE,
    PLACEMENT_CODES,
    PROVIDER_CODES,
    SEX_CODES,
    UNKNOWN_UPN,
    postcode_district,
)
from .upn import upn_errors

HEADER_COLUMNS = ("child", "sex", "dob", "ethnic", "upn", "mother", "mc_dob")
HEADER_OPTIONAL = ("forename", "surname")
EPISODE_COLUMNS = ("child", "decom", "rne", "ls", "cin", "place", "place_provider", "dec", "rec",
                   "reason_place_change", "home_post", "pl_post", "urn")
CHILD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,39}$")
"""A child's ``CHILD`` id becomes their case reference: letters, digits and -, up to 40 characters."""
PROVIDER_URN = re.compile(r"^[A-Z0-9]{1,8}$")


@dataclass(frozen=True)
class FileError:
    """A problem in one line of one file; ``child`` is the row's CHILD (None when the row names none)."""

    file: str
    line: int
    column: str
    reason: str
    child: str | None = None

    def __str__(self) -> str:
        return f"{self.file} line {self.line}, column {self.column.upper()}: {self.reason}"


@dataclass(frozen=True)
class Episode:
    line: int
    decom: date
    rne: str
    ls: str
    place: str
    provider: str
    dec: date | None
    rec: str | None
    district: str | None
    urn: str | None

    @property
    def ends_care(self) -> bool:
        return self.rec is not None and self.rec != CONTINUES


@dataclass
class ChildRows:
    """One child of the return: the header row's values and their episodes (sorted by start date)."""

    ref: str
    line: int
    date_of_birth: date
    upn: str | None
    first_name: str | None
    last_name: str | None
    episodes: list[Episode] = field(default_factory=list)


@dataclass
class Return:
    """The checked return: its children and every error (at most :data:`MAX_ERRORS` kept)."""

    header_file: str
    episodes_file: str
    children: dict[str, ChildRows] = field(default_factory=dict)
    errors: list[FileError] = field(default_factory=list)
    error_count: int = 0
    header_rows: int = 0
    episode_rows: int = 0

    def error(self, file: str, line: int, column: str, reason: str, child: str | None) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(FileError(file, line, column, reason, child))

    @property
    def children_in_error(self) -> set[str]:
        return {e.child for e in self.errors if e.child is not None}

    @property
    def unskippable(self) -> bool:
        """Some error names no child (or more errors than were kept): the file cannot be imported in part."""
        return self.error_count > len(self.errors) or any(e.child is None for e in self.errors)


def _rows(text: str, file: str, required: tuple[str, ...], optional: tuple[str, ...]) -> Iterator[Row]:
    try:
        _, rows = read_csv(text, required, optional)
        yield from rows
    except InvalidData as invalid:
        reasons = [reason for found in invalid.errors.values() for reason in found]
        raise InvalidData({file: [f"{file}: {reason}" for reason in reasons]},
                          f"{file} cannot be read") from None


def read_return(header_text: str, episodes_text: str, today: date, header_file: str = "header.csv",
                episodes_file: str = "episodes.csv") -> Return:
    """Both files checked: a file that cannot be read (its first line, its encoding) is InvalidData
    naming the file; every problem in a row is an error naming the file, the line and the column."""
    found = Return(header_file, episodes_file)
    seen_upns: dict[str, str] = {}
    for row in _rows(header_text, header_file, HEADER_COLUMNS, HEADER_OPTIONAL):
        found.header_rows += 1
        child = _header_row(row, found, today, seen_upns)
        if child is not None:
            found.children[child.ref] = child
    for row in _rows(episodes_text, episodes_file, EPISODE_COLUMNS, ()):
        found.episode_rows += 1
        _episode_row(row, found, today)
    for child in found.children.values():
        _check_episodes(child, found)
    return found


def _child_id(row: Row, file: str, found: Return) -> str | None:
    ref = row.get("child")
    if row.extra:
        found.error(file, row.line, "(row)", "The row has more values than the first line has columns",
                    ref or None)
        return None
    if not ref:
        found.error(file, row.line, "child", "Enter the child's CHILD id", None)
        return None
    if not CHILD_ID.fullmatch(ref):
        found.error(file, row.line, "child", "A CHILD id is letters, digits and -, up to 40 characters", ref)
        return None
    return ref


def _date(row: Row, file: str, found: Return, column: str, ref: str, today: date,
          required: bool = True) -> date | None:
    text = row.get(column)
    if not text:
        if required:
            found.error(file, row.line, column, "Enter the date, like 27/03/2024", ref)
        return None
    day = parse_date(text)
    if day is None:
        found.error(file, row.line, column, f"{text!r} is not a date written dd/mm/YYYY", ref)
    elif day > today:
        found.error(file, row.line, column, "The date is in the future", ref)
        return None
    return day


def _header_row(row: Row, found: Return, today: date, seen_upns: dict[str, str]) -> ChildRows | None:
    file = found.header_file
    ref = _child_id(row, file, found)
    if ref is None:
        return None
    if ref in found.children:
        found.error(file, row.line, "child", f"CHILD {ref} is also on line {found.children[ref].line}", ref)
        return None
    before = found.error_count
    born = _date(row, file, found, "dob", ref, today)
    if row.get("sex") not in SEX_CODES:
        found.error(file, row.line, "sex", "SEX must be 1 (male) or 2 (female)", ref)
    upn_text = row.get("upn").upper()
    upn: str | None = None
    if upn_text and not UNKNOWN_UPN.fullmatch(upn_text):
        problems = upn_errors(upn_text)
        if problems:
            found.error(file, row.line, "upn", "; ".join(problems), ref)
        elif upn_text in seen_upns:
            found.error(file, row.line, "upn", f"The UPN is also CHILD {seen_upns[upn_text]}'s", ref)
        else:
            upn, seen_upns[upn_text] = upn_text, ref
    names = {}
    for column in HEADER_OPTIONAL:
        names[column] = row.get(column) or None
        if len(names[column] or "") > 100:
            found.error(file, row.line, column, "A name is at most 100 characters", ref)
    if found.error_count > before or born is None:
        return ChildRows(ref, row.line, date.min, None, None, None)  # known, so its episodes are not "unknown"
    return ChildRows(ref, row.line, born, upn, names["forename"], names["surname"])


def _code(row: Row, found: Return, column: str, codes: dict[str, str] | dict[str, tuple[str, str]],
          ref: str, what: str, required: bool = True) -> str:
    text = row.get(column).upper()
    if not text and not required:
        return ""
    if text not in codes:
        reason = f"Enter the {what} code" if not text else f"{text!r} is not an SSDA903 {what} code"
        found.error(found.episodes_file, row.line, column, reason, ref)
    return text


def _episode_row(row: Row, found: Return, today: date) -> None:
    file = found.episodes_file
    ref = _child_id(row, file, found)
    if ref is None:
        return
    child = found.children.get(ref)
    if child is None:
        found.error(file, row.line, "child", f"CHILD {ref} is not in the header file", ref)
        return
    before = found.error_count
    decom = _date(row, file, found, "decom", ref, today)
    rne = _code(row, found, "rne", NEW_EPISODE_CODES, ref, "reason for new episode (RNE)")
    ls = _code(row, found, "ls", LEGAL_STATUS_CODES, ref, "legal status (LS)")
    place = _code(row, found, "place", PLACEMENT_CODES, ref, "placement type (PLACE)")
    provider = _code(row, found, "place_provider", PROVIDER_CODES, ref, "placement provider", required=False)
    dec = _date(row, file, found, "dec", ref, today, required=False)
    rec = _code(row, found, "rec", ENDED_CODES, ref, "reason episode ceased (REC)", required=False) or None
    if (dec is None) != (rec is None) and found.error_count == before:
        found.error(file, row.line, "rec" if dec else "dec",
                    "DEC and REC go together: give both (the episode ended) or neither", ref)
    if decom and dec and dec < decom:
        found.error(file, row.line, "dec", "The episode cannot end before it starts (DECOM)", ref)
    if decom and child.date_of_birth != date.min and decom < child.date_of_birth:
        found.error(file, row.line, "decom", "The episode cannot start before the child's DOB", ref)
    post = row.get("pl_post")
    district = None if not post or post.upper() == NOT_APPLICABLE else postcode_district(post)
    if post and post.upper() != NOT_APPLICABLE and district is None:
        found.error(file, row.line, "pl_post", "PL_POST is not a postcode (or XXXXXXX)", ref)
    urn = row.get("urn").upper()
    if urn and urn != NOT_APPLICABLE and not PROVIDER_URN.fullmatch(urn):
        found.error(file, row.line, "urn", "URN is the placement's Ofsted URN (or XXXXXXX)", ref)
    if found.error_count == before and decom is not None:
        child.episodes.append(Episode(row.line, decom, rne, ls, place, provider, dec, rec, district,
                                      urn if urn and urn != NOT_APPLICABLE else None))


def _check_episodes(child: ChildRows, found: Return) -> None:
    """Episodes follow each other: no overlap, X1 followed the same day, only the last one open."""
    file = found.episodes_file
    if child.ref in found.children_in_error:
        return
    if not child.episodes:
        found.error(found.header_file, child.line, "child", f"CHILD {child.ref} has no episodes in "
                                                            f"{found.episodes_file}", child.ref)
        return
    child.episodes.sort(key=lambda e: (e.decom, e.line))
    for before, after in zip(child.episodes, child.episodes[1:], strict=False):
        if before.decom == after.decom:
            found.error(file, after.line, "decom", f"Line {before.line} starts an episode the same day", child.ref)
        elif before.dec is None:
            found.error(file, before.line, "dec", f"The episode has not ended, but line {after.line} starts "
                                                  "a later one", child.ref)
        elif before.dec > after.decom:
            found.error(file, after.line, "decom", f"The episode starts before line {before.line}'s ends", child.ref)
        elif before.rec == CONTINUES and before.dec != after.decom:
            found.error(file, before.line, "rec", f"REC X1 says the next episode starts on DEC, but line "
                                                  f"{after.line} starts {after.decom:%d/%m/%Y}", child.ref)
    last = child.episodes[-1]
    if last.rec == CONTINUES:
        found.error(file, last.line, "rec", "REC X1 says a new episode begins the same day, but none follows",
                    child.ref)
