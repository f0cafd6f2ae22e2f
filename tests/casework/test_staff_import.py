"""The staff CSV import (casework/staff_import.py): line-numbered errors, all or nothing, idempotent, and
every new person invited."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from casework import staff_import
from casework.users import ROLES, StaffInvitation, User
from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.errors import InvalidData
from engine.models import AuditEvent
from notifications.models import OutboxMessage

from .records_support import add_school, add_user

HEADER = "username,display_name,email,roles,school_urn,team\n"
GOOD = HEADER + ("nina,Nina Patel,nina@la.example,social_worker,,North\n"
                 "tom,Tom Reed,tom@la.example,designated_teacher,100001,\n"
                 "mo,Mo Khan,mo@la.example,\"manager;social_worker\",,South\n")


@pytest.fixture
def authority(factory: sessionmaker[Session], clock: FrozenClock) -> None:
    with unit_of_work(factory) as session:
        add_school(session, clock, "100001")
        add_user(session, clock, "admin", ["admin"])
        add_user(session, clock, "oz", ["social_worker"], la_code="936")


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_good_file_adds_and_invites_everyone_and_the_same_file_again_changes_nothing(
        factory: sessionmaker[Session], clock: FrozenClock, authority: None) -> None:
    with unit_of_work(factory) as session:
        result = staff_import.apply(session, clock, "935", GOOD, "admin", "https://vsw.example")
        assert (len(result.add), len(result.replace), result.unchanged) == (3, 0, 0)
    with unit_of_work(factory) as session:
        mo = session.scalars(select(User).where(User.username == "mo")).one()
        assert (mo.roles, mo.la_code, mo.team, mo.school_urn) == ("manager,social_worker", "935", "South", None)
        tom = session.scalars(select(User).where(User.username == "tom")).one()
        assert tom.school_urn == "100001"
        assert sorted(session.scalars(select(OutboxMessage.recipient_email))) == [
            "mo@la.example", "nina@la.example", "tom@la.example"]
        assert count(session, StaffInvitation) == 3
        again = staff_import.apply(session, clock, "935", GOOD, "admin", None)
        assert (len(again.add), len(again.replace), again.unchanged) == (0, 0, 3)
    with unit_of_work(factory) as session:
        assert count(session, OutboxMessage) == 3 and count(session, User) == 5
        imported = session.scalars(select(AuditEvent.data).where(AuditEvent.action == "staff.imported")).all()
        assert [d["added"] for d in imported if d] == [3, 0]


def test_a_changed_row_replaces_that_persons_details_and_is_audited(
        factory: sessionmaker[Session], clock: FrozenClock, authority: None) -> None:
    with unit_of_work(factory) as session:
        staff_import.apply(session, clock, "935", GOOD, "admin", None)
    changed = GOOD.replace("nina@la.example,social_worker,,North", "nina.p@la.example,social_worker,,East")
    with unit_of_work(factory) as session:
        result = staff_import.preview(session, "935", changed)
        assert [item["changes"] for item in result.replace] == [
            {"email": ["nina@la.example", "nina.p@la.example"], "team": ["North", "East"]}]
        assert "nina: email nina@la.example \u2192 nina.p@la.example" in staff_import.describe(result.replace[0])
        staff_import.apply(session, clock, "935", changed, "admin", None)
    with unit_of_work(factory) as session:
        assert session.scalars(select(User.email).where(User.username == "nina")).one() == "nina.p@la.example"
        assert count(session, OutboxMessage) == 3  # no new invitation for a changed person
        assert session.scalars(select(AuditEvent.action).order_by(AuditEvent.id.desc())).first() == "staff.imported"


def test_a_bad_file_is_refused_naming_each_line_and_column_and_nothing_is_written(
        factory: sessionmaker[Session], clock: FrozenClock, authority: None) -> None:
    bad = HEADER + ("nina,Nina Patel,nina@la.example,social_worker,,\n"
                    "tom,Tom Reed,tom-at-la,designated_teacher,999999,\n"
                    "nina,Nina Again,nina@la.example,social_worker,,\n"
                    "oz,Oz Other,oz@la.example,social_worker,,\n"
                    "ann,Ann,ann@la.example,wizard,,\n"
                    "bea,Bea,bea@la.example,social_worker,,,surplus\n")
    with unit_of_work(factory) as session:
        result = staff_import.preview(session, "935", bad)
        assert [(e.line, e.column) for e in result.errors] == [
            (4, "username"), (7, "(row)"), (3, "email"), (3, "school_urn"), (5, "username"), (6, "roles")]
        assert "another authority" in result.errors[4].reason and "line 2" in result.errors[0].reason
        with pytest.raises(InvalidData):
            staff_import.apply(session, clock, "935", bad, "admin", None)
    with unit_of_work(factory) as session:
        assert count(session, User) == 2 and count(session, OutboxMessage) == 0
        assert session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("user.%"))).first() is None


def test_a_file_without_a_needed_column_is_refused_naming_it(
        factory: sessionmaker[Session], clock: FrozenClock, authority: None) -> None:
    with unit_of_work(factory) as session, pytest.raises(InvalidData) as refused:
        staff_import.preview(session, "935", "username,display_name,email,colour\nnina,Nina,n@la.example,red\n")
    assert refused.value.errors["file"] == ["The column roles is missing from the first line",
                                            "The column colour is not one this import takes"]


def test_the_documented_columns_and_roles_are_the_ones_the_import_takes() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "staff.md").read_text(encoding="utf-8")
    section = doc.split("## Importing staff")[1].split("\n## ")[0]
    table = {m.group(1): m.group(2) for m in re.finditer(r"^\| `(\w+)` \| (yes|no) \|", section, re.MULTILINE)}
    assert table == {**dict.fromkeys(staff_import.COLUMNS, "yes"), **dict.fromkeys(staff_import.OPTIONAL, "no")}
    assert set(re.findall(r"`(\w+)`", doc.split("one or more **roles** (")[1].split(")")[0])) == ROLES
