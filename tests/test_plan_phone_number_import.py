"""planPhoneNumberImport end to end: each plan answered with reads only and nothing stored, then held
against the carrier calls the import with the same input makes; its errors are the import's."""

import re
from collections import Counter

import pytest

from models import Agent, CarrierStep, PhoneNumber, SipTrunk, TwilioAccount, Workspace
from tests.factories import add_agent, add_phone_number
from tests.graphql_documents import (
    DEMO_CALLER_IDS,
    DEMO_CREDENTIALS,
    DEMO_DIDS,
    IMPORT_PHONE_NUMBER,
    PLAN_PHONE_NUMBER_IMPORT,
    answer,
    byoc_trunk,
    field_codes,
    import_result,
    imported,
    sandbox_state,
)

NOT_ON_OFFER = "+12025557788"  # outside the 555-01XX block the sandbox's LiveKit sells from
ROWS = (PhoneNumber, SipTrunk, TwilioAccount, CarrierStep, Agent, Workspace)

# Each carrier write the sandbox serves, as a plan names it: (method, path) → (provider, action, resource).
# Reads: Twilio's GETs, LiveKit's List/Get/Search.
WRITES = [
    (r"POST /2010-04-01/Accounts/AC\w+/SIP/CredentialLists\.json", ("TWILIO", "CREATE", "credential list")),
    (r"POST /2010-04-01/Accounts/AC\w+/SIP/CredentialLists/CL\w+/Credentials\.json", ("TWILIO", "CREATE", "credential")),
    (r"POST /v1/Trunks", ("TWILIO", "CREATE", "Elastic SIP Trunk")),
    (r"POST /v1/Trunks/TK\w+/OriginationUrls", ("TWILIO", "CREATE", "origination URL")),
    (r"POST /v1/Trunks/TK\w+/PhoneNumbers", ("TWILIO", "ATTACH", "phone number")),
    (r"POST /v1/Trunks/TK\w+/CredentialLists", ("TWILIO", "ATTACH", "credential list")),
    (r"POST /twirp/livekit\.SIP/CreateSIPInboundTrunk", ("LIVEKIT", "CREATE", "LiveKit inbound trunk")),
    (r"POST /twirp/livekit\.SIP/UpdateSIPInboundTrunk", ("LIVEKIT", "UPDATE", "LiveKit inbound trunk")),
    (r"POST /twirp/livekit\.SIP/CreateSIPOutboundTrunk", ("LIVEKIT", "CREATE", "LiveKit outbound trunk")),
    (r"POST /twirp/livekit\.SIP/UpdateSIPOutboundTrunk", ("LIVEKIT", "UPDATE", "LiveKit outbound trunk")),
    (r"POST /twirp/livekit\.SIP/CreateSIPDispatchRule", ("LIVEKIT", "CREATE", "dispatch rule")),
    (r"POST /twirp/livekit\.PhoneNumberService/PurchasePhoneNumber", ("LIVEKIT", "PURCHASE", "phone number")),
]
READ = re.compile(r"GET /|POST /twirp/livekit\.\w+/(List|Get|Search)\w+$")


def is_read(request: dict) -> bool:
    return READ.match(f"{request['method']} {request['path']}") is not None


def as_planned(request: dict):
    """The plan step a carrier write makes (None for a part of one); an unknown write fails the test."""
    call = f"{request['method']} {request['path']}"
    for pattern, step in WRITES:
        if re.fullmatch(pattern, call):
            return step
    raise AssertionError(f"a carrier write no plan names: {call}")


async def rows() -> list:
    return [await model.all().order_by("id").values() for model in ROWS]


async def plan_quietly(app, tenant, number_input: dict) -> dict:
    """planPhoneNumberImport, which must change nothing: no carrier write, no carrier state, no row."""
    sandbox = app.state.sandbox
    carriers_before, rows_before, seen = sandbox_state(app), await rows(), len(sandbox.requests)
    result = answer(await tenant.graphql(PLAN_PHONE_NUMBER_IMPORT, {"input": number_input}))
    assert [r for r in sandbox.requests[seen:] if not is_read(r)] == []
    assert sandbox_state(app) == carriers_before
    assert await rows() == rows_before
    return result


async def import_writes(app, tenant, number_input: dict) -> tuple[dict, Counter]:
    """Import for real; the new number and the carrier writes the import made, as plan steps."""
    sandbox = app.state.sandbox
    seen = len(sandbox.requests)
    number = await imported(tenant, number_input)
    writes = [as_planned(r) for r in sandbox.requests[seen:] if not is_read(r)]
    return number, Counter(w for w in writes if w is not None)


async def plan_then_import(app, tenant, number_input: dict) -> dict:
    """The plan, checked against what the import then did: the same number, the same carrier writes."""
    plan = await plan_quietly(app, tenant, number_input)
    assert plan["__typename"] == "ImportPlan", plan
    number, writes = await import_writes(app, tenant, number_input)
    assert (number["source"], number["capabilities"]) == (plan["source"], plan["capabilities"])
    planned = Counter((s["provider"], s["action"], s["resource"]) for s in plan["steps"] if s["action"] != "REUSE")
    assert planned == writes
    return plan


def step(provider: str, action: str, resource: str, detail: str | None = None) -> dict:
    return {"provider": provider, "action": action, "resource": resource, "detail": detail}


def twilio_input(e164: str, **fields) -> dict:
    return {"e164": e164, "source": "TWILIO", "twilio": DEMO_CREDENTIALS, **fields}


def did_sid(app, e164: str) -> str:
    return app.state.sandbox.twilio.account(DEMO_CREDENTIALS["accountSid"]).number(e164).sid


async def the_answers(tenant, number_input: dict) -> tuple[dict, dict]:
    """The plan's answer and then the import's, for the same input."""
    plan = answer(await tenant.graphql(PLAN_PHONE_NUMBER_IMPORT, {"input": number_input}))
    result = import_result(await tenant.graphql(IMPORT_PHONE_NUMBER, {"input": number_input}))
    return plan, result


def refusal(result: dict) -> tuple:
    return result["__typename"], result.get("code"), field_codes(result) if "fieldErrors" in result else None


# ---------------------------------------------------------------- plans, held against the import


async def test_first_twilio_did_plans_the_whole_elastic_sip_trunk_and_both_livekit_sides(app, tenant):
    agent = await add_agent(tenant.workspace)
    number_input = twilio_input(DEMO_DIDS[0], agentId=agent.id)

    plan = await plan_then_import(app, tenant, number_input)

    assert plan == {
        "__typename": "ImportPlan",
        "source": "TWILIO",
        "capabilities": ["INBOUND", "OUTBOUND"],
        "steps": [
            step("TWILIO", "CREATE", "credential list"),
            step("TWILIO", "CREATE", "Elastic SIP Trunk"),
            step("TWILIO", "CREATE", "credential"),
            step("TWILIO", "CREATE", "origination URL"),
            step("TWILIO", "ATTACH", "phone number", did_sid(app, DEMO_DIDS[0])),
            step("TWILIO", "ATTACH", "credential list"),
            step("LIVEKIT", "CREATE", "LiveKit inbound trunk"),
            step("LIVEKIT", "CREATE", "LiveKit outbound trunk"),
            step("LIVEKIT", "CREATE", "dispatch rule", f"to agent {agent.id}"),
        ],
    }


async def test_second_twilio_did_reuses_the_accounts_trunk_and_joins_its_livekit_sides(app, tenant):
    first = await imported(tenant, twilio_input(DEMO_DIDS[0]))
    trunk = await SipTrunk.get(id=first["trunkId"])
    agent = await add_agent(tenant.workspace)

    plan = await plan_then_import(app, tenant, twilio_input(DEMO_DIDS[1], agentId=agent.id))

    assert plan["steps"] == [
        step("TWILIO", "REUSE", "Elastic SIP Trunk", f"Trunkline {trunk.id} ({trunk.twilio_trunk_sid})"),
        step("TWILIO", "ATTACH", "phone number", did_sid(app, DEMO_DIDS[1])),
        step("LIVEKIT", "UPDATE", "LiveKit inbound trunk", trunk.livekit_inbound_trunk_id),
        step("LIVEKIT", "UPDATE", "LiveKit outbound trunk", trunk.livekit_outbound_trunk_id),
        step("LIVEKIT", "CREATE", "dispatch rule", f"to agent {agent.id}"),
    ]
    assert trunk.twilio_trunk_sid in app.state.sandbox.twilio.account(DEMO_CREDENTIALS["accountSid"]).trunks


async def test_verified_caller_id_plans_its_place_on_the_outbound_side(app, tenant):
    first = await imported(tenant, twilio_input(DEMO_DIDS[0]))
    trunk = await SipTrunk.get(id=first["trunkId"])

    plan = await plan_then_import(app, tenant, twilio_input(DEMO_CALLER_IDS[0]))

    assert plan == {
        "__typename": "ImportPlan",
        "source": "VERIFIED_CALLER_ID",
        "capabilities": ["OUTBOUND"],
        "steps": [step("LIVEKIT", "UPDATE", "LiveKit outbound trunk", trunk.livekit_outbound_trunk_id)],
    }


async def test_livekit_number_plans_its_rule_and_its_purchase(app, tenant):
    agent = await add_agent(tenant.workspace)
    e164 = next(app.state.sandbox.livekit.inventory("415")).e164

    plan = await plan_then_import(app, tenant, {"e164": e164, "source": "LIVEKIT", "agentId": agent.id})

    assert plan == {
        "__typename": "ImportPlan",
        "source": "LIVEKIT",
        "capabilities": ["INBOUND"],
        "steps": [
            step("LIVEKIT", "CREATE", "dispatch rule", f"to agent {agent.id}"),
            step("LIVEKIT", "PURCHASE", "phone number", e164),
        ],
    }


async def test_livekit_number_deep_in_its_area_codes_offers_is_found(app, tenant):
    # The sandbox offers 100 numbers per area code, counting down from 0199: 0100 is on the second page.
    plan = await plan_quietly(app, tenant, {"e164": "+14155550100", "source": "LIVEKIT"})

    assert plan["steps"] == [step("LIVEKIT", "PURCHASE", "phone number", "+14155550100")]


async def test_byoc_number_plans_the_trunks_livekit_sides_by_its_direction(app, tenant):
    trunk = await byoc_trunk(tenant)
    agent = await add_agent(tenant.workspace)

    first = await plan_then_import(app, tenant, {"e164": "+12025550147", "source": "BYOC", "trunkId": trunk["id"], "agentId": agent.id})
    second = await plan_then_import(app, tenant, {"e164": "+12025550148", "source": "BYOC", "trunkId": trunk["id"]})

    assert (first["source"], first["capabilities"]) == ("BYOC", ["INBOUND", "OUTBOUND"])
    assert first["steps"] == [
        step("LIVEKIT", "CREATE", "LiveKit inbound trunk"),
        step("LIVEKIT", "CREATE", "LiveKit outbound trunk"),
        step("LIVEKIT", "CREATE", "dispatch rule", f"to agent {agent.id}"),
    ]
    row = await SipTrunk.get(id=trunk["id"])
    assert second["steps"] == [
        step("LIVEKIT", "UPDATE", "LiveKit inbound trunk", row.livekit_inbound_trunk_id),
        step("LIVEKIT", "UPDATE", "LiveKit outbound trunk", row.livekit_outbound_trunk_id),
    ]


async def test_byoc_number_on_an_outbound_trunk_plans_its_outbound_side_only(app, tenant):
    trunk = await byoc_trunk(tenant, direction="OUTBOUND")

    plan = await plan_then_import(app, tenant, {"e164": "+12025550147", "source": "BYOC", "trunkId": trunk["id"]})

    assert (plan["capabilities"], plan["steps"]) == (["OUTBOUND"], [step("LIVEKIT", "CREATE", "LiveKit outbound trunk")])


# ---------------------------------------------------------------- the import's refusals, before anything is done


@pytest.mark.parametrize(
    "number_input, expected",
    [
        ({"e164": "12025550147", "source": "BYOC"}, [("e164", "INVALID_FORMAT"), ("trunkId", "REQUIRED")]),
        ({"e164": "+12025550147", "source": "TWILIO"}, [("twilio", "REQUIRED")]),
        ({"e164": "+442071234567", "source": "LIVEKIT"}, [("e164", "UNSUPPORTED_COUNTRY")]),
        ({"e164": "+12025550147", "source": "LIVEKIT", "agentId": "agent_01J0000000000000000000000Z"}, [("agentId", "NOT_FOUND")]),
    ],
)
async def test_invalid_input_is_refused_as_the_import_refuses_it(app, tenant, number_input, expected):
    plan = await plan_quietly(app, tenant, number_input)
    _, result = await the_answers(tenant, number_input)

    assert plan["__typename"] == "ValidationError"
    assert field_codes(plan) == expected
    assert refusal(plan) == refusal(result)


async def test_a_full_workspace_is_refused_as_the_import_refuses_it(app, make_tenant):
    tenant = await make_tenant(phone_number_limit=1)
    await add_phone_number(tenant.workspace, "+12025550100")
    e164 = next(app.state.sandbox.livekit.inventory("415")).e164

    plan = await plan_quietly(app, tenant, {"e164": e164, "source": "LIVEKIT"})
    _, result = await the_answers(tenant, {"e164": e164, "source": "LIVEKIT"})

    assert plan == {
        "__typename": "PaymentRequiredError", "code": "PHONE_NUMBER_LIMIT_REACHED", "limit": 1, "current": 1,
        "message": plan["message"],
    }
    assert plan == result


async def test_a_number_the_twilio_account_does_not_hold_is_not_owned(app, tenant):
    number_input = twilio_input("+12025550199")

    plan = await plan_quietly(app, tenant, number_input)
    _, result = await the_answers(tenant, number_input)

    assert field_codes(plan) == [("e164", "NOT_OWNED")]
    assert plan == result


async def test_a_number_already_held_is_refused_as_the_import_refuses_it(app, tenant, make_tenant):
    await imported(tenant, twilio_input(DEMO_DIDS[0]))
    other = await make_tenant("Other")

    here = await plan_quietly(app, tenant, twilio_input(DEMO_DIDS[0]))
    elsewhere = await plan_quietly(app, other, twilio_input(DEMO_DIDS[0]))

    assert field_codes(here) == field_codes(elsewhere) == [("e164", "ALREADY_EXISTS")]
    assert [here, elsewhere] == [(await the_answers(t, twilio_input(DEMO_DIDS[0])))[1] for t in (tenant, other)]


async def test_a_number_livekit_does_not_offer_is_not_available(app, tenant):
    number_input = {"e164": NOT_ON_OFFER, "source": "LIVEKIT"}

    plan = await plan_quietly(app, tenant, number_input)
    _, result = await the_answers(tenant, number_input)

    assert field_codes(plan) == [("e164", "NOT_AVAILABLE")]
    assert "availablePhoneNumbers(source: LIVEKIT)" in plan["fieldErrors"][0]["message"]
    assert refusal(plan) == refusal(result)


@pytest.mark.parametrize(
    "with_did, with_agent, expected",
    [(False, False, ("e164", "DID_IMPORT_REQUIRED")), (True, True, ("agentId", "NOT_AGENT_BINDABLE"))],
)
async def test_a_caller_id_the_import_would_refuse_is_refused(app, tenant, with_did, with_agent, expected):
    if with_did:
        await imported(tenant, twilio_input(DEMO_DIDS[0]))
    agent = {"agentId": (await add_agent(tenant.workspace)).id} if with_agent else {}
    number_input = twilio_input(DEMO_CALLER_IDS[0], **agent)

    plan = await plan_quietly(app, tenant, number_input)
    _, result = await the_answers(tenant, number_input)

    assert field_codes(plan) == [expected]
    assert plan == result


async def test_an_agent_on_an_outbound_byoc_trunk_is_refused(app, tenant):
    trunk = await byoc_trunk(tenant, direction="OUTBOUND")
    agent = await add_agent(tenant.workspace)
    number_input = {"e164": "+12025550147", "source": "BYOC", "trunkId": trunk["id"], "agentId": agent.id}

    plan = await plan_quietly(app, tenant, number_input)
    _, result = await the_answers(tenant, number_input)

    assert field_codes(plan) == [("agentId", "NOT_AGENT_BINDABLE")]
    assert plan == result


async def test_livekit_unreachable_is_a_provider_error(app, tenant):
    app.state.sandbox.faults.add("POST", "/twirp/livekit.PhoneNumberService/SearchPhoneNumbers", status=503)

    plan = await plan_quietly(app, tenant, {"e164": "+14155550199", "source": "LIVEKIT"})

    assert (plan["__typename"], plan["provider"], plan["retryable"]) == ("ProviderError", "LIVEKIT", True)
