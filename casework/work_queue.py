"""The work queue: the task list people work from (docs/work-queues.md), decided, filtered, sorted and
paged in SQL.

A :class:`TaskQuery` is read from a request's query parameters (a view, filters, a search, a sort, a
page), each refusal naming its parameter. :func:`task_list` answers it with one page of
:class:`TaskRow` s in one statement: a ``UNION`` of small branches, one per way of reaching a task (held
by me, or claimable in one role, per grant of the access scope; or, for the team view, one per grant of
the need-to-know read rule), each with every filter and the search joined *before* it is ordered and
cut to the end of the page, then merged and cut once more. So the cost of a page follows the page and
the reader's reach, not the number of open tasks, and no filter or search can reveal a task or a child
the reader may not see: the search only narrows branches that already carry the access condition.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, inspect, or_, select, union, union_all
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.util import ClauseAdapter

from engine.access import AccessPolicy, Actor, Grant, Scope
from engine.clock import Clock, SystemClock
from engine.errors import Forbidden, InvalidData
from engine.models import HumanTask, ProcessDefinition
from engine.paging import MAX_PAGE, PAGE_SIZE, Page, check_page, cut
from engine.runtime import Runtime

from .access import CaseScope, unrecorded
from .need_to_know import task_rule
from .records import Child, UnrecordedKey
from .users import User

VIEWS: Mapping[str, str] = {
    "all": "All my work", "mine": "Assigned to me", "unassigned": "My roles' unassigned tasks",
    "team": "My team's", "overdue": "Overdue",
}
"""The views (``view``), in the order the page offers them; "all" is the default (the old inbox)."""
SORTS: Mapping[str, str] = {"due": "Due date", "child": "Child", "created": "Date created"}
ORDERS: Mapping[str, str] = {"asc": "Ascending", "desc": "Descending"}
TEAM_ROLE = "manager"
"""Only holders of this role get the team view."""
MAX_TEXT = 100
FIRST_YEAR, LAST_YEAR = 1900, 2100
SORT_CHILD = aliased(Child, name="sort_child")
"""The child a branch sorts by (an alias, so the access condition's own ``child`` stays correlated)."""
LABELS = {"view": "View", "child": "Child", "process": "Process", "task": "Task type", "due_from": "Due from",
          "due_to": "Due to", "q": "Search", "sort": "Sort by", "order": "Order", "page": "Page"}
"""Each parameter's name on the page, for its error messages."""


# -- what is deployed -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Catalogue:
    """The deployed processes by name, and the tasks a person does in each (newest versions)."""

    processes: Mapping[str, str]  # process id -> name
    task_types: Mapping[str, Mapping[str, str]]  # process id -> element id -> name

    def task_names(self, process_id: str = "") -> dict[str, str]:
        """Element id -> name, for one process or for all of them."""
        if process_id:
            return dict(self.task_types.get(process_id, {}))
        return {e: n for p in self.task_types.values() for e, n in p.items()}

    def task_name(self, process_id: str, element_id: str) -> str:
        return self.task_types.get(process_id, {}).get(element_id) or self.task_names().get(element_id, element_id)


def catalogue(session: Session, runtime: Runtime) -> Catalogue:
    """The newest version of each deployed process: its name and its user tasks' names, from its BPMN (parsed
    once per process lifetime by the runtime; the XML is read only when the parsed spec is not cached)."""
    newest = select(ProcessDefinition.process_id, func.max(ProcessDefinition.version).label("version")) \
        .group_by(ProcessDefinition.process_id).subquery()
    rows = session.execute(
        select(ProcessDefinition.id, ProcessDefinition.process_id, ProcessDefinition.name,
               ProcessDefinition.content_sha256, ProcessDefinition.filename)
        .join(newest, (newest.c.process_id == ProcessDefinition.process_id)
              & (newest.c.version == ProcessDefinition.version))).all()
    processes: dict[str, str] = {}
    task_types: dict[str, dict[str, str]] = {}
    for definition_id, process_id, name, sha, filename in sorted(rows, key=lambda r: (r.name.lower(), r.process_id)):
        processes[process_id] = name or process_id
        parsed = runtime.cached_spec(process_id, sha)
        if parsed is None:
            xml = session.scalar(select(ProcessDefinition.bpmn_xml).where(ProcessDefinition.id == definition_id))
            parsed = runtime.spec(process_id, xml or "", filename)
        found: dict[str, str] = {}
        for spec in [parsed.spec, *parsed.subprocess_specs.values()]:
            for task_spec in spec.task_specs.values():
                if getattr(task_spec, "manual", False):
                    found[task_spec.bpmn_id] = task_spec.bpmn_name or task_spec.bpmn_id
        task_types[process_id] = dict(sorted(found.items(), key=lambda item: item[1].lower()))
    return Catalogue(processes, task_types)


# -- the query --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TaskQuery:
    """The work queue's query parameters, checked."""

    view: str = "all"
    child: str = ""
    process: str = ""
    task: str = ""
    due_from: date | None = None
    due_to: date | None = None
    q: str = ""
    sort: str = "due"
    order: str = "asc"
    page: int = 1

    @classmethod
    def parse(cls, args: Mapping[str, Sequence[str]], known: Catalogue | None = None) -> TaskQuery:
        """From query parameters (name -> values). Every refusal is collected and raised as one InvalidData
        naming each parameter. ``known``: the deployed processes a process or task type must be one of.
        A date is ``due_from=2026-12-01`` or GOV.UK's three fields ``due_from-day``, ``-month``, ``-year``."""
        errors: dict[str, list[str]] = {}
        found: dict[str, Any] = {}

        def one(name: str) -> str:
            values = [v.strip() for v in args.get(name, ()) if v.strip()]
            if len(set(values)) > 1:
                errors[name] = [f"{LABELS.get(name, name)} is given more than once"]
                return ""
            if values and len(values[0]) > MAX_TEXT:
                errors[name] = [f"{LABELS.get(name, name)} must be {MAX_TEXT} characters or fewer"]
                return ""
            return values[0] if values else ""

        for name, allowed in (("view", VIEWS), ("sort", SORTS), ("order", ORDERS)):
            value = one(name)
            if value and value not in allowed:
                errors[name] = [f"{LABELS[name]} '{value[:40]}' is not known: use one of {', '.join(allowed)}"]
            elif value:
                found[name] = value
        for name in ("child", "q"):
            if value := one(name):
                found[name] = value
        process, task = one("process"), one("task")
        if process and known is not None and process not in known.processes:
            errors["process"] = [f"There is no process '{process[:40]}': choose one from the list"]
        elif process:
            found["process"] = process
        if task and known is not None and task not in known.task_names(found.get("process", "")):
            where = f" in {known.processes[process]}" if process in known.processes else ""
            errors["task"] = [f"There is no task type '{task[:40]}'{where}: choose one from the list"]
        elif task:
            found["task"] = task
        for name in ("due_from", "due_to"):
            try:
                if (day := _date(args, name, one)) is not None:
                    found[name] = day
            except ValueError as problem:
                errors[name] = [str(problem)]
        if found.get("due_from") and found.get("due_to") and found["due_to"] < found["due_from"]:
            errors["due_to"] = ["Due to must be the same as or after due from"]
        page = one("page") or "1"
        if not page.isdigit() or not 1 <= int(page) <= MAX_PAGE:
            errors["page"] = [f"Page must be a whole number from 1 to {MAX_PAGE}"]
        else:
            found["page"] = int(page)
        if errors:
            raise InvalidData(errors, "The task list's filters are not valid")
        return cls(**found)

    def args(self) -> list[tuple[str, str]]:
        """The query parameters that give this query back (defaults left out)."""
        pairs: list[tuple[str, str]] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value and value != f.default:
                pairs.append((f.name, value.isoformat() if isinstance(value, date) else str(value)))
        return pairs

    def chosen(self) -> list[tuple[str, str]]:
        """The filters and the search applied (not the view, the sort or the page)."""
        return [(n, v) for n, v in self.args() if n not in ("view", "sort", "order", "page")]

    def without(self, name: str) -> TaskQuery:
        """The same query with one filter removed, from the first page."""
        changes: dict[str, Any] = {name: getattr(TaskQuery(), name), "page": 1}
        return replace(self, **changes)


def _date(args: Mapping[str, Sequence[str]], name: str, one: Any) -> date | None:
    """A date from GOV.UK's three fields (if any is given) or from ISO text; ValueError says what is wrong."""
    label = LABELS[name]
    parts = {part: one(f"{name}-{part}") for part in ("day", "month", "year")}
    if any(parts.values()):
        missing = [part for part, value in parts.items() if not value]
        if missing:
            raise ValueError(f"{label} must include a {' and a '.join(missing)}")
        if not all(value.isdigit() and len(value) <= 4 for value in parts.values()):
            raise ValueError(f"{label} must be a real date, like 1 12 2026")
        day, month, year = (int(parts[p]) for p in ("day", "month", "year"))
    elif text := one(name):
        try:
            given = date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{label} must be a real date, like 2026-12-01") from None
        day, month, year = given.day, given.month, given.year
    else:
        return None
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"{label} must be a year from {FIRST_YEAR} to {LAST_YEAR}")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"{label} must be a real date, like 1 12 2026") from None


# -- the list ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TaskRow:
    """One row of the list: the task, its child's name (None for a key with no child record), and the
    display name of whoever holds it."""

    task: HumanTask
    child_name: str | None
    assignee_name: str | None


def may_see_team(session: Session, access: AccessPolicy, actor: Actor) -> bool:
    """The team view is for managers (the role held and granted)."""
    return TEAM_ROLE in access.scope(session, actor).roles


def task_list(session: Session, runtime: Runtime | AccessPolicy, actor: Actor, query: TaskQuery,
              clock: Clock | None = None, per_page: int = PAGE_SIZE) -> Page[TaskRow]:
    """One page of the work queue for ``actor`` (``runtime``: the engine's runtime, or an access policy).
    A request for the team view by someone without the manager role is refused (Forbidden)."""
    check_page(query.page, per_page)
    access: AccessPolicy = runtime.access if isinstance(runtime, Runtime) else runtime
    scope = access.scope(session, actor)
    if query.view == "team" and TEAM_ROLE not in scope.roles:
        raise Forbidden("The team view is for managers: choose another view")
    branches = _team(session, scope) if query.view == "team" else _own(scope, query.view)
    if not branches:
        return Page([], query.page, per_page, has_next=False)
    now = (clock or SystemClock()).now()
    common = [HumanTask.state == "open", *_filters(query, scope, now)]
    window = query.page * per_page + 1
    merged = union(*(_branch(query, window, [*common, *conditions], children)
                     for conditions, children in branches)).subquery()
    holder = aliased(User)
    statement = (
        select(HumanTask, Child.first_name, Child.last_name, holder.display_name)
        .join(merged, HumanTask.id == merged.c.s_id)
        .outerjoin(Child, Child.ref == HumanTask.business_key)
        .outerjoin(holder, holder.username == HumanTask.assignee)
        .order_by(*_ordering(query, [merged.c[label] for label, _ in _sort_columns(query)]))
        .offset((query.page - 1) * per_page).limit(per_page + 1))
    rows = [TaskRow(task, f"{first} {last}" if last is not None else None, name)
            for task, first, last, name in session.execute(statement)]
    return cut(rows, query.page, per_page)


Branch = tuple[list[ColumnElement[bool]], ColumnElement[bool] | None]
"""A branch's conditions, and (for a sort by child) the children its keys are, or None (see _children)."""


def _own(scope: Scope, view: str) -> list[Branch]:
    """The branches of the views of one's own work: held by me, or claimable in one role, per grant; no
    branch has an OR, so each walks its own index (as ``WorkflowService.inbox``)."""
    branches: list[Branch] = []
    for grant in scope.grants:
        reached, children = grant.keys(HumanTask.business_key), _children(scope, grant)
        if view in ("all", "mine", "overdue"):
            branches.append(([HumanTask.assignee == scope.actor.user_id, reached], children))
        if view in ("all", "unassigned", "overdue"):
            branches.extend(([HumanTask.assignee.is_(None), HumanTask.role == role, reached], children)
                            for role in sorted(grant.roles))
    return branches


def _children(scope: Scope, grant: Grant) -> ColumnElement[bool] | None:
    """When every key ``grant`` reaches is a child the scope reaches: that condition on the sort's child, so a
    sort by child may join the child and walk the children in name order (``child (la_code, last_name,
    ref)``) instead of sorting every task; the condition is implied by the grant's own, so it never
    changes a list. None when a key may have no child record (a generic process, the engine's policy)."""
    if not isinstance(scope, CaseScope) or grant.keys is unrecorded:
        return None
    adapted: ColumnElement[bool] = ClauseAdapter(inspect(SORT_CHILD).selectable).traverse(scope.children)
    return adapted


def _team(session: Session, scope: Scope) -> list[Branch]:
    """The team view's branches: per grant, the tasks the manager may read (need to know: the grant
    reaches the key and its roles read the step, or may act on it) that are held by a member of the
    manager's team or are for a child allocated to one; every such task of their reach when they have
    no team. The team: the users of the manager's authority with the same ``team``."""
    me = scope.actor.user_id
    manager = session.execute(select(User.team, User.la_code).where(User.username == me)).one_or_none()
    team, la_code = (manager.team, manager.la_code) if manager is not None else (None, None)
    members = select(User.username).where(User.team == team, User.la_code == la_code)
    caseloads = select(Child.ref).where(Child.social_worker.in_(members))
    branches: list[Branch] = []
    for grant in scope.grants:
        readable, children = [grant.keys(HumanTask.business_key), task_rule(grant.roles, me)], _children(scope, grant)
        if team:
            branches.append(([*readable, HumanTask.assignee.in_(members)], children))
            branches.append(([*readable, HumanTask.business_key.in_(caseloads)], children))
        else:
            branches.append((readable, children))
    return branches


def _filters(query: TaskQuery, scope: Scope, now: datetime) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.view == "overdue":
        conditions.append(HumanTask.due_at < now)
    if query.child:
        conditions.append(HumanTask.business_key == query.child)
    if query.process:
        conditions.append(HumanTask.process_id == query.process)
    if query.task:
        conditions.append(HumanTask.element_id == query.task)
    # A day-counted deadline is stored as the midnight (UTC) after its last day (engine/calendar.py,
    # due_by_day): "due from" a day is after the midnight that starts it, "due to" a day up to the next.
    if query.due_from is not None:
        conditions.append(HumanTask.due_at > datetime.combine(query.due_from, time(0), UTC))
    if query.due_to is not None:
        conditions.append(HumanTask.due_at <= datetime.combine(query.due_to + timedelta(days=1), time(0), UTC))
    if query.q:
        conditions.append(_search(query.q, scope))
    return conditions


def _search(q: str, scope: Scope) -> ColumnElement[bool]:
    """The task's key is a child whose name has every word of ``q``, or whose reference has ``q``, or a
    key with no child record that has ``q`` (all case-insensitive). Only ever a further condition on
    branches that carry the access condition; the children are also limited to those the scope reaches,
    so the search starts from them."""
    text = q.lower()
    names = [or_(func.lower(Child.first_name).contains(w, autoescape=True),
                 func.lower(Child.last_name).contains(w, autoescape=True)) for w in text.split()]
    children = select(Child.ref).where(or_(func.lower(Child.ref).contains(text, autoescape=True), and_(*names)))
    if not isinstance(scope, CaseScope):  # the engine's default policy: keys are not children
        return or_(HumanTask.business_key.in_(children),
                   func.lower(HumanTask.business_key).contains(text, autoescape=True))
    keys = select(UnrecordedKey.business_key).where(
        func.lower(UnrecordedKey.business_key).contains(text, autoescape=True))
    return HumanTask.business_key.in_(union_all(children.where(scope.children), keys))


def _sort_columns(query: TaskQuery) -> list[tuple[str, Any]]:
    """The columns a page is ordered by (a total order, ending with the task's id), labelled."""
    due = [("s_due", HumanTask.due_at), ("s_created", HumanTask.created_at), ("s_id", HumanTask.id)]
    if query.sort == "created":
        return due[1:]
    if query.sort == "child":
        return [("s_last", SORT_CHILD.last_name), ("s_first", SORT_CHILD.first_name), ("s_key", HumanTask.business_key),
                *due]
    return due


def _ordering(query: TaskQuery, columns: Sequence[Any]) -> list[Any]:
    """Ascending: no due date (or no child record) last; descending: the same order reversed."""
    if query.order == "desc":
        return [c.desc().nulls_first() for c in columns]
    return [c.asc().nulls_last() for c in columns]


def _branch(query: TaskQuery, window: int, conditions: list[ColumnElement[bool]],
            children: ColumnElement[bool] | None) -> Select[Any]:
    """The first ``window`` tasks meeting ``conditions`` in the page's order: their ids and sort keys."""
    columns = _sort_columns(query)
    first = select(*(column.label(label) for label, column in columns)).where(*conditions)
    if query.sort == "child" and children is not None:
        first = first.select_from(HumanTask).join(SORT_CHILD, SORT_CHILD.ref == HumanTask.business_key)
        first = first.where(children)
    elif query.sort == "child":
        first = first.select_from(HumanTask).outerjoin(SORT_CHILD, SORT_CHILD.ref == HumanTask.business_key)
    cut_early = first.order_by(*_ordering(query, [c for _, c in columns])).limit(window).subquery()
    return select(*cut_early.c)
