"""A workspace's record of a Twilio account (its credentials, encrypted) and the one shared trunk row per
account: made by the first import from the account, removed when nothing refers to them any more."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import PhoneNumber, SipTrunk, TwilioAccount, statements
from models.durability import lazily_durable_transaction
from models.enums import SipTrunkDirection, SipTrunkProvider
from providers.redact import mask_sid
from resolvers.provisioning.leases import LeaseBusy
from resolvers.services import Services, TwilioCredentials


async def find_account(workspace_id: str, account_sid: str) -> TwilioAccount | None:
    """The workspace's record of the Twilio account, if an import from it made one."""
    return await statements.first_where(TwilioAccount, workspace_id=workspace_id, account_sid=account_sid)


async def find_shared_trunk(account_id: str) -> SipTrunk | None:
    """The account's shared trunk row, if an import from it made one."""
    return await statements.first_where(SipTrunk, twilio_account_id=account_id)


async def remember_account(
    workspace_id: str, credentials: TwilioCredentials, services: Services, proved_at: datetime | None = None
) -> TwilioAccount:
    """The workspace's record of the account, its credentials replaced by these if Twilio accepted them
    (at `proved_at`, default now) later than it last accepted the stored ones."""
    proved_at = proved_at or datetime.now(UTC)
    for _ in range(5):
        account = await find_account(workspace_id, credentials.account_sid)
        if account is not None:
            break
        try:
            async with in_transaction():
                return await TwilioAccount.create(
                    workspace_id=workspace_id,
                    account_sid=credentials.account_sid,
                    **stored_fields(credentials, services, proved_at),
                )
        except IntegrityError:  # a concurrent import recorded it first (and forget_account_if_unused may remove it again): look again
            continue
    else:
        raise LeaseBusy(f"Twilio account {mask_sid(credentials.account_sid)}")
    if stored_credentials(account, services) != credentials:
        # Newest proof wins, decided by the database: an import whose look-up was sent before a
        # rotateTwilioCredentials (or another import) stored newer credentials leaves those in place, so a
        # rotation is never undone by an import that was already running with the old credentials.
        await TwilioAccount.filter(
            Q(credentials_verified_at__isnull=True) | Q(credentials_verified_at__lt=proved_at), id=account.id
        ).update(**stored_fields(credentials, services, proved_at), updated_at=datetime.now(UTC))
    return account


def stored_fields(credentials: TwilioCredentials, services: Services, proved_at: datetime) -> dict:
    """The TwilioAccount columns that keep `credentials`, Twilio having accepted them at `proved_at`."""
    return {
        "auth_token_encrypted": services.secrets.encrypt(credentials.secret),
        "api_key_sid": credentials.api_key_sid,
        "credentials_verified_at": proved_at,
    }


def stored_credentials(account: TwilioAccount, services: Services) -> TwilioCredentials:
    """The credentials the row keeps; the platform's own account always uses the server's settings."""
    platform = services.platform_twilio
    if platform is not None and account.account_sid == platform.account_sid:
        return platform
    secret = services.secrets.decrypt(account.auth_token_encrypted)
    return TwilioCredentials.stored(account.account_sid, secret, account.api_key_sid)


async def link_account(
    number: PhoneNumber, credentials: TwilioCredentials, services: Services, proved_at: datetime | None = None
) -> TwilioAccount:
    """Record the account on the number; from then on forget_account_if_unused keeps it."""
    for _ in range(5):
        account = await remember_account(number.workspace_id, credentials, services, proved_at)
        try:
            await PhoneNumber.filter(id=number.id).update(twilio_account_id=account.id)
        except IntegrityError:  # removed between our read and our write
            continue
        number.twilio_account_id = account.id
        return account
    raise LeaseBusy(f"Twilio account {mask_sid(credentials.account_sid)}")


async def shared_trunk_for(account: TwilioAccount) -> SipTrunk | None:
    """The one trunk row per Twilio account (None if it was just removed); its carrier side is built
    under its lease."""
    trunk = await find_shared_trunk(account.id)
    if trunk is not None:
        return trunk
    try:
        async with in_transaction():
            return await SipTrunk.create(
                workspace_id=account.workspace_id,
                name=f"Twilio {mask_sid(account.account_sid)}",
                provider=SipTrunkProvider.TWILIO,
                direction=SipTrunkDirection.BOTH,
                twilio_account=account,
            )
    except IntegrityError:  # made concurrently
        return await find_shared_trunk(account.id)


class Linked(NamedTuple):
    account: TwilioAccount
    trunk: SipTrunk
    held: SipTrunk | None  # the trunk's row as leased with the link, when asked for and free


async def link_to_shared_trunk(
    number: PhoneNumber,
    credentials: TwilioCredentials,
    services: Services,
    proved_at: datetime | None = None,
    **columns: object,
) -> Linked:
    """Record the account, its shared trunk and `columns` on the number: in one write once both rows exist,
    which also takes the trunk's lease when no one holds it (the caller adopts it at once: Leases.trunk_in).
    The account's first number is linked to the account before the trunk row is made, so that
    forget_account_if_unused keeps the account meanwhile. A failed import elsewhere may remove an unused
    row between our read and our write; the foreign keys refuse, and we look again. The write is lazily
    durable (models/durability.py): the journal's row for the first carrier call follows it, an ordinary commit."""
    for _ in range(5):
        account = await remember_account(number.workspace_id, credentials, services, proved_at)
        try:
            trunk = await find_shared_trunk(account.id)
            if trunk is None:
                await PhoneNumber.filter(id=number.id).update(twilio_account_id=account.id)
                trunk = await shared_trunk_for(account)
                if trunk is None:
                    continue
            async with lazily_durable_transaction() as connection:
                await PhoneNumber.filter(id=number.id).using_db(connection).update(
                    twilio_account_id=account.id, trunk_id=trunk.id, **columns
                )
                held = await services.leases.trunk_in(trunk.id, connection)
        except IntegrityError:  # the account or the trunk row was removed between our read and our write
            continue
        number.twilio_account_id, number.trunk_id = account.id, trunk.id
        return Linked(account, trunk, held)
    raise LeaseBusy(f"shared trunk of {mask_sid(credentials.account_sid)}")


async def forget_account_if_unused(twilio_account_id: str) -> None:
    """Delete the account's shared-trunk row once it has no numbers and nothing at the carriers,
    then the account (and its encrypted token) once nothing refers to it."""
    trunk = await find_shared_trunk(twilio_account_id)
    if trunk is not None:
        has_carrier_side = any(
            (trunk.twilio_trunk_sid, trunk.twilio_credential_list_sid, trunk.livekit_inbound_trunk_id, trunk.livekit_outbound_trunk_id)
        )
        if has_carrier_side or await PhoneNumber.filter(trunk_id=trunk.id).exists():
            return
        try:
            await trunk.delete()
        except IntegrityError:  # a concurrent import just took the trunk
            return
    if await PhoneNumber.filter(twilio_account_id=twilio_account_id).exists():
        return
    try:
        await TwilioAccount.filter(id=twilio_account_id).delete()
    except IntegrityError:
        return
