"""Workspaces, the unit of tenancy, and the API keys that act for them."""

from tortoise import fields

from models.base import PrefixedIdModel


class Workspace(PrefixedIdModel):
    id_prefix = "ws"

    name = fields.CharField(max_length=255)
    phone_number_limit = fields.IntField()

    class Meta:
        table = "workspace"


# A bearer key. Only its SHA-256 hash is stored; the visible prefix lets people tell keys apart.
class ApiKey(PrefixedIdModel):

    id_prefix = "key"

    workspace = fields.ForeignKeyField("trunkline.Workspace", related_name="api_keys", on_delete=fields.CASCADE)
    prefix = fields.CharField(max_length=16)
    key_hash = fields.CharField(max_length=64, unique=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_key"
