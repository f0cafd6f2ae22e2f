"""What the CSV imports share: bounds, decoding, reading rows with their line numbers, the preview.

An import is checked in full before anything is written (docs/cohort.md, "Importing attendance"):
:func:`read_csv` decodes the file (UTF-8, a byte order mark allowed) and gives each row its line number
in the file, and each import module turns the rows into an :class:`ImportPreview` — the rows to add, to
replace and unchanged, and every error with its line, column and reason. Applying a preview with any
error changes nothing. The uploaded file waits for its confirmation in :class:`ImportUpload` (a small
table: the browser holds only a random token).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, LargeBinary, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.errors import EngineError, InvalidData
from engine.models import Base

from .records import Child

MAX_BYTES = 5 * 1024 * 1024
"""The largest file an import takes (5 MB)."""
MAX_ROWS = 200_000
"""The most rows an import takes (about four years of weekly attendance for 1,000 children)."""
UPLOAD_KEPT = timedelta(hours=1)
"""How long an uploaded file waits for its confirmation."""
MAX_ERRORS = 1000
"""Errors kept per preview (the file is refused whatever their number; the page shows the first 50)."""
URN = re.compile(r"^\d{6}$")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
UK_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


class TooLarge(EngineError):
    """The file is over :data:`MAX_BYTES` or :data:`MAX_ROWS`."""

    status = 413


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    reason: str


@dataclass(frozen=True)
class Row:
    """One row of the file: its line number (the header is line 1), its values by column name, and
    whether it had more values than the header has columns."""

    line: int
    values: dict[str, str]
    extra: bool = False

    def get(self, column: str) -> str:
        return (self.values.get(column) or "").strip()


@dataclass
class ImportPreview:
    """What applying the file would do. ``add`` and ``replace`` hold the values to write."""

    kind: str
    rows: int = 0
    add: list[dict[str, Any]] = field(default_factory=list)
    replace: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def changes(self) -> int:
        return len(self.add) + len(self.replace)

    def error(self, line: int, column: str, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(line, column, reason))

    def summary(self) -> str:
        return f"{len(self.add)} added, {len(self.replace)} replaced, {self.unchanged} unchanged"


def decode(data: bytes) -> str:
    """The file as text: UTF-8, with or without a byte order mark; anything else is refused (400)."""
    if len(data) > MAX_BYTES:
        raise TooLarge(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB: split it into smaller files")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidData(
            {"file": [f"The file is not UTF-8 text (byte {exc.start + 1} is not valid UTF-8): "
                      "save it as \u201cCSV UTF-8\u201d and upload it again"]},
            "The file is not UTF-8 text",
        ) from None


def read_csv(text: str, required: Sequence[str], optional: Sequence[str],
             one_of: Sequence[str] = ()) -> tuple[list[str], Iterator[Row]]:
    """The header's columns (lower case, trimmed) and the rows. A missing column, an unknown one or an
    empty file is refused (400, naming it); more than :data:`MAX_ROWS` rows is 413."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise InvalidData({"file": ["The file is empty: the first line must name the columns"]}) from None
    except csv.Error as exc:
        raise InvalidData({"file": [f"Line 1 cannot be read as CSV: {exc}"]}) from None
    problems = [f"The column {name} is missing from the first line" for name in required if name not in header]
    if one_of and not set(one_of) & set(header):
        problems.append(f"The first line must have a column {' or '.join(one_of)}")
    known = {*required, *optional, *one_of}
    problems += [f"The column {name or '(blank)'} is not one this import takes" for name in header if name not in known]
    if len(set(header)) != len(header):
        problems.append("A column is named twice in the first line")
    if problems:
        raise InvalidData({"file": problems}, "The first line of the file is not right")
    return header, _rows(reader, header)


def _rows(reader: Any, header: list[str]) -> Iterator[Row]:
    count = 0
    line = reader.line_num
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InvalidData({"file": [f"Line {reader.line_num} cannot be read as CSV: {exc}"]}) from None
        line, start = reader.line_num, line + 1
        if not any(v.strip() for v in values):
            continue  # a blank line
        count += 1
        if count > MAX_ROWS:
            raise TooLarge(f"The file has more than {MAX_ROWS:,} rows: split it into smaller files")
        padded = values + [""] * (len(header) - len(values))
        yield Row(start, dict(zip(header, padded, strict=False)), extra=len(values) > len(header))


@lru_cache(maxsize=4096)
def parse_date(text: str) -> date | None:
    """A date written YYYY-MM-DD or DD/MM/YYYY, or None (a file repeats its dates: they are cached)."""
    try:
        if ISO_DATE.fullmatch(text):
            return date.fromisoformat(text)
        found = UK_DATE.fullmatch(text)
        if found:
            return date(int(found.group(3)), int(found.group(2)), int(found.group(1)))
    except ValueError:
        return None
    return None


@lru_cache(maxsize=4096)
def plausible_date_problem(day: date, today: date) -> str | None:
    """Why ``day`` cannot be a date a record is about: in the future, or more than three years ago."""
    if day > today:
        return "The date is in the future"
    if day < today.replace(year=today.year - 3, day=min(today.day, 28)):
        return "The date is more than 3 years ago"
    return None


def children_by_key(session: Session, la_code: str) -> tuple[dict[str, int], dict[str, int]]:
    """The authority's children by reference and by UPN, in one query (another authority's are unknown)."""
    refs: dict[str, int] = {}
    upns: dict[str, int] = {}
    for child_id, ref, upn in session.execute(select(Child.id, Child.ref, Child.upn).where(Child.la_code == la_code)):
        refs[ref.upper()] = child_id
        if upn:
            upns[upn.upper()] = child_id
    return refs, upns


def find_child(row: Row, refs: dict[str, int], upns: dict[str, int], preview: ImportPreview) -> int | None:
    """The row's child, by UPN or reference; an error naming the column if there is none of ours."""
    if row.extra:
        preview.error(row.line, "(row)", "The row has more values than the first line has columns")
        return None
    upn, ref = row.get("upn").upper(), row.get("child_ref").upper()
    if not upn and not ref:
        preview.error(row.line, "upn", "Enter the child's UPN or their case reference (child_ref)")
        return None
    if upn and upn not in upns:
        preview.error(row.line, "upn", f"No child of this authority has the UPN {row.get('upn')}")
        return None
    if ref and ref not in refs:
        preview.error(row.line, "child_ref", f"No child of this authority has the reference {row.get('child_ref')}")
        return None
    if upn and ref and upns[upn] != refs[ref]:
        preview.error(row.line, "child_ref", f"The UPN {row.get('upn')} and the reference {row.get('child_ref')} "
                                             "are two different children")
        return None
    return upns[upn] if upn else refs[ref]


# -- the uploaded file, waiting for its confirmation --------------------------------------------------


class ImportUpload(Base):
    """An uploaded file between its preview and its confirmation; found by the SHA-256 of its token."""

    __tablename__ = "import_upload"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    username: Mapped[str] = mapped_column(String(100))
    la_code: Mapped[str] = mapped_column(String(10))
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def keep_upload(session: Session, now: datetime, kind: str, username: str, la_code: str,
                filename: str, content: bytes) -> str:
    """Keep the file for its confirmation; the token the confirmation carries. Old uploads are dropped."""
    session.execute(delete(ImportUpload).where(ImportUpload.uploaded_at < now - UPLOAD_KEPT))
    token = secrets.token_urlsafe(32)
    session.add(ImportUpload(token_hash=_hash(token), kind=kind, username=username, la_code=la_code,
                             filename=filename[:200], content=content, uploaded_at=now))
    session.flush()
    return token


def take_upload(session: Session, now: datetime, token: str, kind: str, username: str) -> ImportUpload | None:
    """The file the token stands for, if this user uploaded it for this import within the hour."""
    if not token or len(token) > 100:
        return None
    upload = session.scalars(select(ImportUpload).where(ImportUpload.token_hash == _hash(token))).one_or_none()
    if upload is None or upload.kind != kind or upload.username != username:
        return None
    if upload.uploaded_at.replace(tzinfo=None) < (now - UPLOAD_KEPT).replace(tzinfo=None):
        return None
    return upload
