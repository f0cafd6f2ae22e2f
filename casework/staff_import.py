"""The staff CSV import (docs/staff.md, "Importing staff"): one row per person, for one authority.

Columns: ``username``, ``display_name``, ``email``, ``roles`` (role ids separated by semicolons), and
optionally ``school_urn`` (a designated teacher's school) and ``team``. A new username adds the person,
who is sent an invitation; a known username of the same authority has its details replaced when they
differ; anything else is unchanged, so the same file twice changes nothing. People missing from the file
are left as they are. The whole file is checked first (casework/csv_import.py): any error, and nothing
is written. Services flush, never commit.
"""

from __future__ import annotations

from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.errors import InvalidData
from engine.models import AuditEvent

from .csv_import import ImportPreview, decode, read_csv
from .invitations import invite
from .staff import FIELDS, StaffDetails, StaffService, clean, known_schools, problems, split_roles
from .users import User

KIND = "staff"
COLUMNS = ("username", "display_name", "email", "roles")
OPTIONAL = ("school_urn", "team")


def preview(session: Session, la_code: str, text: str) -> ImportPreview:
    """What importing ``text`` for the authority ``la_code`` would do: nothing is written."""
    _, rows = read_csv(text, COLUMNS, OPTIONAL)
    result = ImportPreview(KIND)
    wanted: list[tuple[int, StaffDetails]] = []
    lines: dict[str, int] = {}
    for row in rows:
        result.rows += 1
        if row.extra:
            result.error(row.line, "(row)", "The row has more values than the first line has columns")
            continue
        details = clean(StaffDetails(row.get("username"), row.get("display_name"), row.get("email"),
                                     split_roles(row.get("roles")), la_code, row.get("school_urn"), row.get("team")))
        key = details.username.lower()
        if key and key in lines:
            result.error(row.line, "username", f"The username {details.username} is on line {lines[key]} too")
            continue
        lines[key] = row.line
        wanted.append((row.line, details))
    schools = known_schools(session, {d.school_urn or "" for _, d in wanted})
    known = {u.username.lower(): u for u in session.scalars(
        select(User).where(func.lower(User.username).in_([d.username.lower() for _, d in wanted if d.username])))}
    for line, details in wanted:
        wrong = problems(details, schools)
        for column, reason in wrong.items():
            result.error(line, column, reason)
        if wrong:
            continue
        user = known.get(details.username.lower())
        if user is None:
            result.add.append({"line": line, "details": details})
        elif user.la_code != la_code:
            result.error(line, "username", f"The username {details.username} belongs to someone of another authority")
        elif user.username != details.username:
            result.error(line, "username", f"The username is recorded as {user.username}: write it the same way")
        else:
            before, after = StaffDetails.of(user).values(), details.values()
            changes = {name: [before[name], after[name]] for name in FIELDS if before[name] != after[name]}
            if changes:
                result.replace.append({"line": line, "details": details, "changes": changes})
            else:
                result.unchanged += 1
    return result


def apply(session: Session, clock: Clock, la_code: str, text: str, actor: str, base_url: str | None,
          hasher: PasswordHasher | None = None) -> ImportPreview:
    """Import the file: all of it, or (any error) nothing, raising InvalidData. New people are invited."""
    result = preview(session, la_code, text)
    if not result.ok:
        raise InvalidData({"file": [f"{result.error_count} rows have errors: nothing was imported"]},
                          "The file has errors: nothing was imported")
    staff = StaffService(session, clock, hasher)
    for item in result.add:
        user = staff.create(item["details"], actor)
        invite(session, clock, user, actor, base_url)
    for item in result.replace:
        staff.change(item["details"].username, item["details"], actor)
    session.add(AuditEvent(at=clock.now(), actor=actor[:100], action="staff.imported", data={
        "la_code": la_code, "rows": result.rows, "added": len(result.add), "replaced": len(result.replace),
        "unchanged": result.unchanged}))
    session.flush()
    return result


def import_bytes(session: Session, clock: Clock, la_code: str, data: bytes, actor: str, base_url: str | None,
                 hasher: PasswordHasher | None = None) -> ImportPreview:
    return apply(session, clock, la_code, decode(data), actor, base_url, hasher)


def describe(item: dict[str, Any]) -> str:
    """One row of the preview in words: who, and what changes."""
    details: StaffDetails = item["details"]
    changes = item.get("changes")
    if not changes:
        return f"{details.username} ({details.display_name}): new, invited by email to {details.email}"
    return f"{details.username}: " + "; ".join(f"{name} {old or '(blank)'} \u2192 {new or '(blank)'}"
                                               for name, (old, new) in changes.items())
