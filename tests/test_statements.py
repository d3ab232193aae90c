"""The statements written out in SQL (models/statements.py) answer what the ORM answers, on both databases."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from tortoise import connections
from tortoise.exceptions import DoesNotExist
from tortoise.transactions import in_transaction

from models import PhoneNumber, SipTrunk, TwilioAccount, statements
from models.enums import PhoneNumberCapability, PhoneNumberSource, PhoneNumberStatus
from resolvers.provisioning.leases import LeaseBusy, Leases, give_up, given_up
from resolvers.provisioning.reservation import reserve_number
from resolvers.provisioning.twilio_account import link_to_shared_trunk
from resolvers.services import TwilioCredentials
from resolvers.workspaces import count_slot_holders, create_workspace, locked_workspace
from tests.factories import add_agent, add_phone_number, add_sip_trunk


def _fields(row) -> dict:
    return {name: getattr(row, name) for name in type(row)._meta.fields_db_projection}


async def test_an_update_returns_the_row_as_the_orm_reads_it_values_and_types_alike(app):
    workspace = await create_workspace("Acme", 10)
    agent = await add_agent(workspace)
    number = await add_phone_number(workspace, "+14155550100", label="old")
    stamp = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    changes = {
        "status": PhoneNumberStatus.RELEASING, "capabilities": [PhoneNumberCapability.INBOUND.value],
        "label": None, "agent_id": agent.id, "updated_at": stamp, "lease_expires_at": stamp + timedelta(hours=1),
    }

    async with in_transaction() as connection:
        updated = await statements.update_returning(PhoneNumber, number.id, changes, connection)

    read = await PhoneNumber.get(id=number.id)
    assert _fields(updated) == _fields(read)
    assert {name: type(value) for name, value in _fields(updated).items()} == {
        name: type(value) for name, value in _fields(read).items()
    }
    assert (read.status, read.capabilities, read.label, read.agent_id, read.updated_at) == (
        PhoneNumberStatus.RELEASING, ["INBOUND"], None, agent.id, stamp,
    )


async def test_an_update_leaves_a_row_holding_an_unless_value_alone_and_answers_none(app):
    workspace = await create_workspace("Acme", 10)
    number = await add_phone_number(workspace, "+14155550100", status=PhoneNumberStatus.RELEASING, label="kept")
    connection = connections.get("default")

    left = await statements.update_returning(
        PhoneNumber, number.id, {"label": "new"}, connection, unless={"status": PhoneNumberStatus.RELEASING}
    )
    missing = await statements.update_returning(PhoneNumber, "phone_01M8MM42H1F7C1JDYWD6X02J81", {"label": "x"}, connection)

    assert (left, missing) == (None, None)
    assert (await PhoneNumber.get(id=number.id)).label == "kept"


async def test_slot_holders_are_counted_in_every_status_and_per_workspace(app):
    workspace, other = await create_workspace("Acme", 10), await create_workspace("Other", 10)
    for e164, status in (("+14155550100", PhoneNumberStatus.PROVISIONING), ("+14155550101", PhoneNumberStatus.ACTIVE),
                         ("+14155550102", PhoneNumberStatus.RELEASING)):
        await add_phone_number(workspace, e164, status=status)
    await add_phone_number(other, "+14155550104")

    assert await count_slot_holders(workspace.id) == 3
    assert await count_slot_holders(other.id) == 1


async def test_a_locked_workspace_is_read_whole_and_a_missing_one_raises(app):
    workspace = await create_workspace("Acme", 7)
    async with in_transaction() as connection:
        locked = await locked_workspace(workspace.id, connection)
        with pytest.raises(DoesNotExist):
            await locked_workspace("ws_01M8MM42H1F7C1JDYWD6X02J81", connection)
    assert _fields(locked) == _fields(await type(workspace).get(id=workspace.id))


async def test_a_lease_is_taken_only_when_free_or_lapsed_and_given_up_by_its_holder_only(app):
    workspace = await create_workspace("Acme", 10)
    number = await add_phone_number(workspace, "+14155550100")
    short = Leases(duration=timedelta(milliseconds=300), wait=0.05)

    async with short.number(number.id) as held:
        assert held is not None and held.id == number.id
        token = (await PhoneNumber.get(id=number.id)).lease_token
        with pytest.raises(LeaseBusy):  # held, and not lapsed
            async with short.number(number.id):
                pass
    assert (await PhoneNumber.get(id=number.id)).lease_token is None

    await PhoneNumber.filter(id=number.id).update(
        lease_token="someone-dead", lease_expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    async with short.number(number.id) as taken_over:
        assert taken_over is not None
        now_held = (await PhoneNumber.get(id=number.id)).lease_token
        assert now_held not in (None, "someone-dead", token)
        await PhoneNumber.filter(id=number.id).update(lease_token="another")  # lost meanwhile
    assert (await PhoneNumber.get(id=number.id)).lease_token == "another"  # not ours to give up


async def test_a_lease_its_holder_cleared_itself_is_not_released_again(app, caplog):
    workspace = await create_workspace("Acme", 10)
    number = await add_phone_number(workspace, "+14155550100")

    async def release_statements(clear_it_ourselves: bool) -> list[str]:
        async with Leases().number(number.id):
            if clear_it_ourselves:  # as an import's activation does, in its own transaction
                token = (await PhoneNumber.get(id=number.id)).lease_token
                await PhoneNumber.filter(id=number.id).update(lease_token=None, lease_expires_at=None)
                given_up(token)
            caplog.clear()
        return [r.getMessage() for r in caplog.records if '"lease_token" = NULL' in r.getMessage()]

    caplog.set_level(logging.DEBUG, logger="tortoise.db_client")
    assert len(await release_statements(clear_it_ourselves=False)) == 1
    assert await release_statements(clear_it_ourselves=True) == []
    assert (await PhoneNumber.get(id=number.id)).lease_token is None


async def test_a_trunk_lease_given_up_in_a_transaction_ends_with_it_and_is_not_released_again(app, caplog):
    """An import's activation frees the trunk it rode in the same transaction: the lease ends when that commits,
    not before; if the transaction fails the lease is still held, and its holder releases it as usual."""
    workspace = await create_workspace("Acme", 10)
    trunk = await add_sip_trunk(workspace)
    caplog.set_level(logging.DEBUG, logger="tortoise.db_client")

    def releases() -> int:
        return sum('"lease_token" = NULL' in r.getMessage() for r in caplog.records)

    async with Leases().trunk(trunk.id) as held:
        with pytest.raises(RuntimeError):
            async with in_transaction() as connection:
                await give_up(held, connection)
                raise RuntimeError("the activation failed")
        assert (await SipTrunk.get(id=trunk.id)).lease_token == held.lease_token  # rolled back: still ours
        caplog.clear()
    assert releases() == 1 and (await SipTrunk.get(id=trunk.id)).lease_token is None

    async with Leases().trunk(trunk.id) as held:
        async with in_transaction() as connection:
            await give_up(held, connection)
        given_up(held.lease_token)
        assert (await SipTrunk.get(id=trunk.id)).lease_token is None
        caplog.clear()
    assert releases() == 0


async def test_a_held_lease_is_renewed_until_its_holder_is_done(app):
    """A live holder's lease never lapses, however long it works; once done, the row is free at once."""
    workspace = await create_workspace("Acme", 10)
    number = await add_phone_number(workspace, "+14155550101")
    short = Leases(duration=timedelta(seconds=0.3), wait=0.0)

    async with short.number(number.id):
        first = (await PhoneNumber.get(id=number.id)).lease_expires_at
        await asyncio.sleep(0.75)  # two and a half times the lease's duration
        renewed = (await PhoneNumber.get(id=number.id)).lease_expires_at
        assert renewed > first + timedelta(seconds=0.3)
        assert renewed > datetime.now(UTC)  # still ours
        with pytest.raises(LeaseBusy):
            async with short.number(number.id):
                pass
    assert (await PhoneNumber.get(id=number.id)).lease_token is None
    async with short.number(number.id):
        pass


async def test_a_reservation_is_the_orms_own_row_and_stops_at_the_cap(app):
    """On SQLite the reservation counts and inserts in one statement (statements.insert_if); on PostgreSQL it
    locks the workspace, counts, then inserts. Either way the row reads back as the ORM made it, and the
    workspace's limit is where it stops."""
    workspace = await create_workspace("Acme", 2)
    agent = await add_agent(workspace)
    leases = Leases()
    reserved = [
        await reserve_number(workspace.id, e164, PhoneNumberSource.LIVEKIT, agent=agent, label="Sales", **leases.taken_now())
        for e164 in ("+14155550102", "+14155550103")
    ]

    refused = await reserve_number(workspace.id, "+14155550104", PhoneNumberSource.LIVEKIT, **leases.taken_now())

    for reservation in reserved:
        number = reservation.number
        assert _fields(number) == _fields(await PhoneNumber.get(id=number.id))
        assert (number.status, number.capabilities, number.agent_id, number.label) == (
            PhoneNumberStatus.PROVISIONING, [], agent.id, "Sales")
        assert number.created_at is not None and number.lease_token is not None
    assert (refused.limit, refused.current) == (2, 2)
    assert await count_slot_holders(workspace.id) == 2
    assert not await PhoneNumber.exists(e164="+14155550104")


async def test_a_reservation_leases_its_trunk_when_free_and_leaves_a_busy_one_for_later(app):
    """A BYOC reservation takes its trunk's lease in its own transaction; its holder adopts that lease, and it
    ends with the holder. A trunk someone else holds is not waited for there: the import takes it later."""
    workspace = await create_workspace("Acme", 10)
    trunk = await add_sip_trunk(workspace)
    leases = Leases(wait=0.0)

    def reserve(e164: str):
        return reserve_number(
            workspace.id, e164, PhoneNumberSource.BYOC, lease_trunk=leases, trunk=trunk, **leases.taken_now()
        )

    first = await reserve("+14155550102")
    assert first.trunk is not None and first.trunk.id == trunk.id
    assert (await SipTrunk.get(id=trunk.id)).lease_token == first.trunk.lease_token
    async with leases.trunk(trunk.id, held=first.trunk) as held:
        assert held is first.trunk
        second = await reserve("+14155550103")
        assert second.number.e164 == "+14155550103" and second.trunk is None  # busy: reserved without it
        with pytest.raises(LeaseBusy):
            async with leases.trunk(trunk.id):
                pass
    assert (await SipTrunk.get(id=trunk.id)).lease_token is None


async def test_a_twilio_numbers_link_to_its_shared_trunk_leases_the_trunk_when_free(app):
    """The link of a number to its account's shared trunk takes the trunk's lease in the same write, for the
    import to adopt; a trunk someone else holds is linked all the same and left for the import to wait for."""
    services = app.state.services
    workspace = await create_workspace("Acme", 10)
    credentials = TwilioCredentials("AC" + "1" * 32, auth_token="a" * 32)
    first = await add_phone_number(workspace, "+14155550104", status="PROVISIONING")
    second = await add_phone_number(workspace, "+14155550105", status="PROVISIONING")

    linked = await link_to_shared_trunk(first, credentials, services, twilio_phone_number_sid="PN" + "1" * 32)
    stored = await PhoneNumber.get(id=first.id)
    assert (stored.trunk_id, stored.twilio_account_id) == (linked.trunk.id, linked.account.id)
    assert linked.held is not None and (await SipTrunk.get(id=linked.trunk.id)).lease_token == linked.held.lease_token
    async with services.leases.trunk(linked.trunk.id, held=linked.held):
        busy = await link_to_shared_trunk(second, credentials, services)
        assert busy.trunk.id == linked.trunk.id and busy.held is None
        assert (await PhoneNumber.get(id=second.id)).trunk_id == linked.trunk.id
    assert (await SipTrunk.get(id=linked.trunk.id)).lease_token is None


async def test_a_row_by_id_is_found_in_its_own_workspace_only(app):
    workspace, other = await create_workspace("Acme", 10), await create_workspace("Other", 10)
    agent = await add_agent(workspace)

    found = await statements.by_id(type(agent), agent.id, workspace_id=workspace.id)
    assert _fields(found) == _fields(await type(agent).get(id=agent.id))
    assert await statements.by_id(type(agent), agent.id, workspace_id=other.id) is None
    assert _fields(await statements.by_id(type(agent), agent.id)) == _fields(found)
    assert await statements.by_id(type(agent), "agent_01M8MM42H1F7C1JDYWD6X02J81") is None


async def test_a_row_by_id_is_the_orms_own_however_it_is_read(app):
    """On SQLite by_id reads at once, apart from aiosqlite (app/sqlite_engine.py's read_now): enums, JSON, lists
    and datetimes come back as the ORM's own read makes them."""
    workspace = await create_workspace("Acme", 10)
    trunk = await add_sip_trunk(workspace)
    found = await statements.by_id(SipTrunk, trunk.id, workspace_id=workspace.id)
    assert _fields(found) == _fields(await SipTrunk.get(id=trunk.id))


async def test_a_row_by_its_unique_fields_is_the_orms_own(app):
    """first_where, as the import finds a workspace's Twilio account and its shared trunk before it writes."""
    services = app.state.services
    workspace = await create_workspace("Acme", 10)
    number = await add_phone_number(workspace, "+14155550106", status="PROVISIONING")
    linked = await link_to_shared_trunk(number, TwilioCredentials("AC" + "2" * 32, auth_token="b" * 32), services)

    account = await statements.first_where(TwilioAccount, workspace_id=workspace.id, account_sid="AC" + "2" * 32)
    assert _fields(account) == _fields(await TwilioAccount.get(id=linked.account.id))
    trunk = await statements.first_where(SipTrunk, twilio_account_id=linked.account.id)
    assert _fields(trunk) == _fields(await SipTrunk.get(id=linked.trunk.id))
    assert await statements.first_where(TwilioAccount, workspace_id=workspace.id, account_sid="AC" + "3" * 32) is None
