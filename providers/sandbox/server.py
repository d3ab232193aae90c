"""Run the sandbox on a loopback port, in-process (`start_sandbox`) or blocking (`run_sandbox`)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from providers.sandbox.app import (
    FAULTS,
    LIVEKIT_STATE,
    REQUEST_LOG,
    TWILIO_STATE,
    create_sandbox_app,
    reset_sandbox,
)
from providers.sandbox.faults import Faults
from providers.sandbox.livekit import LiveKitState
from providers.sandbox.twilio import TwilioState

STATE_VARIABLE = "TRUNKLINE_SANDBOX_STATE"
DEMO_STATE = Path(__file__).with_name("demo_state.json")

logger = logging.getLogger(__name__)


def load_seed(state_path: str | None, *, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read the seed from `state_path`, else from the file named by TRUNKLINE_SANDBOX_STATE, else the demo."""
    environ = os.environ if environ is None else environ
    path = Path(state_path or environ.get(STATE_VARIABLE) or DEMO_STATE)
    try:
        seed = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"cannot read sandbox state {str(path)!r} ({STATE_VARIABLE}): {error.strerror}") from error
    except json.JSONDecodeError as error:
        raise ValueError(f"sandbox state {str(path)!r} ({STATE_VARIABLE}) is not valid JSON: {error}") from error
    if not isinstance(seed, dict):
        raise ValueError(f"sandbox state {str(path)!r} ({STATE_VARIABLE}) must be a JSON object")
    return seed


@dataclass
class RunningSandbox:
    """A sandbox serving on `url` until `close()`."""

    url: str
    app: web.Application
    runner: web.AppRunner

    @property
    def twilio(self) -> TwilioState:
        return self.app[TWILIO_STATE]

    @property
    def livekit(self) -> LiveKitState:
        return self.app[LIVEKIT_STATE]

    @property
    def faults(self) -> Faults:
        return self.app[FAULTS]

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The carrier requests served so far: method, path, status."""
        return list(self.app[REQUEST_LOG])

    def reset(self) -> None:
        """Back to the seed, with no fault rules and an empty request log (`POST /__sandbox/reset`)."""
        reset_sandbox(self.app)

    async def close(self) -> None:
        await self.runner.cleanup()


async def start_sandbox(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    state_path: str | None = None,
    seed: dict[str, Any] | None = None,
    fault_seed: int | None = None,
) -> RunningSandbox:
    """Serve the sandbox in the running loop; port 0 picks a free one. `seed` skips reading a file."""
    app = create_sandbox_app(seed if seed is not None else load_seed(state_path), fault_seed=fault_seed)
    # In-flight requests (a delay fault, say) get a short grace period at close, not a minute.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        raise
    bound_host, bound_port = runner.addresses[0][:2]
    return RunningSandbox(url=f"http://{_url_host(bound_host)}:{bound_port}", app=app, runner=runner)


def run_sandbox(
    host: str = "127.0.0.1", port: int = 8790, state_path: str | None = None, fault_seed: int | None = None
) -> None:
    """Serve the sandbox until interrupted; `fault_seed` makes fault probabilities replayable."""
    app = create_sandbox_app(load_seed(state_path), fault_seed=fault_seed)
    web.run_app(app, host=host, port=port, print=logger.info, access_log=None)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
