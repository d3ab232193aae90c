"""Liveness and readiness, including readiness failing when the database is gone."""

import shutil

import pytest
from tortoise import Tortoise

from app.db import migrate
from app.main import create_app

from tests.server_processes import migrate as migrate_in_a_process
from tests.conftest import BACKENDS, app_settings, create_postgres_database, drop_postgres_database


async def test_healthz_answers_ok(client):
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_answers_ok_with_the_database_up(client):
    response = await client.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def _readyz_after(database_url: str, take_database_away) -> tuple[int, dict, int]:
    import httpx

    app = create_app(app_settings(database_url))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            assert (await http.get("/readyz")).status_code == 200
            await take_database_away()
            ready = await http.get("/readyz")
            alive = await http.get("/healthz")
    return ready.status_code, ready.json(), alive.status_code


async def _sqlite_database_that_can_vanish(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    url = f"sqlite://{folder}/trunkline.sqlite3"

    async def remove():
        await Tortoise.close_connections()
        shutil.rmtree(folder, ignore_errors=True)

    return url, remove


async def _postgres_database_that_can_vanish(_tmp_path):
    url = await create_postgres_database()
    return url, lambda: drop_postgres_database(url)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_readyz_fails_when_the_database_is_gone(backend, tmp_path):
    # given
    make = _sqlite_database_that_can_vanish if backend == "sqlite" else _postgres_database_that_can_vanish
    url, take_database_away = await make(tmp_path)
    await migrate(url)

    # when
    try:
        status, body, alive = await _readyz_after(url, take_database_away)
    finally:
        await take_database_away()

    # then
    assert (status, body) == (503, {"status": "unavailable", "reason": "database unreachable"})
    assert alive == 200


async def _unmigrated_database(backend: str, tmp_path) -> tuple[str, object]:
    if backend == "sqlite":
        return f"sqlite://{tmp_path}/fresh.sqlite3", lambda: None
    url = await create_postgres_database()
    return url, lambda: drop_postgres_database(url)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_readyz_fails_until_every_migration_is_applied(backend, tmp_path):
    import httpx

    url, drop = await _unmigrated_database(backend, tmp_path)
    try:
        app = create_app(app_settings(url))
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
                before = await http.get("/readyz")
                migrate_in_a_process(url)  # another process, as an operator would; ours keeps its connections
                after = await http.get("/readyz")
    finally:
        await Tortoise.close_connections()
        if (dropped := drop()) is not None:
            await dropped

    assert (before.status_code, before.json()) == (503, {"status": "unavailable", "reason": "migrations pending"})
    assert (after.status_code, after.json()) == (200, {"status": "ok"})
