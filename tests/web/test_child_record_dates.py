"""Dates on a child's record that must agree with the clock: the SEND decision's "due by" day (the
referral, the timer and the pages), and which placement is current or still planned."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from casework.records import Child, SendReferral
from engine.models import TimerRow
from tests.casework.world import World

from . import case_fixtures
from .case_world import PASSWORD
from .support import login as sign_in
from .test_children import CONTRIBUTION, SCHOOL_AGE

world = case_fixtures.world
app = case_fixtures.app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def login(client: FlaskClient, username: str) -> None:
    assert sign_in(client, username, PASSWORD).status_code == 302


def test_the_send_referral_the_timer_and_the_task_page_agree_on_the_day_the_decision_is_due_by(
    client: FlaskClient, world: World
) -> None:
    # Ethan's initial PEP raises a suspected SEN; his teacher refers him on Tuesday 1 December 2026
    world.complete("C-1", "complete_pep_school_age", {**SCHOOL_AGE, "suspected_unidentified_sen": True,
                                                      "sen_concern": "Struggles to decode words."}, "dt100001")
    world.complete("C-1", "social_worker_contribution", CONTRIBUTION, "sw")
    world.complete("C-1", "record_childs_views", {"childs_views": "I like maths."}, "sw")
    world.complete("C-1", "refer_to_send", {"referred_on": "2026-12-01",
                                            "referral_summary": "Request for EHC needs assessment."}, "dt100001")
    overdue_from = datetime(2027, 1, 13, tzinfo=UTC)  # 00:00 on Wednesday 13 January 2027
    task = world.task("C-1", "send_decision")
    with world.session() as session:
        [referral] = session.scalars(
            select(SendReferral).join(Child, Child.id == SendReferral.child_id).where(Child.ref == "C-1"))
        [timer] = session.scalars(select(TimerRow).where(TimerRow.element_id == "send_decision_due"))
        assert (referral.referred_on, referral.decision_due_on) == (date(2026, 12, 1), date(2027, 1, 12))
        assert timer.due_at.replace(tzinfo=UTC) == overdue_from
    assert task.due_at is not None and task.due_at.replace(tzinfo=UTC) == overdue_from
    login(client, "send")
    for page in (client.get(f"/tasks/{task.id}").text, client.get("/").text):
        assert "12 January 2027" in page
        assert "13 January 2027" not in page
    world.at(overdue_from - timedelta(seconds=1))  # the last second of Tuesday 12 January: still on time
    assert ("escalate_send_decision_overdue", "manager") not in world.open_tasks("C-1")
    world.at(overdue_from)
    assert ("escalate_send_decision_overdue", "manager") in world.open_tasks("C-1")


def test_a_placement_starting_next_month_shows_as_planned_and_the_one_the_child_is_in_as_current(
    client: FlaskClient, world: World
) -> None:
    with world.casework() as casework:  # the clock: Tuesday 1 December 2026
        casework.children.record_placement(
            "C-1", placement_type="childrens_home", carer_name="Oak House",
            starts_on="2027-01-04", distance="in_area")
    login(client, "sw")
    text = client.get("/children/C-1").text
    rows = {row.split("</td>")[0]: row for row in text.split('<td class="govuk-table__cell">')[1:]}
    [current] = [cell for cell in rows if "Current</strong>" in cell]
    [planned] = [cell for cell in rows if "Planned (from 4 January 2027)</strong>" in cell]
    assert current.startswith("Foster care (LA carer)")
    assert planned.startswith("Children")  # Children's home
    assert text.count("Current</strong>") == 1
