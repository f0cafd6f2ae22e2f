"""Filling the ``waiting_message`` rows of instances that were already waiting when the table arrived.

Message waits are written at every step (engine/steps.py); an instance that was waiting for a message
before migration 0019 gets its rows at its next step, or at once from ``vsw db fill-message-waits``,
which loads each running instance that has none (an operator's one-off command, not a list: it reads
every running instance once, in pages of ``batch``, and writes only rows that are missing).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, insert, select
from sqlalchemy.orm import Session

from .models import MessageWait, ProcessInstance
from .runtime import Runtime
from .steps import StepRunner, message_wait_values, message_waits


def fill_message_waits(session: Session, runtime: Runtime, at: datetime, batch: int = 200) -> int:
    """Write the missing message waits of every running instance; returns how many rows were written."""
    steps, written, after = StepRunner(session, runtime), 0, 0
    while True:
        ids = list(session.scalars(
            select(ProcessInstance.id)
            .where(ProcessInstance.status == "running", ProcessInstance.id > after,
                   ~exists().where(MessageWait.instance_id == ProcessInstance.id))
            .order_by(ProcessInstance.id).limit(batch)))
        if not ids:
            return written
        for instance_id in ids:
            loaded = steps.load(instance_id, at)
            rows = [message_wait_values(instance_id, task, at) for task in message_waits(loaded.workflow)]
            if rows:
                session.execute(insert(MessageWait), rows)
                written += len(rows)
        session.flush()
        after = ids[-1]
