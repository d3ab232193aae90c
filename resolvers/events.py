"""Lifecycle events of phone numbers, written in the same transaction as the change they describe.

The outbox (models/events.py) is what webhooks are delivered from and what subscriptions are fed from.
On PostgreSQL, each event is also announced with NOTIFY on EVENTS_CHANNEL, which PostgreSQL sends when
(and only if) the transaction commits, so listeners in every process learn of it at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models import PhoneNumber, PhoneNumberEvent, PhoneNumberEventType, statements

EVENTS_CHANNEL = "trunkline_phone_number_events"


def number_data(number: PhoneNumber) -> dict[str, Any]:
    """The number as an event carries it (the webhook payload's data.phone_number)."""
    return {
        "id": number.id,
        "e164": number.e164,
        "source": number.source.value,
        "status": number.status.value,
        "capabilities": list(number.capabilities or []),
        "label": number.label,
        "agent_id": number.agent_id,
        "trunk_id": number.trunk_id,
    }


async def record(kind: PhoneNumberEventType, number: PhoneNumber, connection: BaseDBAsyncClient) -> PhoneNumberEvent:
    """Write the event inside the caller's transaction."""
    event = await PhoneNumberEvent.create(
        workspace_id=number.workspace_id, type=kind, phone_number_id=number.id, number=number_data(number),
        using_db=connection,
    )
    if connection.capabilities.dialect == "postgres":
        await connection.execute_query("SELECT pg_notify($1, $2)", [EVENTS_CHANNEL, event.id])
    return event


async def update_recorded(
    number_id: str, kind: PhoneNumberEventType = PhoneNumberEventType.UPDATED, *, unless: dict[str, Any] | None = None,
    also: Callable[[BaseDBAsyncClient], Awaitable[None]] | None = None, **changes: Any,
) -> PhoneNumber | None:
    """Change the number's row and record the event in one transaction; None when no row matched
    (`unless`: fields whose value leaves the row alone, e.g. a status; `also`: more writes for the transaction)."""
    async with in_transaction() as connection:
        number = await statements.update_returning(PhoneNumber, number_id, changes, connection, unless=unless)
        if number is None:
            return None
        await record(kind, number, connection)
        if also is not None:
            await also(connection)
        return number


async def delete_recorded(number: PhoneNumber, kind: PhoneNumberEventType, **only_if: Any) -> bool:
    """Delete the number's row and record the event (carrying the row as it was) in one transaction;
    False when no row matched."""
    async with in_transaction() as connection:
        deleted = await PhoneNumber.filter(id=number.id, **only_if).using_db(connection).delete()
        if deleted:
            await record(kind, number, connection)
        return bool(deleted)
