"""One scheduler per SQLite database: an exclusive OS file lock held for the scheduler's life.

SQLite has no row locks, so two schedulers could both load and fire the same
case. The lock is ``<database file>.scheduler.lock`` (``fcntl.flock``, not
blocking); the operating system drops it when the process ends, however it ends.
On PostgreSQL no lock is taken: schedulers claim cases with ``SKIP LOCKED``.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import IO

from sqlalchemy.engine import make_url

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock; SQLite there is for trying things out
    fcntl = None  # type: ignore[assignment]


class AnotherSchedulerRunning(Exception):
    def __init__(self, database: Path) -> None:
        self.database = database
        self.message = (f"Another scheduler is already running against {database} (SQLite allows one); "
                        "stop it or use PostgreSQL for several.")
        super().__init__(self.message)


def sqlite_file(url: str) -> Path | None:
    """The database file of a file-backed SQLite URL, else None (PostgreSQL, in-memory SQLite)."""
    parsed = make_url(url)
    if not parsed.get_backend_name() == "sqlite":
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        return None
    return Path(database).expanduser().resolve()


class SchedulerLock:
    """Held while a scheduler runs; ``release`` (or leaving the ``with``) lets the next one start."""

    def __init__(self, url: str) -> None:
        self.database = sqlite_file(url)
        self.path = None if self.database is None else self.database.with_name(self.database.name + ".scheduler.lock")
        self._file: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._file is not None

    def acquire(self) -> SchedulerLock:
        """Take the lock, or raise :class:`AnotherSchedulerRunning`. A no-op unless SQLite on a file."""
        if self.path is None or self.database is None or fcntl is None or self._file is not None:
            return self
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held open for the scheduler's life
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise AnotherSchedulerRunning(self.database) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return self

    def release(self) -> None:
        if self._file is not None and fcntl is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def __enter__(self) -> SchedulerLock:
        return self.acquire()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.release()
