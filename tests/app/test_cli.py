"""The operator's CLI: one transaction per command, one clear line per error."""

from __future__ import annotations

import os
import pty
import re
import signal
import sys
import time
from pathlib import Path
from select import select as wait_until_readable

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.cli import main
from casework.records import Pep
from casework.users import User, UserService
from engine.clock import FrozenClock
from engine.db import make_engine, session_factory, unit_of_work
from engine.models import HumanTask, ProcessDefinition

ROOT = Path(__file__).resolve().parents[2]
BROKEN = ROOT / "tests" / "engine" / "bpmn" / "review.bpmn"


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", db_url)
    return CliRunner()


def count(db_url: str, model: type) -> int:
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as session:
            return session.scalar(select(func.count()).select_from(model)) or 0
    finally:
        engine.dispose()


def test_db_upgrade_creates_the_schema_in_an_empty_sqlite_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    monkeypatch.setenv("DATABASE_URL", url)
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "is up to date" in result.output
    assert count(url, ProcessDefinition) == 0


def test_deploy_without_a_path_deploys_the_shipped_processes(cli: CliRunner, db_url: str) -> None:
    result = cli.invoke(main, ["deploy"])
    assert result.exit_code == 0, result.output
    assert "placement_move: version 1" in result.output
    again = cli.invoke(main, ["deploy"])
    assert "placement_move: version 1" in again.output  # unchanged content, same version


def test_filling_message_waits_after_an_upgrade_reports_how_many_it_recorded(cli: CliRunner, db_url: str) -> None:
    assert cli.invoke(main, ["deploy"]).exit_code == 0
    result = cli.invoke(main, ["db", "fill-message-waits"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Message waits recorded: 0."  # no case is running: nothing to record


def test_deploying_a_broken_file_prints_one_line_naming_it_and_stores_nothing(
    cli: CliRunner, db_url: str, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.bpmn"
    broken.write_text(BROKEN.read_text().replace("drafted_at = now()", "import os"))
    result = cli.invoke(main, ["deploy", str(broken)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: broken.bpmn: element 'stamp': script: Script refused")
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert count(db_url, ProcessDefinition) == 0


KIM = ["user", "add", "--username", "kim", "--name", "Kim Lee", "--email", "kim@council.example", "--la", "935"]
KIMS_PASSWORD = "tallow quince harbour"


def test_user_add_reports_every_bad_field_in_one_line_and_adds_no_one(cli: CliRunner, db_url: str) -> None:
    result = cli.invoke(main, [*KIM, "--role", "wizard"], input="short\n")
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert "password: Password must be 10 characters or more" in result.output
    assert "roles: Unknown role: wizard" in result.output
    assert count(db_url, User) == 0


def test_user_add_reads_the_password_from_the_first_line_of_standard_input(
    cli: CliRunner, db_url: str, factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    result = cli.invoke(main, [*KIM, "--role", "vsh", "--role", "manager"], input=f"{KIMS_PASSWORD}\nsecond line\n")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Added kim (manager,vsh)."
    assert count(db_url, User) == 1
    with unit_of_work(factory) as session:
        assert UserService(session, clock).authenticate("kim", KIMS_PASSWORD) is not None


def test_user_add_refuses_a_password_on_the_command_line_in_one_line_saying_how_to_pipe_it(
    cli: CliRunner, db_url: str
) -> None:
    result = cli.invoke(main, [*KIM, "--role", "vsh", "--password", KIMS_PASSWORD], input=f"{KIMS_PASSWORD}\n")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: --password is not accepted (the command line is kept in shell history and process lists): type "
        "the password at the prompt, or give it as the first line of standard input: "
        "printf '%s\\n' \"$PASSWORD\" | vsw user add ..."
    ]
    assert "--password" not in cli.invoke(main, ["user", "add", "--help"]).output
    assert count(db_url, User) == 0


@pytest.mark.parametrize("given", ["", "\n", "\r\n"])
def test_user_add_with_no_password_on_standard_input_is_one_line_and_adds_no_one(
    cli: CliRunner, db_url: str, given: str
) -> None:
    result = cli.invoke(main, [*KIM, "--role", "vsh"], input=given)
    assert result.exit_code == 1
    assert result.output.startswith("Error: No password on standard input: give it as the first line, printf")
    assert len(result.output.strip().splitlines()) == 1
    assert count(db_url, User) == 0


def test_user_add_at_a_terminal_asks_twice_for_the_password_without_showing_it(
    db_url: str, factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    screen = at_a_terminal([sys.executable, "-m", "app.cli", *KIM, "--role", "vsh"], {"DATABASE_URL": db_url},
                           [("Password: ", KIMS_PASSWORD), ("Repeat the password: ", "tallow quince"),
                            ("Password: ", KIMS_PASSWORD), ("Repeat the password: ", KIMS_PASSWORD)])
    assert "The two entered values do not match." in screen and "Added kim (vsh)." in screen
    assert "tallow" not in screen  # nothing typed is echoed
    with unit_of_work(factory) as session:
        assert UserService(session, clock).authenticate("kim", KIMS_PASSWORD) is not None


def at_a_terminal(command: list[str], env: dict[str, str], answers: list[tuple[str, str]]) -> str:
    """Run ``command`` on a new pseudo-terminal (its controlling terminal, as at a shell), typing each
    answer when its prompt appears; what the terminal showed."""
    pid, terminal = pty.fork()
    if pid == 0:  # pragma: no cover (the child)
        try:
            os.chdir(ROOT)
            os.execve(command[0], command, {**os.environ, **env})
        finally:
            os._exit(127)
    shown, seen = b"", 0
    deadline = time.monotonic() + 60
    try:
        for prompt, answer in [*answers, ("", "")]:
            while True:
                found = shown.find(prompt.encode(), seen) if prompt else -1
                if found >= 0:
                    seen = found + len(prompt)
                    os.write(terminal, answer.encode() + b"\n")
                    break
                ready, _, _ = wait_until_readable([terminal], [], [], max(0.0, deadline - time.monotonic()))
                assert ready, f"no {prompt!r} within 60 s: {shown!r}"
                try:
                    chunk = os.read(terminal, 4096)
                except OSError:  # the command ended and closed the terminal
                    chunk = b""
                if not chunk:
                    assert not prompt, f"ended before {prompt!r}: {shown!r}"
                    break
                shown += chunk
    except BaseException:  # a prompt that never came: stop the command rather than wait for it
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(terminal)
        raise
    _, status = os.waitpid(pid, 0)
    os.close(terminal)
    assert os.waitstatus_to_exitcode(status) == 0, shown
    return shown.decode()


def test_a_database_that_cannot_be_reached_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nowhere")
    result = CliRunner().invoke(main, ["deploy"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: Database error (postgresql+psycopg://postgres@127.0.0.1:1/nowhere)")
    assert "Traceback" not in result.output


def test_a_bad_setting_is_one_line_naming_the_variable_and_help_still_works(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VSW_SMTP_HOST", "smtp.la.example")
    monkeypatch.setenv("VSW_SMTP_PORT", "abc")
    result = cli.invoke(main, ["db", "upgrade"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: The settings are not valid: VSW_SMTP_PORT: give a whole number, not 'abc'"]
    assert cli.invoke(main, ["db", "--help"]).exit_code == 0


def test_the_cli_uses_the_database_the_settings_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path}/named.db"
    monkeypatch.setenv("DATABASE_URL", url)
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.output.strip() == f"Database at {url} is up to date."
    assert (tmp_path / "named.db").exists()


def test_demo_loads_staff_and_placement_moves_once(cli: CliRunner, db_url: str) -> None:
    first = cli.invoke(main, ["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    # the named demo's 13 staff, 7 children and 7 PEPs, and the generated cohort's 20 social workers and
    # 600 children with their PEP records (how many depends on the day: casework/demo_cohort.py)
    loaded = re.search(r"33 staff, 607 new children, (\d+) new PEPs, 3 new placement moves", first.output)
    assert loaded, first.output
    second = cli.invoke(main, ["demo", "--no-serve"])
    assert "0 new children, 0 new PEPs, 0 new placement moves; escalations open: 1." in second.output
    assert count(db_url, User) == 33
    assert count(db_url, Pep) == int(loaded.group(1))
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as session:
            open_tasks = session.scalars(select(HumanTask.element_id).where(
                HumanTask.state == "open", HumanTask.process_id == "placement_move")).all()
    finally:
        engine.dispose()
    # two moves wait for a proposal; one was proposed, so both of its branches are open
    assert sorted(open_tasks) == ["confirm_care_placement", "discuss_school_choice", "propose_move", "propose_move"]



def test_the_demo_records_every_childs_care_placement_and_escalates_the_overdue_initial_pep(
    cli: CliRunner, db_url: str
) -> None:
    from casework.escalations import Escalation
    from casework.records import Child

    result = cli.invoke(main, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "escalations open: 1." in result.output  # the initial PEP's deadline passed before today
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as session:
            children = session.scalars(select(Child)).all()
            assert len(children) == 607 and all(c.current_placement_id is not None for c in children)
            [escalation] = session.scalars(select(Escalation)).all()
            assert (escalation.kind, escalation.child_ref, escalation.state) == ("overdue_pep", "C-1007", "open")
            manager_tasks = session.scalars(select(HumanTask.business_key).where(
                HumanTask.state == "open", HumanTask.role == "manager")).all()
            assert manager_tasks == ["C-1007"]
    finally:
        engine.dispose()
