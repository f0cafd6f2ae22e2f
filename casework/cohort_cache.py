"""The dashboard, remembered until the records it sums change.

A dashboard sums every child on the roll; at 5,000 children that is a few hundred milliseconds of SQL,
and the VSH, managers and the corporate parenting board's printouts ask for the same one again and again.
So each computed :class:`~casework.cohort.Dashboard` is kept (in this process, the newest
:data:`KEPT`) under a key naming exactly what it depends on:

- the database and its *data version* (casework/data_version.py), which every transaction that writes
  one of the records the dashboard sums raises as it commits;
- the viewer's scope: the SQL of the condition on ``child`` they may see, with its values (so a social
  worker's caseload and the whole authority are different entries), and the escalation kinds they read;
- the authority, the period asked for and today's date (the roll is taken on today while a term runs).

A remembered dashboard is therefore never older than the last committed write: the first request after
a write computes it again. Processes share nothing but the version row; each keeps its own copies.
tests/casework/test_cohort_cache.py checks that after each kind of write the dashboard is what a fresh
computation gives.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable
from datetime import date
from typing import Any, cast
from weakref import WeakKeyDictionary

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from .cohort import Dashboard, Viewer, dashboard
from .data_version import version

KEPT = 64


def scope_key(session: Session, condition: ColumnElement[bool]) -> Hashable:
    """The viewer's condition as its SQL and values: equal keys select the same children."""
    compiled = condition.compile(session.get_bind(), compile_kwargs={"render_postcompile": True})
    return str(compiled), tuple(sorted((k, repr(v)) for k, v in compiled.params.items()))


_kept: OrderedDict[Hashable, Any] = OrderedDict()
_engines: WeakKeyDictionary[Any, str] = WeakKeyDictionary()


def _engine_token(session: Session) -> str:
    """A name for the engine (connection pool) the session uses: a copy of a database (a restored backup,
    a test's copy of a template) keeps the version row's token, but is reached by another engine."""
    engine = session.get_bind()
    with _lock:
        return _engines.setdefault(engine, uuid.uuid4().hex)
_lock = threading.Lock()


def remembered(session: Session, key: Collection[Hashable], compute: Callable[[], Any]) -> Any:
    """``compute()``, or what it gave for ``key`` at the current data version."""
    current = version(session)
    if current is None:
        return compute()
    full = (_engine_token(session), current, *key)
    with _lock:
        if full in _kept:
            _kept.move_to_end(full)
            return _kept[full]
    value = compute()
    with _lock:
        _kept[full] = value
        while len(_kept) > KEPT:
            _kept.popitem(last=False)
    return value


def remembered_dashboard(session: Session, viewer: Viewer, period: str | None, today: date) -> Dashboard:
    """The viewer's dashboard for ``period`` (None: the current term), remembered as above."""
    key = (scope_key(session, viewer.children), viewer.la_code, tuple(sorted(viewer.escalation_kinds)), period,
           today)
    return cast(Dashboard, remembered(session, key, lambda: dashboard(
        session, viewer.children, period, today, la_code=viewer.la_code,
        escalation_kinds=viewer.escalation_kinds)))
