"""The journal of carrier steps: each is written before it is taken, so any failure can be undone."""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class StepState(StrEnum):
    STARTED = "STARTED"  # written before the call: the carrier may or may not have acted
    DONE = "DONE"  # the carrier acted; params hold the ids to undo it


# One row per carrier step of an operation on a number (import, purchase, delete) or a trunk.
# Rows of an operation that succeeded are removed; rows left behind belong to an operation in
# flight or to one a crash interrupted, and are what recovery replays in reverse.
class CarrierStep(Model):
    id = fields.IntField(primary_key=True)
    owner_id = fields.CharField(max_length=40, db_index=True)
    workspace = fields.ForeignKeyField("trunkline.Workspace", related_name="carrier_steps", on_delete=fields.CASCADE)
    seq = fields.IntField()
    action = fields.CharField(max_length=64)
    params = fields.JSONField(default=dict)
    state = fields.CharEnumField(StepState, max_length=8, default=StepState.STARTED)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "carrier_step"
        unique_together = (("owner_id", "seq"),)
