"""Webhook delivery, one pass at a time (app/main.py runs a pass every few seconds in every worker).

A pass fans new events out into one delivery row per subscribed endpoint, claims the deliveries that are
due, sends each once and records what happened. All the state is in those rows, so a restart resumes
where the last process stopped; an attempt cut off by a crash is sent again once its claim expires
(at least once: receivers tell repeats apart by Trunkline-Event-Id).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import PhoneNumberEvent, WebhookDelivery, WebhookEndpoint
from models.secret_box import SecretBox
from providers.metrics import WEBHOOK_DELIVERIES
from providers.webhooks.sender import Answer, WebhookSender
from providers.webhooks.signature import EVENT_ID_HEADER, SIGNATURE_HEADER, sign
from resolvers.clock import SYSTEM_CLOCK, Clock

log = logging.getLogger("trunkline.webhooks")
FAN_OUT_BATCH = 200


@dataclass(frozen=True)
class DeliveryPolicy:
    """Retries: the first after retry_base seconds, each delay doubling up to retry_max, until
    give_up_after seconds have passed since the first attempt was due."""

    retry_base: float = 5.0
    retry_max: float = 3600.0
    give_up_after: float = 86400.0
    claim_for: float = 60.0  # longer than an attempt can take (the sender's timeout), so a live claim is never taken over
    batch: int = 20  # deliveries claimed and sent at once by one pass

    def delay(self, attempts: int) -> float:
        return min(self.retry_base * 2 ** (attempts - 1), self.retry_max)


async def deliver_webhooks(
    sender: WebhookSender, box: SecretBox, policy: DeliveryPolicy, clock: Clock = SYSTEM_CLOCK
) -> int:
    """One pass; the number of attempts made."""
    await fan_out(clock)
    claimed = await claim_due(policy, clock)
    await asyncio.gather(*(_attempt(delivery, sender, box, policy, clock) for delivery in claimed))
    return len(claimed)


async def fan_out(clock: Clock = SYSTEM_CLOCK) -> None:
    """A delivery for every endpoint subscribed to each new event (the pair is unique, so two workers
    fanning out one event make one row), then the event is marked fanned out."""
    events = await PhoneNumberEvent.filter(fanned_out=False).order_by("id").limit(FAN_OUT_BATCH)
    if not events:
        return
    endpoints: dict[str, list[WebhookEndpoint]] = defaultdict(list)
    for endpoint in await WebhookEndpoint.filter(workspace_id__in={event.workspace_id for event in events}):
        endpoints[endpoint.workspace_id].append(endpoint)
    now = clock.now()
    deliveries = [
        # Made at the clock's time, as the give-up window counts from it.
        WebhookDelivery(endpoint_id=endpoint.id, event_id=event.id, next_attempt_at=now, created_at=now)
        for event in events
        for endpoint in endpoints[event.workspace_id]
        if event.type.value in endpoint.events
    ]
    async with in_transaction() as connection:
        if deliveries:
            await WebhookDelivery.bulk_create(deliveries, ignore_conflicts=True, using_db=connection)
        await PhoneNumberEvent.filter(id__in=[event.id for event in events]).using_db(connection).update(fanned_out=True)


def _due(now: datetime) -> Q:
    return Q(delivered_at=None, given_up_at=None, next_attempt_at__lte=now) & (
        Q(claimed_until=None) | Q(claimed_until__lt=now)
    )


async def claim_due(policy: DeliveryPolicy, clock: Clock = SYSTEM_CLOCK) -> list[WebhookDelivery]:
    """Due deliveries, claimed by one conditional update: a row another worker claimed meanwhile no
    longer matches (PostgreSQL checks the condition again on the row it locks), so no attempt is made twice."""
    now = clock.now()
    ids = await WebhookDelivery.filter(_due(now)).order_by("next_attempt_at", "id").limit(policy.batch).values_list("id", flat=True)
    if not ids:
        return []
    token = secrets.token_hex(16)
    claimed = await WebhookDelivery.filter(_due(now), id__in=list(ids)).update(
        claim_token=token, claimed_until=now + timedelta(seconds=policy.claim_for)
    )
    if not claimed:
        return []
    return await WebhookDelivery.filter(claim_token=token).prefetch_related("endpoint", "event")


def payload(event: PhoneNumberEvent) -> bytes:
    """The body, the same bytes on every attempt (the signature's timestamp is what changes)."""
    created_at = event.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return json.dumps(
        {
            "id": event.id,
            "type": f"phone_number.{event.type.value.lower()}",
            "created_at": created_at,
            "workspace_id": event.workspace_id,
            "data": {"phone_number": event.number},
        },
        separators=(",", ":"),
    ).encode()


async def _attempt(
    delivery: WebhookDelivery, sender: WebhookSender, box: SecretBox, policy: DeliveryPolicy, clock: Clock
) -> None:
    event, endpoint = delivery.event, delivery.endpoint
    body = payload(event)
    headers = {SIGNATURE_HEADER: sign(box.decrypt(endpoint.secret_encrypted), body), EVENT_ID_HEADER: event.id}
    answer = await sender.post(endpoint.url, body, headers)
    await _record(delivery, answer, policy, clock.now())


async def _record(delivery: WebhookDelivery, answer: Answer, policy: DeliveryPolicy, now: datetime) -> None:
    attempts = delivery.attempts + 1
    done = {"attempts": attempts, "last_status": answer.status, "last_error": answer.error, "claim_token": None,
            "claimed_until": None, "updated_at": now}  # fmt: skip
    if answer.acknowledged:
        outcome, changes = "delivered", {"delivered_at": now}
    else:
        retry_at = now + timedelta(seconds=policy.delay(attempts))
        if retry_at - delivery.created_at > timedelta(seconds=policy.give_up_after):
            outcome, changes = "given_up", {"given_up_at": now}
        else:
            outcome, changes = ("refused" if answer.refused else "failed"), {"next_attempt_at": retry_at}
    # Only while the claim is ours: a worker stalled past it must not overwrite its successor's result.
    await WebhookDelivery.filter(id=delivery.id, claim_token=delivery.claim_token).update(**done, **changes)
    WEBHOOK_DELIVERIES.labels(outcome).inc()
    log.info(
        "webhook %s to %s attempt %d: %s (%s)", delivery.event_id, delivery.endpoint_id, attempts, outcome,
        answer.status if answer.status is not None else answer.error,
    )
