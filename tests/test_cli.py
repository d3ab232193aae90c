"""The operators' command line, run as a real process against a real database."""

import json
import os
import pathlib
import re
import socket
import subprocess
import sys
import time
import urllib.request
from importlib.metadata import version

import asyncpg
import pytest

from app.db import migrate
from models import migrations
from tests import launcher
from tests.conftest import BACKENDS, POSTGRES_URL, SECRET_KEY, create_postgres_database, drop_postgres_database
from tests.launcher import TRUNKLINE
from tests.server_processes import free_port

WORKSPACE_ID = re.compile(r"ws_[0-9A-HJKMNP-TV-Z]{26}")
KEY = re.compile(r"sk_[A-Za-z0-9_-]{43}")
KEY_ID = re.compile(r"key_[0-9A-HJKMNP-TV-Z]{26}")


def trunkline(*args: str, database_url: str | None = None, cwd=None, **variables: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUNKLINE_")}
    if database_url:
        env["TRUNKLINE_DATABASE_URL"] = database_url
    env.update(variables)
    return launcher.run([TRUNKLINE, *args], env=env, cwd=cwd)


def post_graphql(base: str, query: str, key: str) -> dict:
    request = urllib.request.Request(
        f"{base}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


async def test_workspace_create_json_prints_exactly_one_object(database_url, client):
    result = trunkline("workspace", "create", "--name", "Acme", "--phone-number-limit", "7", "--json", database_url=database_url)

    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert list(printed) == ["workspace_id", "key_id", "api_key"]
    assert KEY_ID.fullmatch(printed["key_id"])
    assert WORKSPACE_ID.fullmatch(printed["workspace_id"]) and KEY.fullmatch(printed["api_key"])
    response = await client.post(
        "/graphql",
        json={"query": "{ workspace { id name phoneNumberLimit } }"},
        headers={"Authorization": f"Bearer {printed['api_key']}"},
    )
    assert response.json()["data"]["workspace"] == {"id": printed["workspace_id"], "name": "Acme", "phoneNumberLimit": 7}


async def test_apikey_create_issues_a_second_working_key(database_url, client, tenant):
    result = trunkline("apikey", "create", "--workspace", tenant.workspace.id, "--json", database_url=database_url)

    assert result.returncode == 0, result.stderr
    key = json.loads(result.stdout)["api_key"]
    assert key != tenant.api_key
    response = await client.post("/graphql", json={"query": "{ workspace { id } }"}, headers={"Authorization": f"Bearer {key}"})
    assert response.json()["data"]["workspace"]["id"] == tenant.workspace.id


@pytest.mark.parametrize(
    "args, message",
    [
        (("apikey", "create", "--workspace", "3f2b8c1e-9a4d-4e2b-8f6a-1c2d3e4f5a6b"), "no workspace"),
        (("apikey", "revoke", "key_01J9Z3Q5V8K2M4N6P8R0S2T4W6"), "no live API key"),
        (("workspace", "create", "--name", " "), "--name must not be empty"),
    ],
    ids=["unknown-workspace", "unknown-key", "blank-name"],
)
async def test_cli_refuses_with_a_clear_message(database_url, args, message):
    result = trunkline(*args, database_url=database_url)
    assert result.returncode != 0
    assert message in result.stderr


def test_bad_setting_stops_the_cli_with_a_message(tmp_path):
    env = {**os.environ, "TRUNKLINE_PHONE_NUMBER_LIMIT": "many"}
    result = subprocess.run([TRUNKLINE, "migrate"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "TRUNKLINE_PHONE_NUMBER_LIMIT must be a whole number" in result.stderr


def start_server(cwd: pathlib.Path, port: int, *args: str, **variables: str) -> tuple[subprocess.Popen, str]:
    """`trunkline serve` (on the embedded defaults unless told); returns the process and what it printed until ready."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUNKLINE_")} | variables
    process = launcher.popen(
        [TRUNKLINE, "serve", "--port", str(port), *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    printed = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        printed.append(line)
        if "Uvicorn running on" in line or process.poll() is not None:
            break
    return process, "".join(printed)


def test_first_serve_on_the_default_database_creates_a_demo_workspace(tmp_path):
    port = free_port()
    process, printed = start_server(tmp_path, port)
    try:
        key = KEY.search(printed)
        assert key, printed
        assert f"http://127.0.0.1:{port}/graphql" in printed
        body = post_graphql(f"http://127.0.0.1:{port}", "{ workspace { name phoneNumberLimit } }", key.group())
        assert body == {"data": {"workspace": {"name": "Demo", "phoneNumberLimit": 100}}}
    finally:
        process.terminate()
        process.wait(timeout=20)

    again, printed_again = start_server(tmp_path, port)
    try:
        assert "Uvicorn running on" in printed_again
        assert not KEY.search(printed_again)
    finally:
        again.terminate()
        again.wait(timeout=20)


def test_version_names_the_installed_package():
    result = trunkline("--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"trunkline {version('trunkline')}")


def create(database_url: str, name: str, limit: int = 5) -> dict:
    result = trunkline("workspace", "create", "--name", name, "--phone-number-limit", str(limit), "--json",
                       database_url=database_url)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def json_of(*args: str, database_url: str):
    result = trunkline(*args, "--json", database_url=database_url)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # exactly one JSON document, or this raises


async def test_workspace_list_and_show(database_url):
    assert json_of("workspace", "list", database_url=database_url) == []
    first, second = create(database_url, "Acme", 3), create(database_url, "Globex", 9)

    listed = json_of("workspace", "list", database_url=database_url)
    assert [(w["id"], w["name"], w["phone_number_limit"]) for w in listed] == [
        (first["workspace_id"], "Acme", 3), (second["workspace_id"], "Globex", 9)
    ]
    shown = json_of("workspace", "show", second["workspace_id"], database_url=database_url)
    assert shown == {**listed[1], "numbers_in_use": 0, "live_api_keys": 1}
    text = trunkline("workspace", "list", database_url=database_url)
    assert first["workspace_id"] in text.stdout and "Globex" in text.stdout


async def test_workspace_set_limit_changes_the_cap_the_api_reports(database_url, client):
    created = create(database_url, "Acme", 3)

    result = trunkline("workspace", "set-limit", created["workspace_id"], "40", database_url=database_url)

    assert result.returncode == 0, result.stderr
    response = await client.post("/graphql", json={"query": "{ workspace { phoneNumberLimit } }"},
                                 headers={"Authorization": f"Bearer {created['api_key']}"})
    assert response.json()["data"]["workspace"]["phoneNumberLimit"] == 40
    refused = trunkline("workspace", "set-limit", created["workspace_id"], "0", database_url=database_url)
    assert refused.returncode == 2 and "at least 1" in refused.stderr


async def test_apikey_list_shows_ids_prefixes_and_revocations_never_secrets(database_url):
    created = create(database_url, "Acme")
    second = json_of("apikey", "create", "--workspace", created["workspace_id"], database_url=database_url)
    assert trunkline("apikey", "revoke", created["key_id"], database_url=database_url).returncode == 0

    result = trunkline("apikey", "list", "--workspace", created["workspace_id"], "--json", database_url=database_url)
    text = trunkline("apikey", "list", "--workspace", created["workspace_id"], database_url=database_url)

    keys = json.loads(result.stdout)
    assert [(k["id"], k["prefix"], k["revoked_at"] is None) for k in keys] == [
        (created["key_id"], created["api_key"][:11], False), (second["key_id"], second["api_key"][:11], True)
    ]
    assert all(set(k) == {"id", "prefix", "created_at", "revoked_at"} and k["created_at"] for k in keys)
    for output in (result.stdout, text.stdout):
        assert not KEY.search(output) and created["api_key"] not in output and second["api_key"] not in output
        assert not re.search(r"[0-9a-f]{64}", output)  # no SHA-256 hash either
    assert "revoked" in text.stdout and second["key_id"] in text.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("workspace", "show", "ws_01J9Z3Q5V8K2M4N6P8R0S2T4W6"),
        ("workspace", "show", "acme"),
        ("workspace", "set-limit", "ws_01J9Z3Q5V8K2M4N6P8R0S2T4W6", "5"),
        ("apikey", "list", "--workspace", "ws_01J9Z3Q5V8K2M4N6P8R0S2T4W6"),
    ],
    ids=["show", "show-malformed", "set-limit", "apikey-list"],
)
async def test_unknown_ids_answer_one_line_and_status_1(database_url, args):
    result = trunkline(*args, database_url=database_url)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.count("\n") == 1 and "no workspace" in result.stderr


@pytest.fixture(params=BACKENDS)
async def unmigrated_database_url(request, tmp_path):
    """A database lacking migrations: a SQLite file not made yet, or an empty PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path}/fresh.sqlite3"
        return
    url = await create_postgres_database()
    try:
        yield url
    finally:
        await drop_postgres_database(url)


@pytest.mark.parametrize(
    "args",
    [
        ("workspace", "create", "--name", "Acme"),
        ("workspace", "list", "--json"),
        ("workspace", "show", "ws_01J9Z3Q5V8K2M4N6P8R0S2T4W6"),
        ("workspace", "set-limit", "ws_01J9Z3Q5V8K2M4N6P8R0S2T4W6", "5"),
        ("apikey", "create", "--workspace", "ws_01J9Z3Q5V8K2M4N6P8R0S2T4W6"),
        ("apikey", "list", "--workspace", "ws_01J9Z3Q5V8K2M4N6P8R0S2T4W6"),
        ("apikey", "revoke", "key_01J9Z3Q5V8K2M4N6P8R0S2T4W6"),
    ],
    ids=lambda args: "-".join(args[:2]),
)
async def test_commands_on_an_unmigrated_database_say_to_migrate(unmigrated_database_url, args, tmp_path):
    result = trunkline(*args, database_url=unmigrated_database_url)

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.count("\n") == 1 and "run `trunkline migrate`" in result.stderr
    assert not (tmp_path / "fresh.sqlite3").exists()  # nothing made behind the operator's back


needs_postgres = pytest.mark.skipif("postgres" not in BACKENDS, reason="needs TRUNKLINE_TEST_POSTGRES_URL")
# Only the newest migration's record taken away leaves it pending: an applied later one would count as done.
LAST_MIGRATION = max(path.stem for path in pathlib.Path(migrations.__file__).parent.glob("0*.py"))


@pytest.fixture
async def postgres_missing_a_migration():
    """A PostgreSQL database migrated once, then its record of the last migration taken away."""
    url = await create_postgres_database()
    try:
        await migrate(url)
        connection = await asyncpg.connect(url)
        try:
            await connection.execute("DELETE FROM tortoise_migrations WHERE name = $1", LAST_MIGRATION)
        finally:
            await connection.close()
        yield url
    finally:
        await drop_postgres_database(url)


@needs_postgres
def test_serve_refuses_a_database_missing_migrations(postgres_missing_a_migration, tmp_path):
    result = trunkline("serve", "--port", str(free_port()), database_url=postgres_missing_a_migration,
                       cwd=tmp_path, TRUNKLINE_SECRET_KEY=SECRET_KEY)
    assert result.returncode == 2
    assert LAST_MIGRATION in result.stderr and "run `trunkline migrate`" in result.stderr
    assert "Traceback" not in result.stderr and "Uvicorn running" not in result.stderr


@needs_postgres
def test_serve_migrate_applies_migrations_then_serves(unmigrated_database_url, tmp_path):
    if unmigrated_database_url.startswith("sqlite"):
        pytest.skip("SQLite is migrated by serve anyway")
    port = free_port()
    process, printed = start_server(tmp_path, port, "--migrate", TRUNKLINE_DATABASE_URL=unmigrated_database_url,
                                    TRUNKLINE_SECRET_KEY=SECRET_KEY)
    try:
        assert "Uvicorn running on" in printed, printed
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=10) as response:
            assert json.load(response) == {"status": "ok"}
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert trunkline("workspace", "list", database_url=unmigrated_database_url).returncode == 0


@needs_postgres
def test_a_missing_secret_key_stops_serve_in_one_line(tmp_path):
    result = trunkline("serve", "--port", str(free_port()), database_url=POSTGRES_URL, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [result.stderr.strip()] and "TRUNKLINE_SECRET_KEY must be set" in result.stderr


@needs_postgres
def test_a_settings_error_while_a_uvicorn_worker_starts_is_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUNKLINE_")} | {"TRUNKLINE_DATABASE_URL": POSTGRES_URL}
    result = subprocess.run(
        [sys.executable, "-m", "uvicorn", "--factory", "app.startup:app_from_env", "--port", str(free_port())],
        env=env, cwd=pathlib.Path(__file__).parent.parent, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert [line for line in result.stderr.splitlines() if "TRUNKLINE_SECRET_KEY" in line] == [
        'trunkline: TRUNKLINE_SECRET_KEY must be set (live carriers, or a database that is not a SQLite file); '
        'make one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
    ]


def test_serve_on_a_taken_port_stops_before_making_the_demo_key(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = trunkline("serve", "--port", str(port), cwd=tmp_path)

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"trunkline: cannot listen on 127.0.0.1:{port} (Address already in use); stop what uses it or choose another --port"
    ]
    assert not KEY.search(result.stdout + result.stderr)
    process, printed = start_server(tmp_path, free_port())
    try:
        assert KEY.search(printed), printed  # the demo key is still to come, shown on the first real start
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_serve_on_every_interface_prints_an_address_a_browser_opens(tmp_path):
    port = free_port()
    process, printed = start_server(tmp_path, port, "--host", "0.0.0.0")
    try:
        assert f"Open http://127.0.0.1:{port}/graphql" in printed, printed
    finally:
        process.terminate()
        process.wait(timeout=20)
