"""createSipTrunk: validated BYOC trunks, a write-only password, 20 per workspace, nothing made at LiveKit."""

import pytest

from models import SipTrunk
from models.ids import is_valid_id
from tests.graphql_documents import CREATE_SIP_TRUNK, create_trunk_result, field_codes, sandbox_state

PASSWORD = "s3cret-passw0rd"
SIP_TRUNK = """query ($id: ID!) { sipTrunk(id: $id) { id authUsername authPasswordSet } }"""


def outbound(**fields):
    return {"name": "Carrier", "direction": "OUTBOUND", "sipAddress": "sip.example-carrier.com", **fields}


async def create_trunk(tenant, trunk_input: dict) -> dict:
    return create_trunk_result(await tenant.graphql(CREATE_SIP_TRUNK, {"input": trunk_input}))


RULES = [
    (outbound(name=""), [("name", "REQUIRED")]),
    (outbound(name="   "), [("name", "REQUIRED")]),
    (outbound(name="x" * 256), [("name", "TOO_LONG")]),
    ({"name": "Carrier", "direction": "OUTBOUND"}, [("sipAddress", "REQUIRED")]),
    ({"name": "Carrier", "direction": "BOTH"}, [("sipAddress", "REQUIRED")]),
    (outbound(sipAddress=""), [("sipAddress", "REQUIRED")]),
    (outbound(sipAddress="sip:sip.example-carrier.com"), [("sipAddress", "INVALID_FORMAT")]),
    (outbound(sipAddress="acme@sip.example-carrier.com"), [("sipAddress", "INVALID_FORMAT")]),
    (outbound(sipAddress="sip.example-carrier.com;transport=tcp"), [("sipAddress", "INVALID_FORMAT")]),
    (outbound(sipAddress="sip example carrier"), [("sipAddress", "INVALID_FORMAT")]),
    (outbound(sipAddress="-sip.example-carrier.com"), [("sipAddress", "INVALID_FORMAT")]),
    (outbound(sipAddress="sip.example-carrier.com:"), [("sipAddress", "INVALID_FORMAT")]),
    (outbound(sipAddress="sip.example-carrier.com:99999"), [("sipAddress", "INVALID_FORMAT")]),
    (outbound(sipAddress="203.0.113.7:0"), [("sipAddress", "INVALID_FORMAT")]),
    ({"name": "Carrier", "direction": "INBOUND", "sipAddress": "sips:203.0.113.7"}, [("sipAddress", "INVALID_FORMAT")]),
    (outbound(authUsername="acme"), [("authPassword", "REQUIRED")]),
    (outbound(authPassword=PASSWORD), [("authUsername", "REQUIRED")]),
    (outbound(authUsername="acme corp", authPassword=PASSWORD), [("authUsername", "INVALID_FORMAT")]),
    (outbound(authUsername="a" * 129, authPassword=PASSWORD), [("authUsername", "INVALID_FORMAT")]),
    (outbound(authUsername="acme", authPassword="short77"), [("authPassword", "INVALID_FORMAT")]),
    (outbound(authUsername="acme", authPassword="x" * 129), [("authPassword", "INVALID_FORMAT")]),
    (outbound(allowedAddresses=["203.0.113.0/24", "not-an-ip"]), [("allowedAddresses.1", "INVALID_FORMAT")]),
    (outbound(allowedAddresses=["203.0.113.0/33"]), [("allowedAddresses.0", "INVALID_FORMAT")]),
    (outbound(allowedAddresses=["300.1.1.1"]), [("allowedAddresses.0", "INVALID_FORMAT")]),
    (outbound(allowedAddresses=[""]), [("allowedAddresses.0", "INVALID_FORMAT")]),
    (
        {"name": " ", "direction": "BOTH", "authPassword": "short", "allowedAddresses": ["10.0.0.0/8", "x", "y"]},
        [
            ("allowedAddresses.1", "INVALID_FORMAT"),
            ("allowedAddresses.2", "INVALID_FORMAT"),
            ("authPassword", "INVALID_FORMAT"),
            ("authUsername", "REQUIRED"),
            ("name", "REQUIRED"),
            ("sipAddress", "REQUIRED"),
        ],
    ),
]
RULE_IDS = [
    "name-empty",
    "name-blank",
    "name-256-characters",
    "outbound-without-address",
    "both-without-address",
    "address-empty",
    "address-sip-uri",
    "address-with-user",
    "address-with-transport-parameter",
    "address-with-spaces",
    "address-leading-hyphen",
    "address-empty-port",
    "address-port-above-65535",
    "address-port-zero",
    "inbound-with-sips-uri",
    "username-without-password",
    "password-without-username",
    "username-with-space",
    "username-129-characters",
    "password-7-characters",
    "password-129-characters",
    "second-address-not-an-ip",
    "prefix-longer-than-32",
    "octet-above-255",
    "address-empty-string",
    "six-problems-at-once",
]


@pytest.mark.parametrize("given_input, expected", RULES, ids=RULE_IDS)
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
