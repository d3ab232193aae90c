"""The Starlette application factory: middleware and routes in the order a request meets them."""

from contextlib import asynccontextmanager, nullcontext
from datetime import timedelta
from functools import partial

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute
from tortoise.contrib.starlette import RegisterTortoise

from app.access import RequestObserver
from app.auth import Authentication
from app.background import every
from app.carriers import carriers
from app.client_address import ClientAddress
from app.cors import cors_middleware
from app.db import create_private_sqlite_file, tortoise_config
from app.errors import http_exception, unexpected_exception
from app.event_sources import feeding
from app.graphiql_page import graphiql_routes
from app.graphql_view import TrunklineGraphQL
from app.health import healthz, readyz
from app.idempotency import purge_expired_keys
from app.logs import configure_logging
from app.media_types import GraphQLMediaType
from app.metrics import metrics
from app.rate_limits import RateLimits
from app.request_limits import RequestLimits
from app.secret_key import derived_keys
from app.security_headers import SecurityHeaders
from app.settings import Settings
from app.subscriptions import Connections, WebSocketConnection
from app.webhooks import target_rules, webhook_deliveries
from resolvers.check_active_numbers import check_active_numbers
from resolvers.clock import SYSTEM_CLOCK, Clock
from resolvers.event_feed import EventFeed
from resolvers.recover_interrupted import recover_interrupted
from schema.schema import build_schema

IDEMPOTENCY_FINGERPRINT = "idempotency fingerprint"


def create_app(settings: Settings | None = None, clock: Clock = SYSTEM_CLOCK) -> Starlette:
    """The application; `clock` is the time its rate limits and webhook retries go by (a test's own)."""
    settings = settings or Settings.from_env()
    rate_limits = RateLimits(settings, clock)
    introspection = settings.introspection and not settings.is_production
    client_address = ClientAddress(settings.trusted_proxies)
    events = EventFeed()  # this process's subscriptions, told of new events by `feeding` below
    connections = Connections(settings.ws_max_connections, settings.ws_max_connections_per_workspace)

    @asynccontextmanager
    async def lifespan(app: Starlette):
        create_private_sqlite_file(settings.database_url)
        async with RegisterTortoise(app, config=tortoise_config(settings.database_url)), carriers(settings) as running:
            app.state.services = running.services
            app.state.sandbox = running.sandbox
            app.state.fingerprint_keys = derived_keys(settings, IDEMPOTENCY_FINGERPRINT)
            grace = timedelta(seconds=settings.recovery_grace)

            async def recover_interrupted_operations() -> None:
                await recover_interrupted(running.services, grace)

            async def check_active_numbers_health() -> None:
                await check_active_numbers(running.services)

            await rate_limits.start()
            try:
                async with every(settings.recovery_interval, recover_interrupted_operations, purge_expired_keys), \
                        _health_checks(settings, check_active_numbers_health), \
                        webhook_deliveries(settings, running.services, clock), \
                        feeding(events, settings.database_url):
                    yield
            finally:
                await rate_limits.close()

    graphql = TrunklineGraphQL(
        build_schema(introspection=introspection, suggestions=not settings.is_production),
        introspection=introspection,
        graphiql=not settings.is_production,
        # A key still in progress after recovery's grace period was left by a crashed process.
        idempotency_abandoned_after=timedelta(seconds=settings.recovery_grace),
        connections=connections,
        open_connection=partial(
            WebSocketConnection, events=events, connections=connections, rate_limits=rate_limits,
            client_address=client_address,
        ),
        allowed_origins=settings.cors_origins,
    )
    authentication = Middleware(Authentication, rate_limits=rate_limits, client_address=client_address)
    routes = [
        Route(
            "/graphql", graphql, methods=["GET", "POST"], middleware=[Middleware(GraphQLMediaType), authentication]
        ),
        WebSocketRoute("/graphql", graphql),  # subscriptions (app/subscriptions.py); the key comes in connection_init
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        *([Route("/metrics", metrics, methods=["GET"])] if settings.metrics else []),
        *graphiql_routes(enabled=not settings.is_production),
    ]
    middleware = [
        Middleware(RequestObserver),  # first: every answer carries X-Request-Id and is logged
        *cors_middleware(settings.cors_origins),  # outside the limits and auth: their refusals carry CORS too
        Middleware(SecurityHeaders),
        Middleware(
            RequestLimits, max_body_bytes=settings.max_body_bytes, read_timeout=settings.request_read_timeout
        ),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={HTTPException: http_exception, Exception: unexpected_exception},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.rate_limits = rate_limits
    app.state.webhook_targets = target_rules(settings)
    return app


def _health_checks(settings: Settings, job):
    """The periodic health check, when TRUNKLINE_HEALTH_CHECK_INTERVAL turns it on."""
    return every(settings.health_check_interval, job) if settings.health_check_interval else nullcontext()


def app_from_env() -> Starlette:
    """uvicorn's factory for `trunkline serve`: settings from the process environment."""
    configure_logging()
    return create_app(Settings.from_env())
