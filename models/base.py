"""The base of every model: a server-made prefixed ULID id and UTC timestamps."""

from typing import ClassVar

from tortoise import fields
from tortoise.models import Model

from models.ids import new_id


# A model whose primary key is the id prefix, an underscore and a ULID, assigned on construction.
class PrefixedIdModel(Model):

    id_prefix: ClassVar[str]

    id = fields.CharField(primary_key=True, max_length=40)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        abstract = True

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("id", new_id(self.id_prefix))
        super().__init__(**kwargs)
