"""Liveness and readiness probes for load balancers and orchestrators."""

import asyncio
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse
from tortoise import connections

log = logging.getLogger(__name__)
READINESS_TIMEOUT = 2.0


async def healthz(_request: Request) -> JSONResponse:
    """The process is up and serving."""
    return JSONResponse({"status": "ok"})


async def readyz(_request: Request) -> JSONResponse:
    """The database answers a query in time."""
    try:
        await asyncio.wait_for(connections.get("default").execute_query("SELECT 1"), READINESS_TIMEOUT)
    except Exception as exc:  # any failure means not ready; the reason goes to the log, not the probe
        log.warning("readiness check failed: %s", type(exc).__name__)
        return JSONResponse({"status": "unavailable", "reason": "database unreachable"}, status_code=503)
    return JSONResponse({"status": "ok"})
