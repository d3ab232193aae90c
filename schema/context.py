"""The per-request GraphQL context: the authenticated workspace and its DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from starlette.requests import Request
from strawberry.types import Info

from models import Workspace
from resolvers.event_feed import EventFeed
from resolvers.services import Services
from schema.loaders import Loaders


class NoWorkspace(Exception):
    """Raised if a resolver that needs a workspace runs without one; the HTTP layer prevents it."""


class LiveConnection(Protocol):
    """A WebSocket connection, as its subscriptions see it (app/subscriptions.py)."""

    events: EventFeed

    def drop(self, reason: str) -> None:
        """Close the connection, as one that cannot keep up."""


@dataclass
class Context:
    request: Request
    workspace: Workspace | None
    services: Services
    connection: LiveConnection | None = None  # on WebSocket connections only
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.workspace.id if self.workspace else "")


def current_workspace(info: Info[Context, None]) -> Workspace:
    workspace = info.context.workspace
    if workspace is None:
        raise NoWorkspace("this operation needs an API key")
    return workspace
