"""availablePhoneNumbers and purchasePhoneNumber end to end: what is on offer, what a purchase wires up,
and that a purchase that cannot finish gives the number back."""

import json
from dataclasses import replace

import pytest

from models import CarrierStep, PhoneNumber, SipTrunk, TwilioAccount
from providers.sandbox.server import DEMO_STATE
from tests.factories import add_agent, add_phone_number
from tests.graphql_documents import DEMO_DIDS, field_codes, sandbox_state

AVAILABLE_PHONE_NUMBERS = """
query AvailablePhoneNumbers($source: PhoneNumberSource, $areaCode: String, $limit: Int) {
  availablePhoneNumbers(source: $source, areaCode: $areaCode, limit: $limit) { e164 locality region }
}"""

AVAILABLE_PHONE_NUMBERS_BY_DEFAULT = """
query AvailablePhoneNumbersByDefault { availablePhoneNumbers { e164 } }
"""

PURCHASE_PHONE_NUMBER = """
mutation PurchasePhoneNumber($input: PurchasePhoneNumberInput!) {
  purchasePhoneNumber(input: $input) {
    __typename
    ... on PurchasePhoneNumberSuccess {
      phoneNumber {
        id e164 source status capabilities label trunkId agentId livekitPhoneNumberId
        trunk { id provider direction }
        agent { id }
      }
    }
    ... on ValidationError { message code fieldErrors { field code message } }
    ... on PaymentRequiredError { message code limit current }
    ... on ProviderError { message code provider retryable }
  }
}"""

PLATFORM_ACCOUNT_SID = next(a["sid"] for a in json.loads(DEMO_STATE.read_text())["twilio"]["accounts"] if a.get("platform"))
NOT_CONFIGURED = "Purchasing is not configured"


async def offered(tenant, **arguments) -> list[dict]:
    body = await tenant.graphql(AVAILABLE_PHONE_NUMBERS, arguments)
    assert "errors" not in body, body
    return body["data"]["availablePhoneNumbers"]


async def first_offered(tenant, area_code: str = "415") -> str:
    return (await offered(tenant, source="TWILIO_PURCHASED", areaCode=area_code, limit=1))[0]["e164"]


async def purchase(tenant, **purchase_input) -> dict:
    body = await tenant.graphql(PURCHASE_PHONE_NUMBER, {"input": purchase_input})
    assert "errors" not in body, body
    return body["data"]["purchasePhoneNumber"]


def platform_account(app):
    return app.state.sandbox.twilio.account(PLATFORM_ACCOUNT_SID)


async def rows() -> dict:
    return {model.__name__: await model.all().count() for model in (PhoneNumber, SipTrunk, TwilioAccount, CarrierStep)}


NO_ROWS = {"PhoneNumber": 0, "SipTrunk": 0, "TwilioAccount": 0, "CarrierStep": 0}


# ---------------------------------------------------------------- availablePhoneNumbers


@pytest.mark.parametrize("source", ["TWILIO_PURCHASED", "LIVEKIT"], ids=["twilio-purchased", "livekit"])
async def test_available_numbers_are_us_numbers_in_the_area_code_up_to_the_limit(tenant, source):
    # when
    found = await offered(tenant, source=source, areaCode="212", limit=3)

    # then
    assert len(found) == 3
    assert [{**n, "e164": n["e164"][:5]} for n in found] == [{"e164": "+1212", "locality": "New York", "region": "NY"}] * 3
    assert len({n["e164"] for n in found}) == 3


@pytest.mark.parametrize("source", ["TWILIO_PURCHASED", "LIVEKIT"], ids=["twilio-purchased", "livekit"])
async def test_available_numbers_without_an_area_code_are_us_numbers_of_any_area(tenant, source):
    # when
    found = await offered(tenant, source=source, limit=50)

    # then
    assert len(found) == 50
    assert all(n["e164"].startswith("+1") and len(n["e164"]) == 12 for n in found)


async def test_available_numbers_default_to_twenty_from_the_platform_account(app, tenant):
    # when
    body = await tenant.graphql(AVAILABLE_PHONE_NUMBERS_BY_DEFAULT)

    # then
    assert "errors" not in body, body
    found = [n["e164"] for n in body["data"]["availablePhoneNumbers"]]
    assert len(found) == 20
    assert found == [n["e164"] for n in await offered(tenant, source="TWILIO_PURCHASED", limit=20)]


async def test_numbers_held_elsewhere_are_not_on_offer(tenant):
    # when
    found = {n["e164"] for n in await offered(tenant, source="TWILIO_PURCHASED", areaCode="415", limit=50)}

    # then
    assert found.isdisjoint(DEMO_DIDS)


@pytest.mark.parametrize(
    "arguments, argument",
    [
        ({"source": "TWILIO"}, "source"),
        ({"source": "BYOC"}, "source"),
        ({"source": "VERIFIED_CALLER_ID"}, "source"),
        ({"areaCode": "123"}, "areaCode"),
        ({"areaCode": "41"}, "areaCode"),
        ({"areaCode": "4155"}, "areaCode"),
        ({"limit": 0}, "limit"),
        ({"limit": 51}, "limit"),
        ({"source": "LIVEKIT", "limit": -1}, "limit"),
    ],
    ids=["twilio", "byoc", "verified-caller-id", "area-code-starting-1", "area-code-short", "area-code-long",
         "limit-zero", "limit-above-50", "limit-negative"],
)
async def test_bad_argument_is_a_graphql_error_naming_it(app, tenant, arguments, argument):
    # given
    carriers_before = app.state.sandbox.requests

    # when
    body = await tenant.graphql(AVAILABLE_PHONE_NUMBERS, arguments)

    # then
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": argument}
    assert error["message"].startswith(f"{argument}: ")
    assert app.state.sandbox.requests == carriers_before


# ---------------------------------------------------------------- purchasePhoneNumber


async def test_purchase_buys_on_the_platform_account_and_wires_the_number_like_a_did(app, tenant):
    # given
    agent = await add_agent(tenant.workspace)
    e164 = await first_offered(tenant)

    # when
    result = await purchase(tenant, e164=e164, label="Sales line", agentId=agent.id)

    # then the answer
    assert result["__typename"] == "PurchasePhoneNumberSuccess"
    number = result["phoneNumber"]
    assert number == {
        "id": number["id"],
        "e164": e164,
        "source": "TWILIO_PURCHASED",
        "status": "ACTIVE",
        "capabilities": ["INBOUND", "OUTBOUND"],
        "label": "Sales line",
        "trunkId": number["trunkId"],
        "agentId": agent.id,
        "livekitPhoneNumberId": None,
        "trunk": {"id": number["trunkId"], "provider": "TWILIO", "direction": "BOTH"},
        "agent": {"id": agent.id},
    }

    # then Twilio: bought on the platform account, on a platform trunk that sends calls to LiveKit
    account = platform_account(app)
    bought = account.number(e164)
    [trunk] = account.trunks.values()
    assert bought.trunk_sid == trunk.sid
    assert [url.sip_url for url in trunk.origination_urls.values()] == [app.state.services.livekit_sip_uri]
    assert trunk.credential_list_sids == list(account.credential_lists)

    # then LiveKit: on both trunks, and routed to the agent
    livekit = app.state.sandbox.livekit
    assert [list(t.numbers) for t in livekit.inbound_trunks.values()] == [[e164]]
    assert [(list(t.numbers), t.address) for t in livekit.outbound_trunks.values()] == [([e164], trunk.domain_name)]
    assert [[a.agent_name for a in rule.room_config.agents] for rule in livekit.dispatch_rules.values()] == [[agent.id]]

    # then our rows
    stored = await PhoneNumber.get(id=number["id"])
    assert stored.twilio_phone_number_sid == bought.sid
    assert (await TwilioAccount.get(id=stored.twilio_account_id)).account_sid == PLATFORM_ACCOUNT_SID
    assert await CarrierStep.all().count() == 0


async def test_second_purchase_joins_the_platform_trunk_of_the_workspace(app, tenant):
    # given
    first = await purchase(tenant, e164=await first_offered(tenant, "415"))

    # when
    second = await purchase(tenant, e164=await first_offered(tenant, "212"))

    # then
    assert (first["__typename"], second["__typename"]) == ("PurchasePhoneNumberSuccess", "PurchasePhoneNumberSuccess")
    assert second["phoneNumber"]["trunkId"] == first["phoneNumber"]["trunkId"]
    account = platform_account(app)
    [trunk] = account.trunks.values()
    expected = sorted([first["phoneNumber"]["e164"], second["phoneNumber"]["e164"]])
    assert sorted(n.phone_number for n in account.trunk_numbers(trunk.sid)) == expected


@pytest.mark.parametrize(
    "method, path",
    [
        ("POST", "/v1/Trunks"),
        ("POST", "/v1/Trunks/*/PhoneNumbers"),
        ("POST", "/twirp/livekit.SIP/CreateSIPInboundTrunk"),
        ("POST", "/twirp/livekit.SIP/CreateSIPOutboundTrunk"),
        ("POST", "/twirp/livekit.SIP/CreateSIPDispatchRule"),
    ],
    ids=["twilio-trunk", "twilio-attach", "livekit-inbound-trunk", "livekit-outbound-trunk", "livekit-dispatch-rule"],
)
async def test_purchase_whose_wiring_fails_gives_the_number_back_and_leaves_nothing(app, tenant, method, path):
    # given
    agent = await add_agent(tenant.workspace)
    e164 = await first_offered(tenant)
    carriers_before = sandbox_state(app)
    app.state.sandbox.faults.add(method, path, status=500)

    # when
    result = await purchase(tenant, e164=e164, agentId=agent.id)

    # then
    assert result["__typename"] == "ProviderError"
    assert "Nothing was changed" in result["message"]
    assert platform_account(app).number(e164) is None
    assert sandbox_state(app) == carriers_before
    assert await rows() == NO_ROWS


async def test_purchase_at_the_phone_number_limit_is_refused_and_buys_nothing(app, make_tenant):
    # given
    tenant = await make_tenant("Small", phone_number_limit=1)
    await add_phone_number(tenant.workspace, "+12025550101")
    e164 = await first_offered(tenant)
    carriers_before = sandbox_state(app)

    # when
    result = await purchase(tenant, e164=e164)

    # then
    assert result == {
        "__typename": "PaymentRequiredError",
        "code": "PHONE_NUMBER_LIMIT_REACHED",
        "limit": 1,
        "current": 1,
        "message": result["message"],
    }
    assert sandbox_state(app) == carriers_before
    assert await PhoneNumber.all().count() == 1


async def test_number_not_on_offer_is_not_available(app, tenant):
    # given a number another Twilio account holds
    carriers_before = sandbox_state(app)

    # when
    result = await purchase(tenant, e164=DEMO_DIDS[0])

    # then
    assert result["__typename"] == "ValidationError"
    assert field_codes(result) == [("e164", "NOT_AVAILABLE")]
    assert "availablePhoneNumbers" in result["fieldErrors"][0]["message"]
    assert sandbox_state(app) == carriers_before
    assert await rows() == NO_ROWS


@pytest.mark.parametrize(
    "purchase_input, expected",
    [
        ({"e164": "4155550123"}, [("e164", "INVALID_FORMAT")]),
        ({"e164": "+442079460123"}, [("e164", "UNSUPPORTED_COUNTRY")]),
        ({"e164": "+14155550123", "label": "x" * 256}, [("label", "TOO_LONG")]),
        ({"e164": "+14155550123", "agentId": "agent-1"}, [("agentId", "INVALID_FORMAT")]),
        ({"e164": "+14155550123", "agentId": "agent_01J00000000000000000000000"}, [("agentId", "NOT_FOUND")]),
    ],
    ids=["not-e164", "not-us", "label-too-long", "agent-malformed", "agent-unknown"],
)
async def test_purchase_refuses_invalid_input_and_buys_nothing(app, tenant, purchase_input, expected):
    # given
    carriers_before = sandbox_state(app)

    # when
    result = await purchase(tenant, **purchase_input)

    # then
    assert result["__typename"] == "ValidationError"
    assert field_codes(result) == expected
    assert sandbox_state(app) == carriers_before
    assert await rows() == NO_ROWS


# ---------------------------------------------------------------- a server without a platform account


class TestWithoutPlatformAccount:
    """The sandbox seeded with the customer's account only: nothing to buy on."""

    @pytest.fixture
    def settings(self, settings, tmp_path):
        seed = json.loads(DEMO_STATE.read_text())
        seed["twilio"]["accounts"] = [a for a in seed["twilio"]["accounts"] if not a.get("platform")]
        path = tmp_path / "sandbox_state.json"
        path.write_text(json.dumps(seed))
        return replace(settings, sandbox_state=str(path))

    async def test_purchase_is_a_provider_error_saying_purchasing_is_not_configured(self, app, tenant):
        # given
        assert app.state.services.platform_twilio is None
        carriers_before = sandbox_state(app)

        # when
        result = await purchase(tenant, e164="+14155550123")

        # then
        assert result == {
            "__typename": "ProviderError",
            "code": "PROVIDER_REJECTED",
            "provider": "TWILIO",
            "retryable": False,
            "message": result["message"],
        }
        assert NOT_CONFIGURED in result["message"]
        assert sandbox_state(app) == carriers_before
        assert await rows() == NO_ROWS

    async def test_available_platform_numbers_are_a_graphql_error_saying_so(self, tenant):
        # when
        body = await tenant.graphql(AVAILABLE_PHONE_NUMBERS, {"source": "TWILIO_PURCHASED"})

        # then
        assert body["data"] is None
        [error] = body["errors"]
        assert NOT_CONFIGURED in error["message"]
        assert error["extensions"] == {"code": "NOT_CONFIGURED"}

    async def test_livekit_numbers_are_still_on_offer(self, tenant):
        # when
        found = await offered(tenant, source="LIVEKIT", areaCode="415", limit=2)

        # then
        assert [n["e164"][:5] for n in found] == ["+1415", "+1415"]
