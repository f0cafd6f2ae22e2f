"""The SSDA903 import: children, legal status, placements, leavers and PEPs from the header and episodes files.

Sample returns are written here in the published format (invented children; UPNs with valid check letters):
:func:`sample_header` and :func:`sample_episodes` are also used by the CLI and web tests.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, sessionmaker

from casework.records import LEGAL_STATUSES, PLACEMENT_TYPES, Child, Pep, Placement, values
from casework.rules import initial_pep_due_on
from casework.ssda903_apply import apply, preview
from casework.ssda903_codes import LEGAL_STATUS_CODES, PLACEMENT_CODES, placement_type, postcode_district
from casework.upn import check_letter
from engine.clock import FrozenClock
from engine.errors import InvalidData
from engine.models import AuditEvent, HumanTask, ProcessInstance, TimerRow
from engine.runtime import Actor
from tests.casework.records_support import LA
from tests.casework.world import World

ADMIN = Actor("admin", frozenset({"admin"}))
HEADER = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n"
EPISODES = "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\n"


def upn(body: str) -> str:
    """A UPN with its check letter (``body``: the 12 characters after it)."""
    return check_letter(body) + body


def sample_header() -> str:
    return HEADER + (f"A001,1,14/03/2016,WBRI,{upn('935123426001')},,\n"
                     f"A002,2,02/05/2012,WBRI,{upn('935123426002')},,\n"
                     "A003,1,09/01/2011,MWBC,UN5,,\n"
                     f"A004,2,21/07/2019,ASIN,{upn('935123426004')},,\n")


def sample_episodes(a001_ended: str = ",") -> str:
    """A001 new to care (20/11/2026); A002 in care since 2022, now at a residential school (URN 100003);
    A003 left care on 10/11/2026; A004's legal status changed from C1 to C2 in the same placement."""
    return EPISODES + (f"A001,20/11/2026,S,C2,N1,U4,PR1,{a001_ended},,B1 1AA,LS6 2AB,XXXXXXX\n"
                       "A002,01/09/2022,S,V2,N2,U6,PR4,15/03/2025,X1,,,M1 1AE,XXXXXXX\n"
                       "A002,15/03/2025,P,V2,N2,S1,PR4,,,CHG,,NG1 5DT,100003\n"
                       "A003,01/04/2024,S,C2,N1,U4,PR1,10/11/2026,E4A,,,,XXXXXXX\n"
                       "A004,05/05/2023,S,C1,N1,U6,PR1,01/07/2023,X1,,,XXXXXXX,XXXXXXX\n"
                       "A004,01/07/2023,L,C2,N1,U6,PR1,,,,,XXXXXXX,XXXXXXX\n")


def run(world: World, header: str, episodes: str, pep_start: str = "next_termly",
        skip: tuple[str, ...] = ()) -> dict[str, int]:
    with world.session() as session:
        return apply(session, world.clock, world.runtime, LA, header, episodes, ADMIN, pep_start, skip).counts()


def look(world: World, header: str, episodes: str) -> dict[str, int]:
    with world.session() as session:
        return preview(session, LA, header, episodes, world.clock.now().date()).counts()


def children(world: World) -> dict[str, Child]:
    with world.session() as session:
        found = {c.ref: c for c in session.scalars(select(Child).where(Child.ref.like("A%")))}
        session.expunge_all()
    return found


def count(world: World, model: type, *where: ColumnElement[bool]) -> int:
    with world.session() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def peps(world: World, ref: str) -> list[tuple[str, date | None]]:
    with world.session() as session:
        rows = session.execute(select(Pep.kind, Pep.due_at).join(Child, Child.id == Pep.child_id)
                               .where(Child.ref == ref)).all()
    return [(kind, (due - timedelta(days=1)).date() if due else None) for kind, due in rows]  # due by the day before


@pytest.fixture
def world(factory: sessionmaker[Session], clock: FrozenClock) -> World:
    return World(factory, clock)


def test_every_ssda903_code_maps_to_one_of_the_projects_legal_statuses_and_placement_types() -> None:
    assert set(LEGAL_STATUS_CODES.values()) <= set(values(LEGAL_STATUSES))
    assert {placement_type(code, "PR1") for code in PLACEMENT_CODES} <= set(values(PLACEMENT_TYPES))
    assert placement_type("U6", "PR4") == "agency_foster_care" and placement_type("U6", "PR1") == "foster_care"
    assert postcode_district("ls6 2ab") == "LS6" and postcode_district("SW1A") == "SW1A"
    assert postcode_district("not a postcode") is None


def test_the_preview_counts_the_children_and_writes_nothing(world: World) -> None:
    assert look(world, sample_header(), sample_episodes()) == {"new": 4, "changed": 0, "leaving": 0, "unchanged": 0}
    assert count(world, Child, Child.ref.like("A%")) == 0


def test_an_import_records_children_legal_status_care_start_placements_school_and_leavers(world: World) -> None:
    assert run(world, sample_header(), sample_episodes())["new"] == 4
    found = children(world)
    a1, a2, a3, a4 = (found[ref] for ref in ("A001", "A002", "A003", "A004"))
    assert (a1.la_code, a1.date_of_birth, a1.upn, a1.legal_status) == (LA, date(2016, 3, 14), upn("935123426001"), "C2")
    assert a1.looked_after_since == date(2026, 11, 20) and a1.left_care_on is None
    assert a1.full_name == "Child A001"  # the return carries no names
    assert (a2.looked_after_since, a2.legal_status, a2.school_urn) == (date(2022, 9, 1), "V2", "100003")
    assert a3.upn is None and a3.left_care_on == date(2026, 11, 10)
    assert (a4.legal_status, a4.looked_after_since) == ("C2", date(2023, 5, 5))
    with world.session() as session:
        rows = session.execute(select(Child.ref, Placement.starts_on, Placement.ends_on, Placement.placement_type,
                                      Placement.carer_name, Placement.id == Child.current_placement_id)
                               .join(Child, Child.id == Placement.child_id)
                               .where(Child.ref.like("A%")).order_by(Child.ref, Placement.starts_on)).all()
    assert [tuple(r) for r in rows] == [
        ("A001", date(2026, 11, 20), None, "foster_care", "Own provision (by the council), LS6", True),
        ("A002", date(2022, 9, 1), date(2025, 3, 15), "agency_foster_care", "Private provision, M1", False),
        ("A002", date(2025, 3, 15), None, "residential_school", "Private provision, NG1", True),
        ("A003", date(2024, 4, 1), date(2026, 11, 10), "foster_care", "Own provision (by the council)", True),
        ("A004", date(2023, 5, 5), None, "foster_care", "Own provision (by the council)", True),
    ]
    assert "2AB" not in " ".join(r.carer_name for r in rows)  # a postcode district only, never the full postcode


def test_a_child_new_to_care_gets_their_initial_pep_as_if_added_by_hand_and_others_wait_for_the_termly_review(
    world: World
) -> None:
    run(world, sample_header(), sample_episodes())
    with world.session() as session:
        due = initial_pep_due_on(session, LA, date(2026, 11, 20))
    assert peps(world, "A001") == [("initial", due)]
    assert world.open_tasks("A001", "pep_review")
    assert peps(world, "A002") == peps(world, "A003") == peps(world, "A004") == []


def test_children_already_in_care_get_an_initial_pep_due_from_the_import_when_the_operator_chooses_it(
    world: World
) -> None:
    run(world, sample_header(), sample_episodes(), pep_start="initial_now")
    with world.session() as session:
        due = initial_pep_due_on(session, LA, world.clock.now().date())
    assert peps(world, "A002") == peps(world, "A004") == [("initial", due)]
    assert due >= world.clock.now().date()
    assert peps(world, "A003") == []  # left care: no PEP


def test_importing_the_same_files_twice_changes_nothing(world: World) -> None:
    run(world, sample_header(), sample_episodes())
    audits = count(world, AuditEvent)
    assert look(world, sample_header(), sample_episodes()) == {"new": 0, "changed": 0, "leaving": 0, "unchanged": 4}
    assert run(world, sample_header(), sample_episodes()) == {"new": 0, "changed": 0, "leaving": 0, "unchanged": 4}
    assert count(world, AuditEvent) == audits + 1  # the import itself, with its counts
    assert count(world, Placement) == 5


def test_a_child_whose_latest_episode_ended_leaves_and_their_processes_end_with_the_reason(world: World) -> None:
    run(world, sample_header(), sample_episodes())
    with world.session() as session:
        [instance_id] = session.scalars(select(ProcessInstance.id).where(ProcessInstance.business_key == "A001"))
    ended = sample_episodes(a001_ended="30/11/2026,E13")
    assert look(world, sample_header(), ended) == {"new": 0, "changed": 0, "leaving": 1, "unchanged": 3}
    run(world, sample_header(), ended)
    assert children(world)["A001"].left_care_on == date(2026, 11, 30)
    with world.session() as session:
        instance = session.get(ProcessInstance, instance_id)
        assert instance is not None and instance.status == "cancelled"
        assert session.scalar(select(func.count()).select_from(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.state == "open")) == 0
        assert session.scalar(select(func.count()).select_from(TimerRow).where(
            TimerRow.instance_id == instance_id, TimerRow.state == "waiting")) == 0
        cancelled = session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id,
                                                             AuditEvent.action == "instance_cancelled")).one()
        assert "Left care on 30/11/2026" in (cancelled.data or {})["reason"] and "E13" in (cancelled.data or {})["reason"]
        left = session.scalars(select(AuditEvent).where(AuditEvent.business_key == "A001",
                                                        AuditEvent.action == "child.left_care")).one()
        assert (left.data or {})["processes_cancelled"] == [instance_id] and left.actor == "admin"
    assert look(world, sample_header(), ended)["leaving"] == 0


def test_a_bad_return_is_refused_naming_each_file_line_and_column_and_changes_nothing(world: World) -> None:
    header = sample_header().replace(upn("935123426002"), "A935123426002") + "A005,3,01/01/2015,WBRI,,,\n"
    episodes = (sample_episodes().replace("A004,01/07/2023,L,C2,N1,U6", "A004,01/07/2023,L,C2,N1,Q9")
                + "A005,01/01/2026,S,C2,N1,U4,PR1,02/02/2026,,,,,\nA009,01/01/2026,S,C2,N1,U4,PR1,,,,,,\n")
    with world.session() as session:
        found = preview(session, LA, header, episodes, world.clock.now().date(), "h.csv", "e.csv").found
    shown = [str(error) for error in found.errors]
    assert "h.csv line 3, column UPN: The check letter is wrong: for these digits the check letter should be " \
           f"{upn('935123426002')[0]}" in shown
    assert "h.csv line 6, column SEX: SEX must be 1 (male) or 2 (female)" in shown
    assert "e.csv line 7, column PLACE: 'Q9' is not an SSDA903 placement type (PLACE) code" in shown
    assert "e.csv line 8, column REC: DEC and REC go together: give both (the episode ended) or neither" in shown
    assert "e.csv line 9, column CHILD: CHILD A009 is not in the header file" in shown
    assert found.children_in_error == {"A002", "A004", "A005", "A009"}
    with pytest.raises(InvalidData, match="skip the children in error"):
        run(world, header, episodes)
    assert count(world, Child, Child.ref.like("A%")) == 0


def test_the_operator_may_import_the_others_by_naming_every_child_in_error(world: World) -> None:
    episodes = sample_episodes().replace("A004,01/07/2023,L,C2,N1,U6", "A004,01/07/2023,L,C2,N1,Q9")
    with pytest.raises(InvalidData):
        run(world, sample_header(), episodes, skip=("A002",))
    assert run(world, sample_header(), episodes, skip=("A004",))["new"] == 3
    assert set(children(world)) == {"A001", "A002", "A003"}


def test_an_error_naming_no_child_cannot_be_skipped(world: World) -> None:
    episodes = sample_episodes() + ",01/01/2026,S,C2,N1,U4,PR1,,,,,,\n"
    with pytest.raises(InvalidData):
        run(world, sample_header(), episodes, skip=("A001", "A002", "A003", "A004"))
    assert count(world, Child, Child.ref.like("A%")) == 0


def test_episodes_must_follow_each_other(world: World) -> None:
    episodes = EPISODES + ("A001,20/11/2026,S,C2,N1,U4,PR1,,,,,,\n"
                           "A002,01/09/2022,S,V2,N2,U6,PR4,15/03/2025,X1,,,,\n"
                           "A002,16/03/2025,P,V2,N2,S1,PR4,,,,,,\n"
                           "A003,01/04/2024,S,C2,N1,U4,PR1,,,,,,\n"
                           "A003,01/05/2024,P,C2,N1,U4,PR1,,,,,,\n"
                           "A004,05/05/2023,S,C1,N1,U6,PR1,01/07/2023,X1,,,,\n")
    with world.session() as session:
        found = preview(session, LA, sample_header(), episodes, world.clock.now().date()).found
    shown = [str(error) for error in found.errors]
    assert "episodes.csv line 3, column REC: REC X1 says the next episode starts on DEC, but line 4 starts " \
           "16/03/2025" in shown
    assert "episodes.csv line 5, column DEC: The episode has not ended, but line 6 starts a later one" in shown
    assert "episodes.csv line 7, column REC: REC X1 says a new episode begins the same day, but none follows" in shown


def test_a_file_with_a_missing_column_is_refused_naming_the_file(world: World) -> None:
    with pytest.raises(InvalidData) as refused:
        look(world, "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER\nA001,1,14/03/2016,WBRI,,\n", sample_episodes())
    assert refused.value.errors == {"header.csv": ["header.csv: The column mc_dob is missing from the first line"]}


def test_another_authoritys_child_or_upn_is_refused(world: World) -> None:
    world.child("A002", "2012-05-02", la_code="936")
    world.child("C-77", "2016-03-14", upn=upn("935123426001"))
    with world.session() as session:
        found = preview(session, LA, sample_header(), sample_episodes(), world.clock.now().date()).found
    shown = [str(error) for error in found.errors]
    assert "header.csv line 3, column CHILD: The reference A002 is another authority's child" in shown
    assert "header.csv line 2, column UPN: The UPN is recorded for the child C-77" in shown


def test_a_changed_return_updates_the_child_and_keeps_what_it_does_not_carry(world: World) -> None:
    run(world, sample_header(), sample_episodes())
    with world.session() as session:
        child = session.scalars(select(Child).where(Child.ref == "A004")).one()
        child.first_name, child.last_name, child.social_worker = "Maya", "Patel", "sw"
        placement = session.scalars(select(Placement).where(Placement.child_id == child.id)).one()
        placement.carer_name = "Mr and Mrs Ahmed"  # written by hand
    changed = sample_episodes().replace("A004,01/07/2023,L,C2,N1,U6,PR1,,,", "A004,01/07/2023,L,E1,N1,U6,PR1,,,")
    assert look(world, sample_header(), changed) == {"new": 0, "changed": 1, "leaving": 0, "unchanged": 3}
    run(world, sample_header(), changed)
    a4 = children(world)["A004"]
    assert (a4.legal_status, a4.full_name, a4.social_worker) == ("E1", "Maya Patel", "sw")
    with world.session() as session:
        assert session.scalars(select(Placement.carer_name).where(Placement.child_id == a4.id)).all() == [
            "Mr and Mrs Ahmed"]
    with world.session() as session:
        updated = session.scalars(select(AuditEvent).where(AuditEvent.business_key == "A004",
                                                           AuditEvent.action == "child.updated")).one()
    assert updated.data == {"source": "ssda903", "changed": ["legal_status"]}


def test_a_child_who_left_and_comes_back_into_care_is_on_the_roll_again_with_their_initial_pep(world: World) -> None:
    run(world, sample_header(), sample_episodes())
    back = sample_episodes() + "A003,25/11/2026,S,V2,N1,U6,PR1,,,,,,XXXXXXX\n"
    assert look(world, sample_header(), back) == {"new": 0, "changed": 1, "leaving": 0, "unchanged": 3}
    run(world, sample_header(), back)
    a3 = children(world)["A003"]
    assert (a3.left_care_on, a3.looked_after_since, a3.legal_status) == (None, date(2026, 11, 25), "V2")
    with world.session() as session:
        due = initial_pep_due_on(session, LA, date(2026, 11, 25))
    assert peps(world, "A003") == [("initial", due)]
