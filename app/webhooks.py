"""Webhook delivery in the server: every worker runs passes; claims keep them from sending one attempt twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.background import every
from app.settings import Settings
from providers.webhooks.sender import WebhookSender
from providers.webhooks.targets import TargetRules
from resolvers.clock import Clock
from resolvers.deliver_webhooks import DeliveryPolicy, deliver_webhooks
from resolvers.services import Services


def target_rules(settings: Settings) -> TargetRules:
    return TargetRules(production=settings.is_production, allow_private=settings.webhook_allow_private)


def delivery_policy(settings: Settings) -> DeliveryPolicy:
    return DeliveryPolicy(
        retry_base=settings.webhook_retry_base,
        retry_max=settings.webhook_retry_max,
        give_up_after=settings.webhook_give_up_after,
        claim_for=6 * settings.webhook_timeout,  # an attempt ends within the timeout; the rest is margin
    )


@asynccontextmanager
async def webhook_deliveries(settings: Settings, services: Services, clock: Clock) -> AsyncIterator[None]:
    """Delivery passes every TRUNKLINE_WEBHOOK_INTERVAL seconds while the block runs."""
    policy = delivery_policy(settings)
    async with WebhookSender(target_rules(settings), timeout=settings.webhook_timeout) as sender:

        async def deliver_webhook_events() -> None:
            await deliver_webhooks(sender, services.secrets, policy, clock)

        async with every(settings.webhook_interval, deliver_webhook_events, finish_within=settings.webhook_timeout + 1):
            yield
