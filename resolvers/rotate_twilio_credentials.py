"""rotateTwilioCredentials: the current credentials of a Twilio account the workspace's numbers use, proved
with Twilio before anything is stored, replace the stored ones for every later operation on those numbers.

An import running meanwhile with the old credentials does not undo the rotation: an import replaces stored
credentials only with ones Twilio accepted later than it accepted the stored ones (twilio_account.remember_account).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from models import PhoneNumber, TwilioAccount
from providers.errors import CredentialsRejected, ProviderFailure
from providers.redact import mask_sid
from resolvers.carrier_failure import carrier_failed
from resolvers.outcomes import CarrierFailed, FieldCode, FieldProblem, Invalid, Missing
from resolvers.provisioning.twilio_account import find_account, stored_fields
from resolvers.provisioning.twilio_lookup import credentials_rejected
from resolvers.services import Services, TwilioCredentials
from resolvers.validation import check_twilio_credentials

FIELD = "credentials"


@dataclass(frozen=True)
class Rotated:
    account_sid: str
    phone_number_count: int  # the workspace's numbers that now use the new credentials


async def rotate_twilio_credentials(
    workspace_id: str, credentials: TwilioCredentials, services: Services
) -> Rotated | Invalid | Missing | CarrierFailed:
    problems = check_twilio_credentials(
        credentials.account_sid,
        credentials.auth_token,
        FIELD,
        api_key_sid=credentials.api_key_sid,
        api_key_secret=credentials.api_key_secret,
    )
    if problems:
        return Invalid(problems)
    account = await find_account(workspace_id, credentials.account_sid)
    if account is None or not await PhoneNumber.exists(twilio_account_id=account.id):
        return _no_numbers(credentials.account_sid)
    platform = services.platform_twilio
    if platform is not None and credentials.account_sid == platform.account_sid:
        message = "numbers bought with purchasePhoneNumber use the platform's Twilio account, whose credentials the server manages"
        return Invalid((FieldProblem(f"{FIELD}.accountSid", FieldCode.NOT_ALLOWED, message),))
    # Proved with a read a Standard API key may make, before anything is stored.
    proved_at = datetime.now(UTC)
    try:
        await services.twilio_account(credentials).check_credentials()
    except CredentialsRejected:
        return Invalid((credentials_rejected(credentials, FIELD),))
    except ProviderFailure as failure:
        return carrier_failed(failure)
    # Unconditional: the rotation is what the workspace asked for now, whatever an import stored meanwhile.
    fields = stored_fields(credentials, services, proved_at)
    if not await TwilioAccount.filter(id=account.id).update(**fields, updated_at=datetime.now(UTC)):
        return _no_numbers(credentials.account_sid)  # its last number was deleted meanwhile
    count = await PhoneNumber.filter(twilio_account_id=account.id).count()
    return Rotated(account_sid=credentials.account_sid, phone_number_count=count)


def _no_numbers(account_sid: str) -> Missing:
    return Missing(account_sid, f"No number of this workspace uses Twilio account {mask_sid(account_sid)}.")
