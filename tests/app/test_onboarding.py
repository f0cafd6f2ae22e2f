"""A council's first day, as docs/onboarding.md tells it: from an empty database, with only the council's own
files (GIAS download, term dates, staff list, SSDA903 header and episodes) and the ``vsw`` commands, to a
member of staff accepting their invitation, signing in and seeing the children allocated to them. Then the
same files again change nothing, and a bad file of each kind is refused naming its line and changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.cli import main
from casework.records import Child, Placement, School, TermDate
from casework.users import User
from engine.db import make_engine, session_factory, unit_of_work
from engine.models import ProcessInstance
from notifications.models import OutboxMessage
from tests.casework.gias_file import establishment, gias_csv
from tests.casework.test_ssda903 import sample_episodes, sample_header
from tests.hashing import FAST_HASHER
from tests.web.support import csrf_token, login

NEW_PASSWORD = "a long and private passphrase"
TERMS = ("kind,academic_year,term,starts_on,ends_on\n"
         "term,2026/27,autumn,2026-09-03,2026-12-18\nhalf_term,2026/27,autumn,2026-10-26,2026-10-30\n"
         "term,2026/27,spring,2027-01-05,2027-03-26\nterm,2026/27,summer,2027-04-12,2027-07-21\n")
STAFF = ("username,display_name,email,roles,school_urn,team\n"
         "sam.social,Sam Social,sam@council.example,social_worker,,North\n"
         "vera.vsh,Vera Head,vera@council.example,vsh,,\n"
         "dora.teacher,Dora Teacher,dora@council.example,designated_teacher,100001,\n")
SCHOOLS = [establishment("100001", "Hillcrest Primary School", la_code="935"),
           establishment("100002", "Riverside Academy", "Academy converter", la_code="935"),
           establishment("100003", "Oakwood Residential School", "Non-maintained special school", la_code="936")]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    written = {"schools": gias_csv(SCHOOLS), "terms": TERMS, "staff": STAFF, "header": sample_header(),
               "episodes": sample_episodes()}
    paths = {name: tmp_path / f"{name}.csv" for name in written}
    for name, text in written.items():
        paths[name].write_text(text, encoding="utf-8")
    return paths


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("VSW_BASE_URL", "https://vsw.council.example")
    return CliRunner()


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    engine = make_engine(db_url)
    with session_factory(engine)() as opened:
        yield opened
    engine.dispose()


def run(cli: CliRunner, *args: str, typed: str | None = None, status: int = 0) -> str:
    done = cli.invoke(main, list(args), input=typed)
    assert done.exit_code == status, done.output
    return done.output


def imports(files: dict[str, Path]) -> list[list[str]]:
    return [["import", "schools", str(files["schools"])],
            ["authority", "terms", "--la", "935", str(files["terms"])],
            ["import", "staff", "--la", "935", str(files["staff"])],
            ["import", "ssda903", "--la", "935", "--header", str(files["header"]), "--episodes",
             str(files["episodes"])]]


def counts(session: Session) -> dict[str, int]:
    session.expire_all()
    return {model.__name__: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (School, TermDate, User, Child, Placement, ProcessInstance, OutboxMessage)}


def bring_up(cli: CliRunner, files: dict[str, Path]) -> None:
    run(cli, "deploy")
    run(cli, "authority", "add", "--la", "935", "--name", "Demo Borough Council")
    run(cli, "user", "add", "--username", "it.admin", "--name", "IT Administrator", "--email",
        "it@council.example", "--role", "admin", "--la", "935", typed=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    for command in imports(files):
        run(cli, *command)


def test_a_new_authority_comes_up_from_its_own_files_and_its_staff_sign_in_to_their_children(
    cli: CliRunner, files: dict[str, Path], session: Session, db_url: str
) -> None:
    bring_up(cli, files)
    assert counts(session)["School"] == 3 and counts(session)["TermDate"] == 3
    assert sorted(session.scalars(select(Child.ref))) == ["A001", "A002", "A003", "A004"]
    invitations = {m.recipient_username: m.link for m in session.scalars(select(OutboxMessage))}
    assert set(invitations) == {"sam.social", "vera.vsh", "dora.teacher"}
    with unit_of_work(session_factory(make_engine(db_url))) as writing:  # the caseloads page's allocation
        writing.execute(update(Child).where(Child.ref.in_(["A001", "A002"])).values(social_worker="sam.social"))

    from app.settings import Settings
    from app.wiring import create_web_app

    app = create_web_app(Settings(database_url=db_url, base_url="https://vsw.council.example"),
                         {"TESTING": True, "SECRET_KEY": "onboarding", "VSW_PASSWORD_HASHER": FAST_HASHER})
    browser = app.test_client()
    path = re.sub(r"^https://vsw\.council\.example", "", invitations["sam.social"])
    page = browser.get(path)
    assert page.status_code == 200
    accepted = browser.post(path, data={"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD,
                                        "csrf_token": csrf_token(page.text)})
    assert accepted.status_code == 302
    assert login(browser, "sam.social", NEW_PASSWORD).status_code == 302
    children = browser.get("/children")
    assert children.status_code == 200 and "A001" in children.text and "A002" in children.text
    assert "A004" not in children.text  # not theirs
    admin = app.test_client()
    assert login(admin, "it.admin", NEW_PASSWORD).status_code == 302
    assert admin.get("/admin").status_code == 200
    app.extensions["vsw"].engine.dispose()


def test_the_same_files_again_change_nothing(cli: CliRunner, files: dict[str, Path], session: Session) -> None:
    bring_up(cli, files)
    before = counts(session)
    for command in imports(files):
        run(cli, *command)
    assert counts(session) == before


@pytest.mark.parametrize(("kind", "broken", "named"), [
    ("schools", lambda text: text.replace("\n100002,", "\n10000X,", 1), "line 3"),
    ("terms", lambda text: text.replace("2027-01-05,2027-03-26", "2027-03-26,2027-01-05"), "line 4"),
    ("staff", lambda text: text.replace("vsh,,", "wizard,,"), "line 3"),
    ("episodes", lambda text: text.replace("A004,01/07/2023,L,C2,N1,U6", "A004,01/07/2023,L,C2,N1,Q9"), "line 7"),
])
def test_a_bad_file_of_each_kind_is_refused_naming_its_line_and_changes_nothing(
    cli: CliRunner, files: dict[str, Path], session: Session, kind: str, broken: object, named: str
) -> None:
    bring_up(cli, files)
    before = counts(session)
    assert callable(broken)
    files[kind].write_text(broken(files[kind].read_text(encoding="utf-8")), encoding="utf-8")
    command = next(c for c in imports(files) if str(files[kind]) in c)
    output = run(cli, *command, status=1)
    assert named in output.lower(), output
    assert counts(session) == before
