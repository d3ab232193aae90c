"""Twilio client: numbers, caller IDs and Elastic SIP trunks on a customer's account.

One `TwilioGateway` owns the shared HTTP client; `gateway.account(sid, token)` gives a
`TwilioAccountClient` for one set of credentials. Every call has a timeout, is retried where
safe, and fails only with the exceptions of `providers.errors`.

Layout: `transport` sends a request and maps its failure (HTTP client, timeouts, retries, the SDK's
error shapes); `operations` holds what each call sends and returns; `gateway` ties them together.
"""

from providers.redact import mask_sid
from providers.twilio.gateway import TwilioGateway
from providers.twilio.operations import (
    AvailableNumber,
    CallerId,
    IncomingNumber,
    Named,
    OriginationUrl,
    Trunk,
    TwilioAccountClient,
)

__all__ = [
    "AvailableNumber",
    "CallerId",
    "IncomingNumber",
    "Named",
    "OriginationUrl",
    "Trunk",
    "TwilioAccountClient",
    "TwilioGateway",
    "mask_sid",
]
