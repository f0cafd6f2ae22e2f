"""Passwords follow the NCSC's guidance: long enough, not common or breached, not the person's own
names; no composition rules. Checked through UserService.add and through ``vsw user add``."""

from __future__ import annotations

import fnmatch
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.cli import main
from casework.demo import DEMO_PASSWORD, STAFF
from casework.passwords import (
    MAX_PASSWORD_LENGTH,
    ONLY_WHITESPACE,
    PERSONAL,
    TOO_COMMON,
    TOO_LONG,
    TOO_SHORT,
    common_passwords,
    password_problems,
)
from casework.users import User, UserService
from engine.clock import FrozenClock
from engine.db import make_engine, session_factory, unit_of_work
from engine.errors import InvalidData
from tests.hashing import FAST_HASHER

ROOT = Path(__file__).resolve().parents[2]
USERNAME = "samantha.okafor"
NAME = "Samantha Okafor-Reid"
EMAIL = "s.okafor@council.example"
# Made with Python's secrets module for these tests: four random dictionary words, and random characters.
RANDOM_PASSPHRASE = "howrah uniquely reliance livorno"
RANDOM_CHARACTERS = "VhfSWbI0zDVoS_KLQ2aozL4r"

FINDINGS = [
    ("aaaaaaaaaa", TOO_COMMON),
    ("password12", TOO_COMMON),
    ("1234567890", TOO_COMMON),
    (" " * 10, ONLY_WHITESPACE),
    (USERNAME, PERSONAL),
    (NAME, PERSONAL),
]


def problems(password: str) -> list[str]:
    return password_problems(password, USERNAME, NAME, EMAIL)


def add(session: Session, clock: FrozenClock, password: str) -> User:
    return UserService(session, clock, FAST_HASHER).add(USERNAME, NAME, EMAIL, password, ["vsh"], "935")


def users_in(db_url: str) -> int:
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as session:
            return session.scalar(select(func.count()).select_from(User)) or 0
    finally:
        engine.dispose()


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", db_url)
    return CliRunner()


def vsw_user_add(cli: CliRunner, password: str) -> tuple[int, str]:
    result = cli.invoke(main, ["user", "add", "--username", USERNAME, "--name", NAME, "--email", EMAIL,
                               "--role", "vsh", "--la", "935"], input=password + "\n")
    return result.exit_code, result.output


@pytest.mark.parametrize(("password", "reason"), FINDINGS)
def test_each_password_from_the_finding_is_refused_by_user_service_add_with_its_one_reason(
    factory: sessionmaker[Session], clock: FrozenClock, password: str, reason: str
) -> None:
    with unit_of_work(factory) as session, pytest.raises(InvalidData) as caught:
        add(session, clock, password)
    assert caught.value.errors == {"password": [reason]}


@pytest.mark.parametrize(("password", "reason"), FINDINGS)
def test_each_password_from_the_finding_is_refused_by_vsw_user_add_in_one_line_and_adds_no_one(
    cli: CliRunner, db_url: str, password: str, reason: str
) -> None:
    code, output = vsw_user_add(cli, password)
    assert code == 1
    assert output.strip().splitlines() == [f"Error: The data submitted is not valid (password: {reason})"]
    assert users_in(db_url) == 0


def test_a_random_passphrase_is_accepted_by_vsw_user_add_and_signs_in(
    cli: CliRunner, db_url: str, factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    code, output = vsw_user_add(cli, RANDOM_PASSPHRASE)
    assert code == 0, output
    with unit_of_work(factory) as session:
        assert UserService(session, clock).authenticate(USERNAME, RANDOM_PASSPHRASE) is not None


@pytest.mark.parametrize("password", [RANDOM_PASSPHRASE, RANDOM_CHARACTERS, "howrahuniquelyreliancelivorno"])
def test_random_passwords_are_accepted_without_any_composition_rule(password: str) -> None:
    assert problems(password) == []


@pytest.mark.parametrize(
    "password",
    [
        "PASSWORD12",  # case does not matter
        "Password2024!",  # digits and punctuation added at the end
        "!!iloveyou!!",  # or at both ends
        "P@ssw0rd123",  # look-alike characters
        "pass word 12",  # spaces left out
        "bbbbbbbbbbbb",  # one character repeated, whether or not it is on the list
        "abcabcabcabc",  # a short unit repeated
        "monkeymonkey",  # a common word repeated
        "abcdefghij",  # the alphabet
        "0987654321",  # the digits backwards
        "7890123456",  # the digits wrapping round
        "qwertyuiop",  # a keyboard row
        "1qaz2wsx3edc",  # keyboard columns
    ],
)
def test_trivial_variants_of_common_passwords_and_runs_are_too_common(password: str) -> None:
    assert problems(password) == [TOO_COMMON]


@pytest.mark.parametrize(
    "password",
    ["my name is samantha", "okafor rules the roost", "reid!reid!reid!", "SAMANTHA.OKAFOR99", "s.okafor gets in",
     "samanthaokafor-reid"],
)
def test_a_password_containing_the_username_a_name_or_the_email_local_part_is_refused(password: str) -> None:
    assert problems(password)[0] == PERSONAL


def test_names_shorter_than_three_characters_are_not_looked_for() -> None:
    assert password_problems(RANDOM_PASSPHRASE, "jo", "Jo Li", "jo@council.example") == []
    assert password_problems("li jo stands guard at noon", "sam", "Jo Li", "sam@council.example") == []


def test_the_length_limits_name_their_numbers_and_the_longest_allowed_is_accepted() -> None:
    assert problems("howrah uni") == []
    assert problems("howrah un") == [TOO_SHORT] == ["Password must be 10 characters or more"]
    longest = (RANDOM_CHARACTERS * 6)[:MAX_PASSWORD_LENGTH]
    assert problems(longest) == []
    assert problems(longest + "x") == [TOO_LONG] == [f"Password must be {MAX_PASSWORD_LENGTH} characters or fewer"]
    assert MAX_PASSWORD_LENGTH == 128


def test_spaces_around_a_password_are_kept_not_stripped(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    padded = f"  {RANDOM_PASSPHRASE} "
    with unit_of_work(factory) as session:
        add(session, clock, padded)
    with unit_of_work(factory) as session:
        service = UserService(session, clock, FAST_HASHER)
        assert service.authenticate(USERNAME, RANDOM_PASSPHRASE) is None
        assert service.authenticate(USERNAME, padded) is not None


def test_the_demo_password_passes_for_every_demo_user() -> None:
    for username, name, *_ in STAFF:
        assert password_problems(DEMO_PASSWORD, username, name, f"{username}@demo-council.example") == []


def test_the_deny_list_is_the_bundled_one_of_common_and_breached_passwords() -> None:
    deny = common_passwords()
    assert len(deny) > 40_000
    assert {"password", "123456", "iloveyou", "qwertyuiop", "trustno1"} <= deny
    assert all(entry == entry.lower() for entry in deny)


def test_the_deny_list_ships_with_the_package() -> None:
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert (ROOT / "casework" / "data" / "common_passwords.txt.gz").is_file()
    assert any(fnmatch.fnmatch("data/common_passwords.txt.gz", pattern) for pattern in package_data["casework"])


def test_the_deny_list_is_read_once_and_kept() -> None:
    common_passwords.cache_clear()
    for _ in range(3):
        problems("password12")
        problems(RANDOM_PASSPHRASE)
    info = common_passwords.cache_info()
    assert (info.misses, info.currsize) == (1, 1)
    assert common_passwords() is common_passwords()


def test_the_deny_list_is_not_read_when_the_modules_are_imported() -> None:
    probe = ("import casework.passwords, casework.users, app.cli; "
             "assert casework.passwords.common_passwords.cache_info().currsize == 0")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_checking_a_password_is_fast_once_the_list_is_loaded() -> None:
    common_passwords()
    started = time.perf_counter()
    for number in range(2000):
        problems(f"{RANDOM_PASSPHRASE} {number}")
    assert time.perf_counter() - started < 2.0  # about 0.03 ms each on the development machine


def test_no_network_is_used_to_load_the_list_or_check_a_password(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the network was used")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    common_passwords.cache_clear()
    assert problems("password12") == [TOO_COMMON]
    assert problems(RANDOM_PASSPHRASE) == []
    assert common_passwords.cache_info().currsize == 1
