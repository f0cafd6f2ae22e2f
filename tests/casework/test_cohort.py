"""The cohort dashboard's figures against a hand-built cohort (tests/casework/cohort_world.py).

Every expected number below was worked out by hand from the cohort's rows; see the comments.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from casework.cohort import Dashboard, Figures, cohort_condition, dashboard
from casework.cohort_period import parse_period
from engine.clock import FrozenClock
from engine.errors import InvalidData
from engine.runtime import Actor
from tests.casework.cohort_world import cohort_world
from tests.casework.world import World

TODAY = date(2026, 12, 1)


@pytest.fixture
def world(factory: sessionmaker[Session], clock: FrozenClock) -> World:
    return cohort_world(factory, clock)


def board(world: World, who: str, roles: set[str], period: str | None = None) -> Dashboard:
    with world.session() as session:
        viewer = cohort_condition(session, Actor(who, frozenset(roles)))
        assert viewer is not None
        return dashboard(session, viewer.children, period, TODAY, la_code="935",
                         escalation_kinds=viewer.escalation_kinds)


def by(result: Dashboard, dimension: str) -> dict[str | None, Figures]:
    return {group.value: group.figures for group in result.breakdowns[dimension]}


def test_the_vsh_sees_every_headline_figure_of_the_autumn_term_worked_out_by_hand(world: World) -> None:
    result = board(world, "vsh", {"vsh"})
    total = result.total
    assert result.period.key == "2026/27 autumn"
    assert result.as_of == TODAY
    assert total.children == 11  # A01-A12 but A11 (18): X01 left care last year, X02 is 19, X03 elsewhere, X04 not yet
    # attendance: A02-A07; 700 possible sessions, 600 attended
    assert (total.with_attendance, total.possible, total.attended) == (6, 700, 600)
    assert total.attendance_percent == 85.7
    assert (total.persistent, total.persistent_percent) == (3, 50.0)  # A04 15%, A05 60%, A06 exactly 10%
    assert (total.severe, total.severe_percent) == (1, 16.7)  # A05
    assert (total.suspended, total.suspension_days, total.excluded) == (2, 6.5, 1)  # A05 2+1.5, A06 3; A07
    assert (total.no_school, total.out_of_area) == (2, 4)  # A09, A10; A03, A05, A07, A09
    assert (total.sen_support, total.ehcp) == (2, 2)
    assert (total.aged_16_17, total.neet) == (2, 1)  # A08 (NEET since 20 Oct), A09 (back in education 1 Nov)
    assert (total.initial_due, total.initial_on_time, total.initial_percent) == (2, 1, 50.0)  # A10 on time
    assert (total.termly_due, total.termly_done, total.termly_percent) == (5, 3, 60.0)
    assert (total.rag_red, total.rag_amber, total.rag_green) == (1, 2, 2)  # A02's red of last summer is out
    assert total.escalations == 3
    assert result.escalations_by_kind == [("overdue_pep", "PEP overdue", 2),
                                          ("no_school_place", "New school place not found", 1)]
    # A09: last at school on 27 March 2026 (249 days); A10: looked after from 1 October (61 days)
    assert (result.no_school.children, result.no_school.longest_days, result.no_school.median_days) == (2, 249, 61)


def test_every_breakdown_adds_the_right_children_to_each_group(world: World) -> None:
    result = board(world, "vsh", {"vsh"})
    stages = by(result, "key_stage")
    assert [g.value for g in result.breakdowns["key_stage"]] == ["eyfs", "ks1", "ks2", "ks3", "ks4", "ks5"]
    assert {k: f.children for k, f in stages.items()} == {"eyfs": 1, "ks1": 1, "ks2": 2, "ks3": 3, "ks4": 2,
                                                           "ks5": 2}
    assert (stages["ks2"].persistent, stages["ks2"].possible, stages["ks2"].attended) == (1, 200, 180)
    assert (stages["ks4"].suspended, stages["ks4"].excluded, stages["ks4"].persistent) == (1, 1, 1)
    assert (stages["ks5"].neet, stages["ks5"].no_school) == (1, 1)
    schools = by(result, "school")
    assert {k: f.children for k, f in schools.items()} == {"100001": 4, "100002": 4, "100005": 1, None: 2}
    assert [g.label for g in result.breakdowns["school"]] == ["Northgate College", "Riverside Primary",
                                                              "St Anne's VA High", "No school place"]
    assert (schools["100002"].suspension_days, schools["100002"].severe) == (6.5, 1)
    workers = by(result, "social_worker")
    assert {k: f.children for k, f in workers.items()} == {"sw": 6, "other_sw": 5}
    assert (workers["sw"].escalations, workers["other_sw"].escalations) == (1, 2)
    assert {k: f.children for k, f in by(result, "team").items()} == {"North": 6, "South": 5}
    areas = by(result, "area")
    assert {k: f.children for k, f in areas.items()} == {"in": 6, "out": 4, "unknown": 1}
    assert areas["out"].ehcp == 2 and areas["in"].termly_done == 2


def test_a_designated_teacher_sees_only_their_schools_children_in_every_figure(world: World) -> None:
    total = board(world, "dt100001", {"designated_teacher"}).total
    assert total.children == 4  # A01-A04
    assert (total.with_attendance, total.possible, total.attended, total.persistent, total.severe) == (
        3, 300, 280, 1, 0)
    assert (total.suspended, total.no_school, total.out_of_area, total.initial_due, total.escalations) == (
        0, 0, 1, 1, 1)


def test_a_social_worker_sees_only_their_caseload_in_every_figure(world: World) -> None:
    result = board(world, "sw", {"social_worker"})
    total = result.total
    assert total.children == 6
    assert (total.possible, total.attended, total.persistent, total.severe) == (300, 230, 2, 1)
    assert (total.suspended, total.suspension_days, total.neet, total.no_school) == (2, 6.5, 1, 1)
    assert [(k, n) for k, _, n in result.escalations_by_kind] == [("overdue_pep", 1)]
    assert set(by(result, "social_worker")) == {"sw"}


def test_the_trend_covers_the_terms_up_to_the_chosen_one_with_each_terms_own_figures(world: World) -> None:
    trend = board(world, "vsh", {"vsh"}).trend
    assert [p.key for p, _ in trend] == ["2025/26 autumn", "2025/26 spring", "2025/26 summer", "2026/27 autumn"]
    # X01 (left care in June 2026), A11 (17 until 30 November 2026) were on the roll last year; A10 was not
    assert [f.children for _, f in trend] == [12, 12, 12, 11]
    summer = trend[2][1]
    assert (summer.possible, summer.attended, summer.severe, summer.suspended, summer.rag_red) == (100, 50, 1, 1, 1)
    assert (trend[1][1].possible, trend[1][1].attended) == (10, 10)


def test_a_whole_year_counts_every_term_of_it(world: World) -> None:
    result = board(world, "vsh", {"vsh"}, "2025/26")
    assert result.period.key == "2025/26" and result.as_of == date(2026, 8, 31)
    total = result.total
    assert total.children == 12  # A01-A09, A11, A12 and X01: X02 is 18, A10 not yet looked after
    assert (total.possible, total.attended, total.suspended, total.suspension_days) == (110, 60, 1, 5.0)
    assert (total.termly_due, total.termly_done, total.rag_red) == (1, 1, 1)


def test_a_period_that_is_not_a_term_or_a_year_is_refused_naming_the_field(world: World) -> None:
    with world.session() as session:
        for text in ("2026/28", "2026/27 winter", "autumn", "2031/32 autumn"):
            with pytest.raises(InvalidData) as refused:
                parse_period(session, "935", text, TODAY)
            assert "period" in refused.value.errors


def test_the_dashboard_takes_a_bounded_number_of_queries(world: World) -> None:

    statements: list[str] = []
    with world.session() as session:
        viewer = cohort_condition(session, Actor("vsh", frozenset({"vsh"})))
        assert viewer is not None
        event.listen(session.get_bind(), "before_cursor_execute", lambda *a: statements.append(a[2]))
        dashboard(session, viewer.children, None, TODAY, la_code="935")
        assert 0 < len(statements) <= 16  # whatever the size of the cohort: no query per child


def test_someone_who_reads_no_education_has_no_cohort(world: World) -> None:
    with world.session() as session:
        assert cohort_condition(session, Actor("admissions", frozenset({"admissions_officer"}))) is None
        assert cohort_condition(session, Actor("nobody", frozenset({"vsh"}))) is None


def test_the_trend_is_the_last_six_terms_when_the_authority_has_more(world: World) -> None:
    from casework.terms import import_term_dates_csv

    rows = ["kind,academic_year,term,starts_on,ends_on"]
    for year in (2024, 2025, 2026):
        label = f"{year}/{str(year + 1)[-2:]}"
        rows += [f"term,{label},autumn,{year}-09-03,{year}-12-18", f"term,{label},spring,{year + 1}-01-05,"
                 f"{year + 1}-03-27", f"term,{label},summer,{year + 1}-04-13,{year + 1}-07-21"]
    with world.session() as session:
        import_term_dates_csv(session, "935", "\n".join(rows) + "\n")
    trend = board(world, "vsh", {"vsh"}).trend
    assert [p.key for p, _ in trend] == ["2024/25 spring", "2024/25 summer", "2025/26 autumn", "2025/26 spring",
                                         "2025/26 summer", "2026/27 autumn"]
    assert [f.children for _, f in trend] == [0, 12, 12, 12, 12, 11]  # looked after from 2 June 2025


def test_the_annual_report_counts_attainment_against_target_and_key_stage_results(world: World) -> None:
    from casework.cohort_report import annual_report

    with world.session() as session:
        viewer = cohort_condition(session, Actor("vsh", frozenset({"vsh"})))
        assert viewer is not None
        report = annual_report(session, viewer.children, "2025/26", TODAY, la_code="935")
    tables = {t.name: t for section in report.sections for t in section.tables}
    assert [s.heading for s in report.sections] == ["The cohort", "Where they live and go to school",
                                                   "How they are doing"]
    # term, subject, assessed, at or above target, %
    assert tables["attainment"].rows == [["Spring", "English", 1, 0, 0.0], ["Spring", "Maths", 1, 1, 100.0],
                                         ["Summer", "Maths", 2, 1, 50.0], ["Summer", "Reading", 1, 1, 100.0]]
    # subject, results, met (KS4: 4+), %, KS4: 5+
    assert tables["results"].rows == [["English", 1, 1, 100.0, 1], ["Maths", 3, 1, 33.3, 0],
                                      ["Reading", 1, 1, 100.0, 0]]
    assert tables["key_stages"].rows[0] == ["Early years foundation stage", 1, 8.3]
    assert tables["time_in_care"].rows == [["1 to 2 years", 12, 100.0]]  # since 2 June 2025, on 31 August 2026
    # on 31 August 2026: A01 4; A02-A04 6-10; A05-A07, A12, X01 12-15; A08, A09 16, A11 17
    assert tables["ages"].rows == [["Under 5", 1, 8.3], ["5 to 10", 3, 25.0], ["11 to 15", 5, 41.7],
                                   ["16 and 17", 3, 25.0]]


def test_an_exported_cell_that_looks_like_a_formula_is_written_as_text() -> None:
    from casework.cohort_tables import Table, as_csv

    assert as_csv(Table("t", "T", ["Name", "N"], [["=HYPERLINK(1)", 1], ["-2", -2]])) == \
        "Name,N\r\n'=HYPERLINK(1),1\r\n'-2,-2\r\n"
