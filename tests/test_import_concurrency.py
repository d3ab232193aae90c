"""importPhoneNumber under concurrent requests: the cap and the one-row-per-number rule hold exactly."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter

import pytest

from models import PhoneNumber
from models.enums import PhoneNumberStatus
from providers.sandbox.server import DEMO_STATE
from tests.factories import add_phone_number
from tests.graphql_documents import (
    CREATE_SIP_TRUNK,
    DEMO_CREDENTIALS,
    DEMO_DIDS,
    IMPORT_PHONE_NUMBER,
    WORKSPACE_COUNT,
    answer,
    byoc_trunk,
    only,
)
from tests.sandbox_snapshot import holdings_of


# The demo sandbox's customer account (providers/sandbox/demo_state.json, pinned by the `settings` fixture below).
TWILIO = DEMO_CREDENTIALS
DID = DEMO_DIDS[0]
# LiveKit's generated inventory: 555-01XX in a few area codes, none held by a Twilio account of the sandbox.
LIVEKIT_NUMBERS = [f"+151255501{line:02d}" for line in range(25)]
ALLOWED = ["203.0.113.0/24"]
HELD_ELSEWHERE = [f"+120655501{line:02d}" for line in range(50, 55)]


@pytest.fixture
def settings(settings):
    """The app's settings with the demo sandbox seed, whatever TRUNKLINE_SANDBOX_STATE says."""
    return dataclasses.replace(settings, sandbox_state=str(DEMO_STATE))


async def import_number(tenant, input: dict) -> dict:
    return answer(await tenant.graphql(IMPORT_PHONE_NUMBER, {"input": input}))


def typenames(results: list[dict]) -> Counter:
    return Counter(result["__typename"] for result in results)


async def livekit_imports(tenant) -> list[dict]:
    return [{"e164": e164, "source": "LIVEKIT"} for e164 in LIVEKIT_NUMBERS]


async def byoc_imports_on_one_inbound_trunk(tenant) -> list[dict]:
    created = answer(await tenant.graphql(
        CREATE_SIP_TRUNK, {"input": {"name": "Carrier", "direction": "INBOUND", "allowedAddresses": ALLOWED}}
    ))
    trunk_id = created["sipTrunk"]["id"]
    return [{"e164": e164, "source": "BYOC", "trunkId": trunk_id} for e164 in LIVEKIT_NUMBERS]


def bought_at_livekit(sandbox) -> list[set[str]]:
    return [{e164 for e164 in LIVEKIT_NUMBERS if holdings_of(sandbox, e164)["livekit_numbers"]}]


def on_livekit_inbound_trunks(sandbox) -> list[set[str]]:
    return [set(trunk.numbers) for trunk in sandbox.livekit.inbound_trunks.values()]


@pytest.mark.parametrize(
    ("make_inputs", "held_at_livekit"),
    [
        pytest.param(livekit_imports, bought_at_livekit, id="livekit"),
        pytest.param(byoc_imports_on_one_inbound_trunk, on_livekit_inbound_trunks, id="byoc-one-inbound-trunk"),
    ],
)
@pytest.mark.parametrize(
    ("limit", "held_statuses"),
    [
        pytest.param(5, [], id="limit-5-none-held"),
        pytest.param(
            10,
            [*[PhoneNumberStatus.ACTIVE] * 3, PhoneNumberStatus.PROVISIONING, PhoneNumberStatus.RELEASING],
            id="limit-10-five-held",
        ),
    ],
)
async def test_concurrent_imports_take_exactly_the_free_slots(app, make_tenant, limit, held_statuses, make_inputs, held_at_livekit):
    # given
    tenant = await make_tenant(phone_number_limit=limit)
    for e164, status in zip(HELD_ELSEWHERE, held_statuses):
        await add_phone_number(tenant.workspace, e164, status=status)
    inputs = await make_inputs(tenant)

    # when
    results = await asyncio.gather(*(import_number(tenant, input) for input in inputs))

    # then
    assert typenames(results) == {"ImportPhoneNumberSuccess": 5, "PaymentRequiredError": 20}
    refused = {"__typename": "PaymentRequiredError", "code": "PHONE_NUMBER_LIMIT_REACHED", "limit": limit, "current": limit}
    assert [only(result, refused) for result in results if result["__typename"] == "PaymentRequiredError"] == [refused] * 20
    imported = {result["phoneNumber"]["e164"] for result in results if result["__typename"] == "ImportPhoneNumberSuccess"}
    assert held_at_livekit(app.state.sandbox) == [imported]
    counted = await tenant.graphql(WORKSPACE_COUNT)
    assert counted["data"]["workspace"] == {"phoneNumberCount": len(held_statuses) + 5, "phoneNumberLimit": limit}


async def create_byoc_trunk(tenant) -> str:
    return (await byoc_trunk(tenant, allowedAddresses=ALLOWED))["id"]


async def livekit_input(tenant) -> dict:
    return {"e164": LIVEKIT_NUMBERS[0], "source": "LIVEKIT"}


async def byoc_input(tenant) -> dict:
    return {"e164": "+16175550123", "source": "BYOC", "trunkId": await create_byoc_trunk(tenant)}


async def twilio_input(tenant) -> dict:
    return {"e164": DID, "source": "TWILIO", "twilio": TWILIO}


def held(livekit_numbers=0, livekit_inbound_trunks=0, livekit_outbound_trunks=0, twilio_trunks=0) -> dict[str, int]:
    return {
        "livekit_numbers": livekit_numbers,
        "livekit_inbound_trunks": livekit_inbound_trunks,
        "livekit_outbound_trunks": livekit_outbound_trunks,
        "twilio_trunks": twilio_trunks,
    }


# (the import each workspace sends, where the carriers hold the number once it is in)
ONE_NUMBER = [
    pytest.param(livekit_input, held(livekit_numbers=1), id="livekit"),
    pytest.param(byoc_input, held(livekit_inbound_trunks=1, livekit_outbound_trunks=1), id="byoc"),
    pytest.param(twilio_input, held(livekit_inbound_trunks=1, livekit_outbound_trunks=1, twilio_trunks=1), id="twilio"),
]


@pytest.mark.parametrize("workspaces", [1, 2], ids=["one-workspace", "two-workspaces"])
@pytest.mark.parametrize(("make_input", "held_once"), ONE_NUMBER)
async def test_concurrent_imports_of_one_number_let_exactly_one_through(app, make_tenant, workspaces, make_input, held_once):
    # given
    tenants = [await make_tenant(name=f"Workspace {n}") for n in range(workspaces)]
    inputs = [await make_input(tenant) for tenant in tenants]
    e164 = inputs[0]["e164"]

    # when
    results = await asyncio.gather(
        *(import_number(tenants[n % workspaces], inputs[n % workspaces]) for n in range(20))
    )

    # then
    assert typenames(results) == {"ImportPhoneNumberSuccess": 1, "ValidationError": 19}
    exists = {"__typename": "ValidationError", "code": "VALIDATION_FAILED", "fieldErrors": [{"field": "e164", "code": "ALREADY_EXISTS"}]}
    assert [only(result, exists) for result in results if result["__typename"] == "ValidationError"] == [exists] * 19
    assert holdings_of(app.state.sandbox, e164) == held_once
    assert await PhoneNumber.filter(e164=e164).values_list("status", flat=True) == [PhoneNumberStatus.ACTIVE]


async def test_concurrent_imports_of_one_accounts_dids_share_one_trunk_at_each_carrier(app, tenant):
    # given
    dids = ["+14155550101", "+14155550102", "+12125550103"]
    sandbox = app.state.sandbox

    # when
    results = await asyncio.gather(*(import_number(tenant, {"e164": e164, "source": "TWILIO", "twilio": TWILIO}) for e164 in dids))

    # then
    assert typenames(results) == {"ImportPhoneNumberSuccess": 3}
    account = sandbox.twilio.account(TWILIO["accountSid"])
    (trunk_sid,) = account.trunks
    assert {n.phone_number: n.trunk_sid for n in account.incoming_phone_numbers.values()} == {e164: trunk_sid for e164 in dids}
    assert [sorted(t.numbers) for t in sandbox.livekit.inbound_trunks.values()] == [sorted(dids)]
    assert [sorted(t.numbers) for t in sandbox.livekit.outbound_trunks.values()] == [sorted(dids)]
