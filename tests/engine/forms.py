"""Forms for the test processes in tests/engine/bpmn."""

from marshmallow import Schema, fields, validate


class Draft(Schema):
    summary = fields.String(required=True, validate=validate.Length(min=3), metadata={"label": "Summary"})
    meeting_date = fields.Date(required=True, metadata={"label": "Meeting date"})
    attendance_percent = fields.Integer(required=True, validate=validate.Range(0, 100))


class Approve(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "refuse"]))


FORMS = {"review": {"draft": Draft, "approve": Approve}}
