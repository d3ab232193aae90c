"""Voice agents that answer calls to a workspace's numbers."""

from tortoise import fields

from models.base import PrefixedIdModel


class Agent(PrefixedIdModel):
    id_prefix = "agent"

    workspace = fields.ForeignKeyField("trunkline.Workspace", related_name="agents", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=255)

    class Meta:
        table = "agent"
