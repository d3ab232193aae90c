"""Counts the SQL statements a benchmarked server sends, for bench/server_bench.py (never imported by Trunkline).

bench/server_bench.py puts this folder on the server's PYTHONPATH with TRUNKLINE_BENCH_SQL_COUNT set
to a file path. Every statement that goes through aiosqlite or asyncpg adds one to a counter (an
integer increment, nothing else, so the measurements around it are not disturbed); on SIGUSR2 the
process writes the count to `<path>.<pid>`. The benchmark reads it before and after a request. A read
SQLite answers at once on the event loop's thread (app/sqlite_engine.py's read_now) counts too.
"""

import os
import signal

_PATH = os.environ.get("TRUNKLINE_BENCH_SQL_COUNT")
_count = [0]


def _counting(cls, name):
    original = getattr(cls, name, None)
    if original is None:
        return

    def wrapper(self, *args, **kwargs):
        _count[0] += 1
        return original(self, *args, **kwargs)

    wrapper.__wrapped__ = original
    setattr(cls, name, wrapper)


def _dump(signum, frame):
    with open(f"{_PATH}.{os.getpid()}", "w") as out:
        out.write(str(_count[0]))


if _PATH:
    try:
        import aiosqlite

        for _name in ("execute", "execute_insert", "execute_fetchall", "executemany", "executescript"):
            _counting(aiosqlite.Connection, _name)
    except ImportError:
        pass
    try:
        import asyncpg.connection

        for _name in ("execute", "executemany", "fetch", "fetchrow", "fetchval"):
            _counting(asyncpg.connection.Connection, _name)
    except ImportError:
        pass
    try:
        import app.sqlite_engine

        _counting(app.sqlite_engine.Client, "read_now")
    except ImportError:
        pass
    signal.signal(signal.SIGUSR2, _dump)
