"""Two of the demo authority's termly PEPs, moved on so a newcomer sees the quality check and a return.

- Amira Khan's (C-1001) PEP is filled in by her designated teacher and social worker and waits for the
  virtual school head's quality assurance (the document she rates is on the task).
- Lily Evans's (C-1003) PEP was rated red by the virtual school head and is back with the designated
  teacher, with the reason in view.

Every step is taken through the real process as the named demo user, so records, history and notices are
exactly what the service itself writes.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.models import HumanTask
from engine.runtime import Actor, Runtime
from engine.service import WorkflowService

from .processes.pep_review import PROCESS_ID, Step
from .records import Child, Pep, School
from .schoolyear import year_group

AWAITING_QUALITY_ASSURANCE = "C-1001"
RETURNED = "C-1003"
RETURN_REASON = ("The targets are not SMART: say what Lily will be able to do by when, and link the "
                 "Pupil Premium Plus spend to them.")
TEACHERS = {"100000": "dana.teacher", "100001": "harry.teacher"}


def school_age_answers(child: Child, school: School, today: date) -> dict[str, Any]:
    """A designated teacher's school-age PEP as a real one reads: the meeting held today."""
    due = (today + timedelta(days=42)).isoformat()
    return {
        "meeting_date": today.isoformat(),
        "school_name": school.name,
        "school_year_group": year_group(child.date_of_birth, today),
        "attendance_percent": 94.5,
        "exclusions_this_term": 0,
        "attainment_summary": f"{child.first_name} is working at the expected standard in reading and "
                              "towards it in maths; writing stamina is improving.",
        "sen_support_status": "sen_support",
        "pupil_premium_plus_spend": 450,
        "pupil_premium_plus_purpose": "Small-group maths tuition twice a week, and a reading mentor.",
        "targets": "Improve in maths; read more at home.",
        "planned_changes": "",
        "actions": [
            {"description": "Small-group maths tuition twice a week", "owner": "Dana Price, designated teacher",
             "due_date": due},
            {"description": "Reading with the carers for 20 minutes each evening", "owner": "The foster carers",
             "due_date": due},
        ],
    }


CONTRIBUTION = {
    "care_plan_context": "Long-term foster care; the care plan is for permanence with the current carers.",
    "placement_stability": "Stable: no move of placement or school is planned.",
    "carers_support": "The carers read with her every evening and help with homework.",
}
VIEWS = {"childs_views": "I like my teacher and I want to get better at times tables.",
         "how_views_gathered": "Talked with her social worker at home, before the meeting."}


def progress_demo_peps(session: Session, clock: Clock, runtime: Runtime) -> int:
    """Move the two PEPs on (once: a PEP already past its forms is left alone); how many were moved."""
    today = clock.now().date()
    workflows = WorkflowService(session, clock, runtime)
    moved = 0
    for ref in (AWAITING_QUALITY_ASSURANCE, RETURNED):
        child = session.scalars(select(Child).where(Child.ref == ref)).one_or_none()
        pep = _open_termly_pep(session, child)
        if child is None or pep is None or pep.instance_id is None or child.school_urn not in TEACHERS:
            continue
        school = session.get(School, child.school_urn)
        if school is None or not _complete(workflows, session, pep.instance_id, Step.COMPLETE_PEP_SCHOOL_AGE,
                                          school_age_answers(child, school, today),
                                          Actor(TEACHERS[school.urn], frozenset({"designated_teacher"}))):
            continue
        social_worker = Actor(child.social_worker or "", frozenset({"social_worker"}))
        _complete(workflows, session, pep.instance_id, Step.SOCIAL_WORKER_CONTRIBUTION, CONTRIBUTION, social_worker)
        _complete(workflows, session, pep.instance_id, Step.RECORD_CHILDS_VIEWS, VIEWS, social_worker)
        if ref == RETURNED:
            _complete(workflows, session, pep.instance_id, Step.QUALITY_ASSURE_PEP,
                      {"rag": "red", "feedback": "Good attendance and a clear picture of her attainment.",
                       "return_reason": RETURN_REASON}, Actor("vera.vsh", frozenset({"vsh"})))
        moved += 1
    return moved


def _open_termly_pep(session: Session, child: Child | None) -> Pep | None:
    if child is None:
        return None
    query = select(Pep).where(Pep.child_id == child.id, Pep.kind == "termly", Pep.status == "not_started")
    return session.scalars(query.order_by(Pep.id.desc())).first()


def _complete(workflows: WorkflowService, session: Session, instance_id: int, step: Step, answers: dict[str, Any],
              actor: Actor) -> bool:
    task = session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.process_id == PROCESS_ID,
        HumanTask.element_id == step.value, HumanTask.state == "open")).first()
    if task is None:
        return False
    workflows.complete(task.id, answers, actor)
    return True
