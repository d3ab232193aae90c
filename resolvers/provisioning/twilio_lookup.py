"""Source TWILIO: what the customer's account holds under the number, asked before anything is reserved.

The look-up comes first so that only a caller who proved the credentials and the number learns whether
another workspace holds it; it changes nothing at Twilio, so a failure here leaves nothing to undo.
"""

from __future__ import annotations

from dataclasses import dataclass

from providers.errors import CredentialsRejected, ProviderFailure
from providers.redact import mask_sid
from providers.twilio import CallerId, IncomingNumber
from resolvers.carrier_failure import NOTHING_CHANGED, carrier_failed
from resolvers.outcomes import CarrierFailed, FieldCode, FieldProblem, Invalid
from resolvers.provisioning.concurrently import concurrently
from resolvers.services import Services, TwilioCredentials


@dataclass(frozen=True)
class TwilioHolding:
    """The number as a DID of the account, or else as one of its verified caller IDs."""

    did: IncomingNumber | None
    caller_id: CallerId | None


async def look_up(e164: str, credentials: TwilioCredentials, services: Services) -> TwilioHolding | Invalid | CarrierFailed:
    client = services.twilio_account(credentials)
    try:
        did, caller_id = await concurrently(client.find_incoming_number(e164), client.find_caller_id(e164))
    except CredentialsRejected:
        message = f"Twilio refused the Account SID and Auth Token for {mask_sid(credentials.account_sid)}"
        return Invalid((FieldProblem("twilio.authToken", FieldCode.CREDENTIALS_REJECTED, message),))
    except ProviderFailure as failure:
        return carrier_failed(failure, after=NOTHING_CHANGED)
    if did is None and caller_id is None:
        message = f"{e164} is neither a phone number nor a verified caller ID on Twilio account {mask_sid(credentials.account_sid)}"
        return Invalid((FieldProblem("e164", FieldCode.NOT_OWNED, message),))
    return TwilioHolding(did=did, caller_id=caller_id)
