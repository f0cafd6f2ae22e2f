"""Importing attainment from CSV: a preview with line-numbered errors, then all or nothing.

The format (docs/cohort.md, "Attainment and post-16"): a header line naming the columns, in any order,
``child,academic_year,term,subject,kind,value,target`` (``target`` may be left out), then one assessment a
line. ``child`` is the child's UPN or reference; only children the importer may see are found (any other
is "not on your roll", whether or not it exists). A line's key is (child, academic year, term, subject,
kind): a file naming one key twice is refused; importing a key that is already recorded replaces its value
and target, so the same file twice changes nothing and a corrected file replaces what it corrects.

:func:`preview` checks every line and counts what would be new, changed or unchanged; :func:`apply` does the
same and, when there is no error at all, records every line (the caller's unit of work commits).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from .attainment import TERMS, academic_year_error, record, value_error
from .records import Child
from .school_data import Attainment

COLUMNS = ("child", "academic_year", "term", "subject", "kind", "value", "target")
REQUIRED = COLUMNS[:-1]
MAX_LINES = 10_000
"""The most assessment lines one file may hold."""
CHUNK = 500


@dataclass(frozen=True)
class Line:
    number: int
    child_id: int
    academic_year: str
    term: str
    subject: str
    kind: str
    value: str
    target: str | None

    @property
    def key(self) -> tuple[int, str, str, str, str]:
        return (self.child_id, self.academic_year, self.term, self.subject, self.kind)


@dataclass
class Preview:
    """What a file would do: its errors (each naming its line), and how many lines are new, changed or
    the same as what is recorded."""

    lines: list[Line] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    new: int = 0
    changed: int = 0
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.lines)


class FileError(ValueError):
    """The file cannot be read at all (not UTF-8 text, no header, too long)."""


def _rows(content: bytes | str) -> list[dict[str, str]]:
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise FileError("The file is not UTF-8 text: save it as ‘CSV UTF-8’ and try again") from None
    reader = csv.reader(io.StringIO(content.lstrip("\ufeff")))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise FileError("The file is empty: the first line must name the columns") from None
    except csv.Error as exc:
        raise FileError(f"Line 1 is not CSV ({exc})") from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise FileError(f"Line 1 must name the columns {', '.join(COLUMNS)} (missing: {', '.join(missing)})")
    rows: list[dict[str, str]] = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                rows.append({})  # a blank line keeps its number
                continue
            rows.append({name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(header)})
            if len(rows) > MAX_LINES:
                raise FileError(f"The file has more than {MAX_LINES:,} lines: split it into smaller files")
    except csv.Error as exc:
        raise FileError(f"Line {reader.line_num} is not CSV ({exc})") from None
    return rows


def _children(session: Session, visible: ColumnElement[bool], names: set[str]) -> dict[str, int]:
    """UPN or reference -> child id, for the children the importer may see (``visible``)."""
    found: dict[str, int] = {}
    wanted = sorted(names)
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start:start + CHUNK]
        upper = [n.upper() for n in chunk]
        query = select(Child.id, Child.ref, Child.upn).where(visible, or_(Child.ref.in_(chunk), Child.upn.in_(upper)))
        for child_id, ref, upn in session.execute(query):
            found[ref] = child_id
            if upn:
                found[upn] = child_id
    return found


def preview(session: Session, visible: ColumnElement[bool], content: bytes | str) -> Preview:
    """Check every line of ``content``; raises :class:`FileError` when the file cannot be read at all."""
    rows = _rows(content)
    result = Preview()
    children = _children(session, visible, {r.get("child", "") for r in rows if r.get("child")})
    seen: dict[tuple[int, str, str, str, str], int] = {}
    for number, row in enumerate(rows, start=2):
        if not row:
            continue
        line = _line(number, row, children, result.errors)
        if line is None:
            continue
        if line.key in seen:
            result.errors.append(f"Line {number}: repeats line {seen[line.key]} (the same child, academic year, "
                                 "term, subject and kind): keep one of them")
            continue
        seen[line.key] = number
        result.lines.append(line)
    if not rows or not any(rows):
        result.errors.append("The file has no assessments: add a line for each, under the header")
    _count(session, result)
    return result


def _line(number: int, row: dict[str, str], children: dict[str, int], errors: list[str]) -> Line | None:
    child = row.get("child", "")
    problems: list[str] = []
    for name in REQUIRED:
        if not row.get(name):
            problems.append(f"{name.replace('_', ' ')} is blank")
    child_id = children.get(child) or children.get(child.upper())
    if child and child_id is None:
        problems.append(f"no child with UPN or reference ‘{child}’ is on your roll")
    year, term = row.get("academic_year", ""), row.get("term", "").lower()
    if year and (problem := academic_year_error(year)):
        problems.append(problem)
    if term and term not in TERMS:
        problems.append(f"term ‘{term}’ must be one of {', '.join(TERMS)}")
    subject, kind = row.get("subject", "").lower(), row.get("kind", "").lower()
    value, target = row.get("value", "").lower(), row.get("target", "").lower() or None
    if subject and kind and value and (problem := value_error(subject, kind, value, target)):
        problems.append(problem)
    if problems:
        errors.append(f"Line {number}: " + "; ".join(problems))
        return None
    assert child_id is not None
    return Line(number, child_id, year, term, subject, kind, value, target)


def _count(session: Session, result: Preview) -> None:
    ids = sorted({line.child_id for line in result.lines})
    recorded: dict[tuple[int, str, str, str, str], tuple[str, str | None]] = {}
    for start in range(0, len(ids), CHUNK):
        query = select(Attainment).where(Attainment.child_id.in_(ids[start:start + CHUNK]))
        for row in session.scalars(query):
            recorded[(row.child_id, row.academic_year, row.term, row.subject, row.kind)] = (row.value, row.target)
    for line in result.lines:
        before = recorded.get(line.key)
        if before is None:
            result.new += 1
        elif before == (line.value, line.target):
            result.unchanged += 1
        else:
            result.changed += 1


def apply(session: Session, visible: ColumnElement[bool], content: bytes | str, at: datetime) -> Preview:
    """Record every line of ``content`` if none has an error; otherwise record nothing. The preview says which."""
    result = preview(session, visible, content)
    if result.ok:
        for line in result.lines:
            record(session, line.child_id, line.academic_year, line.term, line.subject, line.kind, line.value,
                   line.target, at=at)
    return result


def recorded_count(session: Session, visible: ColumnElement[bool]) -> int:
    """How many attainment records the children the importer may see have (shown on the import page)."""
    query = select(func.count()).select_from(Attainment).join(Child, Child.id == Attainment.child_id).where(visible)
    return int(session.scalar(query) or 0)
