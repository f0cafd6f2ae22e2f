"""Signing in resists guessing: failed attempts are counted per account, per client address and per
trusted browser, in a table every web process shares, and each throttle locks for a while, longer each time.

docs/security.md, "Signing in and sessions", gives the numbers and the reasoning. In short:

- An attempt is **counted before its password is checked** (:meth:`SignIns.begin`, in a transaction of
  its own that commits at once), so parallel requests cannot all slip in while the count is low; a
  successful attempt then takes its count back (:meth:`SignIns.finish`).
- ``account_failures`` failures of one username lock it for ``first_lock``; after that, every further
  failure locks it again for twice as long, up to ``longest_lock``. The same for a client address with
  ``address_failures``, so one address cannot try a few passwords on each of many accounts. A throttle
  with no failure for ``forget_after`` starts again from nothing.
- A locked throttle refuses the attempt without checking the password and without extending the lock.
- Unknown usernames are counted and locked exactly like known ones, so the answer never says which
  usernames exist.
- **The owner is never locked out for good by someone else**: a browser that has signed in to the
  account before carries a signed *device* token (``web/auth.py``); an attempt with it is held only by
  that token's own throttle, not by the account's or the address's lock, which an attacker elsewhere
  can keep closed (OWASP's "device cookies"). A new browser waits at most ``longest_lock`` after the
  attacker stops.

Every failed and successful sign-in and every lock is written to ``audit_event`` (actor: the username
tried; data: the client address). Attempts refused while a lock holds are not written one by one (they
check no password, and a flood of them must not fill the append-only audit); the lock that refused
them is. Services flush, never commit: the caller's unit of work commits.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Index, Integer, String, UniqueConstraint, delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.clock import Clock
from engine.models import AuditEvent, Base

ACCOUNT = "account"
ADDRESS = "address"
DEVICE = "device"
KEY_LENGTH = 100
"""Keys (a username as typed, an address, a device token's id) are cut to this; so is the audit's actor."""
UNKNOWN_ADDRESS = "unknown"
FORGET_BATCH = 1000
"""Quiet throttle rows deleted at most per successful sign-in."""


@dataclass(frozen=True)
class ThrottleRules:
    """How many failures lock each throttle, and for how long. Fixed in the code (docs/security.md)."""

    account_failures: int = 5
    address_failures: int = 20
    device_failures: int = 5
    first_lock: timedelta = timedelta(minutes=1)
    longest_lock: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if self.forget_after <= self.longest_lock:
            raise ValueError("forget_after must be longer than longest_lock, or a lock could be waited out "
                             "into a fresh start")

    def threshold(self, kind: str) -> int:
        return {ACCOUNT: self.account_failures, ADDRESS: self.address_failures}.get(kind, self.device_failures)

    def lock_for(self, lockouts: int) -> timedelta:
        """The ``lockouts``-th lock in a row: ``first_lock``, doubling each time, at most ``longest_lock``."""
        doubled: timedelta = self.first_lock * (2 ** min(max(lockouts - 1, 0), 20))
        return min(doubled, self.longest_lock)


class SignInThrottle(Base):
    """One throttle: an account (the username as typed), a client address, or a trusted browser."""

    __tablename__ = "sign_in_throttle"
    __table_args__ = (
        UniqueConstraint("kind", "key", name="uq_sign_in_throttle_key"),  # every attempt looks it up
        Index("ix_sign_in_throttle_last_failed", "last_failed_at"),  # forgetting quiet throttles
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    """Failures since the throttle was last quiet for ``forget_after`` (or, for an account, last signed in)."""
    lockouts: Mapped[int] = mapped_column(Integer, default=0)
    """Locks in a row: the next lasts twice as long as the last."""
    first_failed_at: Mapped[datetime | None]
    last_failed_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]


@dataclass(frozen=True)
class Lock:
    """A lock an attempt started: on which throttle, until when, and what it replaced."""

    kind: str
    key: str
    until: datetime
    previous: datetime | None
    failures: int


@dataclass(frozen=True)
class Attempt:
    """What :meth:`SignIns.begin` decided. ``allowed`` False: refused by a lock for ``retry_after``."""

    username: str
    address: str
    device: str | None
    allowed: bool
    retry_after: timedelta = timedelta(0)
    locks: tuple[Lock, ...] = field(default=())

    @property
    def counted(self) -> list[tuple[str, str]]:
        keys = [(ACCOUNT, _cut(self.username)), (ADDRESS, address_key(self.address))]
        return keys + ([(DEVICE, _cut(self.device))] if self.device else [])

    @property
    def enforced(self) -> list[tuple[str, str]]:
        """A trusted browser is held by its own throttle only; anything else by the account's and the address's."""
        return [(DEVICE, _cut(self.device))] if self.device else self.counted[:2]


def address_key(address: str | None) -> str:
    """The throttle key of a client address: the address, or its /64 for IPv6 (one customer's block)."""
    if not address:
        return UNKNOWN_ADDRESS
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return _cut(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _cut(text: str | None) -> str:
    return (text or "")[:KEY_LENGTH]


class SignIns:
    """The sign-in throttles and audit, on ``session`` (the caller commits)."""

    def __init__(self, session: Session, clock: Clock, rules: ThrottleRules | None = None) -> None:
        self.session = session
        self.clock = clock
        self.rules = rules or ThrottleRules()

    def begin(self, username: str, address: str | None, device: str | None = None) -> Attempt:
        """Count an attempt as a failure, or refuse it if a lock holds. Commit before checking the password."""
        now = self.clock.now()
        attempt = Attempt(username.strip(), address or UNKNOWN_ADDRESS, device, allowed=True)
        refused = self._refusal(self._rows(attempt.enforced, lock=False), attempt, now)
        if refused is not None:
            return refused  # nothing written: a refused attempt costs one read
        rows: list[SignInThrottle] = []
        for _ in range(2):  # a quiet row forgotten by another process in between is made again
            self._ensure(attempt.counted)
            rows = self._rows(attempt.counted, lock=True)
            if len(rows) == len(attempt.counted):
                break
        for row in rows:
            self._forget_if_quiet(row, now)
        refused = self._refusal([r for r in rows if (r.kind, r.key) in attempt.enforced], attempt, now)
        if refused is not None:
            return refused  # locked by a racing attempt in between
        locks = []
        for row in rows:
            previous = row.locked_until
            if not row.failures:
                row.first_failed_at = now
            row.failures += 1
            row.last_failed_at = now
            if row.failures >= self.rules.threshold(row.kind):
                row.lockouts += 1
                row.locked_until = now + self.rules.lock_for(row.lockouts)
                locks.append(Lock(row.kind, row.key, row.locked_until, previous, row.failures))
        self.session.flush()
        return Attempt(attempt.username, attempt.address, device, allowed=True, locks=tuple(locks))

    def finish(self, attempt: Attempt, signed_in: bool) -> None:
        """After the password was checked: audit the attempt; a success takes back its count."""
        now = self.clock.now()
        data: dict[str, Any] = {"address": attempt.address}
        if attempt.device:
            data["trusted_browser"] = True
        if not signed_in:
            self._audit(now, attempt.username, "sign_in_failed", data)
            for lock in attempt.locks:
                self._audit(now, attempt.username, "sign_in_locked",
                            {**data, "locked": lock.kind, "until": lock.until.isoformat(), "failures": lock.failures})
            return
        own = attempt.enforced[0] if attempt.device else attempt.counted[0]
        started = {(lock.kind, lock.key): lock for lock in attempt.locks}
        for row in self._rows(attempt.counted, lock=True):
            if (row.kind, row.key) == own:
                row.failures, row.lockouts, row.locked_until, row.first_failed_at = 0, 0, None, None
                continue
            row.failures = max(row.failures - 1, 0)  # this attempt was no failure after all
            mine = started.get((row.kind, row.key))
            if mine is not None and row.locked_until == mine.until:
                row.locked_until, row.lockouts = mine.previous, max(row.lockouts - 1, 0)
        self._forget_quiet(now)
        self._audit(now, attempt.username, "sign_in", data)
        self.session.flush()

    def audit(self, actor: str, action: str, data: dict[str, Any]) -> None:
        """Another sign-in event for the audit (``signed_out``, ``sessions_revoked``)."""
        self._audit(self.clock.now(), actor, action, data)

    def _refusal(self, rows: list[SignInThrottle], attempt: Attempt, now: datetime) -> Attempt | None:
        until = [row.locked_until for row in rows if row.locked_until is not None and row.locked_until > now]
        if not until:
            return None
        return Attempt(attempt.username, attempt.address, attempt.device, allowed=False,
                       retry_after=max(until) - now)

    def _ensure(self, keys: list[tuple[str, str]]) -> None:
        """The throttles' rows exist (two processes creating one at once both succeed)."""
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        rows = [{"kind": kind, "key": key, "failures": 0, "lockouts": 0} for kind, key in keys]
        self.session.execute(insert(SignInThrottle).values(rows).on_conflict_do_nothing(
            index_elements=["kind", "key"]))

    def _rows(self, keys: list[tuple[str, str]], *, lock: bool) -> list[SignInThrottle]:
        """The rows of ``keys``, locked for this transaction when ``lock`` (in one order, so no deadlock)."""
        query = (select(SignInThrottle).where(tuple_(SignInThrottle.kind, SignInThrottle.key).in_(keys))
                 .order_by(SignInThrottle.kind, SignInThrottle.key).execution_options(populate_existing=True))
        if lock:
            query = query.with_for_update()
        return list(self.session.scalars(query))

    def _forget_if_quiet(self, row: SignInThrottle, now: datetime) -> None:
        locked = row.locked_until is not None and row.locked_until > now
        if row.last_failed_at is not None and now - row.last_failed_at >= self.rules.forget_after and not locked:
            row.failures, row.lockouts, row.locked_until, row.first_failed_at = 0, 0, None, None

    def _forget_quiet(self, now: datetime) -> None:
        """Rows quiet for ``forget_after`` (or never failed) and unlocked mean nothing: delete them, so the
        table stays small however many usernames are tried."""
        cutoff = now - self.rules.forget_after
        quiet = (select(SignInThrottle.id)
                 .where(SignInThrottle.last_failed_at.is_(None) | (SignInThrottle.last_failed_at <= cutoff),
                        SignInThrottle.locked_until.is_(None) | (SignInThrottle.locked_until <= now))
                 .limit(FORGET_BATCH).with_for_update(skip_locked=True))  # never wait on an attempt in flight
        self.session.execute(delete(SignInThrottle).where(SignInThrottle.id.in_(quiet)))

    def _audit(self, at: datetime, actor: str, action: str, data: dict[str, Any]) -> None:
        self.session.add(AuditEvent(at=at, actor=_cut(actor) or "(none)", action=action, data=data))
