"""The Virtual School dashboard, its exports and the annual report through HTTP, over the hand-built
cohort of tests/casework/cohort_world.py (its figures are checked one by one in tests/casework/test_cohort.py)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import FrozenClock
from tests.casework.cohort_world import cohort_world
from tests.casework.world import World

from .case_world import PASSWORD, build_app
from .support import login


@pytest.fixture
def world(factory: sessionmaker[Session], clock: FrozenClock) -> World:
    return cohort_world(factory, clock)


@pytest.fixture
def app(db_url: str, clock: FrozenClock, world: World) -> Iterator[Flask]:
    built = build_app(db_url, clock, world)
    yield built
    built.extensions["vsw"].engine.dispose()


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, username, PASSWORD).status_code == 302
    return client


def figure_link(html: str, label: str) -> str:
    """The address the headline figure ``label`` links to."""
    found = re.search(r'vsw-figure__label">' + re.escape(label) + r'</p>\s*<p class="vsw-figure__value"><a '
                      r'class="govuk-link" href="([^"]+)">([^<]+)<', html)
    assert found, label
    return unescape(found.group(1)) + " -> " + found.group(2)


def test_the_vsh_sees_the_headline_figures_each_linked_to_its_children_on_the_roll(app: Flask) -> None:
    page = signed_in(app, "vsh").get("/virtual-school")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Autumn term 2026/27" in html
    assert figure_link(html, "Children on roll") == "/roll -> 11"
    assert figure_link(html, "Persistently absent") == "/roll?attendance=persistent -> 50%"
    assert figure_link(html, "Severely absent") == "/roll?attendance=severe -> 16.7%"
    assert figure_link(html, "Children suspended") == "/roll?suspended=yes -> 2"
    assert figure_link(html, "Without a school place") == "/roll?no_school=yes -> 2"
    assert figure_link(html, "Out of area") == "/roll?area=out -> 4"
    assert figure_link(html, "SEN support") == "/roll?sen=sen_support -> 2"
    assert figure_link(html, "EHC plan") == "/roll?sen=ehc_plan -> 2"
    assert figure_link(html, "Termly PEPs complete") == "/roll?pep_status=complete -> 60%"
    assert figure_link(html, "Open escalations") == "/escalations -> 3"
    assert 'href="/roll?key_stage=ks3">Key stage 3' in html
    assert 'href="/roll?school=100002">St Anne&#39;s VA High' in html
    assert 'href="/roll?team=North">North' in html
    assert html.count("<canvas") == 3 and "vendor/chartjs/chart.umd.js" in html


def test_a_designated_teacher_and_a_social_worker_see_only_their_children(app: Flask) -> None:
    teacher = signed_in(app, "dt100001").get("/virtual-school").get_data(as_text=True)
    assert figure_link(teacher, "Children on roll") == "/roll -> 4"
    worker = signed_in(app, "sw").get("/virtual-school").get_data(as_text=True)
    assert figure_link(worker, "Children on roll") == "/roll -> 6"
    assert figure_link(worker, "Open escalations") == "/roll -> 1"  # the escalations dashboard is not theirs
    assert figure_link(worker, "Initial PEPs in timescale") == "/roll -> –"  # none due: no percentage


def test_the_dashboard_links_each_import_to_the_people_who_may_use_it(app: Flask) -> None:
    vsh = signed_in(app, "vsh").get("/virtual-school").get_data(as_text=True)
    for path in ("/virtual-school/imports/attendance", "/virtual-school/imports/suspensions",
                 "/virtual-school/imports/attainment"):
        assert f'href="{path}"' in vsh, path
    teacher = signed_in(app, "dt100001").get("/virtual-school").get_data(as_text=True)
    assert 'href="/virtual-school/imports/attainment"' in teacher
    assert "/virtual-school/imports/attendance" not in teacher
    worker = signed_in(app, "sw").get("/virtual-school").get_data(as_text=True)
    assert "Bring in the schools" not in worker


def test_people_who_read_no_education_are_refused_every_cohort_page(app: Flask) -> None:
    client = signed_in(app, "admissions")
    for url in ("/virtual-school", "/virtual-school/tables/headline.csv", "/virtual-school/report",
                "/virtual-school/report.pdf"):
        assert client.get(url).status_code == 403, url
    assert app.test_client().get("/virtual-school").status_code in (302, 401)


def test_a_bad_period_or_year_or_table_is_refused_naming_the_field(app: Flask) -> None:
    client = signed_in(app, "vsh")
    bad = client.get("/virtual-school?period=2026/27+winter")
    assert bad.status_code == 400 and "period" in bad.get_data(as_text=True)
    bad = client.get("/virtual-school/report?year=twenty")
    assert bad.status_code == 400 and "year" in bad.get_data(as_text=True)
    assert client.get("/virtual-school/tables/nothing.csv").status_code == 404
    assert client.get("/virtual-school/tables/headline.pdf").status_code == 404


def test_every_table_downloads_as_csv_and_excel_with_the_same_numbers(app: Flask) -> None:
    client = signed_in(app, "vsh")
    response = client.get("/virtual-school/tables/key_stage.csv?period=2026/27+autumn")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:3] == ["Key stage", "Children on roll", "Attendance %"]
    assert [(r[0], r[1]) for r in rows[1:]] == [
        ("Early years foundation stage", "1"), ("Key stage 1", "1"), ("Key stage 2", "2"), ("Key stage 3", "3"),
        ("Key stage 4", "2"), ("Key stage 5 (post-16)", "2")]
    response = client.get("/virtual-school/tables/headline.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert sheet is not None
    values = {row[0]: row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert values["Children on roll"] == 11 and values["Attendance %"] == 85.7 and values["Days of suspension"] == 6.5
    trend = client.get("/virtual-school/tables/trend.csv").get_data(as_text=True)
    assert [r[1] for r in list(csv.reader(io.StringIO(trend)))[1:]] == ["12", "12", "12", "11"]


def test_the_annual_report_reads_as_a_report_and_downloads_as_a_pdf(app: Flask) -> None:
    client = signed_in(app, "vsh")
    page = client.get("/virtual-school/report?year=2025/26")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for heading in ("1. The cohort", "2. Where they live and go to school", "3. How they are doing"):
        assert heading in html
    assert "On 31 August 2026 the Virtual School had 12 children on its roll." in html
    assert "Attendance was 54.5% of possible sessions for the 2 children with attendance recorded." in html
    assert "1 child was suspended, for 5 days in all; 0 permanently excluded." in html
    pdf = client.get("/virtual-school/report.pdf?year=2025/26")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.get_data())).pages)
    assert "The Virtual School in 2025/26" in text
    assert "12 children on its roll" in " ".join(text.split())
