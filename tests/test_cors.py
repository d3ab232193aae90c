"""Browser clients on the origins in TRUNKLINE_CORS_ORIGINS: preflights, the headers a page may send and
read, and CORS headers on refusals made before the view (401, 413, 429) so a page can read them."""

from __future__ import annotations

import contextlib
import dataclasses

import httpx
import pytest

from app.main import create_app
from app.settings import Settings, SettingsError
from resolvers.api_keys import issue_api_key
from resolvers.workspaces import create_workspace

ALLOWED = "https://app.example.com"
QUERY = {"query": "{ workspace { id } }"}


@pytest.fixture
async def make_client(settings):
    """A client of an app on the test's database allowing ALLOWED, with some settings changed."""
    async with contextlib.AsyncExitStack() as stack:

        async def make(**changes) -> httpx.AsyncClient:
            changes = {"cors_origins": (ALLOWED, "http://localhost:5173"), **changes}
            app = create_app(dataclasses.replace(settings, **changes))
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            return await stack.enter_async_context(httpx.AsyncClient(transport=transport, base_url="http://trunkline.test"))

        yield make


@pytest.fixture
async def client(make_client) -> httpx.AsyncClient:
    return await make_client()


async def api_key() -> dict[str, str]:
    key = await issue_api_key(await create_workspace("Acme", 100))
    return {"Authorization": f"Bearer {key.secret}"}


def preflight(origin: str, method: str = "POST", headers: str = "authorization, content-type, idempotency-key") -> dict:
    return {"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers}


async def test_a_preflight_from_an_allowed_origin_is_answered_with_what_it_may_send(client):
    response = await client.options("/graphql", headers=preflight(ALLOWED, headers="Authorization, X-Request-Id"))

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert set(response.headers["access-control-allow-methods"].split(", ")) == {"GET", "POST"}
    allowed_headers = set(response.headers["access-control-allow-headers"].lower().split(", "))
    assert {"authorization", "content-type", "idempotency-key", "x-request-id"} <= allowed_headers
    assert "Origin" in response.headers["vary"]


@pytest.mark.parametrize(
    "origin, method, headers",
    [
        ("https://evil.example.com", "POST", "authorization"),
        ("https://app.example.com.evil.example.com", "POST", "authorization"),
        (ALLOWED, "DELETE", "authorization"),
        (ALLOWED, "POST", "authorization, x-api-key"),
    ],
    ids=["other-origin", "origin-as-prefix", "method", "header"],
)
async def test_a_preflight_asking_for_anything_else_is_refused_in_the_envelope(client, origin, method, headers):
    response = await client.options("/graphql", headers=preflight(origin, method, headers))

    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "TRUNKLINE_CORS_ORIGINS" in response.json()["errors"][0]["message"]


async def test_another_origin_gets_no_allow_origin_on_its_requests(client):
    response = await client.post("/graphql", json=QUERY, headers={**await api_key(), "Origin": "https://evil.example.com"})

    assert response.status_code == 200  # the server answers; the browser withholds it from the page
    assert "access-control-allow-origin" not in response.headers


async def test_a_post_from_an_allowed_origin_may_be_read_with_the_headers_it_exposes(client):
    headers = {**await api_key(), "Origin": ALLOWED, "Idempotency-Key": "cors-1"}
    mutation = {"query": 'mutation { createAgent(input: {name: "Desk"}) { __typename } }'}
    first = await client.post("/graphql", json=mutation, headers=headers)
    replay = await client.post("/graphql", json=mutation, headers=headers)

    for response in (first, replay):
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == ALLOWED
        exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
        assert exposed == {"idempotent-replayed", "x-request-id", "retry-after"}
        assert "Origin" in response.headers["vary"]
    assert replay.headers["idempotent-replayed"] == "true"


async def test_a_401_carries_the_cors_headers(client):
    for auth in ({}, {"Authorization": "Bearer sk_not_a_key"}):  # refused by the view, and by the middleware
        response = await client.post("/graphql", json=QUERY, headers={**auth, "Origin": ALLOWED})
        assert response.status_code == 401
        assert response.headers["access-control-allow-origin"] == ALLOWED
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_413_carries_the_cors_headers(make_client):
    client = await make_client(max_body_bytes=1000)
    headers = {**await api_key(), "Origin": ALLOWED, "Content-Type": "application/json"}
    response = await client.post("/graphql", content=b"x" * 2000, headers=headers)

    assert response.status_code == 413
    assert response.headers["access-control-allow-origin"] == ALLOWED


async def test_a_429_carries_the_cors_headers_and_lets_the_page_read_retry_after(make_client):
    client = await make_client(rate_limit="1/minute")
    headers = {**await api_key(), "Origin": ALLOWED}
    assert (await client.post("/graphql", json=QUERY, headers=headers)).status_code == 200
    response = await client.post("/graphql", json=QUERY, headers=headers)

    assert response.status_code == 429
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "retry-after" in response.headers["access-control-expose-headers"].lower()
    assert int(response.headers["retry-after"]) > 0


async def test_without_configured_origins_no_cors_header_is_sent(make_client):
    client = await make_client(cors_origins=())
    response = await client.post("/graphql", json=QUERY, headers={**await api_key(), "Origin": ALLOWED})
    refused_preflight = await client.options("/graphql", headers=preflight(ALLOWED))

    assert response.status_code == 200
    assert not [name for name in response.headers if name.startswith("access-control-")]
    assert refused_preflight.status_code == 405
    assert not [name for name in refused_preflight.headers if name.startswith("access-control-")]


@pytest.mark.parametrize(
    "value, origins",
    [
        ("", ()),
        ("https://App.Example.com, http://localhost:5173", ("https://app.example.com", "http://localhost:5173")),
        ("http://[::1]:8080", ("http://[::1]:8080",)),
        ("*", ("*",)),
    ],
)
def test_origins_are_read_as_browsers_send_them(value, origins):
    assert Settings.from_env({"TRUNKLINE_CORS_ORIGINS": value}).cors_origins == origins


@pytest.mark.parametrize("value", ["https://app.example.com/", "app.example.com", "ftp://x.example.com", "*, https://a.example.com"])
def test_a_malformed_origin_stops_the_start_naming_the_variable(value):
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"TRUNKLINE_CORS_ORIGINS": value})
    assert str(refused.value).startswith("TRUNKLINE_CORS_ORIGINS must be")
    assert "\n" not in str(refused.value)
