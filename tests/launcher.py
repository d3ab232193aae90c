"""`trunkline` commands for tests, forked from a process that has already imported what they use.

A test that starts `trunkline serve` or runs `trunkline workspace create` gets a process of its own
(its pid, its session, its exit status, its output in a file or a pipe, killed by signals as usual), but
instead of a new interpreter importing aiohttp, Strawberry, Tortoise and the carriers' SDKs each time, it
is forked from a multiprocessing fork server that imported them once per test worker: a fork instead of
about 0.5 s of CPU for a command and 2 s for a server. The command then runs `app.cli.main`, which is
all the `trunkline` script does.

Only modules that read nothing from the environment when imported are preloaded: the metrics
(prometheus_client picks its multi-process mode on import) and everything importing them are imported
by the command itself, after its environment is set, as in a fresh process. `tests/test_cli.py` still
runs the installed script itself for the entry point's own tests.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from multiprocessing import reduction

TRUNKLINE = str(pathlib.Path(sys.executable).with_name("trunkline"))

_PRELOAD = [
    "app.cli",
    "app.cli_admin",
    "models",
    "resolvers",
    "providers.sandbox.app",
    "aiohttp",
    "aiosqlite",
    "asyncpg",
    "cryptography.fernet",
    "graphql",
    "livekit.api",
    "phonenumbers",
    "starlette.applications",
    "strawberry",
    "tortoise.backends.asyncpg",
    "tortoise.backends.sqlite",
    "twilio.http.async_http_client",
    "twilio.rest",
    "uvicorn",
]
_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(_PRELOAD)
_started: list[Launched] = []


def command_arguments(args: Sequence[str]) -> list[str] | None:
    """The arguments after `trunkline` (or `python -m app.cli`), or None for any other program."""
    if args and args[0] == TRUNKLINE:
        return list(args[1:])
    if list(args[:3]) == [sys.executable, "-m", "app.cli"]:
        return list(args[3:])
    return None


class _Fd:
    """A file descriptor handed to the forked command (multiprocessing sends it over the fork server's socket)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __reduce__(self):
        return _received_fd, (reduction.DupFd(self.fd),)


def _received_fd(duplicate) -> int:
    return duplicate.detach()


def _run_command(
    argv: list[str], env: dict[str, str], cwd: str | None, umask: int, stdout: int, stderr: int, new_session: bool
) -> None:
    if new_session:
        os.setsid()
    os.umask(umask)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.environ.clear()
    os.environ.update(env)
    if cwd is not None:
        os.chdir(cwd)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(stdout, 1)
    os.dup2(stderr, 2)
    for received in {stdout, stderr} - {1, 2}:  # the copies multiprocessing handed over: only 1 and 2 stay
        os.close(received)
    sys.argv = [TRUNKLINE, *argv]
    atexit._clear()  # the fork server's own; what the command registers runs when it ends
    try:
        from app.cli import main

        code = main(argv)
    finally:
        atexit._run_exitfuncs()
    sys.exit(code)


class Launched:
    """The subset of subprocess.Popen the tests use."""

    def __init__(self, args: Sequence[str], process, stdout=None) -> None:
        self.args = list(args)
        self._process = process
        self.stdout = stdout

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise subprocess.TimeoutExpired(self.args, timeout)
        return self._process.exitcode

    def send_signal(self, signum: int) -> None:
        if self._process.exitcode is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def launch(
    args: Sequence[str], *, env: Mapping[str, str], stdout: int, stderr: int, cwd=None, new_session: bool = False
) -> Launched:
    """Start `trunkline <args>` writing to the file descriptors given (the caller keeps and closes its own)."""
    argv = command_arguments(args)
    assert argv is not None, f"not a trunkline command: {args}"
    umask = os.umask(0o077)
    os.umask(umask)
    process = _context.Process(
        target=_run_command,
        args=(argv, dict(env), None if cwd is None else str(cwd), umask, _Fd(stdout), _Fd(stderr), new_session),
    )
    process.start()
    launched = Launched(args, process)
    _started[:] = [earlier for earlier in _started if earlier.poll() is None] + [launched]
    return launched


def popen(args: Sequence[str], *, env: Mapping[str, str], cwd=None, stdout=None, stderr=None, text: bool = False, start_new_session: bool = False):
    """subprocess.Popen for a trunkline command (stdout a file, or PIPE; stderr the same, or STDOUT)."""
    pipe = None
    if stdout == subprocess.PIPE:
        read_end, write_end = os.pipe()
        out_fd = write_end
        pipe = os.fdopen(read_end, "r" if text else "rb")
    else:
        out_fd = stdout.fileno() if stdout is not None else 1
    err_fd = out_fd if stderr == subprocess.STDOUT else (stderr.fileno() if stderr is not None else 2)
    try:
        launched = launch(args, env=env, stdout=out_fd, stderr=err_fd, cwd=cwd, new_session=start_new_session)
    finally:
        if pipe is not None:
            os.close(out_fd)
    launched.stdout = pipe
    return launched


def run(args: Sequence[str], *, env: Mapping[str, str] | None = None, cwd=None, timeout: float = 60) -> subprocess.CompletedProcess:
    """subprocess.run(args, capture_output=True, text=True) for a trunkline command."""
    env = os.environ if env is None else env
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        launched = launch(args, env=env, stdout=out.fileno(), stderr=err.fileno(), cwd=cwd)
        try:
            code = launched.wait(timeout)
        except subprocess.TimeoutExpired:
            launched.kill()
            raise
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(list(args), code, out.read().decode(errors="replace"), err.read().decode(errors="replace"))


@atexit.register
def _kill_leftovers() -> None:
    """Before multiprocessing joins its children at exit: none is left running to wait for."""
    for launched in _started:
        launched.kill()
