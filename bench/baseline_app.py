"""The benchmark's baseline: a raw Starlette endpoint doing Trunkline's API-key lookup and nothing else.

`POST /graphql` with `Authorization: Bearer sk_…` hashes the key (SHA-256, hex, as
resolvers/api_keys.hash_key), finds the unrevoked api_key row joined to its workspace in one
statement (as the server's `ApiKey.filter(...).select_related("workspace").first()`), and answers
`{"data":{"workspace":{"id":…}}}`, or 401. No GraphQL, no middleware. It is served by uvicorn with
the settings `trunkline serve` uses (app.cli.uvicorn_limits), on the same database driver
(aiosqlite for `sqlite://`, asyncpg for `postgres://`), so the ratio in bench/server_bench.py is
what Trunkline costs over the bare lookup.

    .venv/bin/python bench/baseline_app.py --port 8100 --database-url sqlite:///tmp/x.sqlite3
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import sys
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


def make_app(database_url: str) -> Starlette:
    state: dict = {}

    if database_url.startswith("sqlite://"):
        import aiosqlite

        path = database_url.removeprefix("sqlite://")
        query = SQL.format("?")

        async def open_db() -> None:
            state["db"] = await aiosqlite.connect(path)

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

        async def close_db() -> None:
            await state["pool"].close()

        async def lookup(key_hash: str):
            return await state["pool"].fetchval(query, key_hash)

    async def graphql(request: Request) -> Response:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return UNAUTHORIZED
        await request.body()
        workspace_id = await lookup(hashlib.sha256(key.strip().encode()).hexdigest())
        if workspace_id is None:
            return UNAUTHORIZED
        body = json.dumps({"data": {"workspace": {"id": workspace_id}}}).encode()
        return Response(body, media_type="application/json")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        await open_db()
        try:
            yield
        finally:
            await close_db()

    async def healthz(request: Request) -> Response:
        return Response(b"ok")

    routes = [Route("/graphql", graphql, methods=["POST"]), Route("/healthz", healthz)]
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
    config = uvicorn.Config(make_app(args.database_url), host=args.host, port=args.port, **uvicorn_limits(settings))
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
