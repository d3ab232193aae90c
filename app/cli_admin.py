"""`trunkline workspace …` and `trunkline apikey …`: the operators' tools, on a migrated database only."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime

from app import db
from app.settings import Settings
from app.startup import report
from models.ids import is_valid_id

KEY_SHOWN_ONCE = "the key is shown only now; store it safely"


def add_commands(commands: argparse._SubParsersAction) -> None:
    workspace = commands.add_parser("workspace", help="manage workspaces").add_subparsers(required=True, metavar="ACTION")
    create = workspace.add_parser("create", help="create a workspace and its first API key")
    create.add_argument("--name", required=True)
    create.add_argument("--phone-number-limit", type=int, help="cap on numbers (default TRUNKLINE_PHONE_NUMBER_LIMIT)")
    create.add_argument("--json", action="store_true", help='print {"workspace_id", "key_id", "api_key"} only')
    create.set_defaults(handler=workspace_create)
    listing = workspace.add_parser("list", help="list workspaces")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=workspace_list)
    show = workspace.add_parser("show", help="show a workspace, its numbers in use and its keys")
    show.add_argument("workspace_id", metavar="WORKSPACE_ID")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=workspace_show)
    set_limit = workspace.add_parser("set-limit", help="change a workspace's cap on phone numbers")
    set_limit.add_argument("workspace_id", metavar="WORKSPACE_ID")
    set_limit.add_argument("limit", type=int, metavar="N")
    set_limit.set_defaults(handler=workspace_set_limit)

    apikey = commands.add_parser("apikey", help="manage API keys").add_subparsers(required=True, metavar="ACTION")
    create_key = apikey.add_parser("create", help="issue a new API key for a workspace")
    create_key.add_argument("--workspace", required=True, metavar="WORKSPACE_ID")
    create_key.add_argument("--json", action="store_true")
    create_key.set_defaults(handler=apikey_create)
    list_keys = apikey.add_parser("list", help="list a workspace's keys (ids and visible prefixes, never the keys)")
    list_keys.add_argument("--workspace", required=True, metavar="WORKSPACE_ID")
    list_keys.add_argument("--json", action="store_true")
    list_keys.set_defaults(handler=apikey_list)
    revoke_key = apikey.add_parser("revoke", help="revoke an API key at once")
    revoke_key.add_argument("key_id", metavar="KEY_ID", help="the key's id (key_…) or the key itself (sk_…)")
    revoke_key.set_defaults(handler=apikey_revoke)


def run_with_database(settings: Settings, work: Callable[[], Awaitable[int]]) -> int:
    """Run one database task on a fully migrated database; 2 when migrations are missing, 1 when unreachable."""

    async def go() -> int:
        from tortoise import Tortoise

        pending = await db.pending_migrations_at(settings.database_url)
        if pending:
            raise db.MigrationsPending(pending)
        await Tortoise.init(config=db.tortoise_config(settings.database_url))
        try:
            return await work()
        finally:
            await Tortoise.close_connections()

    try:
        return asyncio.run(go())
    except Exception as exc:
        if not report(exc):
            raise
        return 2 if isinstance(exc, db.MigrationsPending) else 1


def workspace_create(args: argparse.Namespace, settings: Settings) -> int:
    from resolvers.api_keys import issue_api_key
    from resolvers.workspaces import create_workspace

    limit = args.phone_number_limit or settings.phone_number_limit
    if limit < 1 or not args.name.strip():
        print("trunkline: --name must not be empty and --phone-number-limit must be at least 1", file=sys.stderr)
        return 2

    async def work() -> int:
        workspace = await create_workspace(args.name.strip(), limit)
        key = await issue_api_key(workspace)
        if args.json:
            print(json.dumps({"workspace_id": workspace.id, "key_id": key.key_id, "api_key": key.secret}))
        else:
            print(f"workspace {workspace.id} ({workspace.name}, up to {limit} numbers)")
            print(f"api key {key.key_id}: {key.secret}")
            print(KEY_SHOWN_ONCE)
        return 0

    return run_with_database(settings, work)


def workspace_list(args: argparse.Namespace, settings: Settings) -> int:
    from resolvers.workspaces import list_workspaces

    async def work() -> int:
        workspaces = [_workspace(w) for w in await list_workspaces()]
        if args.json:
            print(json.dumps(workspaces))
        for w in [] if args.json else workspaces:
            print(f"{w['id']}  up to {w['phone_number_limit']} numbers  created {w['created_at']}  {w['name']}")
        return 0

    return run_with_database(settings, work)


def workspace_show(args: argparse.Namespace, settings: Settings) -> int:
    from models import Workspace
    from resolvers.api_keys import list_api_keys
    from resolvers.workspaces import count_slot_holders

    async def work() -> int:
        workspace = await _find_workspace(args.workspace_id, Workspace)
        if workspace is None:
            return 1
        keys = await list_api_keys(workspace.id)
        shown = {
            **_workspace(workspace),
            "numbers_in_use": await count_slot_holders(workspace.id),
            "live_api_keys": sum(key.revoked_at is None for key in keys),
        }
        if args.json:
            print(json.dumps(shown))
        else:
            print("\n".join(f"{name}: {value}" for name, value in shown.items()))
        return 0

    return run_with_database(settings, work)


def workspace_set_limit(args: argparse.Namespace, settings: Settings) -> int:
    from resolvers.workspaces import set_phone_number_limit

    if args.limit < 1:
        print("trunkline: N must be at least 1", file=sys.stderr)
        return 2

    async def work() -> int:
        workspace = await set_phone_number_limit(args.workspace_id, args.limit) if _well_formed(args.workspace_id) else None
        if workspace is None:
            _no_workspace(args.workspace_id)
            return 1
        print(f"workspace {workspace.id} may now hold up to {workspace.phone_number_limit} numbers")
        return 0

    return run_with_database(settings, work)


def apikey_create(args: argparse.Namespace, settings: Settings) -> int:
    from models import Workspace
    from resolvers.api_keys import issue_api_key

    async def work() -> int:
        workspace = await _find_workspace(args.workspace, Workspace)
        if workspace is None:
            return 1
        key = await issue_api_key(workspace)
        if args.json:
            print(json.dumps({"workspace_id": workspace.id, "key_id": key.key_id, "api_key": key.secret}))
        else:
            print(f"api key {key.key_id}: {key.secret}")
            print(KEY_SHOWN_ONCE)
        return 0

    return run_with_database(settings, work)


def apikey_list(args: argparse.Namespace, settings: Settings) -> int:
    from models import Workspace
    from resolvers.api_keys import list_api_keys

    async def work() -> int:
        workspace = await _find_workspace(args.workspace, Workspace)
        if workspace is None:
            return 1
        keys = [
            {"id": k.id, "prefix": k.prefix, "created_at": _time(k.created_at), "revoked_at": _time(k.revoked_at)}
            for k in await list_api_keys(workspace.id)
        ]
        if args.json:
            print(json.dumps(keys))
        for k in [] if args.json else keys:
            state = f"revoked {k['revoked_at']}" if k["revoked_at"] else "live"
            print(f"{k['id']}  {k['prefix']}…  created {k['created_at']}  {state}")
        return 0

    return run_with_database(settings, work)


def apikey_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from resolvers.api_keys import revoke_api_key

    async def work() -> int:
        if not await revoke_api_key(args.key_id):
            print("trunkline: no live API key with that id (key_…) or value (sk_…)", file=sys.stderr)
            return 1
        print("api key revoked")
        return 0

    return run_with_database(settings, work)


def _well_formed(workspace_id: str) -> bool:
    return is_valid_id(workspace_id, "ws")


async def _find_workspace(workspace_id: str, model):
    """The workspace, or None after saying on stderr that there is none."""
    workspace = await model.get_or_none(id=workspace_id) if _well_formed(workspace_id) else None
    if workspace is None:
        _no_workspace(workspace_id)
    return workspace


def _no_workspace(workspace_id: str) -> None:
    print(f"trunkline: no workspace {workspace_id!r} (expected ws_ and 26 characters; see trunkline workspace list)", file=sys.stderr)


def _workspace(workspace) -> dict:
    return {
        "id": workspace.id,
        "name": workspace.name,
        "phone_number_limit": workspace.phone_number_limit,
        "created_at": _time(workspace.created_at),
    }


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
