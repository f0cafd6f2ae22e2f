"""A sandboxed script engine for SpiffWorkflow.

SpiffWorkflow's default ``PythonScriptEngine`` runs any Python: ``__import__('os')`` or
``().__class__.__mro__[1].__subclasses__()`` reach the whole process. Here every script and
expression is first checked against its syntax tree (:func:`check_source`) and only then run with a
small set of builtins (:data:`SAFE_BUILTINS`), a few date/math names and the functions the engine
supplies (e.g. the business calendar's ``script_functions``).

The check refuses imports, any identifier or attribute starting with ``_`` (all dunders), attributes
that expose interpreter internals (``gi_frame``, ``f_globals``, ``tb_frame``, ``mro``...),
``str.format``/``format_map`` (which can read attributes: ``"{0.__class__}".format(x)``), reading the
wall clock (``datetime.now()``: use the engine's ``now()``), class definitions, ``global``/``nonlocal``,
generators and async code, and names such as ``eval``, ``open``, ``getattr`` or ``type``.

It does not bound CPU or memory: ``while True: pass`` still runs forever.
"""

from __future__ import annotations

import ast
import builtins
import copy
import math
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from types import CodeType, MappingProxyType, SimpleNamespace
from typing import Any, cast

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from engine.errors import ScriptRefused

__all__ = [
    "SAFE_BUILTINS",
    "ALLOWED_NAMES",
    "ScriptSyntaxError",
    "SandboxEnvironment",
    "SandboxedScriptEngine",
    "check_source",
]


class ScriptSyntaxError(ScriptRefused, SyntaxError):
    """A script that does not parse. Also a ``SyntaxError``, as SpiffWorkflow's DMN engine expects."""


_BUILTIN_IMPORTS = frozenset({"time", "_strptime"})


def _internal_import(name: str, *args: Any, **kwargs: Any) -> Any:
    """``__import__`` for the interpreter only: ``date.strftime`` and ``datetime.strptime`` import
    ``time``/``_strptime`` through the builtins of the running code. Scripts cannot name it (it starts
    with ``_``), and it imports nothing else."""
    if name not in _BUILTIN_IMPORTS:
        raise ImportError(f"import of {name!r} is not allowed")
    return builtins.__import__(name, *args, **kwargs)


_BUILTINS: dict[str, Any] = {
    f.__name__: f
    for f in (abs, all, any, bool, dict, enumerate, filter, float, int, isinstance, len, list, map, max, min,
              range, reversed, round, set, sorted, str, sum, tuple, zip,
              ValueError, KeyError, Exception)
} | {"True": True, "False": False, "None": None, "__import__": _internal_import}

#: The only builtins scripts see.
SAFE_BUILTINS: Mapping[str, Any] = MappingProxyType(_BUILTINS)


class _ReadOnlyNamespace(SimpleNamespace):
    """A namespace scripts can read but not change (it is shared by every script)."""

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"'{name}' is read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"'{name}' is read-only")


_MATH = _ReadOnlyNamespace(**{
    name: getattr(math, name)
    for name in ("ceil", "floor", "trunc", "sqrt", "fabs", "isclose", "fsum", "prod", "pow", "exp", "log",
                 "log10", "log2", "gcd", "isfinite", "isnan", "inf", "pi", "e")
})

#: Names every script and expression may use besides the builtins and task data.
ALLOWED_NAMES: Mapping[str, Any] = MappingProxyType({
    "datetime": datetime,
    "date": date,
    "timedelta": timedelta,
    "timezone": timezone,
    "math": _MATH,
})

_FORBIDDEN_NAMES = frozenset({
    "eval", "exec", "compile", "open", "getattr", "setattr", "delattr", "globals", "locals", "vars", "dir",
    "type", "input", "breakpoint", "help", "memoryview", "object", "super", "classmethod", "staticmethod",
    "property",
})
# Attributes that lead to frames, code objects, class hierarchies or the wall clock.
_FORBIDDEN_ATTRIBUTE_PREFIXES = ("gi_", "cr_", "ag_", "f_", "tb_", "co_")
_FORBIDDEN_ATTRIBUTES = frozenset({"mro", "format", "format_map", "now", "utcnow", "today"})
# Fields of AST nodes that hold identifiers (names, attributes, parameters, match captures).
_IDENTIFIER_FIELDS = ("id", "attr", "arg", "name", "rest")

_REFUSED_NODES: dict[type[ast.AST], str] = {
    ast.Import: "import statements are not allowed",
    ast.ImportFrom: "import statements are not allowed",
    ast.Global: "global statements are not allowed",
    ast.Nonlocal: "nonlocal statements are not allowed",
    ast.ClassDef: "class definitions are not allowed",
    ast.AsyncFunctionDef: "async functions are not allowed",
    ast.AsyncFor: "async loops are not allowed",
    ast.AsyncWith: "async with is not allowed",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
}


def _refuse(reason: str, line: int) -> ScriptRefused:
    return ScriptRefused(f"Script refused: {reason} (line {line})")


def _check_identifier(name: str, is_attribute: bool, is_name: bool, line: int) -> None:
    if name.startswith("_"):
        raise _refuse(f"access to '{name}' is not allowed", line)
    if is_attribute:
        if name in ("format", "format_map"):
            raise _refuse(f"'.{name}()' is not allowed, use an f-string instead", line)
        if name in ("now", "utcnow", "today"):
            raise _refuse(f"reading the wall clock ('.{name}') is not allowed, use now() or today()", line)
        if name in _FORBIDDEN_ATTRIBUTES or name.startswith(_FORBIDDEN_ATTRIBUTE_PREFIXES):
            raise _refuse(f"access to '{name}' is not allowed", line)
    elif is_name and name in _FORBIDDEN_NAMES:
        raise _refuse(f"use of '{name}' is not allowed", line)


def _check_tree(tree: ast.AST) -> None:
    """Raise ScriptRefused at the first construct outside the allow-list."""
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    while stack:
        node, line = stack.pop()
        line = getattr(node, "lineno", None) or line
        reason = _REFUSED_NODES.get(type(node))
        if reason is not None:
            raise _refuse(reason, line)
        for field in _IDENTIFIER_FIELDS:
            value = getattr(node, field, None)
            if isinstance(value, str):
                _check_identifier(value, isinstance(node, ast.Attribute), isinstance(node, ast.Name), line)
        for attr in getattr(node, "kwd_attrs", ()):  # `case int(__class__=c)` reads an attribute
            _check_identifier(attr, True, False, line)
        stack.extend((child, line) for child in reversed(list(ast.iter_child_nodes(node))))


@lru_cache(maxsize=2048)
def _compile_checked(source: str, mode: str) -> CodeType:
    """Check ``source`` and compile it; cached per (source, mode), as expressions run often."""
    try:
        tree = ast.parse(source, filename="<string>", mode=mode)
    except SyntaxError as err:
        error = ScriptSyntaxError(f"Script has a syntax error: {err.msg} (line {err.lineno})")
        error.lineno, error.offset, error.text = err.lineno, err.offset, err.text
        raise error from None
    _check_tree(tree)
    # The filename "<string>" lets SpiffWorkflow find the failing line in tracebacks.
    return compile(cast("ast.Module | ast.Expression", tree), "<string>", mode)


def check_source(source: str, mode: str = "exec") -> CodeType:
    """Check a script (``mode="exec"``) or expression (``mode="eval"``); return its code object.

    Raises ScriptRefused naming the construct and line, or ScriptSyntaxError if it does not parse.
    """
    if mode not in ("exec", "eval"):
        raise ValueError(f"mode must be 'exec' or 'eval', not {mode!r}")
    if not isinstance(source, str):
        raise ScriptRefused(f"Script refused: expected script text, not {type(source).__name__}")
    return _compile_checked(source, mode)


def _json_safe(value: Any, where: str) -> Any:
    """``value`` as JSON-ready data: dates become ISO text, tuples and sets become lists."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise ValueError(f"Task data '{where}' has a key of type {type(key).__name__}")
        return {k: _json_safe(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        items = [_json_safe(v, where) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return items
    raise ValueError(
        f"Task data '{where}' holds a {type(value).__name__}, which cannot be stored: "
        "store text, numbers, lists or dicts (dates are stored as ISO text)"
    )


class SandboxEnvironment(TaskDataEnvironment):  # type: ignore[misc]
    """TaskDataEnvironment that checks every script first and runs it with the safe builtins only.

    ``environment_globals`` are the names scripts may use besides SAFE_BUILTINS and task data. As in
    SpiffWorkflow, a script assigns task data by plain assignment, and afterwards every function,
    allowed name and ``__builtins__`` is taken out of the task data again. Whatever the script left is
    made JSON-ready (see ``_json_safe``); a value that cannot be is a ValueError.
    """

    def __init__(self, environment_globals: Mapping[str, Any] | None = None) -> None:
        names = dict(ALLOWED_NAMES)
        names.update(environment_globals or {})
        for name in names:
            if not name.isidentifier() or name.startswith("_"):
                raise ValueError(f"Cannot offer {name!r} to scripts: not a public identifier")
        super().__init__(names)

    def evaluate(self, expression: str, context: dict[str, Any],
                 external_context: Mapping[str, Any] | None = None) -> Any:
        code = check_source(expression, "eval")
        my_globals: dict[str, Any] = copy.copy(self.globals)
        my_globals.update(external_context or {})
        my_globals.update(context)
        my_globals["__builtins__"] = _BUILTINS  # last, so task data cannot replace it
        return eval(code, my_globals)

    def execute(self, script: str, context: dict[str, Any],
                external_context: Mapping[str, Any] | None = None) -> bool:
        code = check_source(script, "exec")
        external = dict(external_context or {})
        self.check_for_overwrite(context, external)
        context.update(self.globals)
        context.update(external)
        context["__builtins__"] = _BUILTINS
        try:
            exec(code, context)
        finally:
            self._remove_globals_and_functions_from_context(context, external)
            context.pop("__builtins__", None)
        for key in list(context):
            context[key] = _json_safe(context[key], key)
        return True


class SandboxedScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """A PythonScriptEngine whose scripts and expressions run in a :class:`SandboxEnvironment`.

    ``functions`` (e.g. ``BusinessCalendar.script_functions(clock.now)``) are added to the names
    scripts may call. Remember the script engine is not serialized: set it again after every load.
    """

    def __init__(self, functions: Mapping[str, Callable[..., Any]] | None = None) -> None:
        super().__init__(environment=SandboxEnvironment(functions))

    def validate(self, expression: str, mode: str = "exec") -> None:
        """Check a script or expression at deploy time; raise ScriptRefused (or ScriptSyntaxError)."""
        check_source(expression, mode)
