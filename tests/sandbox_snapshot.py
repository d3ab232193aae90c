"""What exists, at both carriers and in our database, as plain data that two moments can be compared by.

Request logs and timestamps are left out. LiveKit keeps a released number as a RELEASED record, so
only numbers still held count as existing.
"""

from __future__ import annotations

from typing import Any

from models import CarrierStep, PhoneNumber, SipTrunk, TwilioAccount
from providers.sandbox.server import RunningSandbox

TIMESTAMPS = frozenset({"created_at", "updated_at", "assigned_at", "released_at", "date_created", "date_updated"})
RELEASED = "PHONE_NUMBER_STATUS_RELEASED"
TABLES = {"phone_number": PhoneNumber, "sip_trunk": SipTrunk, "twilio_account": TwilioAccount, "carrier_step": CarrierStep}


def without_timestamps(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: without_timestamps(item) for key, item in value.items() if key not in TIMESTAMPS}
    if isinstance(value, list):
        return [without_timestamps(item) for item in value]
    return value


def comparable_carriers(twilio: dict[str, Any], livekit: dict[str, Any]) -> dict[str, Any]:
    """Both emulators' snapshots (in-process or from a standalone sandbox's /__sandbox/state) as two
    moments compare them: without timestamps, and only the LiveKit numbers still held."""
    held = {number_id: number for number_id, number in livekit["phone_numbers"].items() if number["status"] != RELEASED}
    return without_timestamps({"twilio": twilio, "livekit": {**livekit, "phone_numbers": held}})


def carrier_state(sandbox: RunningSandbox) -> dict[str, Any]:
    """Twilio accounts (numbers with their trunk_sid, trunks, origination URLs, credential lists) and
    the LiveKit project (trunks with their numbers, dispatch rules, held phone numbers)."""
    return comparable_carriers(sandbox.twilio.snapshot(), sandbox.livekit.snapshot())


async def database_state() -> dict[str, list[dict[str, Any]]]:
    """Every row of the tables an import writes, in id order, without timestamps."""
    return {
        table: without_timestamps(await model.all().order_by("id").values())
        for table, model in TABLES.items()
    }


async def what_exists(sandbox: RunningSandbox) -> dict[str, Any]:
    return {"carriers": carrier_state(sandbox), "database": await database_state()}


def holdings_of(sandbox: RunningSandbox, e164: str) -> dict[str, int]:
    """How many times each carrier holds `e164`: bought at LiveKit, on LiveKit trunks, on Twilio trunks."""
    twilio_on_trunks = sum(
        1
        for account in sandbox.twilio.accounts.values()
        for number in account.incoming_phone_numbers.values()
        if number.phone_number == e164 and number.trunk_sid
    )
    livekit = sandbox.livekit
    return {
        "livekit_numbers": sum(1 for record in livekit.phone_numbers.values() if record.is_held and record.e164 == e164),
        "livekit_inbound_trunks": sum(1 for trunk in livekit.inbound_trunks.values() if e164 in trunk.numbers),
        "livekit_outbound_trunks": sum(1 for trunk in livekit.outbound_trunks.values() if e164 in trunk.numbers),
        "twilio_trunks": twilio_on_trunks,
    }
