"""The sandbox: Twilio and LiveKit emulators in one aiohttp app, with fault injection and a request log.

Control endpoints live under `/__sandbox/`: `faults` and `faults/seed` (see
`providers.sandbox.faults`) and `state`, which returns both emulators' state and the log of
carrier requests (method, path, status; no query strings, headers or bodies, so no secrets),
`twilio/accounts/{sid}/auth_token`, which changes an account's token as its owner would at Twilio, and
`reset`, which puts the sandbox back as it started: its seed, no fault rules, an empty log.
"""

from __future__ import annotations

import copy
from collections import deque
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from providers.sandbox.faults import (
    CONTROL_PREFIX,
    Faults,
    fault_middleware,
    setup_fault_routes,
)
from providers.sandbox.livekit import LiveKitState, setup_livekit
from providers.sandbox.twilio import TwilioState, setup_twilio

REQUEST_LOG_SIZE = 1000

TWILIO_STATE = web.AppKey("twilio_state", TwilioState)
LIVEKIT_STATE = web.AppKey("livekit_state", LiveKitState)
FAULTS = web.AppKey("faults", Faults)
REQUEST_LOG = web.AppKey("request_log", deque)
SEED = web.AppKey("seed", dict)


def _request_log_middleware(log: deque[dict[str, Any]]) -> Middleware:
    def record(entry: dict[str, Any], request: web.Request, status: int) -> None:
        # A dropped connection never carries the status of the reply built for it. This is checked
        # once the answer is ready, so an "after" fault that drops or delays is logged as the client
        # saw it (a client that gave up during the delay also finds the connection gone).
        if request.transport is None or request.transport.is_closing():
            entry["dropped"] = True
        else:
            entry["status"] = status

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(CONTROL_PREFIX):
            return await handler(request)
        entry: dict[str, Any] = {"method": request.method, "path": request.path, "status": None}
        log.append(entry)
        try:
            response = await handler(request)
        except web.HTTPException as error:
            record(entry, request, error.status)
            raise
        record(entry, request, response.status)
        return response

    return middleware


async def _state(request: web.Request) -> web.Response:
    app = request.app
    return web.json_response({
        "twilio": app[TWILIO_STATE].snapshot(),
        "livekit": app[LIVEKIT_STATE].snapshot(),
        "faults": app[FAULTS].snapshot(),
        "requests": list(app[REQUEST_LOG]),
    })


async def _set_auth_token(request: web.Request) -> web.Response:
    """`POST /__sandbox/twilio/accounts/{sid}/auth_token` with `{"auth_token": "<32 hex>"}`: the customer
    rotates the token at Twilio (the old one is refused from then on)."""
    account = request.app[TWILIO_STATE].accounts.get(request.match_info["sid"])
    try:
        token = (await request.json()).get("auth_token")
    except (ValueError, AttributeError):
        token = None
    if account is None:
        return web.json_response({"error": "no such account"}, status=404)
    if not isinstance(token, str) or not token:
        return web.json_response({"error": 'expected a JSON object {"auth_token": "<token>"}'}, status=400)
    account.auth_token = token
    return web.Response(status=204)


def reset_sandbox(app: web.Application) -> None:
    """Back to the seed, with no fault rules (the dice reseeded as at the start) and an empty request log.

    The states are refilled in place: the route handlers hold them."""
    seed = copy.deepcopy(app[SEED])
    vars(app[TWILIO_STATE]).update(vars(TwilioState.from_seed(seed.get("twilio", {}))))
    livekit = app[LIVEKIT_STATE]
    held_elsewhere = livekit.held_elsewhere
    vars(livekit).update(vars(LiveKitState.from_seed(seed.get("livekit", {}))))
    livekit.held_elsewhere = held_elsewhere
    app[FAULTS].reset()
    app[REQUEST_LOG].clear()


async def _reset(request: web.Request) -> web.Response:
    reset_sandbox(request.app)
    return web.Response(status=204)


def create_sandbox_app(seed: dict[str, Any], *, fault_seed: int | None = None) -> web.Application:
    """Build the sandbox from a seed `{"twilio": {...}, "livekit": {...}}`; `fault_seed` seeds the
    dice of fault rules with a `probability`, so a chaos run can be replayed."""
    faults = Faults(fault_seed)
    log: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_SIZE)
    # The log sits outside the faults so that injected answers and drops are logged too.
    app = web.Application(middlewares=[_request_log_middleware(log), fault_middleware(faults)])
    app[SEED] = copy.deepcopy(seed)  # for reset_sandbox
    app[TWILIO_STATE] = TwilioState.from_seed(seed.get("twilio", {}))
    app[LIVEKIT_STATE] = LiveKitState.from_seed(seed.get("livekit", {}))
    # Like the real inventories, LiveKit never offers a number that a Twilio account already holds.
    app[LIVEKIT_STATE].held_elsewhere = app[TWILIO_STATE].held_numbers
    app[FAULTS] = faults
    app[REQUEST_LOG] = log
    setup_twilio(app, app[TWILIO_STATE])
    setup_livekit(app, app[LIVEKIT_STATE])
    setup_fault_routes(app, faults)
    app.router.add_get(CONTROL_PREFIX + "state", _state)
    app.router.add_post(CONTROL_PREFIX + "twilio/accounts/{sid}/auth_token", _set_auth_token)
    app.router.add_post(CONTROL_PREFIX + "reset", _reset)
    return app
