"""The schools register from the DfE's "Get Information about Schools" (GIAS) establishment download.

:func:`read` takes the file as published (UTF-8 with or without a byte order mark, or Windows-1252; about
300 columns, of which only :data:`COLUMNS` are read) and gives its rows with their line numbers, or refuses
it naming each bad line. :func:`preview` says what importing them would do — schools to add, schools whose
details changed (updated in place), unchanged, passed over (not a school, see casework/gias_types.py) and
closed establishments left out because no record names them — and :func:`apply` does it in the caller's
transaction, all or nothing, with one audit entry carrying the counts. The register is national (children
in care are often at school in another authority), so every authority's schools are read. Schools are never
deleted: one that closed stays, marked closed. :func:`pack`/:func:`unpack` keep just the columns read, for
the page's confirmation step (``import_upload``). docs/import-schools.md.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import astuple, dataclass, field
from typing import Any

from sqlalchemy import insert, select, union, update
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.errors import InvalidData

from .csv_import import ImportPreview, TooLarge
from .gias_types import ESTABLISHMENT_TYPES, NOT_SCHOOLS, STATUSES, phase_of
from .records import Child, PermanentExclusion, School, audit_change
from .school_data import AttendanceRecord, Suspension
from .users import User

MAX_BYTES = 100 * 1024 * 1024
"""The largest file taken (100 MB: the national download is about 60 MB)."""
MAX_ROWS = 200_000
KIND = "schools"
COLUMNS = {
    "urn": "URN", "la_code": "LA (code)", "la_name": "LA (name)", "name": "EstablishmentName",
    "type_name": "TypeOfEstablishment (name)", "group": "EstablishmentTypeGroup (name)",
    "status": "EstablishmentStatus (name)", "phase": "PhaseOfEducation (name)",
    "low": "StatutoryLowAge", "high": "StatutoryHighAge", "postcode": "Postcode",
}
"""The columns read (by their published names); the file's other columns are ignored."""
REQUIRED = ("urn", "la_code", "name", "type_name", "status")
GROUPS = {"Academies": ("academy", False), "Free Schools": ("academy", False),
          "Independent schools": ("independent", False), "Colleges": ("further_education", False)}
"""``EstablishmentTypeGroup (name)``: the fallback for a type casework/gias_types.py does not know."""
URN = re.compile(r"\d{6}")
LA_CODE = re.compile(r"\d{3}")
COMPARED = ("name", "school_type", "la_is_admission_authority", "la_code", "la_name", "phase", "status",
            "establishment_type", "statutory_low_age", "statutory_high_age", "postcode")


@dataclass(frozen=True, slots=True)
class GiasRow:
    """The columns read from one line of the file (all text, trimmed)."""

    line: int
    urn: str
    la_code: str
    la_name: str
    name: str
    type_name: str
    group: str
    status: str
    phase: str
    low: str
    high: str
    postcode: str


@dataclass
class GiasPreview(ImportPreview):
    """What importing the file would do (casework/csv_import.py's preview); ``add`` and ``change`` hold the
    school rows to write, and the establishments passed over or left out are counted by kind."""

    kind: str = KIND
    passed_over: Counter[str] = field(default_factory=Counter)
    closed_left_out: int = 0

    @property
    def change(self) -> list[dict[str, Any]]:
        """The registered schools the file changes (the preview's ``replace``)."""
        return self.replace

    def counts(self) -> dict[str, int]:
        return {"rows": self.rows, "added": len(self.add), "changed": len(self.change), "unchanged": self.unchanged,
                "passed_over": sum(self.passed_over.values()), "closed_left_out": self.closed_left_out}

    def summary(self) -> str:
        c = self.counts()
        return (f"{c['added']} new, {c['changed']} changed, {c['unchanged']} unchanged, {c['passed_over']} not "
                f"schools passed over, {c['closed_left_out']} closed and named by no record left out")


def decode(data: bytes) -> str:
    """The file as text: UTF-8 (a byte order mark allowed), else Windows-1252 (as GIAS publishes it)."""
    if len(data) > MAX_BYTES:
        raise TooLarge(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise InvalidData({"file": [f"The file is neither UTF-8 nor Windows-1252 text (byte {exc.start + 1} "
                                    "cannot be read): download it from GIAS again"]},
                          "The file is not text") from None


def read(text: str) -> Iterator[GiasRow]:
    """The file's rows (line numbers count the header as line 1). A missing column or an empty file is
    refused (400, naming it); more than :data:`MAX_ROWS` rows is 413."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise InvalidData({"file": ["The file is empty: the first line must name the columns"]}) from None
    except csv.Error as exc:
        raise InvalidData({"file": [f"Line 1 cannot be read as CSV: {exc}"]}) from None
    where = {name.lower(): index for index, name in reversed(list(enumerate(header)))}
    missing = [COLUMNS[key] for key in REQUIRED if COLUMNS[key].lower() not in where]
    if missing:
        raise InvalidData({"file": [f"The column {name} is missing from the first line" for name in missing]},
                          "This is not a GIAS establishment download")
    indexes = [(key, where.get(title.lower())) for key, title in COLUMNS.items()]
    return _rows(reader, indexes)


def _rows(reader: Any, indexes: list[tuple[str, int | None]]) -> Iterator[GiasRow]:
    count, line = 0, reader.line_num
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InvalidData({"file": [f"Line {reader.line_num} cannot be read as CSV: {exc}"]}) from None
        line, start = reader.line_num, line + 1
        if not any(v.strip() for v in values):
            continue
        count += 1
        if count > MAX_ROWS:
            raise TooLarge(f"The file has more than {MAX_ROWS:,} rows")
        size = len(values)
        yield GiasRow(start, **{key: values[i].strip() if i is not None and i < size else "" for key, i in indexes})


def pack(rows: list[GiasRow]) -> bytes:
    """The rows, compressed, for the confirmation step (a few MB for the national file, not 60)."""
    return gzip.compress(json.dumps([astuple(row) for row in rows], separators=(",", ":")).encode(), 6)


def unpack(content: bytes) -> list[GiasRow]:
    return [GiasRow(*values) for values in json.loads(gzip.decompress(content))]


def _age(row: GiasRow, key: str, preview: GiasPreview) -> int | None:
    text = getattr(row, key)
    if not text:
        return None
    if not text.isdigit() or int(text) > 25:
        preview.error(row.line, COLUMNS[key], f"{text!r} is not an age in years (a whole number from 0 to 25)")
        return None
    return int(text)


def _school(row: GiasRow, preview: GiasPreview) -> dict[str, Any] | None:
    """The register's row for a line of the file; None if it is not a school (counted) or is wrong (an error)."""
    kind = ESTABLISHMENT_TYPES.get(row.type_name) or GROUPS.get(row.group)
    if kind is None:
        known = row.type_name in NOT_SCHOOLS
        preview.passed_over[row.type_name if known else f"{row.type_name or '(blank)'} (a type not known here)"] += 1
        return None
    errors = preview.error_count
    if row.status not in STATUSES:
        preview.error(row.line, COLUMNS["status"], f"{row.status or '(blank)'} is not an establishment status: "
                                                   f"expected one of {', '.join(STATUSES)}")
    if not LA_CODE.fullmatch(row.la_code):
        preview.error(row.line, COLUMNS["la_code"], f"{row.la_code or '(blank)'} is not a three-digit LA code")
    if not row.name or len(row.name) > 200:
        preview.error(row.line, COLUMNS["name"], "The name is blank" if not row.name else
                      "The name is longer than 200 characters")
    if len(row.postcode) > 10:
        preview.error(row.line, COLUMNS["postcode"], f"{row.postcode!r} is not a postcode (over 10 characters)")
    low, high = _age(row, "low", preview), _age(row, "high", preview)
    if low is not None and high is not None and low > high:
        preview.error(row.line, COLUMNS["high"], f"The high age {high} is below the low age {low}")
    if preview.error_count > errors:
        return None
    return {"urn": row.urn, "name": row.name, "school_type": kind[0], "la_is_admission_authority": kind[1],
            "la_code": row.la_code, "la_name": row.la_name[:100] or None, "phase": phase_of(row.phase),
            "status": STATUSES[row.status], "establishment_type": (row.type_name or row.group)[:100],
            "statutory_low_age": low, "statutory_high_age": high, "postcode": row.postcode or None}


def named_by_records(session: Session) -> set[str]:
    """The URNs a record names: a child's school, attendance, suspensions, exclusions, designated teachers."""
    named = union(*(select(column).where(column.is_not(None)) for column in (
        Child.school_urn, AttendanceRecord.school_urn, Suspension.school_urn, PermanentExclusion.school_urn,
        User.school_urn)))
    return {str(urn) for (urn,) in session.execute(named)}


def preview(session: Session, rows: Iterator[GiasRow] | list[GiasRow]) -> GiasPreview:
    """What importing ``rows`` would do to the register, without writing anything."""
    result = GiasPreview()
    existing = {r[0]: tuple(r[1:]) for r in session.execute(
        select(School.urn, *(getattr(School, name) for name in COMPARED)))}
    named: set[str] | None = None
    seen: dict[str, int] = {}
    for row in rows:
        result.rows += 1
        if not URN.fullmatch(row.urn):
            result.error(row.line, COLUMNS["urn"], f"{row.urn or '(blank)'} is not a URN (six digits)")
            continue
        if row.urn in seen:
            result.error(row.line, COLUMNS["urn"], f"The URN {row.urn} is also on line {seen[row.urn]}")
            continue
        seen[row.urn] = row.line
        school = _school(row, result)
        if school is None:
            continue
        before = existing.get(row.urn)
        if before is None and school["status"] == "closed":
            named = named_by_records(session) if named is None else named
            if row.urn not in named:
                result.closed_left_out += 1
                continue
        if before is None:
            result.add.append(school)
        elif before != tuple(school[name] for name in COMPARED):
            result.change.append(school)
        else:
            result.unchanged += 1
    if result.rows == 0:
        result.error(2, "(file)", "The file has no establishments under its first line")
    return result


def apply(session: Session, clock: Clock, rows: Iterator[GiasRow] | list[GiasRow], actor: str,
          filename: str = "") -> GiasPreview:
    """Import the rows in the caller's transaction; a file with any error changes nothing (400)."""
    return write(session, clock, preview(session, rows), actor, filename)


def write(session: Session, clock: Clock, result: GiasPreview, actor: str, filename: str = "") -> GiasPreview:
    """Write a preview just made in this transaction; one with any error writes nothing (400)."""
    if not result.ok:
        raise InvalidData({f"line {e.line}": [f"{e.column}: {e.reason}"] for e in result.errors[:20]},
                          f"The file has {result.error_count} errors: nothing was imported")
    for start in range(0, len(result.add), 5000):
        session.execute(insert(School), result.add[start:start + 5000])
    for start in range(0, len(result.change), 5000):
        session.execute(update(School), result.change[start:start + 5000])
    audit_change(session, clock.now(), actor, "schools.imported", None, {"file": filename[:200], **result.counts()})
    return result
