"""LiveKit client: SIP trunks and dispatch rules (through livekit-api) and phone numbers (Twirp JSON).

LiveKit's PhoneNumberService has no Python client, so it is called over its Twirp JSON endpoints
with a `sip.admin` token. Every call has a timeout, is retried where safe, and fails only with the
exceptions of `providers.errors`. Deleting or releasing something already gone succeeds, so undo
steps can be repeated. A 429's Retry-After is honoured on the requests sent here directly; the SDK's
errors carry no headers, so its calls back off on the retry policy alone.

Layout, as livekit-api splits `twirp_client` from `sip_service`: `transport` sends a request and maps
its failure (SDK client and session, our own Twirp requests, timeouts, retries, Twirp error codes);
`operations` holds `LiveKitGateway`, what each call sends and how its answer is read.
"""

from providers.livekit.operations import (
    AvailableNumber,
    DispatchRule,
    InboundTrunk,
    LiveKitGateway,
    LiveKitNumber,
    OutboundTrunk,
)
from providers.livekit.transport import failure_kind, http_base

__all__ = [
    "AvailableNumber",
    "DispatchRule",
    "InboundTrunk",
    "LiveKitGateway",
    "LiveKitNumber",
    "OutboundTrunk",
    "failure_kind",
    "http_base",
]
