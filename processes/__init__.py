"""BPMN processes and the forms of their user tasks.

One process, one ``.bpmn`` file in this directory (with its diagram, so a council's
process owner can open and change it in a BPMN modeller); the marshmallow schema of
each user task lives in :mod:`processes.forms`, keyed by process id and task id.
Business rules live here, not in Python. See ``docs/modelling.md``.
"""

from pathlib import Path

PROCESS_DIR = Path(__file__).parent
