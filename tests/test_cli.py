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

import pytest

TRUNKLINE = str(pathlib.Path(sys.executable).with_name("trunkline"))
WORKSPACE_ID = re.compile(r"ws_[0-9A-HJKMNP-TV-Z]{26}")
KEY = re.compile(r"sk_[A-Za-z0-9_-]{43}")


def trunkline(*args: str, database_url: str | None = None, cwd=None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUNKLINE_")}
    if database_url:
        env["TRUNKLINE_DATABASE_URL"] = database_url
    return subprocess.run([TRUNKLINE, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


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
    assert list(printed) == ["workspace_id", "api_key"]
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(cwd: pathlib.Path, port: int) -> tuple[subprocess.Popen, str]:
    """`trunkline serve` on the embedded defaults; returns the process and what it printed until ready."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUNKLINE_")}
    process = subprocess.Popen(
        [TRUNKLINE, "serve", "--port", str(port)],
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
