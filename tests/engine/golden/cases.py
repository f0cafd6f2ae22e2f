"""Golden files of stored instances: how each is captured, and how it is run to its end.

A golden file (``<case>.f<state format>.json``) holds what the database held for one
running instance at an interesting point (waiting at a user task, at a timer, inside a
multi-instance, at an event-based gateway): the instance row with its stored state and
``state_format``, its open human tasks and waiting timers, and which BPMN it ran on. The
BPMN is kept beside it (``bpmn/<name>.<sha256 prefix>.bpmn``), as the database keeps every
deployed version, so the file stays runnable when the process is changed later.

``tests/engine/test_state.py`` puts each file in an empty database and runs it to its end
with today's code (the case's ``then`` steps: forms completed with valid data, timers fired
by a later clock, messages sent). A file is never edited: the day the state format changes,
the files already here are the old format and prove its migration; add new ones at the new
format by running, from the repository root::

    .venv/bin/python -m tests.engine.golden.cases            # every case
    .venv/bin/python -m tests.engine.golden.cases CASE ...   # only these

which captures each case on a scratch SQLite database, checks that it runs to its end, and
writes ``<case>.f<STATE_FORMAT>.json`` (replacing a file of the same case and format).
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.calendar import BusinessCalendar
from engine.clock import FrozenClock
from engine.db import make_engine, session_factory, unit_of_work
from engine.models import HumanTask, ProcessDefinition, ProcessInstance, TimerRow
from engine.runtime import SYSTEM, Actor, NoHooks, Runtime
from engine.service import WorkflowService
from engine.state import STATE_FORMAT
from engine.timer_pump import fire_due_timers

GOLDEN = Path(__file__).resolve().parent
ROOT = GOLDEN.parent.parent.parent
STARTED = "2026-12-01T09:00:00+00:00"  # a Tuesday in the autumn term, as the test clock

Step = dict[str, Any]
"""``{"complete": element id, "data": {...}}`` (optionally ``"due_at"`` to pick one of several open),
``{"at": ISO time}`` (move the clock and fire every due timer), ``{"message": name, "payload": {...}}``."""


@dataclass(frozen=True)
class Case:
    name: str
    about: str
    bpmn: str  # from the repository root
    kind: str  # "processes": the real forms, calendar and functions; "engine": the engine tests' own
    start: dict[str, Any]
    before: list[Step]  # from the start to the point captured
    then: list[Step]  # from the point captured to the end
    business_key: str = "C-1001"
    ends: str = "completed"

    @property
    def process_id(self) -> str:
        return Path(self.bpmn).stem


# -- data the processes' forms accept (as in tests/processes) -----------------------------------------

_MOVE = {
    "child_ref": "C-1001", "child_name": "Amira Khan", "date_of_birth": "2015-03-14",
    "current_school_urn": "100000", "move_proposed_at": STARTED, "school_place_limit_school_days": 10,
    "area_notice_working_days": 5, "lane_roles": {"ks4_approver": "nominated_officer", "dcs": "dcs"},
}
_PROPOSAL = {"reason": "carer_request", "reason_detail": "The carers are retiring.", "planned_move_date": "2027-01-04",
             "emergency": False, "childs_wishes": "Wants to keep seeing her brother."}
_CHANGE = {"discussion_with_designated_teacher_held": True, "designated_teacher_name": "Dana Price",
           "childs_wishes_about_school": "Happy to move if she can join the football team.",
           "outcome": "change_school"}
_CARE = {"placement_type": "foster_care", "placement_start_date": "2027-01-04", "carer_name": "Mr and Mrs Ahmed",
         "distance": "in_area"}
_DIRECTION = {"decision": "start_direction", "notes": "Consult the school today.", "direction_school_urn": "654321"}
_MOVE_END = [
    {"complete": "apply_for_school_place", "data": {"school_urn": "654321", "application_date": "2026-12-15"}},
    {"complete": "confirm_school_place", "data": {"place_offered": True, "start_date": "2027-01-06"}},
    {"complete": "confirm_care_placement", "data": _CARE},
    {"complete": "record_vsh_views",
     "data": {"views": "Riverside can meet her needs; a tutor for the first half term.", "supports_move": True}},
    {"complete": "notify_school_and_iro", "data": {
        "school_notice_method": "email", "school_notified_to": "Dana Price, designated teacher",
        "school_notified_on": "2026-12-15", "iro_notice_method": "phone", "iro_notified_to": "Sam Reed",
        "iro_notified_on": "2026-12-15"}},
    {"complete": "sign_off_move", "data": {"decision": "approve"}},
]

_DIRECTION_START = {
    "child_ref": "C-1001", "child_name": "Amira Khan", "school_urn": "100001",
    "school_name": "St Anne's Voluntary Aided Primary", "school_type": "maintained", "la_is_admission_authority": False,
    "permanently_excluded_from_school": False, "requested_at": STARTED, "chase_working_days": 5,
    "esfa_outcome_working_days": 20,
}

_ACTION = {"description": "Book a maths tutor", "owner": "Ms Patel, designated teacher", "due_date": "2026-12-10"}
_LATE_ACTION = {"description": "Speech and language referral", "owner": "Social worker", "due_date": "2026-12-10"}
_ON_TIME_ACTION = {"description": "Buy a reading scheme", "owner": "Carer", "due_date": "2026-12-18"}
_PEP_START = {
    "child_ref": "C-1001", "child_name": "Amy Jones", "date_of_birth": "2016-05-01", "pep_id": 7, "pep_kind": "termly",
    "stage": "school_age", "due_at": "2026-12-11T17:00:00+00:00", "academic_year": "2026/27", "term": "autumn",
    "send_decision_weeks": 6, "action_escalation_working_days": 0,
}
_PEP_FORM = {
    "meeting_date": "2026-11-30", "school_name": "Riverside Primary", "school_year_group": 5, "attendance_percent": 91.5, "exclusions_this_term": 0,
    "attainment_summary": "Working towards in maths.", "sen_support_status": "none", "pupil_premium_plus_spend": 300,
    "pupil_premium_plus_purpose": "Maths tutoring.", "targets": "Times tables to 12 by February.",
    "actions": [_ACTION],
}
_PEP_PARTS = [
    {"complete": "social_worker_contribution", "data": {
        "care_plan_context": "Long-term foster care.", "placement_stability": "Stable.",
        "carers_support": "Reading every night."}},
    {"complete": "record_childs_views", "data": {"childs_views": "I like maths but not spelling."}},
]

CASES: dict[str, Case] = {case.name: case for case in [
    Case("placement_move_waiting_for_a_school_place",
         "two user tasks inside the nested subprocess, and the school-place deadline timer waiting",
         "processes/placement_move.bpmn", "processes", _MOVE,
         before=[{"complete": "propose_move", "data": _PROPOSAL}, {"complete": "discuss_school_choice", "data": _CHANGE}],
         then=[{"at": "2026-12-15T09:00:00+00:00"}, {"complete": "escalate_no_school_place", "data": _DIRECTION},
               *_MOVE_END]),
    Case("placement_move_cancelled_while_arranging",
         "arranging the move, then the placement_cancelled message ends it",
         "processes/placement_move.bpmn", "processes", _MOVE,
         before=[{"complete": "propose_move", "data": _PROPOSAL}],
         then=[{"message": "placement_cancelled", "payload": {"reason": "The carers can keep her after all."}}]),
    Case("admission_direction_waiting_for_representations",
         "a user task with the seven-day representations timer waiting on its boundary",
         "processes/admission_direction.bpmn", "processes", _DIRECTION_START,
         before=[{"complete": "consult_admission_authority", "data": {
             "consulted_on": "2026-12-01", "consultation_method": "email",
             "admission_authority_contact": "Chair of governors"}}],
         then=[{"at": "2026-12-08T00:00:00+00:00"},
               {"complete": "consider_representations", "data": {"direction_decision": "direct"}},
               {"complete": "serve_direction_notice", "data": {
                   "served_on": "2026-12-08", "notice_to_admission_authority": True, "notice_to_headteacher": True,
                   "notice_to_governing_body": True}},
               {"at": "2026-12-15T00:00:00+00:00"},
               {"complete": "confirm_child_on_roll", "data": {"admitted_on": "2026-12-16",
                                                               "confirmed_with_school": True}}]),
    Case("pep_review_preparing_the_pep",
         "three parallel user tasks inside the embedded subprocess, with the PEP's deadline timer waiting",
         "processes/pep_review.bpmn", "processes", _PEP_START, before=[],
         then=[{"complete": "complete_pep_school_age", "data": _PEP_FORM}, *_PEP_PARTS,
               {"complete": "quality_assure_pep", "data": {"rag": "green"}},
               {"complete": "confirm_action_done", "data": {"action_done": True}}]),
    Case("pep_review_inside_the_action_multi_instance",
         "inside the multi-instance over the PEP's actions: one done, one open with its overdue timer waiting",
         "processes/pep_review.bpmn", "processes", _PEP_START,
         before=[{"complete": "complete_pep_school_age", "data": dict(_PEP_FORM, actions=[_LATE_ACTION, _ON_TIME_ACTION])},
                 *_PEP_PARTS, {"complete": "quality_assure_pep", "data": {"rag": "green"}},
                 {"complete": "confirm_action_done", "due_at": "2026-12-21T00:00:00+00:00",
                  "data": {"action_done": True}}],
         then=[{"at": "2026-12-11T00:00:00+00:00"},
               {"complete": "escalate_overdue_action", "data": {"escalation_notes": "Chased the SALT service."}},
               {"complete": "confirm_action_done", "data": {"action_done": True}}]),
    Case("timers_waiting_for_the_start_timer", "a timer start event waiting for its date",
         "tests/engine/bpmn/timers.bpmn", "engine", {"begin_at": STARTED}, before=[],
         then=[{"at": "2026-12-02T09:00:00+00:00"}, {"at": "2026-12-04T09:00:00+00:00"},
               {"complete": "respond", "data": {}}]),
    Case("timers_in_the_middle_of_a_reminder_cycle",
         "a cycle timer with one reminder given and one to come, and an interrupting deadline, both waiting",
         "tests/engine/bpmn/timers.bpmn", "engine", {"begin_at": STARTED},
         before=[{"at": "2026-12-02T09:00:00+00:00"}, {"at": "2026-12-04T09:00:00+00:00"},
                 {"at": "2026-12-05T09:00:00+00:00"}],
         then=[{"complete": "nudge", "data": {}}, {"at": "2026-12-06T09:00:00+00:00"},
               {"complete": "nudge", "data": {}}, {"complete": "respond", "data": {}}]),
    Case("review_draft_overdue", "a non-interrupting date timer that fired, beside the task it watches",
         "tests/engine/bpmn/review.bpmn", "engine", {"started_at": STARTED},
         before=[{"at": "2026-12-08T09:00:00+00:00"}],
         then=[{"complete": "chase", "data": {}},
               {"complete": "draft", "data": {"summary": "Settled well.", "meeting_date": "2026-12-09",
                                              "attendance_percent": 96}},
               {"complete": "approve", "data": {"decision": "approve"}}]),
    Case("gateway_timer_wins", "an event-based gateway waiting for a message and a timer; the timer wins",
         "tests/engine/bpmn/gateway.bpmn", "engine", {}, before=[{"complete": "ask", "data": {}}],
         then=[{"at": "2026-12-04T09:00:00+00:00"}, {"complete": "chase", "data": {}}]),
    Case("gateway_message_wins", "an event-based gateway waiting for a message and a timer; the message wins",
         "tests/engine/bpmn/gateway.bpmn", "engine", {}, before=[{"complete": "ask", "data": {}}],
         then=[{"message": "school_replied", "payload": {"place": True}}, {"complete": "read_reply", "data": {}}]),
]}


def runtime_for(kind: str) -> Runtime:
    """The runtime a case runs on: the real processes' forms, term dates and functions, or the engine tests'."""
    if kind == "processes":
        from casework.schoolyear import SCRIPT_FUNCTIONS
        from casework.terms import default_term_calendar
        from processes.forms import FORMS

        return Runtime(forms=FORMS, calendar=BusinessCalendar(default_term_calendar()), hooks=NoHooks(),
                       functions=SCRIPT_FUNCTIONS)
    from tests.engine.conftest import TERMS_2026_27
    from tests.engine.forms import FORMS as ENGINE_FORMS

    return Runtime(forms=ENGINE_FORMS, calendar=BusinessCalendar(TERMS_2026_27))


@dataclass
class Driver:
    """Runs a case's steps the way the app does: one unit of work per call, timers by the pump."""

    factory: sessionmaker[Session]
    runtime: Runtime
    clock: FrozenClock = field(default_factory=lambda: FrozenClock(datetime.fromisoformat(STARTED)))

    @contextmanager
    def service(self) -> Iterator[WorkflowService]:
        with unit_of_work(self.factory) as session:
            yield WorkflowService(session, self.clock, self.runtime)

    def run(self, instance_id: int, steps: list[Step]) -> None:
        for step in steps:
            if "at" in step:
                self.clock.set(datetime.fromisoformat(step["at"]))
                report = fire_due_timers(self.factory, self.runtime, self.clock)
                assert not report.failures, f"timers failed at {step['at']}: {report.failures}"
            elif "message" in step:
                with self.service() as svc:
                    svc.send_message(instance_id, step["message"], step["payload"], SYSTEM)
            else:
                self.complete(instance_id, step)

    def complete(self, instance_id: int, step: Step) -> None:
        with self.service() as svc:
            found = [t for t in svc.instance_tasks(instance_id) if t.element_id == step["complete"]
                     and t.state == "open" and ("due_at" not in step or _utc(t.due_at) == _at(step["due_at"]))]
            assert len(found) == 1, f"expected one open '{step['complete']}', found {len(found)}"
            svc.complete(found[0].id, step["data"], Actor("golden", frozenset({found[0].role or ""})))

    def open_tasks(self, instance_id: int) -> list[str]:
        with self.service() as svc:
            return sorted(t.element_id for t in svc.instance_tasks(instance_id) if t.state == "open")

    def waiting_timers(self, instance_id: int) -> list[str]:
        with self.service() as svc:
            return [t.element_id for t in svc.waiting_timers(instance_id)]

    def status(self, instance_id: int) -> str:
        with self.service() as svc:
            return svc.instance(instance_id).status


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _iso(value: datetime | None) -> str | None:
    utc = _utc(value)
    return utc.isoformat() if utc is not None else None


# -- capturing ----------------------------------------------------------------------------------------------

def capture(driver: Driver, case: Case) -> dict[str, Any]:
    """Run ``case`` to its point on ``driver``'s (empty) database and return the golden document."""
    bpmn_text = (ROOT / case.bpmn).read_text(encoding="utf-8")
    with driver.service() as svc:
        svc.deploy_text(bpmn_text, Path(case.bpmn).name)
        instance_id = svc.start(case.process_id, case.business_key, case.start, SYSTEM).id
    driver.run(instance_id, case.before)
    with driver.service() as svc:
        row = svc.instance(instance_id)
        tasks = [t for t in svc.instance_tasks(instance_id) if t.state == "open"]
        timers = svc.waiting_timers(instance_id)
        sha = hashlib.sha256(bpmn_text.encode("utf-8")).hexdigest()
        return {
            "case": case.name, "about": case.about, "kind": case.kind,
            "bpmn": f"bpmn/{case.process_id}.{sha[:12]}.bpmn", "bpmn_source": case.bpmn, "bpmn_sha256": sha,
            "process_id": row.process_id, "business_key": row.business_key,
            "state_format": row.state_format, "captured_at": driver.clock.now().isoformat(),
            "instance": {"status": row.status, "version": row.version, "started_at": _iso(row.started_at),
                         "started_by": row.started_by, "updated_at": _iso(row.updated_at)},
            "human_tasks": [{"id": t.id, "element_id": t.element_id, "title": t.title, "role": t.role,
                             "assignee": t.assignee, "due_at": _iso(t.due_at), "created_at": _iso(t.created_at)}
                            for t in sorted(tasks, key=lambda t: (t.element_id, t.id))],
            "waiting_timers": [{"task_id": t.task_id, "element_id": t.element_id, "name": t.name,
                                "due_at": _iso(t.due_at)} for t in timers],
            "state": json.loads(row.state),
        }


# -- installing a golden file in a database ------------------------------------------------------------------

def install(driver: Driver, golden: Mapping[str, Any]) -> int:
    """Write a golden instance into ``driver``'s database as the app would have left it; returns its id."""
    bpmn_text = (GOLDEN / golden["bpmn"]).read_text(encoding="utf-8")
    driver.clock.set(datetime.fromisoformat(golden["captured_at"]))
    with driver.service() as svc:
        svc.deploy_text(bpmn_text, Path(golden["bpmn_source"]).name)
        definition = svc.session.scalars(select(ProcessDefinition).where(
            ProcessDefinition.content_sha256 == golden["bpmn_sha256"])).one()
        stored = golden["instance"]
        row = ProcessInstance(
            definition_id=definition.id, process_id=golden["process_id"], business_key=golden["business_key"],
            status=stored["status"], version=stored["version"], state_format=golden["state_format"],
            state=json.dumps(golden["state"]), started_at=_at(stored["started_at"]), started_by=stored["started_by"],
            updated_at=_at(stored["updated_at"]))
        svc.session.add(row)
        svc.session.flush()
        for task in golden["human_tasks"]:
            svc.session.add(HumanTask(
                instance_id=row.id, process_id=row.process_id, business_key=row.business_key, state="open",
                **{**task, "due_at": task["due_at"] and _at(task["due_at"]), "created_at": _at(task["created_at"])}))
        for timer in golden["waiting_timers"]:
            svc.session.add(TimerRow(instance_id=row.id, state="waiting", **{**timer, "due_at": _at(timer["due_at"])}))
        svc.session.flush()
        return row.id


def golden_files() -> list[Path]:
    return sorted(GOLDEN.glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


# -- regenerating ----------------------------------------------------------------------------------------------

def _fresh_database(directory: Path) -> sessionmaker[Session]:
    from tests.conftest import migrate

    url = f"sqlite:///{directory / 'golden.db'}"
    migrate(url)
    return session_factory(make_engine(url))


def regenerate(names: list[str]) -> list[Path]:
    """Capture each named case (all of them if none), check it runs to its end, and write its files."""
    written = []
    for name in names or list(CASES):
        case = CASES[name]
        with tempfile.TemporaryDirectory() as scratch:
            document = capture(Driver(_fresh_database(Path(scratch)), runtime_for(case.kind)), case)
        copy = GOLDEN / document["bpmn"]
        if not copy.exists():
            copy.parent.mkdir(exist_ok=True)
            copy.write_text((ROOT / case.bpmn).read_text(encoding="utf-8"), encoding="utf-8")
        # never sort the keys: SpiffWorkflow restores each task's data from its parent's, in stored order
        text = json.dumps(document, indent=1) + "\n"
        with tempfile.TemporaryDirectory() as scratch:  # the file as it will be written must run to its end
            driver = Driver(_fresh_database(Path(scratch)), runtime_for(case.kind))
            instance_id = install(driver, json.loads(text))
            driver.run(instance_id, case.then)
            assert driver.status(instance_id) == case.ends, f"{name}: ended {driver.status(instance_id)}"
        path = GOLDEN / f"{name}.f{STATE_FORMAT}.json"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    unknown = [name for name in sys.argv[1:] if name not in CASES]
    if unknown:
        sys.exit(f"no golden case {', '.join(unknown)}; the cases are: {', '.join(CASES)}")
    for written_path in regenerate(sys.argv[1:]):
        print(f"wrote {written_path.relative_to(ROOT)}")
