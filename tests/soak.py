"""Chaos soak: the production shape under load, carrier faults and killed workers, then an audit.

    .venv/bin/python -m tests.soak --minutes 10 --seed 1
    .venv/bin/python -m tests.soak --seconds 90 --seed 1 --workers 3 --clients 8 --fault-rate 0.05 --kill-every 60

On a fresh PostgreSQL database it runs `trunkline serve --workers N` in live mode against a standalone
sandbox seeded with several Twilio customer accounts, the platform account and LiveKit. Clients call
every mutation and read at random (tests/soak_workload.py) while the sandbox fails a share of carrier
requests in five ways and a worker is SIGKILLed now and then. Then the load stops, the faults are
cleared, the server is restarted and recovery given time to finish, and every row is audited against
the carriers (tests/soak_audit.py). It prints what happened and what the audit found, and exits 1 when
anything was found (2 when the soak itself could not run). Everything it started is stopped and its
database dropped, whatever happens; the logs are kept, and their folder printed, when something failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import pathlib
import random
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx

from providers.sandbox.server import DEMO_STATE
from resolvers.validation import check_e164, region_of
from tests.postgres import create_database, drop_database
from tests.server_processes import (
    PLATFORM_ACCOUNT,
    Sandbox,
    Server,
    create_workspace,
    live_environment,
    migrate,
    new_secret_key,
    start_sandbox,
    start_server,
    wait_until,
    worker_pids,
)
from tests.soak_audit import DatabaseRows, Findings, audit, print_findings, save_snapshot
from tests.soak_workload import Api, Recorder, Tenant, TwilioCustomer, Workload

DEFAULT_DATABASE_SERVER = os.environ.get("TRUNKLINE_TEST_POSTGRES_URL") or "postgres://postgres@127.0.0.1:5432/test"

# Server settings, all in one place, short so that a run of minutes goes through every path many times:
# - provider timeout 2 s: the late-answer fault answers after LATE_ANSWER (3 s), so the server times out
#   on a call the carrier did carry out, the ambiguous case;
# - recovery grace 6 s (also how long a killed request's idempotency key stays taken before a retry may
#   take it over): numbers left by timeouts and kills are finished within the run, while nearly every live
#   operation is over well before (99% under 4 s in a 10-minute run), so live ones are not taken for
#   interrupted ones; recovery looks every 2 s;
# - lease 8 s: longer than the carrier calls made under one lease, and a lease a killed worker held
#   lapses within the run.
SERVER_SETTINGS = {
    "TRUNKLINE_PROVIDER_TIMEOUT": "2",
    "TRUNKLINE_RECOVERY_GRACE": "6",
    "TRUNKLINE_RECOVERY_INTERVAL": "2",
    "TRUNKLINE_LEASE": "8",
}
LATE_ANSWER = 3.0
# After the restart, recovery needs one grace plus a pass or two; allow for carrier retries and leases.
SETTLE_SECONDS = 120.0
# How long the clients get to finish the operation in hand once the time is up, before they are cut off.
DRAIN_SECONDS = 180.0
# A killed worker must be replaced and serving within this many seconds.
RESTART_SECONDS = 30.0

WORKSPACE_LIMITS = (6, 8, 10)
CARRIER_PATHS = ("/2010-04-01/*", "/v1/*", "/twirp/*")  # Twilio API, Twilio trunking, LiveKit
# `times` on a fault rule counts down as requests take it; starting it this high lets the rule apply
# to every request it draws and leaves the number it took readable from GET /__sandbox/faults.
FAULT_COUNTER = 10**9


# --- the carriers' seed --------------------------------------------------------------------------------


PLATFORM_AREA_CODES = ("646", "718", "917", "347", "929", "332", "516", "631", "914", "845")


def carrier_seed(rng: random.Random, platform_numbers: int) -> tuple[dict[str, Any], list[TwilioCustomer]]:
    """Four Twilio customer accounts (6 DIDs and 3 verified caller IDs each), the platform account with
    `platform_numbers` numbers on offer, and the LiveKit project (its generated inventory). Numbers are
    chosen outside the 555-01XX block the emulators generate from, so no number is offered by two carriers."""
    customers = []
    for area in ("303", "404", "617", "720"):
        customers.append(TwilioCustomer(
            sid="AC" + f"{rng.getrandbits(128):032x}",
            auth_token=f"{rng.getrandbits(128):032x}",
            dids=[f"+1{area}55502{line:02d}" for line in range(6)],
            caller_ids=[f"+1{area}55502{line:02d}" for line in range(50, 53)],
        ))
    accounts: list[dict[str, Any]] = [
        {"sid": c.sid, "auth_token": c.auth_token, "friendly_name": f"Soak customer {i + 1}",
         "incoming_phone_numbers": c.dids, "outgoing_caller_ids": c.caller_ids}
        for i, c in enumerate(customers)
    ]
    # A bought number that is released does not go back on offer, so the stock must last the run.
    stock = [f"+1{area}5550{line}" for line in range(300, 1000) for area in PLATFORM_AREA_CODES][:platform_numbers]
    # The server buys with the platform credentials of tests/server_processes.live_environment.
    accounts.append({
        "sid": PLATFORM_ACCOUNT["sid"], "auth_token": PLATFORM_ACCOUNT["auth_token"], "friendly_name": "Platform",
        "platform": True, "available_phone_numbers": stock,
    })
    demo_livekit = json.loads(DEMO_STATE.read_text())["livekit"]  # the project live_environment points at
    livekit = {"api_key": demo_livekit["api_key"], "api_secret": demo_livekit["api_secret"]}
    return {"twilio": {"accounts": accounts}, "livekit": livekit}, customers


def byoc_numbers(rng: random.Random, count: int = 40) -> list[str]:
    """Random US numbers for BYOC imports, few enough that workspaces sometimes want the same one; only
    numbers the server takes as valid (libphonenumber), outside 555, so every import can succeed."""
    numbers: set[str] = set()
    while len(numbers) < count:
        candidate = f"+1{rng.randrange(201, 990)}{rng.randrange(200, 1000)}{rng.randrange(10000):04d}"
        if candidate[5:8] != "555" and not check_e164(candidate) and region_of(candidate) == "US":
            numbers.add(candidate)
    return sorted(numbers)


# --- faults ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FaultKind:
    name: str
    share: float  # of the total fault rate
    rule: dict[str, Any]


def fault_kinds() -> list[FaultKind]:
    """Five kinds, evenly: 5xx (500 or 503, half each) and 429 (Retry-After 0 or 1, half each) before the
    carrier acts, a late answer after it acted, and a dropped connection before and after it acted."""
    return [
        FaultKind("5xx before acting", 1 / 10, {"status": 500}),
        FaultKind("5xx before acting", 1 / 10, {"status": 503}),
        FaultKind("429 before acting", 1 / 10, {"status": 429, "headers": {"Retry-After": "0"}}),
        FaultKind("429 before acting", 1 / 10, {"status": 429, "headers": {"Retry-After": "1"}}),
        FaultKind("late answer after acting", 1 / 5, {"when": "after", "delay": LATE_ANSWER}),
        FaultKind("drop before acting", 1 / 5, {"drop": True}),
        FaultKind("drop after acting", 1 / 5, {"when": "after", "drop": True}),
    ]


def _carrier_body(path: str, status: int) -> dict[str, Any]:
    """An error body in the carrier's own shape."""
    if path.startswith("/twirp/"):
        code = {429: "resource_exhausted", 500: "internal", 503: "unavailable"}[status]
        return {"code": code, "msg": "injected by the soak", "meta": {}}
    return {"code": 20429 if status == 429 else 20500, "message": "injected by the soak", "status": status}


def fault_rules(rate: float) -> list[tuple[str, dict[str, Any]]]:
    """(kind, rule) for every carrier path. A request falls through a rule it does not draw to the next,
    so each rule's probability is its share of what is left, which makes each kind's overall rate exact."""
    rules = []
    for path in CARRIER_PATHS:
        taken = 0.0
        for kind in fault_kinds():
            wanted = rate * kind.share
            rule = {"method": "*", "path": path, "times": FAULT_COUNTER, "probability": wanted / (1 - taken), **kind.rule}
            if "status" in rule:
                rule["body"] = _carrier_body(path, rule["status"])
            rules.append((kind.name, rule))
            taken += wanted
    return rules


async def inject_faults(sandbox: Sandbox, rate: float, seed: int) -> list[str]:
    """Install the rules (none when rate is 0); returns each rule's kind, in the sandbox's order."""
    response = await sandbox.http.post("/__sandbox/faults/seed", json={"seed": seed})
    response.raise_for_status()
    if rate <= 0:
        return []
    rules = fault_rules(rate)
    response = await sandbox.http.post("/__sandbox/faults", json=[rule for _, rule in rules])
    if response.status_code != 201:
        raise RuntimeError(f"the sandbox refused the fault rules: {response.status_code} {response.text}")
    return [kind for kind, _ in rules]


async def injected_faults(sandbox: Sandbox, kinds: list[str]) -> Counter[str]:
    """How many requests each kind of fault took, from the rules' counters."""
    response = await sandbox.http.get("/__sandbox/faults")
    response.raise_for_status()
    counts: Counter[str] = Counter()
    for kind, rule in zip(kinds, response.json(), strict=True):
        counts[kind] += FAULT_COUNTER - rule["times"]
    return counts


# --- the deployment ---------------------------------------------------------------------------------


@dataclass
class Deployment:
    log_dir: pathlib.Path
    database_url: str
    sandbox: Sandbox
    environment: dict[str, str]
    workers: int
    server: Server | None = None

    async def start(self) -> Server:
        self.server = await start_server(self.environment, self.log_dir, workers=self.workers)
        return self.server

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    async def rows(self, sql: str) -> list[asyncpg.Record]:
        connection = await asyncpg.connect(self.database_url)
        try:
            return await connection.fetch(sql)
        finally:
            await connection.close()

    def worker_pids(self) -> list[int]:
        assert self.server is not None
        return worker_pids(self.server.process.popen.pid)


@dataclass
class KillLog:
    kills: int = 0
    restarted: int = 0  # replaced by uvicorn's supervisor and serving again
    server_restarts: int = 0  # the supervisor did not replace it in time: the whole server was restarted
    notes: list[str] = field(default_factory=list)


async def kill_workers(deployment: Deployment, every: float, deadline: float, rng: random.Random, log: KillLog) -> None:
    """Every `every` seconds until `deadline`, SIGKILL one worker, then check that uvicorn's supervisor
    starts another in its place.

    uvicorn's Multiprocess supervisor (0.54 here) pings its workers twice a second and starts a new one
    for each that died. Should that not happen in RESTART_SECONDS, the whole server is restarted instead."""
    while time.monotonic() + every < deadline:
        await asyncio.sleep(every)
        server = deployment.server
        assert server is not None
        workers = deployment.worker_pids()
        if not workers:
            log.notes.append("no worker process found to kill")
            continue
        victim = rng.choice(workers)
        started_before = server.process.log().count("Application startup complete.")
        os.kill(victim, signal.SIGKILL)
        log.kills += 1

        async def replaced() -> bool:
            pids = deployment.worker_pids()
            return (
                victim not in pids and len(pids) == deployment.workers
                and server.process.log().count("Application startup complete.") > started_before
            )

        try:
            await wait_until(replaced, seconds=RESTART_SECONDS, what="uvicorn to replace the killed worker", pause=0.2)
            log.restarted += 1
        except AssertionError:
            log.notes.append(f"worker {victim} was not replaced within {RESTART_SECONDS:.0f} s; restarted the server")
            log.server_restarts += 1
            server.kill()
            await deployment.start()


async def settle(deployment: Deployment) -> float:
    """Wait (bounded) until no number is PROVISIONING or RELEASING and no carrier step is left; seconds waited."""
    started = time.monotonic()

    async def quiet() -> bool:
        busy = await deployment.rows(
            "SELECT (SELECT count(*) FROM phone_number WHERE status IN ('PROVISIONING', 'RELEASING'))"
            " + (SELECT count(*) FROM carrier_step) AS busy"
        )
        return busy[0]["busy"] == 0

    with contextlib.suppress(AssertionError):
        await wait_until(quiet, seconds=SETTLE_SECONDS, what="recovery to finish", pause=1.0)
    # The slot is freed before a Twilio account's unused rows are tidied; give that a moment.
    await asyncio.sleep(2.0)
    return time.monotonic() - started


_CHAINED = ("The above exception was the direct cause", "During handling of the above exception")
_PROJECT_FRAME = re.compile(r'^  File ".*?/((?:app|models|providers|resolvers|schema)/[^"]+)", line (\d+)')


def server_exceptions(log_dir: pathlib.Path) -> Counter[str]:
    """The exceptions whose tracebacks the servers logged: the line a chain ends in, and the last frame
    in our code."""
    found: Counter[str] = Counter()
    for log in sorted(log_dir.glob("server-*.log")):
        last: str | None = None
        where = ""
        in_traceback = False
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith("Traceback (most recent call last)"):
                in_traceback = True
            elif in_traceback and (frame := _PROJECT_FRAME.match(line)):
                where = f" (at {frame[1]}:{frame[2]})"
            elif in_traceback and line and not line.startswith(" "):  # past the indented frames
                last, in_traceback = line[:240] + where, False
            elif last is not None and not in_traceback and line and not line.startswith((*_CHAINED, "DETAIL", "HINT")):
                found[last] += 1
                last, where = None, ""
        if last is not None:
            found[last] += 1
    return found


# --- the run ---------------------------------------------------------------------------------------------


@dataclass
class Options:
    seconds: float
    seed: int
    workers: int
    clients: int
    fault_rate: float
    kill_every: float
    database_url: str
    keep_logs: bool = False


@dataclass
class LoadResult:
    recorder: Recorder
    kills: KillLog
    faults: Counter[str]
    seconds: float
    failures: list[str]  # the workload itself went wrong: a client crashed or never finished


async def soak(options: Options, log_dir: pathlib.Path) -> int:
    """Setup, load with chaos, a quiet restart, the audit; 0 when nothing was found."""
    rng = random.Random(options.seed)
    print(f"soak: seed {options.seed}, {options.seconds:.0f} s, {options.workers} workers, {options.clients} clients, "
          f"fault rate {options.fault_rate}, a worker killed every {options.kill_every:.0f} s", flush=True)
    async with contextlib.AsyncExitStack() as cleanup:
        database_url = await create_database(options.database_url, "trunkline_soak")
        cleanup.push_async_callback(drop_database, options.database_url, database_url)
        migrate(database_url)
        tenants = []
        for index, limit in enumerate(WORKSPACE_LIMITS):
            created = create_workspace(database_url, f"Soak {index + 1}", limit)
            tenants.append(Tenant(f"Soak {index + 1}", created["workspace_id"], created["api_key"], limit))
        # About two purchases a second succeed; twice that many numbers, and at least 400, last the run.
        seed_state, customers = carrier_seed(rng, platform_numbers=max(400, int(4 * options.seconds)))
        state_path = log_dir / "sandbox_state.json"
        state_path.write_text(json.dumps(seed_state, indent=2))
        sandbox = await start_sandbox(log_dir, state_path=state_path)
        cleanup.push_async_callback(sandbox.close)
        environment = live_environment(database_url, sandbox.url, new_secret_key(), **SERVER_SETTINGS)
        deployment = Deployment(log_dir, database_url, sandbox, environment, options.workers)
        cleanup.callback(deployment.stop)
        await deployment.start()
        print(f"soak: server {deployment.url()}, sandbox {sandbox.url}, logs {log_dir}", flush=True)

        recorder = Recorder(log_dir / "answers.jsonl")
        cleanup.callback(recorder.close)
        http = httpx.AsyncClient(limits=httpx.Limits(max_connections=2 * options.clients))
        cleanup.push_async_callback(http.aclose)
        workload = Workload(Api(http, deployment.url, recorder), tenants, customers, byoc_numbers(rng), options.seed)
        load = await run_load(options, deployment, workload)
        clean_exit, settled = await restart_quietly(deployment)

        # The audit reads with the server stopped, so nothing changes under it.
        connection = await asyncpg.connect(database_url)
        try:
            rows = await DatabaseRows.read(connection)
        finally:
            await connection.close()
        carriers = await sandbox.state()
        save_snapshot(log_dir / "audit_input.json", rows, carriers, PLATFORM_ACCOUNT["sid"])
        findings = audit(rows, carriers, platform_account_sid=PLATFORM_ACCOUNT["sid"])
        findings.extend(recorder.problems)

        _report(load, findings, rows, settled, clean_exit, server_exceptions(log_dir))
        return 1 if findings.total or load.failures else 0


async def run_load(options: Options, deployment: Deployment, workload: Workload) -> LoadResult:
    """The clients for `options.seconds`, with faults at the sandbox and workers killed meanwhile; then the
    clients finish the operation in hand (cut off after DRAIN_SECONDS) and the faults' counters are read."""
    fault_kinds_in_order = await inject_faults(deployment.sandbox, options.fault_rate, options.seed)
    kills = KillLog()
    started = time.monotonic()
    deadline = started + options.seconds
    killer = asyncio.create_task(
        kill_workers(deployment, options.kill_every, deadline, random.Random(f"{options.seed}/kills"), kills)
    )
    progress = asyncio.create_task(_progress(workload.api.recorder, kills, started, options.seconds))
    clients = [asyncio.create_task(workload.client(index, deadline)) for index in range(options.clients)]
    done, pending = await asyncio.wait(clients, timeout=options.seconds + DRAIN_SECONDS)
    workload.stop.set()
    progress.cancel()
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, progress, return_exceptions=True)
    await asyncio.gather(killer, return_exceptions=True)  # it stops by itself at the deadline
    failures = [f"{len(pending)} client(s) still busy {DRAIN_SECONDS:.0f} s after the end, cut off"] if pending else []
    for task in [*done, killer]:
        if task.exception() is not None:
            failures.append("".join(traceback.format_exception(task.exception())).rstrip())
    faults = await injected_faults(deployment.sandbox, fault_kinds_in_order)
    return LoadResult(workload.api.recorder, kills, faults, time.monotonic() - started, failures)


async def restart_quietly(deployment: Deployment) -> tuple[bool, float]:
    """Clear the faults, stop the server cleanly, start it again and let recovery finish, then stop it.
    Returns whether the stop was clean (exit status 0 after SIGTERM), and how long recovery took."""
    await deployment.sandbox.clear_faults()
    deployment.stop()
    assert deployment.server is not None
    clean_exit = deployment.server.process.popen.returncode == 0
    await deployment.start()
    settled = await settle(deployment)
    deployment.stop()
    return clean_exit, settled


async def _progress(recorder: Recorder, kills: KillLog, started: float, seconds: float) -> None:
    every = max(15.0, seconds / 20)
    while True:
        await asyncio.sleep(every)
        answers = recorder.answers
        succeeded = sum(1 for answer in answers if answer.outcome == "success")
        unexpected = sum(1 for answer in answers if answer.outcome.startswith("unexpected"))
        print(f"soak: {time.monotonic() - started:5.0f}/{seconds:.0f} s, {len(answers)} answers, {succeeded} mutations "
              f"succeeded, {unexpected} unexpected, {kills.kills} workers killed", flush=True)


def _report(
    load: LoadResult, findings: Findings, rows: DatabaseRows, settled: float, clean_exit: bool, exceptions: Counter[str],
) -> None:
    recorder, kills, faults = load.recorder, load.kills, load.faults
    print(f"\n== operations ({len(recorder.answers)} answers in {load.seconds:.0f} s)")
    width = max((len(name) for name in recorder.outcomes), default=10)
    for operation in sorted(recorder.outcomes):
        outcomes = recorder.outcomes[operation]
        listed = ", ".join(f"{outcome} {count}" for outcome, count in outcomes.most_common())
        print(f"  {operation:<{width}}  {sum(outcomes.values()):5}  {listed}")
    mutations = ("import", "purchase", "create", "delete", "update")
    never = [op for op in sorted(recorder.outcomes) if op.startswith(mutations) and not recorder.outcomes[op]["success"]]
    if never:
        print(f"  (never succeeded: {', '.join(never)})")
    sent_again = sum(1 for answer in recorder.answers if answer.attempts > 1)
    replayed = sum(1 for answer in recorder.answers if answer.replayed)
    print(f"  requests sent again: {sent_again} (transport errors {dict(recorder.transport_errors)}, "
          f"duplicates still in progress {recorder.in_progress_retries}); idempotent replays {replayed}")
    print("== chaos")
    listed = ", ".join(f"{kind} {count}" for kind, count in faults.items())
    print(f"  faults injected at the sandbox: {sum(faults.values())} ({listed})")
    print(f"  workers killed: {kills.kills}, replaced by uvicorn: {kills.restarted}, "
          f"whole-server restarts: {kills.server_restarts}")
    for note in kills.notes:
        print(f"  note: {note}")
    print(f"  final stop {'clean (exit 0)' if clean_exit else 'NOT clean'}; recovery settled after {settled:.0f} s")
    if exceptions:
        print(f"  tracebacks in the server logs: {sum(exceptions.values())}")
        for line, count in exceptions.most_common(5):
            print(f"    {count} x {line}")
    held = Counter((row["source"], row["status"]) for row in rows.phone_number)
    listed = ", ".join(f"{source} {status} {count}" for (source, status), count in sorted(held.items()))
    print(f"  at the end: {len(rows.phone_number)} numbers ({listed}), {len(rows.sip_trunk)} trunks, {len(rows.agent)} agents")
    for failure in load.failures:
        print(f"  THE WORKLOAD ITSELF FAILED: {failure}")
    print("== audit")
    print_findings(findings)


def _options(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m tests.soak", description=__doc__.split("\n\n")[0])
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float, help="how long the load runs (default 10)")
    length.add_argument("--seconds", type=float, help="how long the load runs, in seconds")
    parser.add_argument("--seed", type=int, default=1, help="seeds the workload, the carriers' seed, faults and kills")
    parser.add_argument("--workers", type=int, default=3, help="uvicorn workers (default 3)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--fault-rate", type=float, default=0.05, help="share of carrier requests that fail (default 0.05)")
    parser.add_argument("--kill-every", type=float, default=60.0, help="seconds between worker kills (default 60)")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_SERVER,
                        help="PostgreSQL server to create the soak's database on (default TRUNKLINE_TEST_POSTGRES_URL "
                             "or postgres://postgres@127.0.0.1:5432/test)")
    parser.add_argument("--keep-logs", action="store_true", help="keep the server, sandbox and answer logs when it passes too")
    args = parser.parse_args(argv)
    seconds = args.seconds if args.seconds is not None else 60.0 * (args.minutes if args.minutes is not None else 10.0)
    if seconds <= 0 or args.workers < 1 or args.clients < 1 or not 0 <= args.fault_rate < 1 or args.kill_every <= 0:
        parser.error("durations and counts must be positive, and --fault-rate in [0, 1)")
    return Options(
        seconds, args.seed, args.workers, args.clients, args.fault_rate, args.kill_every, args.database_url, args.keep_logs
    )


def main(argv: list[str] | None = None) -> int:
    options = _options(argv)
    log_dir = pathlib.Path(tempfile.mkdtemp(prefix="trunkline-soak-"))
    status = 2
    try:
        status = asyncio.run(soak(options, log_dir))
    except KeyboardInterrupt:
        print("soak: interrupted", file=sys.stderr)
    except Exception:  # the soak itself failed: say how, and keep the logs
        traceback.print_exc()
    if status == 0:
        if options.keep_logs:
            print(f"soak: passed; server, sandbox and answer logs in {log_dir}")
        else:
            shutil.rmtree(log_dir, ignore_errors=True)
            print("soak: passed")
    else:
        print(f"soak: {'FAILED' if status == 1 else 'could not run'}; server and sandbox logs in {log_dir}")
    return status


if __name__ == "__main__":
    sys.exit(main())
