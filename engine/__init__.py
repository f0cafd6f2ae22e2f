"""The workflow runtime: BPMN on SpiffWorkflow, persisted with SQLAlchemy.

Knows BPMN, roles and time; knows nothing of Flask, HTML or children.
The facade is :class:`engine.service.WorkflowService`; see docs/engine.md.
"""
