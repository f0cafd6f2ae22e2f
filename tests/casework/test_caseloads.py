"""Caseloads (casework/caseloads.py): allocating a child and handing over a leaver's whole caseload, with
real processes whose tasks the leaver holds."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from casework import caseloads
from casework.records import Child
from casework.staff import StaffService
from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.errors import InvalidData, NotFound
from engine.models import AuditEvent, HumanTask
from engine.runtime import Actor, Runtime
from engine.service import WorkflowService
from notifications.models import InAppMessage, OutboxMessage
from tests.hashing import FAST_HASHER
from tests.web.support import BPMN_DIR, FORMS, PROCESS_ID

from .records_support import add_child, add_user

SW = frozenset({"social_worker"})


@pytest.fixture
def authority(factory: sessionmaker[Session], clock: FrozenClock) -> Runtime:
    """Lee (leaving) has C-1..C-3 and holds a task for each and one for C-9 (not his); Amy and Bo are social
    workers; Di is deactivated; Oz works for another authority."""
    runtime = Runtime(forms=FORMS)
    with unit_of_work(factory) as session:
        for name in ("lee", "amy", "bo", "di"):
            add_user(session, clock, name, ["social_worker"])
        add_user(session, clock, "oz", ["social_worker"], la_code="936")
        add_user(session, clock, "admin", ["admin"])
        StaffService(session, clock, FAST_HASHER).deactivate("di", "admin")
        for number in (1, 2, 3):
            add_child(session, clock, ref=f"C-{number}", social_worker="lee")
        add_child(session, clock, ref="C-8", social_worker="amy")
        add_child(session, clock, ref="C-9", social_worker="bo")
        add_child(session, clock, ref="C-7", la_code="936", social_worker="lee")
        service = WorkflowService(session, clock, runtime)
        service.deploy_directory(BPMN_DIR)
        for ref in ("C-1", "C-2", "C-3", "C-9"):
            instance = service.start(PROCESS_ID, ref, {}, Actor("lee", SW))
            (task,) = service.instance_tasks(instance.id)
            service.claim(task.id, Actor("lee", SW))
        service.start(PROCESS_ID, "C-8", {}, Actor("amy", SW))  # an unclaimed task stays unclaimed
    return runtime


def holders(session: Session) -> dict[str, str | None]:
    return {t.business_key: t.assignee for t in session.scalars(select(HumanTask).where(HumanTask.state == "open"))}


def test_a_leavers_caseload_and_its_tasks_go_to_the_new_worker_and_other_tasks_back_to_their_role(
        factory: sessionmaker[Session], clock: FrozenClock, authority: Runtime) -> None:
    with unit_of_work(factory) as session:
        before = session.scalar(select(func.max(AuditEvent.id)))
        done = caseloads.hand_over(session, clock, "935", "lee", "amy", "admin", "https://vsw.example")
    assert done == caseloads.Handover(children=3, tasks_moved=3, tasks_released=1)
    with unit_of_work(factory) as session:
        allocated = {ref: worker for ref, worker in session.execute(select(Child.ref, Child.social_worker))}
        assert allocated == {"C-1": "amy", "C-2": "amy", "C-3": "amy", "C-8": "amy", "C-9": "bo", "C-7": "lee"}
        assert holders(session) == {"C-1": "amy", "C-2": "amy", "C-3": "amy", "C-9": None, "C-8": None}
        service = WorkflowService(session, clock, authority)
        assert {t.business_key for t in service.inbox(Actor("amy", SW)).items} >= {"C-1", "C-2", "C-3"}
        mail = session.scalars(select(OutboxMessage)).one()
        assert mail.recipient_username == "amy" and mail.subject == "3 children have been allocated to you"
        assert "from Lee's caseload" in mail.text and "3 open tasks are now yours" in mail.text
        assert mail.link == "https://vsw.example/children"
        assert session.scalars(select(InAppMessage.username)).all() == ["amy"]
        audit = session.execute(select(AuditEvent.action, AuditEvent.business_key)
                                .where(AuditEvent.id > before)).all()
        assert sorted(audit, key=str) == sorted(
            [("child.allocated", f"C-{n}") for n in (1, 2, 3)] + [("task_reassigned", f"C-{n}") for n in (1, 2, 3)]
            + [("task_unclaimed", "C-9"), ("caseload.handed_over", None)], key=str)
        summary = session.scalars(select(AuditEvent).where(AuditEvent.action == "caseload.handed_over")).one()
        assert summary.data == {"from": "lee", "to": "amy", "la_code": "935", "children": 3, "tasks_moved": 3,
                                "tasks_released": 1}


def test_handing_over_takes_the_same_number_of_statements_whatever_the_caseload(
        factory: sessionmaker[Session], clock: FrozenClock, authority: Runtime, db_engine: object) -> None:
    counted: list[str] = []

    def count(*args: object) -> None:
        counted.append(str(args[2]))

    def statements(leaver: str, to: str) -> int:
        counted.clear()
        event.listen(db_engine, "before_cursor_execute", count)
        try:
            with unit_of_work(factory) as session:
                caseloads.hand_over(session, clock, "935", leaver, to, "admin", None)
        finally:
            event.remove(db_engine, "before_cursor_execute", count)
        return len(counted)

    with unit_of_work(factory) as session:
        for number in range(40):
            add_child(session, clock, ref=f"B-{number}", social_worker="lee")
    small = statements("bo", "amy")  # 1 child, no task held
    large = statements("lee", "bo")  # 43 children, 3 tasks to move and 1 to release
    assert small == large
    with unit_of_work(factory) as session:
        assert holders(session) == {"C-1": "bo", "C-2": "bo", "C-3": "bo", "C-9": None, "C-8": None}


def test_only_an_active_social_worker_of_the_authority_can_be_given_a_caseload(
        factory: sessionmaker[Session], clock: FrozenClock, authority: Runtime) -> None:
    with unit_of_work(factory) as session:
        for to, reason in (("di", "not an active social worker"), ("oz", "not an active social worker"),
                           ("admin", "not an active social worker"), ("", "Choose a social worker"),
                           ("lee", "someone other than")):
            with pytest.raises(InvalidData, match=reason):
                caseloads.hand_over(session, clock, "935", "lee", to, "admin", None)
        with pytest.raises(InvalidData, match="no children allocated"):
            caseloads.hand_over(session, clock, "935", "di", "amy", "admin", None)
    with unit_of_work(factory) as session:
        assert session.scalar(select(func.count()).select_from(Child).where(Child.social_worker == "lee")) == 4
        assert session.scalars(select(OutboxMessage)).first() is None


def test_allocating_one_child_is_audited_and_tells_the_worker(
        factory: sessionmaker[Session], clock: FrozenClock, authority: Runtime) -> None:
    with unit_of_work(factory) as session:
        caseloads.allocate(session, clock, "935", "C-9", "amy", "admin", None)
        caseloads.allocate(session, clock, "935", "C-9", "amy", "admin", None)  # again: nothing more
        with pytest.raises(NotFound):
            caseloads.allocate(session, clock, "935", "C-7", "amy", "admin", None)  # another authority's child
        with pytest.raises(InvalidData):
            caseloads.allocate(session, clock, "935", "C-1", "di", "admin", None)
    with unit_of_work(factory) as session:
        assert session.scalars(select(Child.social_worker).where(Child.ref == "C-9")).one() == "amy"
        event_row = session.scalars(select(AuditEvent).where(AuditEvent.action == "child.allocated")).one()
        assert (event_row.business_key, event_row.data) == ("C-9", {"from": "bo", "to": "amy"})
        assert session.scalars(select(OutboxMessage.subject)).all() == ["A child has been allocated to you"]


def test_the_lists_are_paged_in_the_database(factory: sessionmaker[Session], clock: FrozenClock,
                                             authority: Runtime) -> None:
    with unit_of_work(factory) as session:
        add_child(session, clock, ref="U-1", social_worker=None)
        workers = caseloads.workers(session, "935", per_page=2)
        assert [(w.user.username, w.children) for w in workers.items] == [("amy", 1), ("bo", 1)]
        assert workers.has_next
        everyone = caseloads.workers(session, "935", per_page=10).items
        assert [(w.user.username, w.children) for w in everyone] == [("amy", 1), ("bo", 1), ("di", 0), ("lee", 3)]
        assert [c.ref for c in caseloads.caseload(session, "935", "lee", per_page=2).items] == ["C-1", "C-2"]
        assert [c.ref for c in caseloads.unallocated(session, "935").items] == ["U-1"]
        assert [u.username for u in caseloads.picker(session, "935", excluding="lee")] == ["amy", "bo"]
