"""A hand-built Virtual School cohort whose right answers are known (tests of the roll and its pages).

On the casework world (tests/casework/world.py: authority 935, schools 100001-100005, staff ``sw``,
``other_sw``, ``vsh``, ``manager``, ``admissions``, designated teachers ``dt<urn>``), on Tuesday
1 December 2026 (academic year 2026/27; year group Y is born 1 Sep (2021 - Y) to 31 Aug (2022 - Y)):

======  =============  =====  ============  ==================  ====  ========  ===========  ====  ========  ====
ref     name           year   school        placement           law   SEN       worker/team  PEP   RAG       att.
======  =============  =====  ============  ==================  ====  ========  ===========  ====  ========  ====
C-A     Alice Archer   Y3     100001 maint  foster, in area     C2    none      sw/North     done  green     95%
C-B     Ben Baker      Y10    100003 acad.  home, out (distant) C1    EHC plan  other/South  in pr red(old)  85%
C-C     Cara Cole      Y12    none          semi-ind., out adj. V2    support   sw/North     none  -         40%
C-D     Dan Dunn       Rec.   100004 EY     none                E1    none      sw/North     n.st. -         none
C-E     Eve Evans      Y9     100002 maint  none                C2    none      other/South  none  -         none
======  =============  =====  ============  ==================  ====  ========  ===========  ====  ========  ====

C-B was suspended for 2 days this year (and 3 last year); C-D has attendance only from last year. C-E
left care on 1 October 2026 (on the roll, marked). Off the default roll: C-F Finn Ford (Y7, 100002, left
care in May 2025: previously looked after), C-G Gus Grant (sw's, 18 today), C-H Hana Hill (authority 936).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from casework.children import ChildService
from casework.records import Child, Pep
from casework.school_data import AttendanceRecord, Suspension
from casework.users import User
from tests.casework.records_support import add_child
from tests.casework.world import World

ROLL = ["C-A", "C-B", "C-C", "C-D", "C-E"]
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def build_cohort(world: World) -> None:
    clock = world.clock
    with world.session() as session:
        for username, team in (("sw", "North"), ("other_sw", "South")):
            session.scalars(select(User).where(User.username == username)).one().team = team
        children = [
            ("C-A", "Alice", "Archer", "2018-10-10", "100001", "sw", "C2", None),
            ("C-B", "Ben", "Baker", "2012-01-15", "100003", "other_sw", "C1", None),
            ("C-C", "Cara", "Cole", "2009-11-20", None, "sw", "V2", "P207000016049"),
            ("C-D", "Dan", "Dunn", "2022-01-05", "100004", "sw", "E1", None),
            ("C-E", "Eve", "Evans", "2013-03-03", "100002", "other_sw", "C2", None),
            ("C-F", "Finn", "Ford", "2014-05-05", "100002", "other_sw", "C2", None),
            ("C-G", "Gus", "Grant", "2008-06-01", "100001", "sw", "C2", None),
        ]
        for ref, first, last, born, school, worker, law, upn in children:
            add_child(session, clock, ref=ref, first_name=first, last_name=last, date_of_birth=born,
                      school_urn=school, social_worker=worker, legal_status=law, upn=upn,
                      looked_after_since="2024-01-10")
        add_child(session, clock, ref="C-H", first_name="Hana", last_name="Hill", date_of_birth="2015-02-02",
                  la_code="936", looked_after_since="2024-01-10")
        by_ref = {c.ref: c for c in session.scalars(select(Child))}
        by_ref["C-B"].sen_status = "ehc_plan"
        by_ref["C-C"].sen_status = "sen_support"
        by_ref["C-E"].left_care_on = date(2026, 10, 1)
        by_ref["C-F"].left_care_on = date(2025, 5, 1)
        service = ChildService(session, clock)
        service.record_placement("C-A", placement_type="foster_care", starts_on="2024-01-10", distance="in_area")
        service.record_placement("C-B", placement_type="kinship_care", starts_on="2024-01-10", distance="in_area")
        service.record_placement("C-B", placement_type="childrens_home", starts_on="2026-06-01",
                                 distance="out_of_area_distant", area_authority="Cornwall")
        service.record_placement("C-C", placement_type="semi_independent", starts_on="2024-01-10",
                                 distance="out_of_area_adjoining", area_authority="Leeds")
        peps = [  # (child, status, rag, due)
            ("C-A", "complete", "green", datetime(2026, 11, 20, tzinfo=UTC)),
            ("C-B", "complete", "red", datetime(2026, 6, 1, tzinfo=UTC)),
            ("C-B", "in_progress", None, datetime(2026, 12, 15, tzinfo=UTC)),
            ("C-D", "not_started", None, datetime(2027, 1, 10, tzinfo=UTC)),
        ]
        for ref, status, rag, due in peps:
            session.add(Pep(child_id=by_ref[ref].id, kind="initial", academic_year="2026/27", stage="school_age",
                            status=status, rag=rag, sections="{}", due_at=due, created_at=NOW))
        attendance = [("C-A", 100, 95, "2026-09-07"), ("C-B", 60, 51, "2026-09-07"), ("C-B", 40, 34, "2026-10-05"),
                      ("C-C", 100, 40, "2026-09-07"), ("C-D", 50, 10, "2025-10-06")]
        for ref, possible, attended, starts in attendance:
            session.add(AttendanceRecord(
                child_id=by_ref[ref].id, period_start=date.fromisoformat(starts),
                period_end=date.fromisoformat(starts).replace(day=25), possible_sessions=possible,
                attended_sessions=attended, authorised_absence=possible - attended, unauthorised_absence=0,
                school_urn=by_ref[ref].school_urn, source="import", recorded_at=NOW))
        for starts, days in (("2026-11-02", 2.0), ("2026-03-02", 3.0)):
            session.add(Suspension(child_id=by_ref["C-B"].id, kind="suspension", school_urn="100003",
                                   starts_on=date.fromisoformat(starts), days=days, reason="PD", recorded_at=NOW,
                                   recorded_by="vsh"))
