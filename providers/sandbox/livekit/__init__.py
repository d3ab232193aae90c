"""Stateful emulator of LiveKit's Twirp API: SIP trunks, dispatch rules and phone numbers.

`state` holds the project and the rules on its numbers, `sip_rules` LiveKit's checks on trunks and
dispatch rules, `wire` the Twirp error bodies, JSON shapes and paging, `sip_methods` and
`number_methods` the two services' methods, `handlers` the routes with LiveKit's token auth.
Auth, validation and error bodies follow LiveKit's server (see docs/carriers.md).
"""

from providers.sandbox.livekit.errors import TwirpError
from providers.sandbox.livekit.handlers import authorize, setup_livekit
from providers.sandbox.livekit.state import (
    AREA_CODES,
    LiveKitState,
    OfferedNumber,
    PhoneNumberRecord,
    new_id,
    normalize_number,
)

__all__ = [
    "AREA_CODES",
    "LiveKitState",
    "OfferedNumber",
    "PhoneNumberRecord",
    "TwirpError",
    "authorize",
    "new_id",
    "normalize_number",
    "setup_livekit",
]
