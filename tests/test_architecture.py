"""The architecture stays visible: imports point one way (docs/engine.md), and ``app/`` is the one
composition root: it alone reads the environment (``app/settings.py``) and wires the parts together.

Every product package is checked: ``PACKAGES``. ``tests/`` and ``bench/`` are not the product; they may
import anything and read their own variables (``VSW_TEST_DATABASE_URL``, ``VSW_BENCH_*``: see
docs/configuration.md, "Variables for tests and benchmarks only").
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "casework", "engine", "migrations", "notifications", "processes", "scheduler", "web")
FORBIDDEN = {
    "engine": {"flask", "web", "notifications", "casework", "processes", "scheduler", "app", "migrations"},
    "casework": {"flask", "web", "scheduler", "app", "migrations"},
    "processes": {"flask", "web", "notifications", "casework", "scheduler", "app", "migrations"},
    "notifications": {"flask", "web", "scheduler", "casework", "processes", "app", "migrations"},
    "scheduler": {"flask", "web", "casework", "notifications", "processes", "app", "migrations"},
    "web": {"app", "scheduler", "migrations", "click"},
    "migrations": {"flask", "web", "scheduler", "processes"},
    "app": set(),  # the composition root may import every package (but not Flask: see below)
}
"""What each package must not import. ``app`` is imported by no package; ``migrations/env.py`` alone
reads ``DATABASE_URL`` through ``app.settings`` (checked below)."""
SETTINGS_MODULE = "app/settings.py"
ENVIRONMENT_NAMES = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}


def product_modules(*packages: str) -> list[Path]:
    return [path for package in (packages or PACKAGES) for path in sorted((ROOT / package).rglob("*.py"))]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def imported_roots(path: Path) -> set[str]:
    return {module.split(".")[0] for module in imported_modules(path)}


def test_every_product_package_has_an_import_rule() -> None:
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert packages == set(PACKAGES) == set(FORBIDDEN)


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_lower_package_never_imports_a_higher_one(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & FORBIDDEN[package])
        for path in product_modules(package)
    }
    assert {file: names for file, names in offenders.items() if names} == {}


def test_the_migrations_take_only_the_settings_from_the_composition_root() -> None:
    from_app = {
        str(path.relative_to(ROOT)): sorted(m for m in imported_modules(path) if m.split(".")[0] == "app")
        for path in product_modules("migrations")
    }
    assert {file: names for file, names in from_app.items() if names} == {"migrations/env.py": ["app.settings"]}


def test_the_import_check_notices_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("import flask\nfrom web.tasks import bp\n")
    assert imported_roots(module) >= {"flask", "web"}


def test_flask_is_imported_only_by_the_web_package() -> None:
    users = {
        str(path.relative_to(ROOT))
        for path in product_modules(*(p for p in PACKAGES if p != "web"))
        if "flask" in imported_roots(path)
    }
    assert users == set()


def test_no_module_grows_past_five_hundred_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in product_modules()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 500
    }
    assert long == {}


def environment_reads(path: Path) -> list[int]:
    """Lines that read (or change) the process environment: ``os.environ``, ``os.getenv`` and the like,
    however ``os`` was imported, and ``from os import environ``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    aliases = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
               for alias in node.names if alias.name == "os"}
    lines = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr in ENVIRONMENT_NAMES
                and isinstance(node.value, ast.Name) and node.value.id in aliases):
            lines.append(node.lineno)
        elif (isinstance(node, ast.ImportFrom) and node.module == "os"
              and any(alias.name in ENVIRONMENT_NAMES for alias in node.names)):
            lines.append(node.lineno)
    return sorted(lines)


def environment_readers() -> dict[str, list[int]]:
    return {str(path.relative_to(ROOT)): lines for path in product_modules() if (lines := environment_reads(path))}


def test_only_the_settings_module_reads_the_environment() -> None:
    readers = environment_readers()
    assert SETTINGS_MODULE in readers  # the check finds the one reader there is
    assert {file: lines for file, lines in readers.items() if file != SETTINGS_MODULE} == {}


def test_the_environment_check_notices_every_way_of_reading_it(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("import os\nimport os as system\nfrom os import getenv\n"
                      "a = os.environ['X']\nb = system.getenv('Y')\nc = getenv('Z')\nd = os.path.join('e')\n")
    assert environment_reads(module) == [3, 4, 5]


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
