"""Twilio operations on one account: numbers, caller IDs and Elastic SIP trunks.

Each operation is one SDK call (or a few) sent through the account's `AccountTransport`; what it
sends and how it reads the answer is here, how it travels and fails is in `transport`.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from twilio.base import values
from twilio.rest import Client

from providers.errors import Rejected
from providers.retry import RetryPolicy
from providers.twilio.transport import AccountTransport

DOMAIN_TAKEN = "21248"
DOMAIN_ATTEMPTS = 5


@dataclass(frozen=True)
class IncomingNumber:
    """A number the account holds; `trunk_sid` is set when it is already on a trunk."""

    sid: str
    phone_number: str
    trunk_sid: str | None


@dataclass(frozen=True)
class CallerId:
    """A verified outgoing caller ID of the account."""

    sid: str
    phone_number: str


@dataclass(frozen=True)
class Trunk:
    """An Elastic SIP trunk; `domain_name` is its termination host."""

    sid: str
    domain_name: str


@dataclass(frozen=True)
class OriginationUrl:
    """Where a trunk sends its inbound calls."""

    sid: str
    sip_url: str
    enabled: bool


@dataclass(frozen=True)
class Named:
    """A trunk or credential list of the account, by its friendly name (`trunkline doctor` looks for ours)."""

    sid: str
    friendly_name: str


@dataclass(frozen=True)
class AvailableNumber:
    """A number on offer to buy."""

    phone_number: str
    locality: str | None
    region: str | None


class TwilioAccountClient:
    """Twilio operations on one account. Deletes of something already gone succeed."""

    __slots__ = ("_client", "_transport")

    def __init__(self, client: Client, account_sid: str, secret: str, *, timeout: float, retry: RetryPolicy):
        self._client = client
        self._transport = AccountTransport(account_sid, secret, timeout=timeout, retry=retry)

    def __repr__(self) -> str:
        return f"<TwilioAccountClient {self.masked_sid}>"

    @property
    def masked_sid(self) -> str:
        return self._transport.masked_sid

    async def check_credentials(self) -> None:
        """Raise CredentialsRejected unless Twilio accepts the credentials: one page of one
        IncomingPhoneNumber, a read a Standard API key may make (it may not read the Account itself)."""
        await self._transport.call(
            "check credentials",
            lambda: self._client.incoming_phone_numbers.page_async(page_size=1),
            idempotent=True,
        )

    async def find_incoming_number(self, e164: str) -> IncomingNumber | None:
        """The account's IncomingPhoneNumber equal to `e164`, or None."""
        record = await self._find_by_number(
            "look up IncomingPhoneNumbers",
            lambda: self._client.incoming_phone_numbers.list_async(phone_number=e164),
            e164,
        )
        return None if record is None else _incoming(record)

    async def find_caller_id(self, e164: str) -> CallerId | None:
        """The account's verified OutgoingCallerId equal to `e164`, or None."""
        record = await self._find_by_number(
            "look up OutgoingCallerIds",
            lambda: self._client.outgoing_caller_ids.list_async(phone_number=e164),
            e164,
        )
        return None if record is None else CallerId(record.sid, record.phone_number)

    async def create_trunk(self, friendly_name: str, domain_name: str | None = None) -> Trunk:
        """Create an Elastic SIP trunk under `domain_name` (a trunk rebuilt keeps the domain LiveKit calls),
        or a fresh random `*.pstn.twilio.com` domain.

        Domains are global at Twilio, so a taken one (21248) is retried with a random one.
        """
        attempts_left = DOMAIN_ATTEMPTS
        wanted = domain_name
        while True:
            attempts_left -= 1
            domain_name, wanted = wanted or f"trunkline-{secrets.token_hex(6)}.pstn.twilio.com", None
            try:
                record = await self._transport.call(
                    "create Trunk",
                    lambda: self._client.trunking.v1.trunks.create_async(
                        friendly_name=friendly_name, domain_name=domain_name
                    ),
                    idempotent=False,
                )
            except Rejected as failure:
                if failure.code != DOMAIN_TAKEN or attempts_left == 0:
                    raise
                continue
            return Trunk(record.sid, record.domain_name)

    async def add_origination_url(self, trunk_sid: str, sip_url: str, friendly_name: str) -> str:
        """Point the trunk's inbound calls at `sip_url`; returns the OriginationUrl SID."""
        record = await self._transport.call(
            "create OriginationUrl",
            lambda: self._client.trunking.v1.trunks(trunk_sid).origination_urls.create_async(
                weight=1, priority=1, enabled=True, friendly_name=friendly_name, sip_url=sip_url
            ),
            idempotent=False,
        )
        return record.sid

    async def create_credential_list(self, friendly_name: str) -> str:
        """Create an empty CredentialList; returns its SID."""
        credential_lists = self._client.sip.credential_lists
        record = await self._transport.call(
            "create CredentialList",
            lambda: credential_lists.create_async(friendly_name=friendly_name),
            idempotent=False,
        )
        return record.sid

    async def add_credential(self, cl_sid: str, username: str, password: str) -> None:
        """Put a username and password in the CredentialList (the password never reaches a log or an error)."""
        credential_lists = self._client.sip.credential_lists
        await self._transport.call(
            "create Credential",
            lambda: credential_lists(cl_sid).credentials.create_async(username=username, password=password),
            idempotent=False,
            secret=password,
        )

    async def attach_credential_list(self, trunk_sid: str, cl_sid: str) -> None:
        """Require the credential list's credentials for calls out through the trunk."""
        await self._transport.call(
            "attach CredentialList to Trunk",
            lambda: self._client.trunking.v1.trunks(trunk_sid).credentials_lists.create_async(
                credential_list_sid=cl_sid
            ),
            idempotent=False,
        )

    async def delete_credential_list(self, cl_sid: str) -> None:
        await self._transport.delete(
            "delete CredentialList", lambda: self._client.sip.credential_lists(cl_sid).delete_async()
        )

    async def attach_number(self, trunk_sid: str, number_sid: str) -> None:
        """Route the IncomingPhoneNumber `number_sid` through the trunk."""
        await self._transport.call(
            "attach PhoneNumber to Trunk",
            lambda: self._client.trunking.v1.trunks(trunk_sid).phone_numbers.create_async(
                phone_number_sid=number_sid
            ),
            idempotent=False,
        )

    async def detach_number(self, trunk_sid: str, number_sid: str) -> None:
        await self._transport.delete(
            "detach PhoneNumber from Trunk",
            lambda: self._client.trunking.v1.trunks(trunk_sid).phone_numbers(number_sid).delete_async(),
        )

    async def delete_trunk(self, trunk_sid: str) -> None:
        await self._transport.delete(
            "delete Trunk", lambda: self._client.trunking.v1.trunks(trunk_sid).delete_async()
        )

    async def find_trunk_sids(self, friendly_name: str) -> list[str]:
        """SIDs of the account's trunks called `friendly_name` (to recover a create whose answer never came)."""
        return [trunk.sid for trunk in await self.list_trunks() if trunk.friendly_name == friendly_name]

    async def find_credential_list_sids(self, friendly_name: str) -> list[str]:
        """SIDs of the account's credential lists called `friendly_name`."""
        return [cl.sid for cl in await self.list_credential_lists() if cl.friendly_name == friendly_name]

    # --- reads, for the health check and `trunkline doctor` --------------------------------------

    async def get_incoming_number(self, number_sid: str) -> IncomingNumber:
        """The account's IncomingPhoneNumber; NotFound once the account no longer holds it."""
        record = await self._transport.call(
            "fetch IncomingPhoneNumber",
            lambda: self._client.incoming_phone_numbers(number_sid).fetch_async(),
            idempotent=True,
        )
        return _incoming(record)

    async def get_trunk(self, trunk_sid: str) -> Trunk:
        record = await self._transport.call(
            "fetch Trunk", lambda: self._client.trunking.v1.trunks(trunk_sid).fetch_async(), idempotent=True
        )
        return Trunk(record.sid, record.domain_name)

    async def origination_urls(self, trunk_sid: str) -> list[OriginationUrl]:
        records = await self._transport.call(
            "list OriginationUrls",
            lambda: self._client.trunking.v1.trunks(trunk_sid).origination_urls.list_async(),
            idempotent=True,
        )
        return [OriginationUrl(r.sid, r.sip_url, bool(r.enabled)) for r in records]

    async def update_origination_url(self, trunk_sid: str, url_sid: str, sip_url: str) -> None:
        """Point the origination URL at `sip_url` again, enabled."""
        await self._transport.call(
            "update OriginationUrl",
            lambda: self._client.trunking.v1.trunks(trunk_sid).origination_urls(url_sid).update_async(
                sip_url=sip_url, enabled=True
            ),
            idempotent=True,
        )

    async def get_credential_list(self, cl_sid: str) -> Named:
        record = await self._transport.call(
            "fetch CredentialList", lambda: self._client.sip.credential_lists(cl_sid).fetch_async(), idempotent=True
        )
        return Named(record.sid, record.friendly_name)

    async def trunk_credential_list_sids(self, trunk_sid: str) -> list[str]:
        """The credential lists attached to the trunk."""
        records = await self._transport.call(
            "list Trunk CredentialLists",
            lambda: self._client.trunking.v1.trunks(trunk_sid).credentials_lists.list_async(),
            idempotent=True,
        )
        return [record.sid for record in records]

    async def list_trunks(self) -> list[Named]:
        records = await self._transport.call(
            "list Trunks", lambda: self._client.trunking.v1.trunks.list_async(), idempotent=True
        )
        return [Named(record.sid, record.friendly_name) for record in records]

    async def list_credential_lists(self) -> list[Named]:
        records = await self._transport.call(
            "list CredentialLists", lambda: self._client.sip.credential_lists.list_async(), idempotent=True
        )
        return [Named(record.sid, record.friendly_name) for record in records]

    async def search_available_numbers(self, area_code: str | None, limit: int) -> list[AvailableNumber]:
        """US local numbers the account could buy, optionally in one area code."""
        records = await self._transport.call(
            "search AvailablePhoneNumbers",
            lambda: self._client.available_phone_numbers("US").local.list_async(
                area_code=area_code if area_code else values.unset, limit=limit
            ),
            idempotent=True,
        )
        return [AvailableNumber(r.phone_number, r.locality, r.region) for r in records]

    async def buy_number(self, e164: str) -> IncomingNumber:
        """Buy `e164` onto the account."""
        record = await self._transport.call(
            "buy IncomingPhoneNumber",
            lambda: self._client.incoming_phone_numbers.create_async(phone_number=e164),
            idempotent=False,
        )
        return _incoming(record)

    async def release_number(self, number_sid: str) -> None:
        await self._transport.delete(
            "release IncomingPhoneNumber", lambda: self._client.incoming_phone_numbers(number_sid).delete_async()
        )

    async def _find_by_number(self, describe: str, listing: Callable[[], Awaitable[list[Any]]], e164: str) -> Any:
        """The listed record whose `phone_number` is `e164`, or None."""
        # Twilio's PhoneNumber filter matches partially, so the exact number is picked here.
        records = await self._transport.call(describe, listing, idempotent=True)
        return next((record for record in records if record.phone_number == e164), None)



def _incoming(record: Any) -> IncomingNumber:
    return IncomingNumber(record.sid, record.phone_number, record.trunk_sid)
