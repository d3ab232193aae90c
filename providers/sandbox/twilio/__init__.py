"""Stateful emulator of the Twilio REST API that Trunkline uses.

`state` holds the accounts and Twilio's rules on them, `wire` Twilio's JSON shapes, paging and
error bodies, `handlers` the routes with Twilio's auth (an account's auth token, or one of its API
keys). Passwords, auth tokens and API key secrets are stored but never sent back, as at Twilio.
"""

from providers.sandbox.twilio.errors import TwilioError
from providers.sandbox.twilio.handlers import setup_twilio
from providers.sandbox.twilio.state import (
    ApiKey,
    CallerId,
    Credential,
    CredentialList,
    IncomingNumber,
    OriginationUrl,
    StockNumber,
    Trunk,
    TwilioAccount,
    TwilioState,
    friendly_number,
    new_sid,
)

__all__ = [
    "ApiKey",
    "CallerId",
    "Credential",
    "CredentialList",
    "IncomingNumber",
    "OriginationUrl",
    "StockNumber",
    "Trunk",
    "TwilioAccount",
    "TwilioError",
    "TwilioState",
    "friendly_number",
    "new_sid",
    "setup_twilio",
]
