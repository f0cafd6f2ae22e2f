"""``vsw demo``: the links in its notifications point at the address it serves."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from app.cli import main
from engine.db import make_engine, session_factory
from notifications.models import OutboxMessage


def links(db_url: str) -> list[str]:
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as session:
            return [m.link for m in session.scalars(select(OutboxMessage)) if m.link]
    finally:
        engine.dispose()


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("VSW_BASE_URL", raising=False)
    return CliRunner()


def test_the_demos_notification_links_point_at_the_host_and_port_it_serves_not_localhost(
    cli: CliRunner, db_url: str
) -> None:
    result = cli.invoke(main, ["demo", "--no-serve", "--port", "5055"])
    assert result.exit_code == 0, result.output
    found = links(db_url)
    assert found and all(link.startswith("http://127.0.0.1:5055/") for link in found), found


def test_the_demo_keeps_the_base_url_the_environment_gives(
    cli: CliRunner, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VSW_BASE_URL", "https://vsw.example.gov.uk/")
    result = cli.invoke(main, ["demo", "--no-serve", "--host", "0.0.0.0"])
    assert result.exit_code == 0, result.output
    found = links(db_url)
    assert found and all(link.startswith("https://vsw.example.gov.uk/") for link in found), found
