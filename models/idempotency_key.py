"""Idempotency keys of mutation requests: the first result, replayed for 24 hours."""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class IdempotencyState(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"


# One row per (workspace, key): the hash of the request it was first used with and, once done,
# the response to replay. Keys are scoped to the workspace, so two workspaces may use the same key.
class IdempotencyKey(Model):
    id = fields.IntField(primary_key=True)
    workspace = fields.ForeignKeyField("trunkline.Workspace", related_name="idempotency_keys", on_delete=fields.CASCADE)
    key = fields.CharField(max_length=255)
    request_hash = fields.CharField(max_length=64)
    state = fields.CharEnumField(IdempotencyState, max_length=16, default=IdempotencyState.IN_PROGRESS)
    response_body = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "idempotency_key"
        unique_together = (("workspace", "key"),)
