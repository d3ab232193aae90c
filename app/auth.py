"""Bearer API keys: the key decides the workspace; anything wrong with it is HTTP 401."""

from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    BaseUser,
)
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse

from models import Workspace
from resolvers.api_keys import workspace_for_key


class WorkspaceUser(BaseUser):
    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.workspace.id


class ApiKeyBackend(AuthenticationBackend):
    """No Authorization header: anonymous (the GraphQL view decides). A header that fails: raise."""

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        header = conn.headers.get("authorization")
        if header is None:
            return None
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise AuthenticationError("The Authorization header must be 'Bearer sk_…'.")
        workspace = await workspace_for_key(key.strip())
        if workspace is None:
            raise AuthenticationError("The API key is not valid: it is malformed, unknown or revoked.")
        return AuthCredentials(["workspace"]), WorkspaceUser(workspace)


def unauthenticated(_conn: HTTPConnection | None, exc: Exception) -> JSONResponse:
    """The contract's 401: WWW-Authenticate: Bearer and a GraphQL-shaped error body."""
    return JSONResponse(
        {"errors": [{"message": str(exc), "extensions": {"code": "UNAUTHENTICATED"}}]},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )
