"""Per-request DataLoaders, scoped to one workspace: one query per batch, results in request order."""

from collections.abc import Sequence

from strawberry.dataloader import DataLoader
from tortoise.models import Model

from models import Agent, SipTrunk


def _loader(model: type[Model], workspace_id: str) -> DataLoader[str, Model | None]:
    async def load(ids: Sequence[str]) -> list[Model | None]:
        rows = await model.filter(workspace_id=workspace_id, id__in=list(ids))
        by_id = {row.id: row for row in rows}
        return [by_id.get(i) for i in ids]

    return DataLoader(load_fn=load)


class Loaders:
    def __init__(self, workspace_id: str) -> None:
        self.agent = _loader(Agent, workspace_id)
        self.trunk = _loader(SipTrunk, workspace_id)
