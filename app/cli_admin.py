"""`trunkline workspace …`, `trunkline apikey …` and `trunkline doctor`: the operators' tools, on a migrated
database only."""

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
from models import Workspace
from models.ids import is_valid_id

KEY_SHOWN_ONCE = "the key is shown only now; store it safely"


def add_commands(commands: argparse._SubParsersAction) -> None:
    workspace_id = {"metavar": "WORKSPACE_ID"}
    workspace_option = {"required": True, "metavar": "WORKSPACE_ID"}

    workspace = commands.add_parser("workspace", help="manage workspaces").add_subparsers(required=True, metavar="ACTION")
    _action(workspace, "create", workspace_create, "create a workspace and its first API key", {
        "--name": {"required": True},
        "--phone-number-limit": {"type": int, "help": "cap on numbers (default TRUNKLINE_PHONE_NUMBER_LIMIT)"},
    }, json='print {"workspace_id", "key_id", "api_key"} only')
    _action(workspace, "list", workspace_list, "list workspaces", json=True)
    _action(workspace, "show", workspace_show, "show a workspace, its numbers in use and its keys",
            {"workspace_id": workspace_id}, json=True)
    _action(workspace, "set-limit", workspace_set_limit, "change a workspace's cap on phone numbers",
            {"workspace_id": workspace_id, "limit": {"type": int, "metavar": "N"}})

    apikey = commands.add_parser("apikey", help="manage API keys").add_subparsers(required=True, metavar="ACTION")
    _action(apikey, "create", apikey_create, "issue a new API key for a workspace",
            {"--workspace": workspace_option}, json=True)
    _action(apikey, "list", apikey_list, "list a workspace's keys (ids and visible prefixes, never the keys)",
            {"--workspace": workspace_option}, json=True)
    _action(apikey, "revoke", apikey_revoke, "revoke an API key at once",
            {"key_id": {"metavar": "KEY_ID", "help": "the key's id (key_…) or the key itself (sk_…)"}})

    _action(commands, "doctor", doctor, "check every ACTIVE number at its carriers, and find what no row owns", {
        "--workspace": {"metavar": "WORKSPACE_ID", "help": "only this workspace's numbers and Twilio accounts"},
        "--repair": {"action": "store_true", "help": "put back what can be put back, and delete what no row owns"},
    }, json='print one JSON document {"numbers": [...], "orphans": [...]}')


def _action(
    actions: argparse._SubParsersAction,
    name: str,
    handler: Callable[[argparse.Namespace, Settings], int],
    help: str,
    arguments: dict[str, dict] | None = None,
    *,
    json: bool | str = False,
) -> None:
    """A subcommand run by `handler`, with `arguments` (name: add_argument's keywords) and, when `json` is
    set, a last --json option (`json` its help text when it is a string)."""
    parser = actions.add_parser(name, help=help)
    for argument, options in (arguments or {}).items():
        parser.add_argument(argument, **options)
    if json:
        parser.add_argument("--json", action="store_true", help=json if isinstance(json, str) else None)
    parser.set_defaults(handler=handler)


def run_reported(work: Callable[[], Awaitable[int]]) -> int:
    """Run `work`; a failure an operator can fix is told in one line and answers 2 when migrations are
    missing, 1 otherwise (the database unreachable and the like). A bug keeps its traceback."""
    try:
        return asyncio.run(work())
    except Exception as exc:
        if not report(exc):
            raise
        return 2 if isinstance(exc, db.MigrationsPending) else 1


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

    return run_reported(go)


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
        _print_new_key(workspace, key, args.json, f"workspace {workspace.id} ({workspace.name}, up to {limit} numbers)")
        return 0

    return run_with_database(settings, work)


def workspace_list(args: argparse.Namespace, settings: Settings) -> int:
    from resolvers.workspaces import list_workspaces

    async def work() -> int:
        _print_listing([_workspace(w) for w in await list_workspaces()], args.json, _workspace_line)
        return 0

    return run_with_database(settings, work)


def workspace_show(args: argparse.Namespace, settings: Settings) -> int:
    from resolvers.api_keys import list_api_keys
    from resolvers.workspaces import count_slot_holders

    async def show(workspace: Workspace) -> None:
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

    return _on_workspace(settings, args.workspace_id, show)


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
    from resolvers.api_keys import issue_api_key

    async def issue(workspace: Workspace) -> None:
        _print_new_key(workspace, await issue_api_key(workspace), args.json)

    return _on_workspace(settings, args.workspace, issue)


def apikey_list(args: argparse.Namespace, settings: Settings) -> int:
    from resolvers.api_keys import list_api_keys

    async def list_keys(workspace: Workspace) -> None:
        keys = [
            {"id": k.id, "prefix": k.prefix, "created_at": _time(k.created_at), "revoked_at": _time(k.revoked_at)}
            for k in await list_api_keys(workspace.id)
        ]
        _print_listing(keys, args.json, _key_line)

    return _on_workspace(settings, args.workspace, list_keys)


def apikey_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from resolvers.api_keys import revoke_api_key

    async def work() -> int:
        if not await revoke_api_key(args.key_id):
            print("trunkline: no live API key with that id (key_…) or value (sk_…)", file=sys.stderr)
            return 1
        print("api key revoked")
        return 0

    return run_with_database(settings, work)


def doctor(args: argparse.Namespace, settings: Settings) -> int:
    """0 when nothing is left wrong, 1 when something is (or a carrier failed)."""
    from app.carriers import carriers
    from providers.errors import ProviderFailure
    from resolvers.doctor import run_doctor

    async def work() -> int:
        if args.workspace and not (_well_formed(args.workspace) and await Workspace.exists(id=args.workspace)):
            _no_workspace(args.workspace)
            return 1
        try:
            async with carriers(settings) as running:
                report = await run_doctor(running.services, workspace_id=args.workspace, repair=args.repair)
        except ProviderFailure as failure:  # its message never holds a secret
            print(f"trunkline: {failure}", file=sys.stderr)
            return 1
        _print_doctor(report, args.json)
        return 0 if report.all_well else 1

    return run_with_database(settings, work)


def _print_doctor(report, as_json: bool) -> None:
    numbers = [
        {
            "id": n.id,
            "healthy": n.healthy,
            "problems": [
                {"provider": p.provider.value.upper(), "resource": p.resource, "code": p.code.value,
                 "message": p.message, "repaired": p.repaired}
                for p in n.problems
            ],
            **({"error": n.error} if n.error else {}),
        }
        for n in report.numbers
    ]
    orphans = [
        {"provider": o.provider.value.upper(), "resource": o.resource, "name": o.name, "removed": o.removed}
        for o in report.orphans
    ]
    if as_json:
        print(json.dumps({"numbers": numbers, "orphans": orphans}))
        return
    for number in numbers:
        print(f"{number['id']}  {'healthy' if number['healthy'] else 'UNHEALTHY'}  {number.get('error', '')}".rstrip())
        for p in number["problems"]:
            print(f"  {p['code']} {p['provider']} {p['resource']}{'  (repaired)' if p['repaired'] else ''}: {p['message']}")
    for o in orphans:
        print(f"orphan {o['provider']} {o['resource']} {o['name']!r}{'  (removed)' if o['removed'] else ''}")
    print(f"{len(numbers)} numbers checked, {sum(not n['healthy'] for n in numbers)} unhealthy; {len(orphans)} orphans")


def _workspace_line(w: dict) -> str:
    return f"{w['id']}  up to {w['phone_number_limit']} numbers  created {w['created_at']}  {w['name']}"


def _key_line(key: dict) -> str:
    state = f"revoked {key['revoked_at']}" if key["revoked_at"] else "live"
    return f"{key['id']}  {key['prefix']}…  created {key['created_at']}  {state}"


def _print_listing(rows: list[dict], as_json: bool, line: Callable[[dict], str]) -> None:
    """One JSON array with --json, so that a script reads exactly one document; one line a row otherwise."""
    if as_json:
        print(json.dumps(rows))
        return
    for row in rows:
        print(line(row))


def _print_new_key(workspace, key, as_json: bool, *headline: str) -> None:
    """A newly issued key: its secret is printed this once and never again."""
    if as_json:
        print(json.dumps({"workspace_id": workspace.id, "key_id": key.key_id, "api_key": key.secret}))
        return
    print(*headline, f"api key {key.key_id}: {key.secret}", KEY_SHOWN_ONCE, sep="\n")


def _well_formed(workspace_id: str) -> bool:
    return is_valid_id(workspace_id, "ws")


def _on_workspace(settings: Settings, workspace_id: str, act: Callable[[Workspace], Awaitable[None]]) -> int:
    """Run `act` on the workspace: 0 once it is done, 1 after saying on stderr that there is no such workspace."""

    async def work() -> int:
        workspace = await Workspace.get_or_none(id=workspace_id) if _well_formed(workspace_id) else None
        if workspace is None:
            _no_workspace(workspace_id)
            return 1
        await act(workspace)
        return 0

    return run_with_database(settings, work)


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
