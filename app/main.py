"""The Starlette application factory: middleware and routes in the order a request meets them."""

from contextlib import asynccontextmanager
from datetime import timedelta

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.routing import Route
from tortoise.contrib.starlette import RegisterTortoise

from app.auth import ApiKeyBackend, unauthenticated
from app.carriers import carriers
from app.background import background
from app.db import tortoise_config
from app.graphql_view import TrunklineGraphQL
from app.health import healthz, readyz
from app.settings import Settings
from resolvers.recovery import RecoveryPolicy, recover_forever
from schema.schema import build_schema


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: Starlette):
        async with RegisterTortoise(app, config=tortoise_config(settings.database_url)), carriers(settings) as running:
            app.state.services = running.services
            app.state.sandbox = running.sandbox
            async with background(recover_forever(running.services, recovery_policy(settings))):
                yield

    graphql = TrunklineGraphQL(build_schema(introspection=settings.introspection), introspection=settings.introspection)
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


def recovery_policy(settings: Settings) -> RecoveryPolicy:
    return RecoveryPolicy(grace=timedelta(seconds=settings.recovery_grace), interval=timedelta(seconds=settings.recovery_interval))


def app_from_env() -> Starlette:
    """uvicorn's factory for `trunkline serve`: settings from the process environment."""
    return create_app(Settings.from_env())
