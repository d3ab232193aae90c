"""Carrier clients for the app's lifetime: live carriers, or the sandbox emulators on loopback.

In sandbox mode the emulators run in-process and the same live clients are pointed at them,
so every code path is the one that runs against the real carriers.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from jwt.warnings import InsecureKeyLengthWarning

from app.secret_key import load_secret_box
from app.settings import Settings
from providers.livekit import LiveKitGateway
from providers.retry import RetryPolicy
from providers.twilio import TwilioGateway
from resolvers.provisioning.leases import Leases
from resolvers.services import Services, TwilioCredentials

if TYPE_CHECKING:
    from providers.sandbox.server import RunningSandbox

log = logging.getLogger(__name__)
SANDBOX_SIP_URI = "sip:sandbox.sip.livekit.cloud"


@dataclass(frozen=True)
class Carriers:
    services: Services
    sandbox: RunningSandbox | None  # the in-process emulators, in sandbox mode


@asynccontextmanager
async def carriers(settings: Settings) -> AsyncIterator[Carriers]:
    secrets = load_secret_box(settings)
    sandbox = None
    if settings.is_live:
        twilio_api = settings.twilio_api_base_url
        twilio_trunking = settings.twilio_trunking_base_url
        livekit_url, livekit_key = settings.livekit_url, settings.livekit_api_key
        livekit_secret = str(settings.livekit_api_secret)
        sip_uri = settings.livekit_sip_uri
        platform = _platform(settings.twilio_account_sid, settings.twilio_auth_token)
    else:
        from providers.sandbox.server import load_seed, start_sandbox

        # The sandbox's LiveKit secret is LiveKit's own development default, shorter than pyjwt advises.
        warnings.filterwarnings("ignore", category=InsecureKeyLengthWarning)
        seed = load_seed(settings.sandbox_state)
        if settings.sandbox_url:  # one sandbox shared by several worker processes
            sandbox_url = settings.sandbox_url
        else:
            sandbox = await start_sandbox(seed=seed)
            sandbox_url = sandbox.url
            log.info("sandbox carriers serving on %s", sandbox_url)
        twilio_api = twilio_trunking = livekit_url = sandbox_url
        livekit_key = seed.get("livekit", {}).get("api_key", "devkey")
        livekit_secret = seed.get("livekit", {}).get("api_secret", "secret")
        sip_uri = settings.livekit_sip_uri or SANDBOX_SIP_URI
        platform = _platform(settings.twilio_account_sid, settings.twilio_auth_token) or _sandbox_platform(seed)

    retry = RetryPolicy(base_delay=settings.carrier_retry_base)
    twilio = TwilioGateway(
        api_base_url=twilio_api, trunking_base_url=twilio_trunking, timeout=settings.provider_timeout, retry=retry
    )
    livekit = LiveKitGateway(
        url=livekit_url, api_key=livekit_key, api_secret=livekit_secret, timeout=settings.provider_timeout, retry=retry
    )
    await twilio.start()
    await livekit.start()
    try:
        services = Services(
            twilio=twilio, livekit=livekit, secrets=secrets, livekit_sip_uri=sip_uri, platform_twilio=platform,
            leases=Leases(duration=timedelta(seconds=settings.lease)),
        )
        yield Carriers(services=services, sandbox=sandbox)
    finally:
        await livekit.close()
        await twilio.close()
        if sandbox is not None:
            await sandbox.close()


def _platform(account_sid: str | None, auth_token) -> TwilioCredentials | None:
    return TwilioCredentials(account_sid, str(auth_token)) if account_sid and auth_token else None


def _sandbox_platform(seed: dict) -> TwilioCredentials | None:
    """The sandbox account marked "platform": true, which purchases use when TWILIO_ACCOUNT_SID is unset."""
    for account in seed.get("twilio", {}).get("accounts", []):
        if account.get("platform"):
            return TwilioCredentials(account["sid"], account["auth_token"])
    return None
