"""The client examples in examples/ work against a real `trunkline serve` (SQLite, sandbox carriers):
the Python script runs as a user would run it, and the TypeScript client is typed by GraphQL Code
Generator from schema/schema.graphql, type-checked, compiled and run."""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.serve_sqlite import serving
from tests.server_processes import create_workspace

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PYTHON_SCRIPT = EXAMPLES / "python" / "import_number.py"
TS_DIR = EXAMPLES / "typescript"
DEMO_DID = "+14155550101"

# The TypeScript tests write into examples/typescript (node_modules, src/gql, build, a broken client): one at a
# time, also across xdist workers (an flock, which xdist_group no longer gives under pytest 9).
TS_LOCK = Path(tempfile.gettempdir()) / f"trunkline-typescript-example-{hashlib.sha256(bytes(TS_DIR)).hexdigest()[:12]}.lock"


@pytest.fixture
def typescript_example():
    """examples/typescript installed, and this test alone in it until it ends."""
    with TS_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        installed_typescript_example()
        yield


def run_python_example(url: str, api_key: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TRUNKLINE_URL": url, "TRUNKLINE_API_KEY": api_key}
    return subprocess.run(
        [sys.executable, str(PYTHON_SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120
    )


def idempotency_keys(database_url: str) -> list[str]:
    with sqlite3.connect(database_url.removeprefix("sqlite://")) as db:
        return [key for (key,) in db.execute("SELECT key FROM idempotency_key")]


def test_the_python_example_imports_lists_pages_and_handles_a_refusal(tmp_path):
    with serving(tmp_path / "server") as served:
        api_key = create_workspace(served.database_url, "Examples", 100)["api_key"]
        first = run_python_example(served.url, api_key)
        second = run_python_example(served.url, api_key, "--e164", "+14155550102", "--page-size", "1")
        again = run_python_example(served.url, api_key)
        keys = idempotency_keys(served.database_url)

    assert first.returncode == 0, first.stdout + first.stderr
    agent = re.search(r"^created agent (agent_[0-9A-Z]{26}) \(Front desk\)$", first.stdout, re.M)
    assert agent, first.stdout
    imported = re.search(rf"^imported \{DEMO_DID} as (phone_[0-9A-Z]{{26}}) \(TWILIO, ACTIVE\), answered by (\S+)$", first.stdout, re.M)
    assert imported and imported[2] == agent[1], first.stdout
    assert f"page 1: {DEMO_DID} {imported[1]} TWILIO ACTIVE agent={agent[1]}" in first.stdout
    assert first.stdout.rstrip().endswith("1 numbers in 1 pages")

    # A second number, listed a page at a time: both numbers, oldest first, one per page.
    assert second.returncode == 0, second.stdout + second.stderr
    pages = re.findall(r"^page (\d+): (\+\d+) ", second.stdout, re.M)
    assert pages == [("1", DEMO_DID), ("2", "+14155550102")], second.stdout
    assert second.stdout.rstrip().endswith("2 numbers in 2 pages")

    # The same number again: the ValidationError member, printed with its field errors; exit status 1.
    assert again.returncode == 1, again.stdout + again.stderr
    assert re.search(r"^import refused \(\w+\): e164 ALREADY_EXISTS: .+$", again.stdout, re.M), again.stdout
    assert "Traceback" not in again.stderr and "imported" not in again.stdout
    assert again.stdout.rstrip().endswith("2 numbers in 1 pages")  # the default page size, 50

    # Each import carried its own Idempotency-Key, which the server keeps (createAgent sent none).
    assert sorted(keys) == sorted(set(keys)) and len(keys) == 3
    assert all(key.startswith("import-") for key in keys)


def npm() -> str:
    found = shutil.which("npm")
    assert found, "npm (Node 20 or newer) is needed to check the TypeScript example"
    return found


def run(args: list[str], cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600, **kwargs)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def installed_typescript_example() -> None:
    """`npm ci` in examples/typescript, unless node_modules already holds exactly its lockfile's packages."""
    lock = hashlib.sha256((TS_DIR / "package-lock.json").read_bytes()).hexdigest()
    stamp = TS_DIR / "node_modules" / ".installed-from-lock"
    if stamp.exists() and stamp.read_text() == lock:
        return
    run([npm(), "ci", "--no-audit", "--no-fund", "--ignore-scripts"], TS_DIR)
    stamp.write_text(lock)


def test_the_typescript_example_is_typed_from_the_schema_and_works(tmp_path, typescript_example):
    npx = str(Path(npm()).with_name("npx"))
    shutil.rmtree(TS_DIR / "src" / "gql", ignore_errors=True)
    run([npx, "graphql-codegen"], TS_DIR)
    generated = (TS_DIR / "src" / "gql" / "graphql.ts").read_text()
    assert "export type ImportPhoneNumberMutation" in generated
    assert "__typename: 'ProviderError'" in generated

    # One compile both type-checks (tsc exits non-zero on any type error) and builds.
    build = TS_DIR / "build"
    shutil.rmtree(build, ignore_errors=True)
    run([npx, "tsc", "--outDir", "build"], TS_DIR)
    with serving(tmp_path / "server") as served:
        api_key = create_workspace(served.database_url, "Examples", 100)["api_key"]
        env = {**os.environ, "TRUNKLINE_URL": served.url, "TRUNKLINE_API_KEY": api_key}
        first = subprocess.run(["node", "build/client.js"], cwd=TS_DIR, env=env, capture_output=True, text=True, timeout=120)
        again = subprocess.run(["node", "build/client.js"], cwd=TS_DIR, env=env, capture_output=True, text=True, timeout=120)

    assert first.returncode == 0, first.stdout + first.stderr
    assert re.search(rf"^imported \{DEMO_DID} as phone_\w+ \(TWILIO, ACTIVE\), answered by agent_\w+$", first.stdout, re.M)
    assert re.search(rf"^listed \{DEMO_DID} phone_\w+ TWILIO ACTIVE$", first.stdout, re.M), first.stdout
    assert again.returncode == 1, again.stdout + again.stderr
    assert re.search(r"^import refused \(\w+\): e164 ALREADY_EXISTS: ", again.stdout, re.M), again.stdout


def test_the_typescript_example_fails_to_type_check_when_a_union_member_is_unhandled(tmp_path, typescript_example):
    """The `never` checks are real: without the ProviderError case, tsc rejects the client."""
    npx = str(Path(npm()).with_name("npx"))
    if not (TS_DIR / "src" / "gql" / "graphql.ts").exists():
        run([npx, "graphql-codegen"], TS_DIR)
    client = (TS_DIR / "src" / "client.ts").read_text()
    without = re.sub(r'    case "ProviderError":\n.*?\n      return false;\n', "", client, count=1, flags=re.S)
    assert without != client
    broken = TS_DIR / "src" / "client_without_provider_error.ts"
    try:
        broken.write_text(without)
        result = subprocess.run([npx, "tsc", "--noEmit"], cwd=TS_DIR, capture_output=True, text=True, timeout=600)
    finally:
        broken.unlink()
    assert result.returncode != 0
    assert "client_without_provider_error.ts" in result.stdout and "never" in result.stdout, result.stdout
