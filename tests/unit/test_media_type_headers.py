"""GraphQLMediaType's edits of an answer's start (app/media_types.py): Vary names Accept once, whatever Vary the
answer had, and a JSON answer is relabelled only for a client that prefers the GraphQL response type."""

import pytest

from app.media_types import GRAPHQL_RESPONSE, GraphQLMediaType


async def started(answer_headers: list[tuple[bytes, bytes]], accept: bytes | None = None) -> dict[bytes, bytes]:
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": answer_headers})
        await send({"type": "http.response.body", "body": b"{}"})

    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    request_headers = [(b"accept", accept)] if accept is not None else []
    await GraphQLMediaType(app)({"type": "http", "headers": request_headers}, receive, send)
    return dict(sent[0]["headers"])


JSON = (b"content-type", b"application/json")


@pytest.mark.parametrize(
    ("vary", "expected"),
    [(None, b"Accept"), (b"Origin", b"Origin, Accept"), (b"Origin, accept", b"Origin, accept")],
    ids=["none", "another", "already"],
)
async def test_vary_names_accept_once(vary, expected):
    headers = [JSON, *([(b"vary", vary)] if vary else [])]
    assert (await started(headers))[b"vary"] == expected


async def test_a_client_that_prefers_the_graphql_type_gets_it_and_others_json():
    preferring = await started([JSON], accept=GRAPHQL_RESPONSE.encode())
    assert preferring[b"content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8".encode()
    for accept in (None, b"application/json", b"*/*", b"application/json, application/graphql-response+json;q=0.5"):
        assert (await started([JSON], accept=accept))[b"content-type"] == b"application/json", accept
