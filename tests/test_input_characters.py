"""Every string input refuses control characters and lone surrogates, digits are ASCII only, and lists and
lengths are bounded: the same answer on SQLite and PostgreSQL, never "Unexpected error."."""

from __future__ import annotations

import json

import pytest

from models import Agent, PhoneNumber, SipTrunk
from tests.factories import add_phone_number
from tests.graphql_documents import (
    CREATE_AGENT,
    CREATE_SIP_TRUNK,
    DEMO_CREDENTIALS,
    IMPORT_PHONE_NUMBER,
    PURCHASE_PHONE_NUMBER,
    UPDATE_PHONE_NUMBER,
    answer,
    field_codes,
)

AVAILABLE = "query ($areaCode: String) { availablePhoneNumbers(source: LIVEKIT, areaCode: $areaCode) { e164 } }"
PASSWORD = "s3cret-passw0rd"
HELD_NUMBER = "+12025550147"


async def send(tenant, query: str, variables: dict) -> dict:
    """POST with every non-ASCII character escaped, as a JSON client may: the only way a lone surrogate travels."""
    body = json.dumps({"query": query, "variables": variables}, ensure_ascii=True)
    response = await tenant.client.post(
        "/graphql", content=body, headers={**tenant.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    return answer(response.json())


def around(bad: str, text: str = "Front desk") -> str:
    """The character in the middle of ordinary text, so stripping cannot hide it."""
    return text[:3] + bad + text[3:]


def agent(bad):
    return CREATE_AGENT, {"input": {"name": around(bad)}}


def trunk(**fields):
    return CREATE_SIP_TRUNK, {"input": {"name": "Carrier", "direction": "OUTBOUND", "sipAddress": "sip.example-carrier.com", **fields}}


def livekit_import(**fields):
    return IMPORT_PHONE_NUMBER, {"input": {"e164": "+14155550123", "source": "LIVEKIT", **fields}}


def twilio_import(**credentials):
    return IMPORT_PHONE_NUMBER, {"input": {"e164": "+14155550101", "source": "TWILIO", "twilio": {**DEMO_CREDENTIALS, **credentials}}}


def purchase(**fields):
    return PURCHASE_PHONE_NUMBER, {"input": {"e164": "+14155550123", **fields}}


def update(bad, number_id):
    return UPDATE_PHONE_NUMBER, {"input": {"id": number_id, "label": around(bad)}}


# (the field, how to send it with the bad character in it)
FIELDS = [
    pytest.param("name", lambda bad, _: agent(bad), id="createAgent.name"),
    pytest.param("name", lambda bad, _: trunk(name=around(bad)), id="createSipTrunk.name"),
    pytest.param("sipAddress", lambda bad, _: trunk(sipAddress=around(bad, "sip.example-carrier.com")), id="createSipTrunk.sipAddress"),
    pytest.param("authUsername", lambda bad, _: trunk(authUsername=around(bad, "acme"), authPassword=PASSWORD), id="createSipTrunk.authUsername"),
    pytest.param("authPassword", lambda bad, _: trunk(authUsername="acme", authPassword=around(bad, PASSWORD)), id="createSipTrunk.authPassword"),
    pytest.param(
        "allowedAddresses.1",
        lambda bad, _: trunk(allowedAddresses=["203.0.113.0/24", around(bad, "198.51.100.7")]),
        id="createSipTrunk.allowedAddresses",
    ),
    pytest.param("label", lambda bad, _: livekit_import(label=around(bad)), id="importPhoneNumber.label"),
    pytest.param("e164", lambda bad, _: livekit_import(e164=around(bad, "+14155550123")), id="importPhoneNumber.e164"),
    pytest.param(
        "twilio.accountSid", lambda bad, _: twilio_import(accountSid=around(bad, DEMO_CREDENTIALS["accountSid"])), id="importPhoneNumber.twilio.accountSid"
    ),
    pytest.param(
        "twilio.authToken", lambda bad, _: twilio_import(authToken=around(bad, DEMO_CREDENTIALS["authToken"])), id="importPhoneNumber.twilio.authToken"
    ),
    pytest.param("label", lambda bad, _: purchase(label=around(bad)), id="purchasePhoneNumber.label"),
    pytest.param("e164", lambda bad, _: purchase(e164=around(bad, "+14155550123")), id="purchasePhoneNumber.e164"),
    pytest.param("label", update, id="updatePhoneNumber.label"),
]
BAD_CHARACTERS = [
    pytest.param("\x00", "U+0000", id="nul"),
    pytest.param("\ud800", "U+D800", id="lone-high-surrogate"),
    pytest.param("\udfff", "U+DFFF", id="lone-low-surrogate"),
    pytest.param("\n", "U+000A", id="newline"),
    pytest.param("\x1b", "U+001B", id="escape"),
    pytest.param("\x7f", "U+007F", id="delete"),
    pytest.param("\x85", "U+0085", id="c1-next-line"),
]


async def rows() -> tuple[int, int, int]:
    return await Agent.all().count(), await SipTrunk.all().count(), await PhoneNumber.all().count()


@pytest.mark.parametrize(("bad", "code_point"), BAD_CHARACTERS)
@pytest.mark.parametrize(("field", "make"), FIELDS)
async def test_string_input_with_a_control_character_or_lone_surrogate_is_refused_naming_the_field(
    app, tenant, field, make, bad, code_point
):
    # given
    held = await add_phone_number(tenant.workspace, HELD_NUMBER, label="Lobby")
    query, variables = make(bad, held.id)
    before = await rows()

    # when
    result = await send(tenant, query, variables)

    # then
    assert result["__typename"] == "ValidationError", result
    assert field_codes(result) == [(field, "INVALID_CHARACTERS")]
    message = result["fieldErrors"][0]["message"]
    assert message.startswith(field) and f"found {code_point} at character 4" in message
    assert bad not in message
    assert await rows() == before
    assert (await PhoneNumber.get(id=held.id)).label == "Lobby"
    assert app.state.sandbox.requests == []


# Printable text of many scripts, a character outside the BMP (a surrogate pair on the wire), joiners and
# right-to-left marks: no control characters, so every one is stored and read back exactly.
PRINTABLE = ["Réception 受付 ☎", "Front desk 😀", "👩\u200d💻 team", "\u200fمكتب الاستقبال", "a\u00a0b", "Ｆｕｌｌ"]


@pytest.mark.parametrize("text", PRINTABLE)
async def test_printable_text_is_kept_exactly(tenant, text):
    # when
    created = await send(tenant, CREATE_AGENT, {"input": {"name": text}})
    number = await add_phone_number(tenant.workspace, HELD_NUMBER)
    updated = await send(tenant, UPDATE_PHONE_NUMBER, {"input": {"id": number.id, "label": text}})

    # then
    assert created["agent"]["name"] == text.strip()
    assert (updated["__typename"], updated["phoneNumber"]["label"]) == ("UpdatePhoneNumberSuccess", text)
    assert (await Agent.get(id=created["agent"]["id"])).name == text.strip()
    assert (await PhoneNumber.get(id=number.id)).label == text


# ---------------------------------------------------------------- ASCII digits


@pytest.mark.parametrize("area_code", ["4١٥", "４１５", "४१५", "415\n"], ids=["arabic-indic", "fullwidth", "devanagari", "newline"])
async def test_area_code_takes_ascii_digits_only(app, tenant, area_code):
    body = json.dumps({"query": AVAILABLE, "variables": {"areaCode": area_code}})
    response = await tenant.client.post("/graphql", content=body, headers={**tenant.headers, "Content-Type": "application/json"})

    body = response.json()
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "areaCode"}
    assert error["message"].startswith("areaCode: must be a 3-digit US area code such as 415")
    assert app.state.sandbox.requests == []


async def test_area_code_of_ascii_digits_is_searched(tenant):
    offered = await send(tenant, AVAILABLE, {"areaCode": "415"})

    assert offered and all(n["e164"].startswith("+1415") for n in offered)


@pytest.mark.parametrize(
    "port",
    ["٥٠٦٠", "５０６０", "५०६०", "5060\n", "+5060", " 5060"],
    ids=["arabic-indic", "fullwidth", "devanagari", "newline", "plus-sign", "leading-space"],
)
async def test_sip_address_port_takes_ascii_digits_only(tenant, port):
    result = await send(tenant, *trunk(sipAddress=f"sip.example-carrier.com:{port}"))

    assert result["__typename"] == "ValidationError"
    assert [code for _, code in field_codes(result)] in (["INVALID_FORMAT"], ["INVALID_CHARACTERS"])
    assert field_codes(result)[0][0] == "sipAddress"
    assert await SipTrunk.all().count() == 0


@pytest.mark.parametrize("address", ["sip.example-carrier.com:1", "sip.example-carrier.com:65535", "203.0.113.7:5061"])
async def test_sip_address_with_an_ascii_port_is_taken(tenant, address):
    result = await send(tenant, *trunk(sipAddress=address))

    assert result["__typename"] == "CreateSipTrunkSuccess", result
    assert result["sipTrunk"]["sipAddress"] == address


@pytest.mark.parametrize("mutation", [livekit_import, purchase], ids=["import", "purchase"])
@pytest.mark.parametrize("e164", ["+١٤١٥٥٥٥٠١٢٣", "+1415555０１２３"], ids=["arabic-indic", "fullwidth-tail"])
async def test_e164_takes_ascii_digits_only_and_says_so(tenant, mutation, e164):
    result = await send(tenant, *mutation(e164=e164))

    assert field_codes(result) == [("e164", "INVALID_FORMAT")]
    assert result["fieldErrors"][0]["message"] == "e164 must be written with ASCII digits 0-9: +14155550123"
    assert await PhoneNumber.all().count() == 0


# ---------------------------------------------------------------- bounds the database would enforce differently


def host_of(length: int) -> str:
    """A valid host name of exactly `length` characters: labels of 63 and a shorter last one."""
    labels, left = [], length
    while left > 64:
        labels.append("a" * 63)
        left -= 64
    labels.append("b" * left)
    return ".".join(labels)


async def test_sip_address_longer_than_its_column_is_too_long_on_both_databases(tenant):
    # A 253-character host name is valid DNS, but with a port it no longer fits the 255-character column:
    # PostgreSQL used to refuse the row with "Unexpected error." while SQLite stored it.
    address = host_of(253) + ":5060"

    result = await send(tenant, *trunk(sipAddress=address))

    assert field_codes(result) == [("sipAddress", "TOO_LONG")]
    assert "255" in result["fieldErrors"][0]["message"]
    assert await SipTrunk.all().count() == 0


async def test_sip_address_of_255_characters_is_taken(tenant):
    address = host_of(249) + ":5060"

    result = await send(tenant, *trunk(sipAddress=address))

    assert result["__typename"] == "CreateSipTrunkSuccess", result
    assert result["sipTrunk"]["sipAddress"] == address


def addresses(count: int) -> list[str]:
    return [f"198.51.{index // 256}.{index % 256}" for index in range(count)]


async def test_more_than_100_allowed_addresses_is_one_too_many_problem(tenant):
    result = await send(tenant, *trunk(allowedAddresses=addresses(101) + ["not-an-ip"] * 50))

    assert field_codes(result) == [("allowedAddresses", "TOO_MANY")]
    assert result["fieldErrors"][0]["message"].startswith("allowedAddresses takes at most 100 entries, not 151")
    assert await SipTrunk.all().count() == 0


async def test_100_allowed_addresses_are_taken(tenant):
    result = await send(tenant, *trunk(allowedAddresses=addresses(100)))

    assert result["__typename"] == "CreateSipTrunkSuccess", result
    assert len(result["sipTrunk"]["allowedAddresses"]) == 100


@pytest.mark.parametrize("address", ["fe80::1%eth0", "fe80::%1/64", "fe80::1%١"])
async def test_allowed_address_with_an_ipv6_scope_is_refused(tenant, address):
    result = await send(tenant, *trunk(allowedAddresses=[address]))

    assert field_codes(result) == [("allowedAddresses.0", "INVALID_FORMAT")]


async def test_valid_number_longer_than_e164s_15_digits_is_refused_on_both_databases(tenant):
    # phonenumbers takes German toll-free numbers of up to 17 digits; the e164 column holds 15 and both
    # databases used to answer "Unexpected error.".
    trunk_id = (await send(tenant, CREATE_SIP_TRUNK, {"input": {"name": "Carrier", "direction": "INBOUND"}}))["sipTrunk"]["id"]

    longest = await send(tenant, IMPORT_PHONE_NUMBER, {"input": {"e164": "+498001234567890", "source": "BYOC", "trunkId": trunk_id}})
    too_long = await send(tenant, IMPORT_PHONE_NUMBER, {"input": {"e164": "+4980012345678901", "source": "BYOC", "trunkId": trunk_id}})

    assert longest["__typename"] == "ImportPhoneNumberSuccess", longest
    assert field_codes(too_long) == [("e164", "INVALID_NUMBER")]
    assert too_long["fieldErrors"][0]["message"] == "e164 '+4980012345678901' has 16 digits; an E.164 number has at most 15"
    assert await PhoneNumber.all().values_list("e164", flat=True) == ["+498001234567890"]
