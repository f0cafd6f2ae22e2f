"""Exactly one scheduler per SQLite database; on PostgreSQL any number."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main
from engine.runtime import Runtime
from scheduler import AnotherSchedulerRunning, Jobs, SchedulerLock, start_background_scheduler
from tests.conftest import ROOT, migrate


@pytest.fixture
def sqlite_db(tmp_path: Path) -> tuple[str, Path]:
    path = tmp_path / "vsw.db"
    url = f"sqlite:///{path}"
    migrate(url)
    return url, path


def refusal(path: Path) -> str:
    return (f"Another scheduler is already running against {path.resolve()} (SQLite allows one); "
            "stop it or use PostgreSQL for several.")


def test_a_second_scheduler_on_the_same_sqlite_file_is_refused_with_one_clear_line(sqlite_db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    url, path = sqlite_db
    monkeypatch.setenv("DATABASE_URL", url)
    with SchedulerLock(url) as first:
        assert first.held
        result = CliRunner().invoke(main, ["scheduler", "--once"])
        assert result.exit_code == 1
        assert result.output.strip().splitlines() == [f"Error: {refusal(path)}"]
    result = CliRunner().invoke(main, ["scheduler", "--once"])  # released: the next one may run
    assert result.exit_code == 0, result.output
    assert "timers: fired 0 in 0 instances" in result.output


def test_a_running_scheduler_process_holds_the_lock_until_it_stops(sqlite_db) -> None:  # type: ignore[no-untyped-def]
    url, path = sqlite_db
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "app.cli", "scheduler", "--interval", "3600"]
    first = subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        started = threading.Event()

        def watch() -> None:
            assert first.stderr is not None
            for line in first.stderr:
                if "scheduler started" in line:
                    started.set()

        threading.Thread(target=watch, daemon=True).start()
        assert started.wait(timeout=60), "the first scheduler did not start"
        second = subprocess.run([*command[:-2], "--once"], env=env, cwd=ROOT, capture_output=True, text=True,
                                timeout=60)
        assert second.returncode == 1
        assert second.stderr.strip().splitlines()[-1] == f"Error: {refusal(path)}"
        with pytest.raises(AnotherSchedulerRunning):
            SchedulerLock(url).acquire()
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=60)
    assert first.returncode == 0
    with SchedulerLock(url) as after:
        assert after.held


def test_serve_with_scheduler_refuses_to_start_a_second_scheduler_on_sqlite(sqlite_db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import flask

    url, path = sqlite_db
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("VSW_SECRET_KEY", "x" * 64)
    monkeypatch.setattr(flask.Flask, "run", lambda *a, **k: pytest.fail("served despite the refusal"))
    with SchedulerLock(url):
        result = CliRunner().invoke(main, ["serve", "--with-scheduler"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: Not starting the in-process scheduler: {refusal(path)} (or serve without --with-scheduler)"]


def test_the_in_process_scheduler_holds_the_lock_until_it_shuts_down(sqlite_db, factory, clock) -> None:  # type: ignore[no-untyped-def]
    url, _ = sqlite_db
    background = start_background_scheduler(url, lambda: Jobs(factory, Runtime(), clock))
    try:
        with pytest.raises(AnotherSchedulerRunning):
            SchedulerLock(url).acquire()
    finally:
        background.shutdown(wait=True)
    with SchedulerLock(url) as after:
        assert after.held


def test_no_lock_is_taken_on_postgresql_or_in_memory_sqlite() -> None:
    for url in ("postgresql+psycopg://vsw@db.internal/vsw", "sqlite://", "sqlite:///:memory:"):
        with SchedulerLock(url) as one, SchedulerLock(url) as two:
            assert (one.path, one.held, two.held) == (None, False, False)
