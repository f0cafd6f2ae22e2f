"""A hand-built cohort whose dashboard figures are worked out by hand (tests/casework/test_cohort.py).

On Tuesday 1 December 2026 (the autumn term of 2026/27, the default term dates), eleven children are on
the roll of authority 935 (A01-A12 but A11) and five are not (A11 turned 18, X01 left care last year, X02 is 19, X03 belongs to
another authority, X04 becomes looked after on 15 December). ``sw`` (team North) holds A01, A02, A05,
A06, A08, A09, A11 and the Xs but X03; ``other_sw`` (team South) the other As.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from casework import attendance_summary
from casework.escalations import Escalation
from casework.records import Child, Pep, Placement
from casework.school_data import Attainment, AttendanceRecord, EetStatus, Suspension
from casework.users import User
from engine.models import ProcessDefinition, ProcessInstance
from tests.casework.records_support import add_child
from tests.casework.world import World

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

# ref, born, school, social worker, area (placement distance), SEN status
CHILDREN: list[tuple[str, str, str | None, str | None, str | None, str]] = [
    ("A01", "2022-01-10", "100001", "sw", None, "none"),                         # EYFS, no placement
    ("A02", "2019-10-05", "100001", "sw", "in_area", "sen_support"),             # KS1 (Year 2)
    ("A03", "2017-05-01", "100001", "other_sw", "out_of_area_adjoining", "ehc_plan"),  # KS2
    ("A04", "2016-03-14", "100001", "other_sw", "in_area", "none"),              # KS2
    ("A05", "2013-02-02", "100002", "sw", "out_of_area_distant", "sen_support"),  # KS3 (Year 9)
    ("A06", "2012-06-06", "100002", "sw", "in_area", "none"),                    # KS4 (Year 10)
    ("A07", "2011-07-07", "100002", "other_sw", "out_of_area_adjoining", "ehc_plan"),  # KS4
    ("A08", "2010-03-03", "100005", "sw", "in_area", "none"),                    # KS5, 16, NEET
    ("A09", "2009-09-20", None, "sw", "out_of_area_distant", "none"),            # KS5, 17, no school
    ("A10", "2015-01-01", None, "other_sw", "in_area", "none"),                  # KS3, no school, new
    ("A11", "2008-11-30", "100005", "sw", "in_area", "none"),                    # 18 since 30/11/2026
    ("A12", "2014-04-04", "100002", "other_sw", "in_area", "none"),              # KS3, left care 15/10
    ("X01", "2013-01-01", "100002", "sw", "in_area", "none"),                    # left care 30/6/2026
    ("X02", "2007-06-01", "100005", "sw", "in_area", "none"),                    # 19
    ("X03", "2013-01-01", "100002", None, "in_area", "none"),                    # authority 999
    ("X04", "2013-01-01", "100002", "sw", "in_area", "none"),                    # looked after from 15/12
]
# ref, first day, last day, possible, attended (weekly or termly)
ATTENDANCE = [
    ("A02", "2026-09-07", "2026-11-27", 100, 100), ("A03", "2026-09-07", "2026-11-27", 100, 95),
    ("A04", "2026-09-07", "2026-11-27", 100, 85), ("A05", "2026-09-07", "2026-11-27", 100, 40),
    ("A06", "2026-09-07", "2026-11-27", 100, 90), ("A07", "2026-09-07", "2026-10-23", 120, 114),
    ("A07", "2026-11-02", "2026-11-27", 80, 76),
    ("A02", "2026-04-13", "2026-07-17", 100, 50),   # summer 2026: not this term
    ("A09", "2026-03-23", "2026-03-27", 10, 10),    # spring 2026, the last week at a school
]
# ref, kind, starts on, days
SUSPENSIONS = [("A05", "suspension", "2026-10-05", 2.0), ("A05", "suspension", "2026-11-09", 1.5),
               ("A06", "suspension", "2026-11-16", 3.0), ("A07", "permanent_exclusion", "2026-11-20", 0.0),
               ("A04", "suspension", "2026-06-01", 5.0)]  # last term
# ref, kind, term, status, rag, due, completed
PEPS: list[tuple[str, str, str | None, str, str | None, str, str | None]] = [
    ("A10", "initial", None, "complete", "amber", "2026-10-15", "2026-10-14"),
    ("A04", "initial", None, "complete", "red", "2026-09-20", "2026-09-25"),
    ("A02", "termly", "autumn", "complete", "green", "2026-10-23", "2026-10-20"),
    ("A03", "termly", "autumn", "complete", "amber", "2026-10-23", "2026-10-21"),
    ("A05", "termly", "autumn", "in_progress", None, "2026-10-23", None),
    ("A06", "termly", "autumn", "complete", "green", "2026-10-23", "2026-11-02"),
    ("A07", "termly", "autumn", "submitted", None, "2026-10-23", None),
]
# 2025/26: ref, term, subject, kind, value, target
ATTAINMENT: list[tuple[str, str, str, str, str, str | None]] = [
    ("A05", "summer", "reading", "teacher_assessment", "expected", "expected"),      # on target
    ("A05", "summer", "maths", "teacher_assessment", "towards", "expected"),         # below target
    ("A04", "summer", "maths", "teacher_assessment", "greater_depth", "expected"),   # above target
    ("A06", "spring", "english", "gcse_working_at", "5", "6"),                       # below target
    ("A06", "spring", "maths", "gcse_working_at", "6", "5"),                         # above target
    ("A03", "summer", "reading", "ks_result", "met", None), ("A03", "summer", "maths", "ks_result", "not_met", None),
    ("A07", "summer", "english", "ks_result", "5", None), ("A07", "summer", "maths", "ks_result", "4", None),
    ("A06", "summer", "maths", "ks_result", "3", None),
]
ESCALATIONS = [("A05", "overdue_pep", "open"), ("A03", "overdue_pep", "open"), ("A10", "no_school_place", "open"),
               ("A06", "overdue_pep", "resolved"), ("X03", "overdue_pep", "open")]


def _at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)


def build_cohort(session: Session, clock: Any) -> None:
    session.execute(update(User).where(User.username == "sw").values(team="North"))
    session.execute(update(User).where(User.username == "other_sw").values(team="South"))
    ids: dict[str, int] = {}
    for ref, born, school, worker, distance, sen in CHILDREN:
        since = {"A10": "2026-10-01"}.get(ref, "2025-06-02")
        child = add_child(session, clock, ref=ref, first_name=f"Child{ref}", last_name=f"Pupil{ref}",
                          date_of_birth=born, school_urn=school, social_worker=worker, looked_after_since=since,
                          la_code="999" if ref == "X03" else "935")
        child.sen_status = sen
        if ref == "X04":
            child.looked_after_since = date(2026, 12, 15)  # recorded ahead (the form refuses a future date)
        child.left_care_on = {"A12": date(2026, 10, 15), "X01": date(2026, 6, 30)}.get(ref)
        if distance is not None:
            placement = Placement(child_id=child.id, placement_type="foster_care", carer_name="Carer",
                                  starts_on=date(2025, 6, 2), distance=distance)
            session.add(placement)
            session.flush()
            child.current_placement_id = placement.id
        ids[ref] = child.id
    for ref, first, last, possible, attended in ATTENDANCE:
        session.add(AttendanceRecord(
            child_id=ids[ref], period_start=date.fromisoformat(first), period_end=date.fromisoformat(last),
            possible_sessions=possible, attended_sessions=attended, authorised_absence=possible - attended,
            unauthorised_absence=0, school_urn="100005" if ref == "A09" else "100001", source="import",
            recorded_at=NOW))
    for ref, kind, starts, days in SUSPENSIONS:
        session.add(Suspension(child_id=ids[ref], kind=kind, school_urn="100002", starts_on=date.fromisoformat(starts),
                               days=days, reason="PD", recorded_at=NOW, recorded_by="vsh"))
    for ref, kind, term, status, rag, due, done in PEPS:
        session.add(Pep(child_id=ids[ref], kind=kind, academic_year="2026/27", term=term, stage="school_age",
                        status=status, rag=rag, sections="{}", due_at=_at(due).replace(hour=23, minute=59),
                        completed_at=_at(done) if done else None, created_at=NOW))
    session.add(Pep(child_id=ids["A02"], kind="termly", academic_year="2025/26", term="summer", stage="school_age",
                    status="complete", rag="red", sections="{}", due_at=_at("2026-05-22"),
                    completed_at=_at("2026-05-20"), created_at=NOW))
    session.add_all([EetStatus(child_id=ids["A08"], recorded_on=date(2026, 9, 10), status="education", recorded_at=NOW),
                     EetStatus(child_id=ids["A08"], recorded_on=date(2026, 10, 20), status="neet", recorded_at=NOW),
                     EetStatus(child_id=ids["A09"], recorded_on=date(2026, 9, 1), status="neet", recorded_at=NOW),
                     EetStatus(child_id=ids["A09"], recorded_on=date(2026, 11, 1), status="education",
                               recorded_at=NOW)])
    for ref, term, subject, kind, value, target in ATTAINMENT:
        session.add(Attainment(child_id=ids[ref], academic_year="2025/26", term=term, subject=subject, kind=kind,
                               value=value, target=target, recorded_at=NOW))
    definition = session.scalars(select(ProcessDefinition.id).limit(1)).one()
    for ref, kind, state in ESCALATIONS:
        instance = ProcessInstance(definition_id=definition, process_id="pep_review", business_key=ref,
                                   status="running", state="{}", started_at=NOW, started_by="system", updated_at=NOW)
        session.add(instance)
        session.flush()
        session.add(Escalation(kind=kind, child_ref=ref, la_code="935", since=NOW, owner_role="manager",
                               state=state, reason="Overdue", detail="{}", process_id="pep_review",
                               instance_id=instance.id, raised_at=NOW))
    session.flush()
    for la_code in ("935", "999"):
        attendance_summary.refresh(session, la_code)


def child_ids(session: Session) -> dict[str, int]:
    return {ref: cid for ref, cid in session.execute(select(Child.ref, Child.id)).tuples()}


def cohort_world(factory: sessionmaker[Session], clock: Any) -> World:
    """A World (tests/casework/world.py: the staff and wiring) holding the hand-built cohort."""
    built = World(factory, clock)
    with built.session() as session:
        build_cohort(session, clock)
    return built
