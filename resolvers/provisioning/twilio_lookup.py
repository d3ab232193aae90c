"""Source TWILIO: what the customer's account holds under the number, asked before anything is reserved.

The look-up comes first so that only a caller who proved the credentials and the number learns whether
another workspace holds it; it changes nothing at Twilio, so a failure here leaves nothing to undo.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from providers.errors import CredentialsRejected, ProviderFailure
from providers.redact import mask_sid
from providers.twilio import CallerId, IncomingNumber
from resolvers.carrier_failure import NOTHING_CHANGED, carrier_failed
from resolvers.outcomes import CarrierFailed, FieldCode, FieldProblem, Invalid
from resolvers.provisioning.concurrently import concurrently
from resolvers.services import Services, TwilioCredentials


@dataclass(frozen=True)
class TwilioHolding:
    """The number as a DID of the account, or else as one of its verified caller IDs; `proved_at`, when
    the look-up that proved the credentials was sent."""

    did: IncomingNumber | None
    caller_id: CallerId | None
    proved_at: datetime


async def look_up(e164: str, credentials: TwilioCredentials, services: Services) -> TwilioHolding | Invalid | CarrierFailed:
    client = services.twilio_account(credentials)
    proved_at = datetime.now(UTC)
    try:
        did, caller_id = await concurrently(client.find_incoming_number(e164), client.find_caller_id(e164))
    except CredentialsRejected:
        return Invalid((credentials_rejected(credentials, "twilio"),))
    except ProviderFailure as failure:
        return carrier_failed(failure, after=NOTHING_CHANGED)
    if did is None and caller_id is None:
        message = f"{e164} is neither a phone number nor a verified caller ID on Twilio account {mask_sid(credentials.account_sid)}"
        return Invalid((FieldProblem("e164", FieldCode.NOT_OWNED, message),))
    return TwilioHolding(did=did, caller_id=caller_id, proved_at=proved_at)


def credentials_rejected(credentials: TwilioCredentials, prefix: str) -> FieldProblem:
    """Twilio refused credentials the caller gave; the problem names the field of their secret."""
    what = "API key" if credentials.api_key_sid else "Account SID and Auth Token"
    message = f"Twilio refused the {what} for {mask_sid(credentials.account_sid)}"
    return FieldProblem(f"{prefix}.{credentials.secret_field}", FieldCode.CREDENTIALS_REJECTED, message)
