"""The directory several workers' metrics share, made before prometheus_client is first imported (app/metrics.py)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"


def prepare_worker_metrics(workers: int) -> None:
    """For several workers: a fresh shared directory for their counts, removed when the server exits."""
    if workers <= 1:
        return
    directory = tempfile.mkdtemp(prefix="trunkline-metrics-")
    os.environ[MULTIPROC_DIR] = directory
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
