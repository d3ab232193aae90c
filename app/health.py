"""Liveness and readiness probes for load balancers and orchestrators."""

import asyncio
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse
from tortoise import connections

from app.db import pending_migrations

log = logging.getLogger(__name__)
READINESS_TIMEOUT = 2.0


async def healthz(_request: Request) -> JSONResponse:
    """The process is up and serving."""
    return JSONResponse({"status": "ok"})


async def readyz(_request: Request) -> JSONResponse:
    """The database answers in time and has every migration this code needs."""
    try:
        pending = await asyncio.wait_for(pending_migrations(connections.get("default")), READINESS_TIMEOUT)
    except Exception as exc:  # any failure means not ready; the reason goes to the log, not the probe
        log.warning("readiness check failed: %s", type(exc).__name__)
        return JSONResponse({"status": "unavailable", "reason": "database unreachable"}, status_code=503)
    if pending:
        log.warning("readiness check failed: %d migrations pending; run trunkline migrate", len(pending))
        return JSONResponse({"status": "unavailable", "reason": "migrations pending"}, status_code=503)
    return JSONResponse({"status": "ok"})
