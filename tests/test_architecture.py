"""The architecture stays visible: imports point one way (docs/engine.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "engine": {"flask", "web", "notifications", "casework", "processes", "scheduler"},
    "casework": {"flask", "web", "scheduler"},
    "processes": {"flask", "web", "notifications", "casework", "scheduler"},
    "notifications": {"flask", "web", "scheduler", "casework", "processes"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_lower_package_never_imports_a_higher_one(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
    }
    assert {file: names for file, names in offenders.items() if names} == {}


def test_the_import_check_notices_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("import flask\nfrom web.tasks import bp\n")
    assert imported_roots(module) >= {"flask", "web"}


def test_flask_is_imported_only_by_the_web_package() -> None:
    users = {
        str(path.relative_to(ROOT))
        for package in ("engine", "casework", "processes", "notifications", "scheduler")
        for path in (ROOT / package).rglob("*.py")
        if "flask" in imported_roots(path)
    }
    assert users == set()


def test_no_module_grows_past_five_hundred_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for package in ("engine", "casework", "processes", "notifications", "scheduler", "web")
        for path in (ROOT / package).rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 500
    }
    assert long == {}


def wall_clock_reads(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and (node.func.value.id, node.func.attr) in {("datetime", "now"), ("datetime", "utcnow"),
                                                     ("date", "today"), ("time", "time")}
    ]


def test_the_engine_never_reads_the_wall_clock_outside_the_clock_module() -> None:
    readers = {
        str(path.relative_to(ROOT)): lines
        for path in (ROOT / "engine").rglob("*.py")
        if path.name != "clock.py" and (lines := wall_clock_reads(path))
    }
    assert readers == {}


def test_the_wall_clock_check_notices_a_read(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("from datetime import datetime\nx = datetime.now()\n")
    assert wall_clock_reads(module) == [2]
