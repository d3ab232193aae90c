"""createSipTrunk: validated BYOC trunks, a write-only password, 20 per workspace, nothing made at LiveKit."""

import pytest

from models import SipTrunk
from models.ids import is_valid_id
from tests.graphql_documents import (
    CREATE_SIP_TRUNK,
    create_trunk_result,
    field_codes,
    sandbox_state,
)
from tests.unit.test_sip_trunk_rules import PASSWORD, RULES, outbound

SIP_TRUNK = """query ($id: ID!) { sipTrunk(id: $id) { id authUsername authPasswordSet } }"""


async def create_trunk(tenant, trunk_input: dict) -> dict:
    return create_trunk_result(await tenant.graphql(CREATE_SIP_TRUNK, {"input": trunk_input}))


# The rules themselves are unit tests (tests/unit/test_sip_trunk_rules.py); these cases prove that the mutation
# runs them, answers every problem at once as one ValidationError, and stores nothing.
WIRING = [case for case in RULES if case.id in ("username-with-space", "six-problems-at-once")]


@pytest.mark.parametrize("given_input, expected", WIRING)
async def test_create_sip_trunk_refuses_invalid_input_naming_each_field(app, tenant, given_input, expected):
    # given
    carriers_before = sandbox_state(app)

    # when
    body = await tenant.graphql(CREATE_SIP_TRUNK, {"input": given_input})

    # then
    result = create_trunk_result(body)
    assert result["__typename"] == "ValidationError"
    assert result["code"] == "VALIDATION_FAILED"
    assert field_codes(result) == expected
    assert all(error["message"] for error in result["fieldErrors"])
    assert PASSWORD not in str(body)
    assert await SipTrunk.all().count() == 0
    assert sandbox_state(app) == carriers_before


async def test_create_sip_trunk_returns_the_trunk_with_addresses_normalised(app, tenant):
    # given
    given_input = {
        "name": "  Carrier  ",
        "direction": "BOTH",
        "sipAddress": "sip.example-carrier.com:5061",
        "transport": "TLS",
        "authUsername": "acme",
        "authPassword": PASSWORD,
        "allowedAddresses": ["203.0.113.5/24", "198.51.100.7", "2001:db8::/32"],
    }

    # when
    result = await create_trunk(tenant, given_input)

    # then
    assert result["__typename"] == "CreateSipTrunkSuccess"
    trunk = result["sipTrunk"]
    assert is_valid_id(trunk["id"], "trunk")
    assert trunk == {
        "id": trunk["id"],
        "name": "Carrier",
        "provider": "BYOC",
        "direction": "BOTH",
        "sipAddress": "sip.example-carrier.com:5061",
        "transport": "TLS",
        "authUsername": "acme",
        "authPasswordSet": True,
        "allowedAddresses": ["203.0.113.0/24", "198.51.100.7/32", "2001:db8::/32"],
    }


async def test_inbound_trunk_needs_no_address_and_defaults_to_auto_transport(tenant):
    result = await create_trunk(tenant, {"name": "Inbound only", "direction": "INBOUND"})

    assert result["__typename"] == "CreateSipTrunkSuccess"
    trunk = result["sipTrunk"]
    assert trunk == {
        "id": trunk["id"],
        "name": "Inbound only",
        "provider": "BYOC",
        "direction": "INBOUND",
        "sipAddress": None,
        "transport": "AUTO",
        "authUsername": None,
        "authPasswordSet": False,
        "allowedAddresses": [],
    }


async def test_auth_password_is_write_only_and_stored_encrypted(app, tenant):
    # when
    body = await tenant.graphql(CREATE_SIP_TRUNK, {"input": outbound(authUsername="acme", authPassword=PASSWORD)})
    trunk_id = create_trunk_result(body)["sipTrunk"]["id"]
    read = await tenant.graphql(SIP_TRUNK, {"id": trunk_id})

    # then
    assert read["data"]["sipTrunk"] == {"id": trunk_id, "authUsername": "acme", "authPasswordSet": True}
    assert PASSWORD not in str(body) and PASSWORD not in str(read)
    stored = await SipTrunk.get(id=trunk_id)
    assert PASSWORD not in stored.auth_password_encrypted
    assert app.state.services.secrets.decrypt(stored.auth_password_encrypted) == PASSWORD


async def test_create_sip_trunk_makes_nothing_at_livekit(app, tenant):
    # given
    carriers_before = sandbox_state(app)

    # when
    result = await create_trunk(tenant, outbound(direction="BOTH", authUsername="acme", authPassword=PASSWORD))

    # then
    assert result["__typename"] == "CreateSipTrunkSuccess"
    assert sandbox_state(app) == carriers_before
    assert app.state.sandbox.requests == []
    stored = await SipTrunk.get(id=result["sipTrunk"]["id"])
    assert (stored.livekit_inbound_trunk_id, stored.livekit_outbound_trunk_id) == (None, None)


async def test_twenty_first_trunk_is_refused_at_the_sip_trunk_limit(tenant):
    # given
    for index in range(20):
        made = await create_trunk(tenant, outbound(name=f"Carrier {index}"))
        assert made["__typename"] == "CreateSipTrunkSuccess", made

    # when
    result = await create_trunk(tenant, outbound(name="Carrier 21"))

    # then
    assert result == {
        "__typename": "PaymentRequiredError",
        "code": "SIP_TRUNK_LIMIT_REACHED",
        "limit": 20,
        "current": 20,
        "message": result["message"],
    }
    assert await SipTrunk.filter(workspace_id=tenant.workspace.id).count() == 20


async def test_sip_trunk_limit_counts_each_workspace_apart(tenant, make_tenant):
    # given
    other = await make_tenant("Globex")
    for index in range(20):
        await create_trunk(other, outbound(name=f"Carrier {index}"))

    # when
    result = await create_trunk(tenant, outbound())

    # then
    assert result["__typename"] == "CreateSipTrunkSuccess"


async def test_server_managed_twilio_trunks_do_not_count_against_the_limit(tenant):
    # given
    for index in range(19):
        await create_trunk(tenant, outbound(name=f"Carrier {index}"))
    await SipTrunk.create(workspace=tenant.workspace, name="Twilio AC…0001", provider="TWILIO", direction="BOTH")

    # when
    twentieth = await create_trunk(tenant, outbound(name="Carrier 20"))
    twenty_first = await create_trunk(tenant, outbound(name="Carrier 21"))

    # then
    assert twentieth["__typename"] == "CreateSipTrunkSuccess"
    assert (twenty_first["__typename"], twenty_first["current"]) == ("PaymentRequiredError", 20)
