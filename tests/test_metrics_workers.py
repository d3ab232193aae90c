"""/metrics under `trunkline serve --workers 2`: every worker answers the counts of all of them."""

from __future__ import annotations

import json
import pathlib

from tests.graphql_documents import DEMO_CREDENTIALS, DEMO_DIDS, IMPORT_PHONE_NUMBER
from tests.serve_sqlite import serving
from tests.server_processes import child_pids, command_line, create_workspace, sync_http_client, worker_pids
from tests.test_logs_and_metrics import sample

PROBES = 30


def metrics_dir(server_pid: int, temporary: pathlib.Path) -> pathlib.Path:
    """PROMETHEUS_MULTIPROC_DIR as the server's workers see it: made by `serve` in its TMPDIR."""
    workers = worker_pids(server_pid)
    # At least the two workers; uvicorn may be replacing one that was slow to answer its health check.
    assert len(workers) >= 2, [command_line(pid) for pid in child_pids(server_pid)]
    [directory] = temporary.glob("trunkline-metrics-*")
    return directory


def test_metrics_add_up_across_workers(tmp_path):
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    with serving(tmp_path, workers=2, TRUNKLINE_LOG_FORMAT="json", TMPDIR=str(temporary)) as served:
        directory = metrics_dir(served.pid, temporary)
        workspace = create_workspace(served.database_url, "Acme", 10)
        headers = {"Authorization": f"Bearer {workspace['api_key']}", "X-Request-Id": "workers-import-1"}
        body = {"query": IMPORT_PHONE_NUMBER, "variables": {"input": {"e164": DEMO_DIDS[0], "source": "TWILIO", "twilio": DEMO_CREDENTIALS}}}
        with sync_http_client(base_url=served.url, timeout=30) as http:
            answer = http.post("/graphql", json=body, headers=headers)
            assert answer.json()["data"]["importPhoneNumber"]["__typename"] == "ImportPhoneNumberSuccess", answer.text
            assert answer.headers["X-Request-Id"] == "workers-import-1"
            for _ in range(PROBES):  # a new connection each: both workers get some
                assert http.get("/healthz", headers={"Connection": "close"}).status_code == 200

            scrapes = [http.get("/metrics", headers={"Connection": "close"}).text for _ in range(6)]
        for text in scrapes:
            assert sample(text, "trunkline_imports_total", source="TWILIO", outcome="success") == 1
            assert sample(text, "trunkline_http_requests_total", operation="importPhoneNumber", status="200") == 1
            assert sample(text, "trunkline_http_requests_total", operation="other", status="200") >= PROBES
            assert sample(
                text, "trunkline_carrier_requests_total", carrier="twilio", operation="create Trunk", outcome="ok"
            ) == 1
            assert sample(text, "trunkline_phone_numbers", status="ACTIVE") == 1
        # Both workers wrote counts there, and the server's log is JSON with no access line from uvicorn.
        assert len({path.stem.rpartition("_")[2] for path in directory.glob("counter_*.db")}) == 2
        log = served.process.log()
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    # The shared sandbox process prints its address as a plain line; everything the server writes is JSON.
    plain = [line for line in log.splitlines() if line.strip() and not line.startswith(("{", "sandbox carriers on"))]
    assert not plain, log
    carried = [line for line in lines if line.get("request_id") == "workers-import-1"]
    assert {line["logger"] for line in carried} >= {"trunkline.access", "trunkline.carrier"}
    assert not [line for line in lines if line["logger"] == "uvicorn.access"]
    assert workspace["api_key"] not in log and DEMO_CREDENTIALS["authToken"] not in log
    assert not directory.exists(), "the metrics directory outlived the server"
