"""The SQLite database (with its journal files) and the sandbox's key file are readable by their owner
only, whatever the umask: they hold the stored carrier secrets and the key that opens them."""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess

from tests.serve_sqlite import serving
from tests.server_processes import TRUNKLINE, clean_environment


@contextlib.contextmanager
def permissive_umask():
    """Processes started inside inherit umask 000: files are as open as their makers ask."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def modes(folder) -> dict[str, int]:
    return {path.name: stat.S_IMODE(path.stat().st_mode) for path in folder.iterdir() if "sqlite3" in path.name}


def test_trunkline_migrate_makes_a_private_database(tmp_path):
    with permissive_umask():
        result = subprocess.run(
            [TRUNKLINE, "migrate"],
            env=clean_environment(TRUNKLINE_DATABASE_URL=f"sqlite://{tmp_path}/trunkline.sqlite3"),
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert result.returncode == 0, result.stderr
    assert modes(tmp_path) and set(modes(tmp_path).values()) == {0o600}, modes(tmp_path)


def test_trunkline_serve_makes_a_private_database_journal_and_key_file(tmp_path):
    with permissive_umask(), serving(tmp_path):
        while_serving = modes(tmp_path)

    assert {"trunkline.sqlite3", "trunkline.sqlite3.key"} <= set(while_serving)
    assert set(while_serving.values()) == {0o600}, while_serving


def test_an_existing_database_is_left_as_it_is(tmp_path):
    database = tmp_path / "trunkline.sqlite3"
    database.touch(mode=0o640)
    database.chmod(0o640)

    result = subprocess.run(
        [TRUNKLINE, "migrate"],
        env=clean_environment(TRUNKLINE_DATABASE_URL=f"sqlite://{database}"),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(database.stat().st_mode) == 0o640
