"""The engine's facade: deploy, start, tasks, claim, complete, messages, cancel, timers.

``WorkflowService(session, clock, runtime)`` — given its session (it flushes,
never commits), the one clock, and the process-lifetime runtime. See docs/engine.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from marshmallow import Schema, ValidationError
from marshmallow.experimental.context import Context
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import ColumnElement, Select, or_, select, union, update
from sqlalchemy.orm import Session

from .audit import AuditLog, Entries, entry
from .clock import Clock
from .contracts import TaskRef
from .deploy import Deployer
from .errors import Conflict, Forbidden, InvalidData, NotFound
from .models import AuditEvent, HumanTask, MessageWait, ProcessDefinition, ProcessInstance, TimerRow
from .paging import PAGE_SIZE, Page, check_page, cut
from .runtime import SYSTEM, Actor, Reached, Runtime
from .steps import Loaded, StepRunner, flush, json_safe

TASK_ORDER = (HumanTask.due_at.asc().nulls_last(), HumanTask.created_at, HumanTask.id)
"""Soonest due first, tasks with no due date last; ties by when opened, then id (a total order)."""


def _branch(window: int, *conditions: ColumnElement[bool]) -> Select[tuple[str]]:
    """The ids of the first ``window`` open tasks meeting ``conditions``, in inbox order."""
    first = select(HumanTask.id, HumanTask.due_at, HumanTask.created_at).where(*conditions)
    cut_early = first.order_by(*TASK_ORDER).limit(window).subquery()
    return select(cut_early.c.id)


class WorkflowService:
    def __init__(self, session: Session, clock: Clock, runtime: Runtime) -> None:
        self.session = session
        self.clock = clock
        self.runtime = runtime
        self.audit = AuditLog(session)
        self.deployer = Deployer(session, runtime, self.audit)
        self.steps = StepRunner(session, runtime)

    # -- definitions ----------------------------------------------------------
    def deploy_directory(self, directory: Path | str, actor: Actor = SYSTEM) -> list[ProcessDefinition]:
        return self.deployer.deploy_directory(Path(directory), actor, self.clock.now())

    def deploy_file(self, path: Path | str, actor: Actor = SYSTEM) -> list[ProcessDefinition]:
        return self.deployer.deploy_file(Path(path), actor, self.clock.now())

    def deploy_text(self, text: str, filename: str, actor: Actor = SYSTEM) -> list[ProcessDefinition]:
        return self.deployer.deploy_text(text, filename, actor, self.clock.now())

    # -- instances ------------------------------------------------------------
    def start(self, process_id: str, business_key: str, data: dict[str, Any], actor: Actor) -> ProcessInstance:
        """Start the newest version of a process for a business key (e.g. a child)."""
        if not business_key or len(business_key) > 100:
            raise InvalidData({"business_key": ["must be between 1 and 100 characters"]})
        data = json_safe(data)
        now = self.clock.now()
        definition = self.deployer.newest(process_id)
        workflow, scripts = self.steps.new_workflow(definition, now)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(data)
        row = ProcessInstance(
            definition_id=definition.id, process_id=process_id, business_key=business_key,
            status="running", state="{}", started_at=now, started_by=actor.user_id, updated_at=now,
        )
        self.session.add(row)
        flush(self.session)
        loaded = Loaded(row, workflow, scripts)
        loaded.audit.append(entry(now, actor.user_id, "instance_started", row,
                                  data={"version": definition.version, "data": data}))
        self.steps.advance(loaded, actor.user_id)
        self.steps.finish(loaded, now, actor.user_id)
        return row

    def instance(self, instance_id: int) -> ProcessInstance:
        row = self.session.get(ProcessInstance, instance_id)
        if row is None:
            raise NotFound(f"No process instance {instance_id}")
        return row

    def instances(self, business_key: str, status: str | None = None) -> list[ProcessInstance]:
        query = select(ProcessInstance).where(ProcessInstance.business_key == business_key)
        if status is not None:
            query = query.where(ProcessInstance.status == status)
        return list(self.session.scalars(query.order_by(ProcessInstance.id)))

    def instance_data(self, instance_id: int) -> dict[str, Any]:
        """The data of the instance's most recent task (loads the workflow: for detail pages only)."""
        loaded = self.steps.load(instance_id, self.clock.now())
        last = loaded.workflow.last_task or loaded.workflow.task_tree
        return dict(last.data)

    def answers(self, instance_id: int, only: Entries | None = None) -> dict[str, Any]:
        """What people have given the instance so far (start data and form answers), from the audit
        trail: for the task page, without loading the workflow. ``only``: from those entries alone."""
        return self.audit.answers(instance_id, only)

    def last_answers(self, task: HumanTask) -> dict[str, Any] | None:
        """What was submitted the last time this step was done in this instance (a step that comes
        round again, such as a PEP returned for revision), without the server-side facts."""
        done = self.audit.last_completion(task.instance_id, task.element_id)
        if done is None or not isinstance(done.data, dict):
            return None
        return {k: v for k, v in done.data.items() if k != "facts"}

    def history(self, instance_id: int) -> list[AuditEvent]:
        self.instance(instance_id)
        return self.audit.for_instance(instance_id)

    def history_page(self, instance_id: int, page: int = 1, per_page: int = PAGE_SIZE,
                     only: Entries | None = None) -> Page[AuditEvent]:
        """One page of the instance's history; ``only`` those entries (filtered before the page is cut)."""
        self.instance(instance_id)
        return self.audit.page_for_instance(instance_id, page, per_page, only)

    def instance_tasks(self, instance_id: int) -> list[HumanTask]:
        query = select(HumanTask).where(HumanTask.instance_id == instance_id).order_by(HumanTask.created_at)
        return list(self.session.scalars(query))

    def waiting_timers(self, instance_id: int) -> list[TimerRow]:
        query = select(TimerRow).where(TimerRow.instance_id == instance_id, TimerRow.state == "waiting")
        return list(self.session.scalars(query.order_by(TimerRow.due_at)))

    def waiting_messages(self, instance_id: int) -> list[MessageWait]:
        """The instance's catch events waiting for a BPMN message, in the order they began to wait."""
        query = select(MessageWait).where(MessageWait.instance_id == instance_id)
        return list(self.session.scalars(query.order_by(MessageWait.since, MessageWait.id)))

    # -- human tasks ----------------------------------------------------------
    def task(self, task_id: str) -> HumanTask:
        row = self.session.get(HumanTask, task_id, populate_existing=True)
        if row is None:
            raise NotFound(f"No task {task_id}")
        return row

    def tasks(
        self,
        *,
        roles: Iterable[str] | None = None,
        assignee: str | None = None,
        business_key: str | None = None,
        state: str | None = "open",
        due_before: datetime | None = None,
        limit: int = 500,
    ) -> list[HumanTask]:
        """Human tasks from the indexed table, soonest due first."""
        query = select(HumanTask)
        if roles is not None:
            query = query.where(HumanTask.role.in_(list(roles)))
        if assignee is not None:
            query = query.where(HumanTask.assignee == assignee)
        if business_key is not None:
            query = query.where(HumanTask.business_key == business_key)
        if state is not None:
            query = query.where(HumanTask.state == state)
        if due_before is not None:
            query = query.where(HumanTask.due_at < due_before)
        return list(self.session.scalars(query.order_by(*TASK_ORDER).limit(limit)))

    def inbox(self, actor: Actor, page: int = 1, per_page: int = PAGE_SIZE) -> Page[HumanTask]:
        """Open tasks the actor holds and may still see, or may claim in one of their roles for a key
        that role reaches; soonest due first (no due date last). Decided and cut in the database.

        One branch per way of reaching a task (held by me; claimable per granted role), each
        ordered and cut to the page's end on its own index, then merged: the cost follows the page
        and the actor's own reach, not the number of open tasks.
        """
        check_page(page, per_page)
        scope = self.runtime.access.scope(self.session, actor)
        if not scope.grants:
            return Page([], page, per_page, has_next=False)
        window = page * per_page + 1
        open_, mine, unclaimed = HumanTask.state == "open", HumanTask.assignee == actor.user_id, HumanTask.assignee.is_(None)
        queries = []
        for grant in scope.grants:  # each branch without OR, so each can use its index and stop early
            reached = grant.keys(HumanTask.business_key)
            queries.append(_branch(window, open_, mine, reached))
            queries.extend(_branch(window, open_, unclaimed, HumanTask.role == role, reached)
                           for role in sorted(grant.roles))
        merged = union(*queries).subquery()  # a task I hold may be reached by two grants: once each
        query = select(HumanTask).join(merged, HumanTask.id == merged.c.id).order_by(*TASK_ORDER)
        rows = self.session.scalars(query.offset((page - 1) * per_page).limit(per_page + 1)).all()
        return cut(rows, page, per_page)

    def form_schema(self, task: HumanTask) -> Schema | None:
        return self.runtime.form_schema(task.process_id, task.element_id)

    def claim(self, task_id: str, actor: Actor) -> HumanTask:
        row = self._actionable(task_id, actor)
        now = self.clock.now()
        result = self.session.execute(
            update(HumanTask)
            .where(HumanTask.id == task_id, HumanTask.state == "open",
                   or_(HumanTask.assignee.is_(None), HumanTask.assignee == actor.user_id))
            .values(assignee=actor.user_id)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            raise Conflict(f"Task '{row.title}' was claimed by someone else first")
        self.audit.record(now, actor.user_id, "task_claimed", row,
                          task_id=task_id, element_id=row.element_id)
        return self.task(task_id)

    def unclaim(self, task_id: str, actor: Actor) -> HumanTask:
        row = self._actionable(task_id, actor)
        if row.assignee is None:
            raise Conflict(f"Task '{row.title}' is not claimed")
        if row.assignee != actor.user_id and "manager" not in actor.roles:
            raise Forbidden(f"Task '{row.title}' is claimed by {row.assignee}; only they or a manager may release it")
        result = self.session.execute(
            update(HumanTask).where(HumanTask.id == task_id, HumanTask.assignee == row.assignee)
            .values(assignee=None).execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            raise Conflict(f"Task '{row.title}' changed hands at the same time; reload and try again")
        self.audit.record(self.clock.now(), actor.user_id, "task_unclaimed", row,
                          task_id=task_id, element_id=row.element_id, data={"was": row.assignee})
        return self.task(task_id)

    ASSIGNER_ROLE = "manager"
    """Who may give a task to someone else: a holder of this role whom the access policy lets act for the key."""

    def assign(self, task_id: str, assignee: Actor, actor: Actor, *, seen: str | None | bool = False) -> HumanTask:
        """Give an open task to ``assignee`` (with the roles the caller's directory says they hold: the
        engine has no users), who must be able to act on it. ``seen``: the holder the actor saw, if the
        caller knows (``False``: the one read now); a task that changed hands since is 409, nothing changed."""
        row = self.task(task_id)
        if not self.runtime.access.may_act(self.session, actor, self.ASSIGNER_ROLE, row.business_key):
            raise Forbidden(f"You may not assign '{row.title}': only a {self.ASSIGNER_ROLE} for this case may")
        if row.state != "open":
            raise Conflict(f"Task '{row.title}' is already {row.state}")
        if row.assignee == assignee.user_id:
            return row  # already theirs (a second click): nothing to change
        was = row.assignee if isinstance(seen, bool) else seen
        if was != row.assignee:
            raise Conflict(f"Task '{row.title}' changed hands since you looked; reload and try again")
        if not self.runtime.access.may_act(self.session, assignee, row.role, row.business_key):
            raise InvalidData({"assignee": [f"{assignee.user_id} may not act on '{row.title}'"]},
                              f"{assignee.user_id} may not act on '{row.title}'")
        result = self.session.execute(
            update(HumanTask).where(HumanTask.id == task_id, HumanTask.state == "open",
                                    HumanTask.assignee.is_not_distinct_from(was))
            .values(assignee=assignee.user_id).execution_options(synchronize_session=False))
        if getattr(result, "rowcount", 0) != 1:
            raise Conflict(f"Task '{row.title}' changed hands at the same time; reload and try again")
        self.audit.record(self.clock.now(), actor.user_id, "task_assigned", row, task_id=task_id,
                          element_id=row.element_id, data={"to": assignee.user_id, "was": was})
        return self.task(task_id)

    def validate(self, task: HumanTask, data: dict[str, Any]) -> dict[str, Any]:
        """Data checked by the task's schema, as plain JSON; InvalidData names each bad field.

        The schema is loaded in a validation context (``marshmallow.experimental.context.Context``):
        ``{"today": the clock's UTC date, "data": the instance's data so far}`` (its start data and
        answers, :meth:`answers`), so a form can check a date against today or the process's data."""
        schema = self.form_schema(task)
        if schema is None:
            return json_safe(data)
        context: dict[str, Any] = {"today": self.clock.now().date(), "data": self.answers(task.instance_id)}
        try:
            with Context(context):
                cleaned = schema.load(data)
        except ValidationError as error:
            messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
            raise InvalidData(messages) from None
        dumped: dict[str, Any] = schema.dump(cleaned)
        return json_safe(dumped)

    def complete(self, task_id: str, data: dict[str, Any], actor: Actor) -> HumanTask:
        """Validate, run the task, advance and save; exactly one of two racing completions wins."""
        row, instance, content_sha256 = self.steps.task_and_instance(task_id)
        self._check_actionable(row, actor)
        if row.assignee is not None and row.assignee != actor.user_id:
            raise Forbidden(f"Task '{row.title}' is claimed by {row.assignee}")
        cleaned = self.validate(row, data)
        now = self.clock.now()
        loaded = self.steps.restore(instance, content_sha256, now)
        spiff_task = loaded.workflow.get_task_from_id(UUID(task_id))
        if spiff_task is None or not spiff_task.has_state(TaskState.READY):
            raise Conflict(f"Task '{row.title}' is no longer waiting to be done")
        facts = json_safe(dict(self.runtime.hooks.facts(self.session, TaskRef.of(row), cleaned)), "facts")
        spiff_task.data.update(cleaned)
        spiff_task.data.update(facts)
        self.steps.run_task(loaded, spiff_task)  # a script that fails is a ProcessError, not a crash
        loaded.reached.append(Reached(row.element_id, row.title, spiff_task.data))
        loaded.audit.append(entry(now, actor.user_id, "task_completed", loaded.row,
                                  task_id=task_id, element_id=row.element_id,
                                  data={**cleaned, **({"facts": facts} if facts else {})}))
        self.steps.advance(loaded, actor.user_id)
        self.steps.finish(loaded, now, actor.user_id, completed=(row, actor.user_id))
        return row

    # -- events ---------------------------------------------------------------
    def send_message(self, instance_id: int, name: str, payload: dict[str, Any], actor: Actor) -> ProcessInstance:
        """Deliver a BPMN message (e.g. ``placement_cancelled``) to a running instance."""
        payload = json_safe(payload, "payload")
        now = self.clock.now()
        loaded = self._running(instance_id, now)
        try:
            loaded.workflow.send_event(BpmnEvent(MessageEventDefinition(name), payload))
        except WorkflowException:
            raise Conflict(f"Process instance {instance_id} is not waiting for the message '{name}'") from None
        loaded.audit.append(entry(now, actor.user_id, "message_received", loaded.row,
                                  data={"message": name, "payload": payload}))
        self.steps.advance(loaded, actor.user_id)
        self.steps.finish(loaded, now, actor.user_id)
        return loaded.row

    def cancel(self, instance_id: int, actor: Actor, reason: str) -> ProcessInstance:
        if not reason or not reason.strip():
            raise InvalidData({"reason": ["give the reason for cancelling"]})
        now = self.clock.now()
        loaded = self._running(instance_id, now)
        loaded.workflow.cancel()
        loaded.audit.append(entry(now, actor.user_id, "instance_cancelled", loaded.row, data={"reason": reason}))
        self.steps.finish(loaded, now, actor.user_id, status="cancelled")
        return loaded.row

    def fire_instance_timers(self, instance_id: int, as_of: datetime) -> int:
        """Fire every timer of one instance that is due by ``as_of``; returns how many fired."""
        loaded = self.steps.load(instance_id, as_of)
        if loaded.row.status != "running" or not any(due <= as_of for _, due in loaded.before.timers):
            return 0
        self.steps.advance(loaded, SYSTEM.user_id)
        return self.steps.finish(loaded, as_of, SYSTEM.user_id)

    # -- helpers --------------------------------------------------------------
    def _actionable(self, task_id: str, actor: Actor) -> HumanTask:
        row = self.task(task_id)
        self._check_actionable(row, actor)
        return row

    def _check_actionable(self, row: HumanTask, actor: Actor) -> None:
        if not self.runtime.access.may_act(self.session, actor, row.role, row.business_key):
            raise Forbidden(f"You may not act on '{row.title}': it is for the {row.role} role")
        if row.state != "open":
            raise Conflict(f"Task '{row.title}' is already {row.state}")

    def _running(self, instance_id: int, at: datetime) -> Loaded:
        loaded = self.steps.load(instance_id, at)
        if loaded.row.status != "running":
            raise Conflict(f"Process instance {instance_id} is {loaded.row.status}")
        return loaded
