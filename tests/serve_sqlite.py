"""`trunkline serve` as a real process on a SQLite file, with the sandbox carriers (started in it, or
in one process beside it with --workers), for tests of what happens on the wire."""

from __future__ import annotations

import contextlib
import pathlib
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

from tests.server_processes import TRUNKLINE, Process, clean_environment, free_port, start_process


@dataclass
class Served:
    process: Process
    port: int
    database_url: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.popen.pid


@contextlib.contextmanager
def serving(folder: pathlib.Path, *, workers: int = 1, **settings: str) -> Iterator[Served]:
    """The server, answering /healthz; stopped (and every process it started) at the end."""
    folder.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite://{folder}/trunkline.sqlite3"
    port = free_port()
    env = clean_environment(TRUNKLINE_DATABASE_URL=database_url, **settings)
    process = start_process(
        [TRUNKLINE, "serve", "--port", str(port), "--workers", str(workers)], env, folder / f"serve-{port}.log"
    )
    try:
        _wait_until_started(process, f"http://127.0.0.1:{port}/healthz", workers)
        yield Served(process, port, database_url)
    finally:
        process.stop()


def _wait_until_started(process: Process, url: str, workers: int, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise AssertionError(f"trunkline serve exited with {process.popen.returncode}:\n{process.log()}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            if process.log().count("Application startup complete.") >= workers:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"trunkline serve did not answer {url} within {seconds} s:\n{process.log()}")
