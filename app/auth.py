"""Bearer API keys: the key decides the workspace; anything wrong with it is HTTP 401.

Each key has a request budget (TRUNKLINE_RATE_LIMIT); each client address a budget of failed
authentications (TRUNKLINE_AUTH_FAILURE_LIMIT), spent by a key that is wrong and checked before a key
is looked up, so that guessing stops at once. Over a budget: HTTP 429 with Retry-After.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from app import request_context
from app.asgi import request_header
from app.client_address import ClientAddress
from app.errors import RATE_LIMITED, UNAUTHENTICATED, error_response
from app.rate_limits import Exceeded, RateLimits
from models import Workspace
from resolvers.api_keys import VISIBLE_PREFIX_LENGTH, workspace_for_key


class WorkspaceUser:
    """The caller, as the view sees it in scope["user"]."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.workspace.id


class AuthenticationFailed(Exception):
    pass


async def authenticate(header: str) -> Workspace:
    """The workspace of the key in an Authorization header; AuthenticationFailed says what is wrong."""
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise AuthenticationFailed("The Authorization header must be 'Bearer sk_…'.")
    workspace = await workspace_for_key(key.strip())
    if workspace is None:
        raise AuthenticationFailed("The API key is not valid: it is malformed, unknown or revoked.")
    return workspace


class RateLimited(Exception):
    def __init__(self, exceeded: Exceeded, message: str) -> None:
        super().__init__(message)
        self.exceeded = exceeded


async def admit(header: str, address: str, rate_limits: RateLimits) -> Workspace:
    """The workspace of the key in an Authorization header, with the address's budget of failed
    authentications and the key's budget of requests spent: AuthenticationFailed or RateLimited if not."""
    if exceeded := await rate_limits.auth_failures_exceeded(address):
        raise RateLimited(exceeded, "Too many failed authentications from this address.")
    try:
        workspace = await authenticate(header)
    except AuthenticationFailed:
        await rate_limits.take_auth_failure(address)
        raise
    # A key is told apart by its visible prefix: unique among real keys, and no secret in Redis.
    key_id = header.partition(" ")[2].strip()[:VISIBLE_PREFIX_LENGTH]
    if exceeded := await rate_limits.take_request(key_id):
        raise RateLimited(exceeded, "Too many requests with this API key.")
    return workspace


class Authentication:
    """No Authorization header: anonymous (the GraphQL view decides). A header that fails: 401."""

    def __init__(self, app: ASGIApp, *, rate_limits: RateLimits, client_address: ClientAddress) -> None:
        self.app = app
        self.rate_limits = rate_limits
        self.client_address = client_address

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        header = request_header(scope, b"authorization")
        if header is None:
            scope["user"] = None
            await self.app(scope, receive, send)
            return
        try:
            workspace = await admit(header, self.client_address.of(scope), self.rate_limits)
        except RateLimited as limited:
            await rate_limited(limited.exceeded, str(limited))(scope, receive, send)
            return
        except AuthenticationFailed as exc:
            await unauthenticated(str(exc))(scope, receive, send)
            return
        scope["user"] = WorkspaceUser(workspace)
        request_context.set_workspace(workspace.id)  # on the log lines from here on
        await self.app(scope, receive, send)


def unauthenticated(message: str) -> JSONResponse:
    """The contract's 401: WWW-Authenticate: Bearer and the error envelope."""
    return error_response(401, UNAUTHENTICATED, message, {"WWW-Authenticate": "Bearer"})


def rate_limited(exceeded: Exceeded, message: str) -> JSONResponse:
    return error_response(
        429, RATE_LIMITED, f"{message} Retry in {exceeded.retry_after} s.", {"Retry-After": str(exceeded.retry_after)}
    )
