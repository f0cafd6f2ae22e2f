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

Every script and expression is also bounded in CPU time, size and memory (:class:`ScriptLimits`,
:mod:`engine.limits`): :func:`bound_tree` rewrites the checked tree so the running code checks its own
budget, and an evaluation over a bound fails with ScriptLimitExceeded naming the element. At deploy, a
script longer than 1,000,000 characters or nesting more than 200 levels deep is refused.
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
from typing import Any, TypeVar, cast

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.errors import ScriptLimitExceeded, ScriptRefused
from engine.limits import (
    GUARDED_METHODS,
    HELPERS,
    Bounded,
    ScriptLimits,
    bounded_prod,
    bounded_range,
    bounded_sum,
    too_many_digits,
)

__all__ = [
    "SAFE_BUILTINS",
    "ALLOWED_NAMES",
    "ScriptSyntaxError",
    "SandboxEnvironment",
    "SandboxedScriptEngine",
    "ScriptLimits",
    "bound_tree",
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
              reversed, round, set, sorted, str, tuple, zip,
              ValueError, KeyError, Exception)
} | {"range": bounded_range, "sum": bounded_sum} | dict(HELPERS) | {
    "True": True, "False": False, "None": None, "__import__": _internal_import}

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
    for name in ("ceil", "floor", "trunc", "sqrt", "fabs", "isclose", "fsum", "pow", "exp", "log",
                 "log10", "log2", "gcd", "isfinite", "isnan", "inf", "pi", "e")
}, prod=bounded_prod)

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


MAX_SOURCE_CHARS = 1_000_000
"""Longest script or expression accepted (the processes' longest is a few hundred characters)."""
MAX_NESTING = 200
"""Deepest syntax tree accepted: deep enough for any real expression, shallow enough to compile safely."""


def _check_tree(tree: ast.AST) -> None:
    """Raise ScriptRefused at the first construct outside the allow-list, or nesting too deep."""
    stack: list[tuple[ast.AST, int, int]] = [(tree, 1, 1)]
    while stack:
        node, line, depth = stack.pop()
        line = getattr(node, "lineno", None) or line
        if depth > MAX_NESTING:
            raise _refuse(f"it nests more than {MAX_NESTING} levels deep", line)
        reason = _REFUSED_NODES.get(type(node))
        if reason is not None:
            raise _refuse(reason, line)
        for field in _IDENTIFIER_FIELDS:
            value = getattr(node, field, None)
            if isinstance(value, str):
                _check_identifier(value, isinstance(node, ast.Attribute), isinstance(node, ast.Name), line)
        for attr in getattr(node, "kwd_attrs", ()):  # `case int(__class__=c)` reads an attribute
            _check_identifier(attr, True, False, line)
        stack.extend((child, line, depth + 1) for child in reversed(list(ast.iter_child_nodes(node))))


# -- bounding: the checked tree rewritten to check its own budget (engine/limits.py) -----------------

_BINARY = {ast.Add: "add", ast.Mult: "mul", ast.Pow: "pow", ast.LShift: "lshift", ast.Mod: "mod"}
_TEMPORARIES = ("__vsw_t0", "__vsw_t1", "__vsw_t2", "__vsw_t3")
"""Names an augmented assignment to ``a[i]`` or ``a.b`` binds, so ``a`` and ``i`` run once."""
_LOCATION = ("lineno", "col_offset", "end_lineno", "end_col_offset")
_Node = TypeVar("_Node", bound=ast.AST)


def _call(helper: str, *args: ast.expr) -> ast.Call:
    return ast.Call(ast.Name(f"__vsw_{helper}", ast.Load()), list(args), [])


def _hold(index: int, value: ast.expr) -> ast.NamedExpr:
    return ast.NamedExpr(ast.Name(_TEMPORARIES[index], ast.Store()), value)


def _held(index: int) -> ast.Name:
    return ast.Name(_TEMPORARIES[index], ast.Load())


def _located(new: _Node, where: ast.AST) -> _Node:
    """Give ``new`` and its new parts (those with no location yet) the location of ``where``."""
    stack: list[ast.AST] = [new]
    while stack:
        node = stack.pop()
        if "lineno" in node._attributes and not hasattr(node, "lineno"):
            for name in _LOCATION:
                setattr(node, name, getattr(where, name, None))
        elif node is not new:
            continue  # an existing part, located already
        stack.extend(ast.iter_child_nodes(node))
    return new


def _augmented(node: ast.AugAssign, helper: str) -> ast.Assign:
    """``target op= value`` as ``target = helper(target, value)``, the target's parts evaluated once."""
    target = node.target
    load: ast.expr
    store: ast.expr
    if isinstance(target, ast.Name):
        load, store = ast.Name(target.id, ast.Load()), target
    elif isinstance(target, ast.Attribute):
        load = ast.Attribute(_hold(0, target.value), target.attr, ast.Load())
        store = ast.Attribute(_held(0), target.attr, ast.Store())
    elif isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Slice):
        bounds = [target.slice.lower, target.slice.upper, target.slice.step]
        held = [_hold(i, b) if b is not None else None for i, b in enumerate(bounds, start=1)]
        stored = [_held(i) if b is not None else None for i, b in enumerate(bounds, start=1)]
        load = ast.Subscript(_hold(0, target.value), ast.Slice(*held), ast.Load())
        store = ast.Subscript(_held(0), ast.Slice(*stored), ast.Store())
    else:
        assert isinstance(target, ast.Subscript)
        load = ast.Subscript(_hold(0, target.value), _hold(1, target.slice), ast.Load())
        store = ast.Subscript(_held(0), _held(1), ast.Store())
    return ast.Assign([store], _call(f"i{helper}", load, node.value))


def _bound_node(node: ast.AST) -> ast.AST:
    """One node with its budget checks; its children have theirs already."""
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return _call(_BINARY[type(node.op)], node.left, node.right)
    if isinstance(node, ast.AugAssign) and type(node.op) in _BINARY:
        return _augmented(node, _BINARY[type(node.op)])
    if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and node.attr in GUARDED_METHODS:
        return _call("method", node.value, ast.Constant(node.attr))
    if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
        checked = _call("format", node.value, ast.Constant(node.conversion), node.format_spec)
        return ast.FormattedValue(checked, -1, None)
    if isinstance(node, ast.comprehension):  # which has no location of its own
        node.ifs.insert(0, _located(ast.UnaryOp(ast.Not(), _call("tick")), node.iter))
    elif isinstance(node, ast.Lambda):
        node.body = ast.BoolOp(ast.Or(), [_call("tick"), node.body])
    for field in ("body", "orelse", "finalbody"):
        statements = getattr(node, field, None)
        if isinstance(statements, list) and statements and isinstance(statements[0], ast.stmt):
            ticks = [_located(ast.Expr(_call("tick")), s) for s in statements]
            setattr(node, field, [part for pair in zip(ticks, statements, strict=True) for part in pair])
    return node


def bound_tree(tree: ast.Module | ast.Expression) -> ast.Module | ast.Expression:
    """Rewrite a checked tree so the running code keeps to its budget (see engine/limits.py).

    A check (``__vsw_tick()``) before every statement, as the first condition of every comprehension
    clause and in every lambda; ``*``, ``**``, ``<<``, ``+``, ``%`` (also augmented) and f-string
    format specs through size-checking helpers; the methods that can build large values through
    :data:`engine.limits.GUARDED_METHODS`. Line numbers are kept. No recursion: any depth the parser
    accepted is fine here.
    """
    order: list[tuple[ast.AST, ast.AST | None, str, int | None]] = []
    stack: list[tuple[ast.AST, ast.AST | None, str, int | None]] = [(tree, None, "", None)]
    while stack:  # parents before children; handled in reverse, so children first
        entry = stack.pop()
        order.append(entry)
        for field, value in ast.iter_fields(entry[0]):
            if isinstance(value, ast.AST):
                stack.append((value, entry[0], field, None))
            elif isinstance(value, list):
                stack.extend((item, entry[0], field, i) for i, item in enumerate(value) if isinstance(item, ast.AST))
    for node, parent, field, index in reversed(order):
        new = _located(_bound_node(node), node)
        if new is not node and parent is not None:
            if index is None:
                setattr(parent, field, new)
            else:
                getattr(parent, field)[index] = new
    return tree


def _too_deep(line: int = 1) -> ScriptRefused:
    return _refuse("it nests too deeply to be compiled", line)


@lru_cache(maxsize=2048)
def _compile_checked(source: str, mode: str) -> CodeType:
    """Check ``source``, bound it and compile it; cached per (source, mode), as expressions run often."""
    try:
        tree = ast.parse(source, filename="<string>", mode=mode)
    except SyntaxError as err:
        error = ScriptSyntaxError(f"Script has a syntax error: {err.msg} (line {err.lineno})")
        error.lineno, error.offset, error.text = err.lineno, err.offset, err.text
        raise error from None
    except (RecursionError, MemoryError):  # the parser's own limits on nesting
        raise _too_deep() from None
    _check_tree(tree)
    try:
        bounded = bound_tree(cast("ast.Module | ast.Expression", tree))
        # The filename "<string>" lets SpiffWorkflow find the failing line in tracebacks.
        return compile(bounded, "<string>", mode)
    except (RecursionError, MemoryError):
        raise _too_deep() from None


def check_source(source: str, mode: str = "exec") -> CodeType:
    """Check a script (``mode="exec"``) or expression (``mode="eval"``); return its bounded code object.

    Raises ScriptRefused naming the construct and line, or ScriptSyntaxError if it does not parse.
    """
    if mode not in ("exec", "eval"):
        raise ValueError(f"mode must be 'exec' or 'eval', not {mode!r}")
    if not isinstance(source, str):
        raise ScriptRefused(f"Script refused: expected script text, not {type(source).__name__}")
    if len(source) > MAX_SOURCE_CHARS:
        raise ScriptRefused(f"Script refused: it is longer than {MAX_SOURCE_CHARS:,} characters")
    return _compile_checked(source, mode)


class _Storable:
    """Task data made JSON-ready: dates become ISO text, tuples and sets become lists.

    The value of one name may hold at most ``max_size`` items (characters, numbers, list and dict
    entries, counted as stored: a text listed twice counts twice) and no integer of more than
    ``max_int_digits`` digits; past that it is ScriptLimitExceeded naming it.
    """

    def __init__(self, limits: ScriptLimits, name: str) -> None:
        self.limits, self.name = limits, name
        self.left = limits.max_size

    def value(self, value: Any, where: str) -> Any:
        self.left -= len(value) + 1 if isinstance(value, str) else 1
        if self.left < 0:
            self._exceeded(f"would store a value larger than {self.limits.max_size:,} items in '{self.name}'")
        if value is None or isinstance(value, (str, bool, float)):
            return value
        if isinstance(value, int):
            if too_many_digits(value, self.limits):
                self._exceeded(f"would store a number of more than {self.limits.max_int_digits:,} digits "
                               f"in '{where}'")
            return value
        if isinstance(value, (date, datetime)):
            return value.isoformat()
        if isinstance(value, dict):
            for key in value:
                if not isinstance(key, (str, int, float, bool)) and key is not None:
                    raise ValueError(f"Task data '{where}' has a key of type {type(key).__name__}")
            return {k: self.value(v, f"{where}[{k!r}]") for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, (set, frozenset)):
            items = [self.value(v, where) for v in value]
            try:
                return sorted(items)
            except TypeError:
                return items
        raise ValueError(
            f"Task data '{where}' holds a {type(value).__name__}, which cannot be stored: "
            "store text, numbers, lists or dicts (dates are stored as ISO text)"
        )

    def _exceeded(self, reason: str) -> None:
        raise ScriptLimitExceeded(f"script {reason}", reason)


def _json_safe(value: Any, where: str, limits: ScriptLimits | None = None) -> Any:
    """``value`` as JSON-ready data (see :class:`_Storable`)."""
    try:
        return _Storable(limits or ScriptLimits(), where).value(value, where)
    except RecursionError:
        reason = f"would store data nested too deeply in '{where}'"
        raise ScriptLimitExceeded(f"script {reason}", reason) from None


class SandboxEnvironment(TaskDataEnvironment):  # type: ignore[misc]
    """TaskDataEnvironment that checks every script first and runs it with the safe builtins only.

    ``environment_globals`` are the names scripts may use besides SAFE_BUILTINS and task data. As in
    SpiffWorkflow, a script assigns task data by plain assignment, and afterwards every function,
    allowed name and ``__builtins__`` is taken out of the task data again. Whatever the script left is
    made JSON-ready (see ``_json_safe``); a value that cannot be is a ValueError. Each evaluation is
    bounded by ``limits`` (see engine/limits.py); over a bound, it is ScriptLimitExceeded.
    """

    def __init__(self, environment_globals: Mapping[str, Any] | None = None,
                 limits: ScriptLimits | None = None) -> None:
        names = dict(ALLOWED_NAMES)
        names.update(environment_globals or {})
        for name in names:
            if not name.isidentifier() or name.startswith("_"):
                raise ValueError(f"Cannot offer {name!r} to scripts: not a public identifier")
        super().__init__(names)
        self.limits = limits or ScriptLimits()

    def evaluate(self, expression: str, context: dict[str, Any],
                 external_context: Mapping[str, Any] | None = None) -> Any:
        code = check_source(expression, "eval")
        my_globals: dict[str, Any] = copy.copy(self.globals)
        my_globals.update(external_context or {})
        my_globals.update(context)
        my_globals["__builtins__"] = _BUILTINS  # last, so task data cannot replace it
        with Bounded(self.limits, "expression"):
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
            with Bounded(self.limits, "script", script):
                exec(code, context)
        finally:
            self._remove_globals_and_functions_from_context(context, external)
            context.pop("__builtins__", None)
            for name in _TEMPORARIES:
                context.pop(name, None)
        for key in list(context):
            context[key] = _json_safe(context[key], key, self.limits)
        return True


class SandboxedScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """A PythonScriptEngine whose scripts and expressions run in a :class:`SandboxEnvironment`.

    ``functions`` (e.g. ``BusinessCalendar.script_functions(clock.now)``) are added to the names
    scripts may call; ``limits`` bound each evaluation. A script or expression over a bound raises
    ScriptLimitExceeded naming its element (not wrapped in SpiffWorkflow's WorkflowTaskException), so
    the step fails as a ProcessError. Remember the script engine is not serialized: set it again after
    every load.
    """

    def __init__(self, functions: Mapping[str, Callable[..., Any]] | None = None,
                 limits: ScriptLimits | None = None) -> None:
        super().__init__(environment=SandboxEnvironment(functions, limits))

    def evaluate(self, task: Any, expression: str, external_context: Mapping[str, Any] | None = None) -> Any:
        try:
            return super().evaluate(task, expression, external_context)
        except SpiffWorkflowException as error:
            if isinstance(error.__context__, ScriptLimitExceeded):
                raise _in_element(error.__context__, task, "expression") from None
            raise

    def execute(self, task: Any, script: str, external_context: Mapping[str, Any] | None = None) -> bool:
        try:
            return bool(super().execute(task, script, external_context))
        except SpiffWorkflowException as error:
            if isinstance(error.__context__, ScriptLimitExceeded):
                raise _in_element(error.__context__, task, "script") from None
            raise

    def validate(self, expression: str, mode: str = "exec") -> None:
        """Check a script or expression at deploy time; raise ScriptRefused (or ScriptSyntaxError)."""
        check_source(expression, mode)


def _in_element(cause: ScriptLimitExceeded, task: Any, kind: str) -> ScriptLimitExceeded:
    """A bound that was hit, unwrapped from SpiffWorkflow's WorkflowTaskException and naming the element."""
    spec = task.task_spec
    element = getattr(spec, "bpmn_id", None) or spec.name
    return ScriptLimitExceeded(f"{kind} in element '{element}' {cause.reason}", cause.reason)
