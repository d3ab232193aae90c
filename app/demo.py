"""The demo workspace made on the first start of the default SQLite database."""

from models import Workspace
from resolvers.api_keys import issue_api_key
from resolvers.workspaces import create_workspace

DEMO_NAME = "Demo"


async def ensure_demo_workspace(graphiql_url: str, phone_number_limit: int) -> int:
    """Create the demo workspace if the database has none, and tell the person how to use it."""
    if await Workspace.exists():
        return 0
    workspace = await create_workspace(DEMO_NAME, phone_number_limit)
    key = await issue_api_key(workspace)
    print(
        f"\nCreated the demo workspace {workspace.id}. Its API key, shown only this once:\n\n"
        f"    {key.secret}\n\n"
        f"Open {graphiql_url} and add the header\n"
        f'    {{"Authorization": "Bearer {key.secret}"}}\n'
        f"Lost it? trunkline apikey create --workspace {workspace.id}\n",
        flush=True,
    )
    return 0
