"""Bounds on the work one script, condition or expression may do: CPU time, size, memory.

Scripts run in the worker's own thread (a subprocess per evaluation costs too much per step, and a
thread cannot be stopped from outside), so, as the simpleeval library does, the running code checks
its own budget: :func:`engine.sandbox.bound_tree` rewrites each checked script to call the helpers
here, offered as builtins named ``__vsw_...`` that scripts cannot name themselves.

- **CPU time.** A check runs before every statement, for every item of a comprehension, at every call
  of a lambda and every 4,096 items of a long range. It fails once the thread's CPU time
  (``time.thread_time``) passes ``cpu_seconds`` from the start; it reads only the wall clock until as
  much wall time has passed (a thread cannot use more CPU than that), then the CPU clock every 5 ms.
- **Size.** ``*``, ``**``, ``<<``, ``+``, ``%`` (and ``*=``...), f-string widths and precisions, the
  methods in :data:`GUARDED_METHODS`, ``sum`` and ``math.prod`` estimate their result first and refuse
  one of more than ``max_size`` items (characters, list items, bytes) or an integer of more than
  ``max_int_digits`` digits. A range of more than ``max_size`` items is lazy, checked every 4,096 items
  while iterated, and refuses ``len()``, so ``list()``, ``tuple()`` and ``sorted()`` of it fail at once.
- **Memory.** Every 5 ms the check also reads the process's resident memory (Linux,
  ``/proc/self/statm``): growth of more than ``max_memory_mb`` since the first reading fails it.
- **Recursion** stops at Python's recursion limit; RecursionError and MemoryError become
  :class:`~engine.errors.ScriptLimitExceeded` too, as does every bound above.

Once a bound is hit, every later check of that evaluation fails again: a script cannot catch it and
go on. Not exact: the work of one operation between two checks (``sorted()`` of a million strings
takes a fraction of a second); memory allocated before the first reading, or by one operation whose
result is not estimated (``str()`` of a list holding one long text many times), until the next
reading; and other threads' memory growth meanwhile, which is counted as the script's.
"""

from __future__ import annotations

import math
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache, partial
from time import perf_counter, thread_time
from types import MappingProxyType, TracebackType
from typing import Any

from .errors import ScriptLimitExceeded

__all__ = ["GUARDED_METHODS", "HELPERS", "Bounded", "ScriptLimits", "bounded_prod", "bounded_range",
           "bounded_sum", "too_many_digits"]


@dataclass(frozen=True)
class ScriptLimits:
    """How much one evaluation of a script, condition or expression may do.

    ``cpu_seconds``: CPU time of the evaluating thread. ``max_size``: items (characters, list items,
    bytes) one operation may build, and the size of one stored task-data value. ``max_int_digits``:
    digits of an integer (at most Python's own 4,300-digit text limit, so any integer a script builds
    can be stored). ``max_memory_mb``: growth of the process's resident memory during the evaluation.
    """

    cpu_seconds: float = 2.0
    max_size: int = 1_000_000
    max_int_digits: int = 4_000
    max_memory_mb: int = 256

    def __post_init__(self) -> None:
        if not (isinstance(self.cpu_seconds, (int, float)) and 0 < self.cpu_seconds <= 3600):
            raise ValueError(f"cpu_seconds must be a number of seconds between 0 and 3600, not {self.cpu_seconds!r}")
        if not (isinstance(self.max_size, int) and self.max_size >= 1000):
            raise ValueError(f"max_size must be a whole number of at least 1000, not {self.max_size!r}")
        if not (isinstance(self.max_int_digits, int) and 100 <= self.max_int_digits <= 4300):
            raise ValueError(f"max_int_digits must be a whole number from 100 to 4300, not {self.max_int_digits!r}")
        if not (isinstance(self.max_memory_mb, int) and self.max_memory_mb >= 16):
            raise ValueError(f"max_memory_mb must be a whole number of at least 16, not {self.max_memory_mb!r}")


_LOG10_2 = math.log10(2)
_CHECK_EVERY = 0.005  # seconds of wall time between two readings of the CPU clock and memory
_CHUNK = 4096  # items of a long range between two checks
_INF = math.inf


class _LimitHit(BaseException):
    """Raised inside a script when a bound is hit. Not an ``Exception``, so ``except Exception`` does
    not catch it; the evaluation turns it into ScriptLimitExceeded."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Statm:
    """The process's resident memory from /proc/self/statm, through one file kept open per process."""

    pid, fd, page = 0, -1, 4096

    def resident_bytes(self) -> int | None:
        try:
            if self.pid != os.getpid():
                self.pid, self.fd = os.getpid(), os.open("/proc/self/statm", os.O_RDONLY)
                self.page = os.sysconf("SC_PAGE_SIZE")
            return int(os.pread(self.fd, 128, 0).split()[1]) * self.page
        except (OSError, ValueError, IndexError):
            return None


_STATM = _Statm()


class Bounded:
    """One evaluation's budget, and the context it runs in: ``with Bounded(limits, "script"): exec(...)``.

    On the way out, a bound that was hit (and RecursionError or MemoryError) becomes
    ScriptLimitExceeded, its message naming what ran (``kind``) and the line.
    """

    __slots__ = ("limits", "kind", "source", "next_check", "cpu_deadline", "rss_base", "hit", "previous")

    def __init__(self, limits: ScriptLimits, kind: str = "script", source: str = "") -> None:
        self.limits, self.kind, self.source = limits, kind, source
        self.next_check = self.cpu_deadline = _INF
        self.rss_base: int | None = None
        self.hit: str | None = None
        self.previous: Bounded | None = None

    def __enter__(self) -> Bounded:
        self.previous = _budget()
        self.cpu_deadline = thread_time() + self.limits.cpu_seconds
        self.next_check = perf_counter() + min(_CHECK_EVERY, self.limits.cpu_seconds)
        _local.budget = self
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        _local.budget = self.previous or _IDLE
        self.next_check = _INF
        if isinstance(error, _LimitHit):
            reason = error.reason
        elif isinstance(error, RecursionError):
            reason = "called itself too deeply (more than Python's recursion limit)"
        elif isinstance(error, MemoryError):
            reason = "ran out of memory"
        elif error is None and self.hit is not None:  # caught by a bare except: and never checked again
            reason = self.hit
        else:
            return
        raise self.exceeded(reason + self._where(traceback)) from None

    def exceeded(self, reason: str) -> ScriptLimitExceeded:
        return ScriptLimitExceeded(f"{self.kind} {reason}", reason)

    def _where(self, traceback: TracebackType | None) -> str:
        line = 0
        while traceback is not None:
            if traceback.tb_frame.f_code.co_filename == "<string>":
                line = traceback.tb_lineno
            traceback = traceback.tb_next
        lines = self.source.splitlines()
        if not 0 < line <= len(lines):
            return f" (line {line})" if line else ""
        text = lines[line - 1].strip()
        return f" (line {line}: {text[:60] + '...' if len(text) > 60 else text})"

    def check(self) -> None:
        """Fail if the CPU time or memory bound is passed; called once ``next_check`` has come."""
        if self.hit is not None:
            raise _LimitHit(self.hit)
        cpu = thread_time()
        if cpu >= self.cpu_deadline:
            self.fail(f"ran for more than {self.limits.cpu_seconds:g} seconds of CPU time")
        rss = _STATM.resident_bytes()
        if rss is not None and self.rss_base is None:
            self.rss_base = rss
        elif rss is not None and self.rss_base is not None and rss - self.rss_base > self.limits.max_memory_mb << 20:
            self.fail(f"used more than {self.limits.max_memory_mb} MB of memory")
        # a thread's CPU time cannot pass the deadline before as much wall time has passed
        self.next_check = perf_counter() + min(_CHECK_EVERY, self.cpu_deadline - cpu)

    def fail(self, reason: str) -> None:
        self.hit = reason
        self.next_check = -_INF  # every later check fails at once
        raise _LimitHit(reason)


_IDLE = Bounded(ScriptLimits())
"""The budget outside any evaluation: default sizes, no time bound."""

_local = threading.local()  # .budget: the evaluation running in this thread (a plain local is fastest)


def _budget() -> Bounded:
    try:
        budget: Bounded = _local.budget
    except AttributeError:  # a thread that has not evaluated anything yet
        return _IDLE
    return budget


def _tick() -> None:
    try:
        budget: Bounded = _local.budget
    except AttributeError:
        return
    if perf_counter() >= budget.next_check:
        budget.check()


def _too_large(size: int) -> None:
    budget = _budget()
    if size > budget.limits.max_size:
        _refuse(budget, f"would build a value larger than {budget.limits.max_size:,} items")


def _too_many_digits(digits: float) -> None:
    budget = _budget()
    if digits > budget.limits.max_int_digits:
        _refuse(budget, f"would build a number of more than {budget.limits.max_int_digits:,} digits")


def _refuse(budget: Bounded, reason: str) -> None:
    if budget is _IDLE:
        raise _IDLE.exceeded(reason)
    budget.fail(reason)


def _number(digits: Any) -> int:
    """A width or precision written in digits; too many digits is as good as too large."""
    return int(digits) if len(digits) < 10 else 10 ** 10


# -- operators -------------------------------------------------------------------------------------

_SEQUENCES = (str, bytes, bytearray, list, tuple)
_ITERABLES = (*_SEQUENCES, dict, set, frozenset, range)


def _add(a: Any, b: Any) -> Any:
    if isinstance(a, _SEQUENCES) and isinstance(b, _ITERABLES):  # also list += iterable
        _too_large(len(a) + len(b))
    return a + b


def _iadd(a: Any, b: Any) -> Any:
    if isinstance(a, _SEQUENCES) and isinstance(b, _ITERABLES):
        _too_large(len(a) + len(b))
    a += b  # in place for a list, as the statement was
    return a


def _check_mul(a: Any, b: Any) -> None:
    if type(a) is int and type(b) is int:
        _too_many_digits((a.bit_length() + b.bit_length()) * _LOG10_2)
    elif isinstance(b, int) and isinstance(a, _SEQUENCES):
        _too_large(len(a) * b)
    elif isinstance(a, int) and isinstance(b, _SEQUENCES):
        _too_large(len(b) * a)


def _mul(a: Any, b: Any) -> Any:
    _check_mul(a, b)
    return a * b


def _imul(a: Any, b: Any) -> Any:
    _check_mul(a, b)
    a *= b
    return a


def _pow(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and b > 1 and (a > 1 or a < -1):
        _too_many_digits(b * math.log10(abs(a)))
    return a ** b


def _lshift(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and a and b > 0:
        _too_many_digits((a.bit_length() + b) * _LOG10_2)
    return a << b


_SPEC = r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?"
_PERCENT: dict[type, re.Pattern[Any]] = {str: re.compile(_SPEC), bytes: re.compile(_SPEC.encode())}


def _mod(a: Any, b: Any) -> Any:
    """``%``; for text (``"%10s" % x``), widths, precisions and the whole result are estimated first."""
    pattern = _PERCENT.get(type(a))
    if pattern is None:
        return a % b
    size, specs, stars = len(a), 0, False
    for match in pattern.finditer(a):
        specs += 1
        for number in match.groups():
            stars = stars or number in ("*", b"*")
            size += _number(number) if number and number not in ("*", b"*") else 0
    values = list(b.values()) if isinstance(b, dict) else list(b) if isinstance(b, tuple) else [b]
    lengths = [len(v) for v in values if isinstance(v, (str, bytes))]
    size += specs * max(lengths, default=0) if isinstance(b, dict) else sum(lengths)
    size += sum(v for v in values if isinstance(v, int) and v > 0) if stars else 0
    _too_large(size)
    return a % b


_CONVERSIONS: dict[int, Callable[[Any], str]] = {ord("s"): str, ord("r"): repr, ord("a"): ascii}
_FORMAT_SPEC = re.compile(r"(?:.?[<>=^])?[-+ ]?z?#?0?(\d*)[,_]?(?:\.(\d*))?")


def _format(value: Any, conversion: int, spec: str) -> str:
    """An f-string field with a format spec (``f"{x:>{width}}"``), its width and precision checked first."""
    if conversion in _CONVERSIONS:  # !s, !r, !a
        value = _CONVERSIONS[conversion](value)
    match = _FORMAT_SPEC.match(spec)
    if match is not None and isinstance(value, (int, float, str)):
        _too_large(sum(_number(n) for n in match.groups() if n))
    return format(value, spec)


# -- methods: called with the receiver, positional and keyword arguments; may replace the positional --

_Args = tuple[Any, ...]
_TEXT = (str, bytes, bytearray)


def _width(obj: Any, args: _Args, kwargs: dict[str, Any]) -> _Args:  # ljust, rjust, center, zfill, to_bytes
    size = args[0] if args else kwargs.get("length", 1)
    if isinstance(size, int):
        _too_large(size)
    return args


def _expandtabs(obj: Any, args: _Args, kwargs: dict[str, Any]) -> _Args:
    size = args[0] if args else kwargs.get("tabsize", 8)
    if isinstance(size, int):
        _too_large(len(obj) + obj.count("\t" if isinstance(obj, str) else b"\t") * size)
    return args


def _replace(obj: Any, args: _Args, kwargs: dict[str, Any]) -> _Args:
    if len(args) >= 2 and isinstance(args[0], type(obj)) and isinstance(args[1], _TEXT):
        old, new = args[0], args[1]
        count = args[2] if len(args) > 2 else kwargs.get("count", -1)
        found = obj.count(old) if old else len(obj) + 1
        if isinstance(count, int) and count >= 0:
            found = min(found, count)
        _too_large(len(obj) + found * (len(new) - len(old)))
    return args


def _join(obj: Any, args: _Args, kwargs: dict[str, Any]) -> _Args:
    if len(args) != 1:
        return args
    parts = args[0] if isinstance(args[0], (list, tuple)) else list(args[0])
    sized = [len(p) for p in parts if isinstance(p, _TEXT)]
    _too_large(len(obj) * max(len(parts) - 1, 0) + sum(sized))
    return (parts,)


def _translate(obj: Any, args: _Args, kwargs: dict[str, Any]) -> _Args:
    if args and isinstance(args[0], dict):
        _too_large(len(obj) * max((len(v) for v in args[0].values() if isinstance(v, str)), default=1))
    return args


def _extend(obj: Any, args: _Args, kwargs: dict[str, Any]) -> _Args:
    if args and isinstance(args[0], _ITERABLES):
        _too_large(len(obj) + len(args[0]))
    return args


_Guard = Callable[[Any, _Args, dict[str, Any]], _Args]
_METHOD_GUARDS: Mapping[str, tuple[_Guard, tuple[type, ...]]] = MappingProxyType({
    **{name: (_width, _TEXT) for name in ("ljust", "rjust", "center", "zfill")},
    "expandtabs": (_expandtabs, _TEXT), "replace": (_replace, _TEXT), "join": (_join, _TEXT),
    "translate": (_translate, (str,)), "extend": (_extend, (list,)), "to_bytes": (_width, (int,)),
})
GUARDED_METHODS = frozenset(_METHOD_GUARDS)
"""Methods that can build a large value: a script's ``x.name`` gives the method with its arguments checked."""


def _bound_call(guard: _Guard, method: Callable[..., Any], obj: Any, *args: Any, **kwargs: Any) -> Any:
    return method(*guard(obj, args, kwargs), **kwargs)


def _unbound_call(name: str, method: Callable[..., Any], obj: Any, *args: Any, **kwargs: Any) -> Any:
    guard, receivers = _METHOD_GUARDS[name]
    if isinstance(obj, receivers):
        args = guard(obj, args, kwargs)
    return method(obj, *args, **kwargs)


def _method(obj: Any, name: str) -> Any:
    """``obj.name`` for a method in GUARDED_METHODS: the method, its arguments checked before it runs."""
    method = getattr(obj, name)
    guard, receivers = _METHOD_GUARDS[name]
    if isinstance(obj, receivers):
        return partial(_bound_call, guard, method, obj)
    if isinstance(obj, type) and issubclass(obj, receivers):  # str.ljust(text, width)
        return partial(_unbound_call, name, method)
    return method


# -- builtins --------------------------------------------------------------------------------------

def _length(r: range) -> int:
    return max(0, -((r.start - r.stop) // r.step))


def _ticking(r: range) -> Iterator[int]:
    for offset in range(0, _length(r), _CHUNK):
        _tick()
        yield from r[offset:offset + _CHUNK]


class _LongRange:
    """A range of more than max_size items: lazy and checked while iterated; it refuses to be built
    (``list()``, ``tuple()`` and ``sorted()`` ask for its ``len()`` first)."""

    __slots__ = ("range",)

    def __init__(self, r: range) -> None:
        self.range = r

    def __iter__(self) -> Iterator[int]:
        return _ticking(self.range)

    def __reversed__(self) -> Iterator[int]:
        return _ticking(self.range[::-1])

    def __len__(self) -> int:
        _too_large(_length(self.range))
        return _length(self.range)

    def __contains__(self, item: object) -> bool:
        return item in self.range

    def __getitem__(self, index: Any) -> Any:
        return _wrap(self.range[index])

    def __repr__(self) -> str:
        return repr(self.range)


def _wrap(value: Any) -> Any:
    if isinstance(value, range) and _length(value) > _budget().limits.max_size:
        return _LongRange(value)
    return value


class _RangeBuiltin:
    """``range`` for scripts: a plain range, or a :class:`_LongRange` past max_size; ``isinstance`` works."""

    def __call__(self, *args: int) -> Any:
        return _wrap(range(*args))

    def __instancecheck__(self, obj: object) -> bool:
        return isinstance(obj, (range, _LongRange))

    def __repr__(self) -> str:
        return "<class 'range'>"


bounded_range = _RangeBuiltin()


def bounded_sum(iterable: Any, /, start: Any = 0) -> Any:
    """``sum``; adding up lists or tuples (``sum(lists, [])``) is size-checked first."""
    if isinstance(start, (int, float)):
        return sum(iterable, start)
    items = list(iterable)
    if isinstance(start, _SEQUENCES):
        _too_large(len(start) + sum(len(i) for i in items if isinstance(i, _SEQUENCES)))
    return sum(items, start)


def bounded_prod(iterable: Any, /, *, start: Any = 1) -> Any:
    """``math.prod``, each multiplication size-checked as ``*`` is."""
    result = start
    for index, item in enumerate(iterable):
        if not index % _CHUNK:
            _tick()
        result = _mul(result, item)
    return result


@lru_cache(maxsize=8)
def _ten_to(digits: int) -> int:
    return int(10 ** digits)


def too_many_digits(value: int, limits: ScriptLimits) -> bool:
    """Whether an integer has more than ``limits.max_int_digits`` digits."""
    return value.bit_length() > 64 and abs(value) >= _ten_to(limits.max_int_digits)


HELPERS: Mapping[str, Callable[..., Any]] = MappingProxyType({
    "__vsw_tick": _tick, "__vsw_method": _method, "__vsw_format": _format,
    "__vsw_add": _add, "__vsw_iadd": _iadd, "__vsw_mul": _mul, "__vsw_imul": _imul,
    "__vsw_pow": _pow, "__vsw_ipow": _pow, "__vsw_lshift": _lshift, "__vsw_ilshift": _lshift,
    "__vsw_mod": _mod, "__vsw_imod": _mod,
})
"""The names :func:`engine.sandbox.bound_tree` calls, offered to scripts as builtins."""
