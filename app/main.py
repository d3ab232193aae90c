"""The Starlette application factory: middleware and routes in the order a request meets them."""

from contextlib import asynccontextmanager
from datetime import timedelta

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.routing import Route
from tortoise.contrib.starlette import RegisterTortoise

from app.auth import ApiKeyBackend, unauthenticated
from app.background import every
from app.carriers import carriers
from app.db import tortoise_config
from app.graphql_view import TrunklineGraphQL
from app.health import healthz, readyz
from app.idempotency import purge_expired_keys
from app.logs import configure_logging
from app.settings import Settings
from resolvers.recovery import recover_interrupted
from schema.schema import build_schema


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: Starlette):
        async with RegisterTortoise(app, config=tortoise_config(settings.database_url)), carriers(settings) as running:
            app.state.services = running.services
            app.state.sandbox = running.sandbox
            grace = timedelta(seconds=settings.recovery_grace)

            async def recover_interrupted_operations() -> None:
                await recover_interrupted(running.services, grace)

            async with every(settings.recovery_interval, recover_interrupted_operations, purge_expired_keys):
                yield

    graphql = TrunklineGraphQL(
        build_schema(introspection=settings.introspection),
        introspection=settings.introspection,
        # A key still in progress after recovery's grace period was left by a crashed process.
        idempotency_abandoned_after=timedelta(seconds=settings.recovery_grace),
    )
    routes = [
        Route(
            "/graphql",
            graphql,
            methods=["GET", "POST"],
            middleware=[Middleware(AuthenticationMiddleware, backend=ApiKeyBackend(), on_error=unauthenticated)],
        ),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.settings = settings
    return app


def app_from_env() -> Starlette:
    """uvicorn's factory for `trunkline serve`: settings from the process environment."""
    configure_logging()
    return create_app(Settings.from_env())
