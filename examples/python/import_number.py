"""Create an agent, import a Twilio number bound to it, and list the workspace's numbers, with gql.

    pip install 'gql[aiohttp]>=4.4,<5'
    TRUNKLINE_URL=http://127.0.0.1:8000 TRUNKLINE_API_KEY=sk_… python import_number.py [--e164 +1…] [--page-size N]

By default it imports the sandbox's demo DID with the demo customer's Twilio credentials (README, "The
sandbox carriers"). Exit status: 0 imported, 1 refused (the reason is printed), 2 not run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid
from typing import Any, Literal, TypedDict, cast

from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.exceptions import TransportConnectionFailed, TransportError

DEMO_DID = "+14155550101"
DEMO_TWILIO = {"accountSid": "AC5a4db0c0000000000000000000000001", "authToken": "5a4db0c0000000000000000000000001"}

CREATE_AGENT = GraphQLRequest("""
mutation CreateAgent($input: CreateAgentInput!) {
  createAgent(input: $input) {
    __typename
    ... on CreateAgentSuccess { agent { id name } }
    ... on ValidationError { code message fieldErrors { field code message } }
  }
}
""")

IMPORT_PHONE_NUMBER = GraphQLRequest("""
mutation ImportPhoneNumber($input: ImportPhoneNumberInput!) {
  importPhoneNumber(input: $input) {
    __typename
    ... on ImportPhoneNumberSuccess { phoneNumber { id e164 source status agentId } }
    ... on ValidationError { code message fieldErrors { field code message } }
    ... on PaymentRequiredError { code message limit current }
    ... on ProviderError { code message provider retryable }
  }
}
""")

PHONE_NUMBERS = GraphQLRequest("""
query PhoneNumbers($first: Int!, $after: String) {
  phoneNumbers(first: $first, after: $after) {
    totalCount
    edges { node { id e164 source status agentId } }
    pageInfo { hasNextPage endCursor }
  }
}
""")


class FieldError(TypedDict):
    field: str
    code: str
    message: str


class PhoneNumber(TypedDict):
    id: str
    e164: str
    source: str
    status: str
    agentId: str | None


class ValidationError(TypedDict):
    __typename: Literal["ValidationError"]
    code: str
    message: str
    fieldErrors: list[FieldError]


class PaymentRequiredError(TypedDict):
    __typename: Literal["PaymentRequiredError"]
    code: str
    message: str
    limit: int
    current: int


class ProviderError(TypedDict):
    __typename: Literal["ProviderError"]
    code: str
    message: str
    provider: str
    retryable: bool


class ImportPhoneNumberSuccess(TypedDict):
    __typename: Literal["ImportPhoneNumberSuccess"]
    phoneNumber: PhoneNumber


ImportPhoneNumberResult = ImportPhoneNumberSuccess | ValidationError | PaymentRequiredError | ProviderError


def field_errors(error: ValidationError) -> str:
    return "; ".join(f"{e['field']} {e['code']}: {e['message']}" for e in error["fieldErrors"])


async def execute(
    session: AsyncClientSession, request: GraphQLRequest, variables: dict[str, Any], headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """One operation. A mutation sent with an Idempotency-Key is sent again with the same key when the
    connection fails, so it takes effect once however often it arrives."""
    request = GraphQLRequest(request, variable_values=variables)
    for attempt in range(3 if headers and "Idempotency-Key" in headers else 1):
        try:
            return await session.execute(request, extra_args={"headers": headers or {}})
        except TransportConnectionFailed:
            if attempt == 2 or not headers:
                raise
            await asyncio.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


async def create_agent(session: AsyncClientSession, name: str) -> str | None:
    result = (await execute(session, CREATE_AGENT, {"input": {"name": name}}))["createAgent"]
    match result["__typename"]:
        case "CreateAgentSuccess":
            print(f"created agent {result['agent']['id']} ({result['agent']['name']})")
            return cast(str, result["agent"]["id"])
        case "ValidationError":
            print(f"agent refused ({result['code']}): {field_errors(result)}")
            return None
        case other:
            raise RuntimeError(f"unexpected createAgent result {other}")


async def import_number(session: AsyncClientSession, e164: str, agent_id: str) -> bool:
    variables = {"input": {"e164": e164, "source": "TWILIO", "agentId": agent_id, "twilio": DEMO_TWILIO}}
    # One key per intended import: a retry of this request replays its first result instead of importing twice.
    headers = {"Idempotency-Key": f"import-{uuid.uuid4()}"}
    data = await execute(session, IMPORT_PHONE_NUMBER, variables, headers)
    result = cast(ImportPhoneNumberResult, data["importPhoneNumber"])
    match result["__typename"]:
        case "ImportPhoneNumberSuccess":
            number = result["phoneNumber"]
            print(f"imported {number['e164']} as {number['id']} ({number['source']}, {number['status']}), answered by {number['agentId']}")
            return True
        case "ValidationError":
            print(f"import refused ({result['code']}): {field_errors(result)}")
        case "PaymentRequiredError":
            print(f"import refused ({result['code']}): the workspace holds {result['current']} of its {result['limit']} numbers")
        case "ProviderError":
            advice = "retry later with a new Idempotency-Key" if result["retryable"] else "not retryable"
            print(f"import failed at {result['provider']} ({result['code']}): {result['message']}; {advice}")
        case other:
            raise RuntimeError(f"unexpected importPhoneNumber result {other}")
    return False


async def list_numbers(session: AsyncClientSession, page_size: int) -> None:
    after: str | None = None
    page = 0
    while True:
        numbers = (await execute(session, PHONE_NUMBERS, {"first": page_size, "after": after}))["phoneNumbers"]
        page += 1
        for edge in numbers["edges"]:
            n: PhoneNumber = edge["node"]
            print(f"page {page}: {n['e164']} {n['id']} {n['source']} {n['status']} agent={n['agentId']}")
        if not numbers["pageInfo"]["hasNextPage"]:
            print(f"{numbers['totalCount']} numbers in {page} pages")
            return
        after = numbers["pageInfo"]["endCursor"]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--e164", default=DEMO_DID, help=f"a number of the demo Twilio account (default {DEMO_DID})")
    parser.add_argument("--page-size", type=int, default=50, help="numbers per page, 1 to 100")
    args = parser.parse_args()
    api_key = os.environ.get("TRUNKLINE_API_KEY")
    if not api_key:
        print("set TRUNKLINE_API_KEY to a workspace's API key (sk_…)", file=sys.stderr)
        return 2
    url = os.environ.get("TRUNKLINE_URL", "http://127.0.0.1:8000").rstrip("/") + "/graphql"

    transport = AIOHTTPTransport(url=url, headers={"Authorization": f"Bearer {api_key}"}, timeout=30)
    try:
        async with Client(transport=transport) as session:
            agent_id = await create_agent(session, "Front desk")
            if agent_id is None:
                return 1
            imported = await import_number(session, args.e164, agent_id)
            await list_numbers(session, args.page_size)
            return 0 if imported else 1
    except TransportError as error:  # 401, 429, GraphQL errors: the server's message and code
        print(f"request failed: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
