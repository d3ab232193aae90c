"""The benchmark's baselines: raw Starlette endpoints doing the least of what Trunkline does, on its stack.

`POST /graphql` with `Authorization: Bearer sk_…` hashes the key (SHA-256, hex, as
resolvers/api_keys.hash_key), finds the unrevoked api_key row joined to its workspace in one
statement (as the server's `ApiKey.filter(...).select_related("workspace").first()`), and answers
`{"data":{"workspace":{"id":…}}}`, or 401. No GraphQL, no middleware. It is served by uvicorn with
the settings `trunkline serve` uses (app.cli.uvicorn_limits), on the same database driver
(aiosqlite for `sqlite://`, asyncpg for `postgres://`), so the ratio in bench/server_bench.py is
what Trunkline costs over the bare lookup.

`POST /import` (when LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET are set) is the floor under a
LIVEKIT import: the least any journalled import must do, on the same libraries, with none of Trunkline's
checks, GraphQL, middleware, logs or metrics. It looks up the key, then the agent named in
`variables.input.agentId`; reserves the number under the workspace's cap in a commit that does not wait
for the disk; writes a journal row in a commit that does before each carrier call (CreateSIPDispatchRule
when an agent is named, then PurchasePhoneNumber, both as Twirp JSON to LIVEKIT_URL); and makes the number
ACTIVE and forgets its journal in a last commit that waits for the disk. On SQLite each transaction is a
single trip to aiosqlite's thread, fewer than any ORM takes. bench/server_bench.py reports its CPU per
import beside Trunkline's: a target below the floor is one no server on this stack meets on that machine.

    .venv/bin/python bench/baseline_app.py --port 8100 --database-url sqlite:///tmp/x.sqlite3
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import json
import os
import sys
import uuid
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SQL = (
    "SELECT w.id FROM api_key k JOIN workspace w ON w.id = k.workspace_id "
    "WHERE k.key_hash = {} AND k.revoked_at IS NULL LIMIT 1"
)
UNAUTHORIZED = Response(b'{"errors":[{"message":"unauthorized"}]}', status_code=401, media_type="application/json")

# The floor's own tables: a number and its journal, with what the cap and the journal need and no more.
FLOOR_TABLES = (
    (
        "CREATE TABLE IF NOT EXISTS floor_number (id TEXT PRIMARY KEY, workspace_id TEXT NOT NULL, "
        "e164 TEXT NOT NULL UNIQUE, status TEXT NOT NULL, livekit_id TEXT, rule_id TEXT)"
    ),
    "CREATE TABLE IF NOT EXISTS floor_journal (number_id TEXT NOT NULL, step TEXT NOT NULL, params TEXT NOT NULL)",
)
AGENT_SQL = "SELECT id FROM agent WHERE id = {} AND workspace_id = {}"
RESERVE_SQL = (
    "INSERT INTO floor_number (id, workspace_id, e164, status) SELECT {}, {}, {}, 'PROVISIONING' "
    "WHERE (SELECT count(*) FROM floor_number WHERE workspace_id = {}) "
    "< (SELECT phone_number_limit FROM workspace WHERE id = {})"
)
JOURNAL_SQL = "INSERT INTO floor_journal (number_id, step, params) VALUES ({}, {}, {})"
ACTIVATE_SQL = "UPDATE floor_number SET status = 'ACTIVE', livekit_id = {}, rule_id = {} WHERE id = {}"
FORGET_SQL = "DELETE FROM floor_journal WHERE number_id = {}"


def placeholders(sql: str, style: str) -> str:
    """`sql` with its {} as ? (SQLite) or $1, $2, … (PostgreSQL)."""
    count = sql.count("{}")
    return sql.format(*(["?"] * count if style == "?" else [f"${i}" for i in range(1, count + 1)]))


class SqliteStore:
    """The floor's statements on aiosqlite: each transaction one trip to its thread, which runs one at a time."""

    def __init__(self, path: str) -> None:
        self.path = path

    async def open(self) -> None:
        import aiosqlite

        self.db = await aiosqlite.connect(self.path, isolation_level=None)
        await self.db._execute(self._script, FLOOR_TABLES)

    async def close(self) -> None:
        await self.db.close()

    async def one(self, sql: str, *args):
        rows = await self.db.execute_fetchall(placeholders(sql, "?"), args)
        return rows[0][0] if rows else None

    async def transaction(self, statements: list[tuple[str, tuple]], *, durable: bool = True) -> int:
        """Run `statements` in one transaction; the rows the first changed."""
        return await self.db._execute(self._transaction, statements, durable)

    def _script(self, statements) -> None:
        for sql in statements:
            self.db._conn.execute(sql)

    def _transaction(self, statements: list[tuple[str, tuple]], durable: bool) -> int:
        connection = self.db._conn
        if not durable:
            connection.execute("PRAGMA synchronous = NORMAL")
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                changed = [connection.execute(placeholders(sql, "?"), args).rowcount for sql, args in statements]
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        finally:
            if not durable:
                connection.execute("PRAGMA synchronous = FULL")
        return changed[0]


class PostgresStore:
    """The floor's statements on an asyncpg pool, a transaction on one connection."""

    def __init__(self, pool) -> None:
        self.pool = pool

    async def open(self) -> None:
        async with self.pool.acquire() as connection:
            for sql in FLOOR_TABLES:
                await connection.execute(sql)

    async def close(self) -> None:
        pass

    async def one(self, sql: str, *args):
        return await self.pool.fetchval(placeholders(sql, "$"), *args)

    async def transaction(self, statements: list[tuple[str, tuple]], *, durable: bool = True) -> int:
        async with self.pool.acquire() as connection, connection.transaction():
            if not durable:
                await connection.execute("SET LOCAL synchronous_commit TO OFF")
            changed = [await connection.execute(placeholders(sql, "$"), *args) for sql, args in statements]
        return int(changed[0].rsplit(" ", 1)[1])


class LiveKit:
    """Twirp JSON calls to LIVEKIT_URL with one admin token, signed once."""

    def __init__(self, url: str, api_key: str, api_secret: str) -> None:
        from livekit import api

        self.base = url.replace("ws://", "http://").replace("wss://", "https://").rstrip("/")
        token = (
            api.AccessToken(api_key, api_secret).with_ttl(datetime.timedelta(hours=1))
            .with_grants(api.VideoGrants()).with_sip_grants(api.SIPGrants(admin=True)).to_jwt()
        )
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    async def open(self) -> None:
        import aiohttp

        self.session = aiohttp.ClientSession()

    async def close(self) -> None:
        await self.session.close()

    async def call(self, service: str, method: str, body: dict) -> dict:
        url = f"{self.base}/twirp/livekit.{service}/{method}"
        async with self.session.post(url, data=json.dumps(body).encode(), headers=self.headers) as response:
            answer = await response.read()
            if response.status != 200:
                raise RuntimeError(f"LiveKit {method}: HTTP {response.status} {answer[:200]!r}")
            return json.loads(answer)


def make_app(database_url: str, livekit: LiveKit | None = None) -> Starlette:
    state: dict = {}

    if database_url.startswith("sqlite://"):
        import aiosqlite

        path = database_url.removeprefix("sqlite://")
        query = SQL.format("?")

        async def open_db() -> None:
            state["db"] = await aiosqlite.connect(path)
            state["store"] = SqliteStore(path)

        async def close_db() -> None:
            await state["db"].close()

        async def lookup(key_hash: str):
            rows = await state["db"].execute_fetchall(query, (key_hash,))
            return rows[0][0] if rows else None
    else:
        import asyncpg

        query = SQL.format("$1")
        parts = urlsplit(database_url)
        dsn = parts._replace(scheme="postgresql").geturl()

        async def as_released(connection) -> None:
            """Without asyncpg's reset query on release, as Trunkline's pool (app/db.py): one round trip each."""

        async def open_db() -> None:
            state["pool"] = await asyncpg.create_pool(dsn, min_size=1, max_size=5, reset=as_released)
            state["store"] = PostgresStore(state["pool"])

        async def close_db() -> None:
            await state["pool"].close()

        async def lookup(key_hash: str):
            return await state["pool"].fetchval(query, key_hash)

    async def authenticated(request: Request) -> str | None:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return None
        return await lookup(hashlib.sha256(key.strip().encode()).hexdigest())

    async def graphql(request: Request) -> Response:
        await request.body()
        workspace_id = await authenticated(request)
        if workspace_id is None:
            return UNAUTHORIZED
        body = json.dumps({"data": {"workspace": {"id": workspace_id}}}).encode()
        return Response(body, media_type="application/json")

    async def floor_import(request: Request) -> Response:
        number_input = json.loads(await request.body())["variables"]["input"]
        workspace_id = await authenticated(request)
        if workspace_id is None:
            return UNAUTHORIZED
        store: SqliteStore | PostgresStore = state["store"]
        e164, agent_id = number_input["e164"], number_input.get("agentId")
        if agent_id and await store.one(AGENT_SQL, agent_id, workspace_id) is None:
            return Response(b'{"errors":[{"message":"no such agent"}]}', status_code=400)
        number_id = f"phone_{uuid.uuid4().hex}"
        if not await store.transaction([(RESERVE_SQL, (number_id, workspace_id, e164, workspace_id, workspace_id))], durable=False):
            return Response(b'{"errors":[{"message":"limit reached"}]}', status_code=402)
        rule_id = None
        if agent_id:
            rule = {"e164": e164, "agent_id": agent_id}
            await store.transaction([(JOURNAL_SQL, (number_id, "create_dispatch_rule", json.dumps(rule)))])
            made = await livekit.call("SIP", "CreateSIPDispatchRule", {"dispatch_rule": {
                "name": f"floor {number_id}", "numbers": [e164],
                "rule": {"dispatch_rule_individual": {"room_prefix": "call-"}},
                "room_config": {"agents": [{"agent_name": agent_id}]},
            }})
            rule_id = made.get("sip_dispatch_rule_id") or made.get("sipDispatchRuleId")
        purchase = {"e164": e164, "rule_id": rule_id}
        await store.transaction([(JOURNAL_SQL, (number_id, "purchase_number", json.dumps(purchase)))])
        body = {"phone_numbers": [e164], **({"sip_dispatch_rule_id": rule_id} if rule_id else {})}
        bought = (await livekit.call("PhoneNumberService", "PurchasePhoneNumber", body))["phone_numbers"][0]
        await store.transaction([(ACTIVATE_SQL, (bought["id"], rule_id, number_id)), (FORGET_SQL, (number_id,))])
        answer = {"__typename": "ImportPhoneNumberSuccess", "phoneNumber": {"id": number_id, "e164": e164}}
        return Response(json.dumps({"data": {"importPhoneNumber": answer}}).encode(), media_type="application/json")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        await open_db()
        await state["store"].open()
        if livekit is not None:
            await livekit.open()
        try:
            yield
        finally:
            if livekit is not None:
                await livekit.close()
            await state["store"].close()
            await close_db()

    async def healthz(request: Request) -> Response:
        return Response(b"ok")

    routes = [Route("/graphql", graphql, methods=["POST"]), Route("/healthz", healthz)]
    if livekit is not None:
        routes.append(Route("/import", floor_import, methods=["POST"]))
    return Starlette(routes=routes, lifespan=lifespan)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args(argv)

    import uvicorn

    from app.cli import uvicorn_limits
    from app.settings import Settings

    settings = Settings.from_env({"TRUNKLINE_DATABASE_URL": args.database_url})
    livekit = None
    if all(os.environ.get(name) for name in ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")):
        livekit = LiveKit(os.environ["LIVEKIT_URL"], os.environ["LIVEKIT_API_KEY"], os.environ["LIVEKIT_API_SECRET"])
    config = uvicorn.Config(make_app(args.database_url, livekit), host=args.host, port=args.port, **uvicorn_limits(settings))
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
