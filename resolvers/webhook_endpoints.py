"""Webhook endpoints of a workspace: create (its signing secret shown once), list, delete."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from models import PhoneNumberEventType, WebhookEndpoint
from models.ids import is_valid_id
from models.secret_box import SecretBox
from providers.webhooks.targets import TargetRules
from resolvers.outcomes import FieldCode, FieldProblem, Invalid, Missing
from resolvers.validation import check_text
from resolvers.workspaces import locked_workspace

MAX_ENDPOINTS = 10  # per workspace: each one multiplies every event's deliveries
MAX_URL_LENGTH = 2048
SECRET_PREFIX = "whsec_"


@dataclass(frozen=True)
class NewEndpoint:
    endpoint: WebhookEndpoint
    signing_secret: str  # returned this once; only its encryption is stored


def check_url(url: str, rules: TargetRules) -> tuple[FieldProblem, ...]:
    if not url:
        return (FieldProblem("url", FieldCode.REQUIRED, "url is required"),)
    if problems := check_text(url, "url"):
        return problems
    if len(url) > MAX_URL_LENGTH:
        return (FieldProblem("url", FieldCode.TOO_LONG, f"url must be at most {MAX_URL_LENGTH} characters, not {len(url)}"),)
    if problem := rules.format_problem(url):
        return (FieldProblem("url", FieldCode.INVALID_FORMAT, f"url {problem}"),)
    if problem := rules.safety_problem(url):
        return (FieldProblem("url", FieldCode.UNSAFE_URL, f"url {problem}"),)
    return ()


def check_events(events: Sequence[PhoneNumberEventType] | None) -> tuple[FieldProblem, ...]:
    if events is not None and not events:
        return (FieldProblem("events", FieldCode.REQUIRED, "events must name at least one type, or be null for every type"),)
    return ()


async def create_webhook_endpoint(
    workspace_id: str, url: str, events: Sequence[PhoneNumberEventType] | None, rules: TargetRules, box: SecretBox
) -> NewEndpoint | Invalid:
    url = url.strip()
    if problems := check_url(url, rules) + check_events(events):
        return Invalid(problems)
    chosen = list(PhoneNumberEventType) if events is None else [kind for kind in PhoneNumberEventType if kind in events]
    signing_secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    async with in_transaction() as connection:
        # The workspace row is locked while its endpoints are counted, so two creations cannot both take the last place.
        await locked_workspace(workspace_id, connection)
        if await WebhookEndpoint.filter(workspace_id=workspace_id).using_db(connection).count() >= MAX_ENDPOINTS:
            return Invalid(
                (FieldProblem("url", FieldCode.TOO_MANY, f"a workspace has at most {MAX_ENDPOINTS} webhook endpoints"),)
            )
        endpoint = await WebhookEndpoint.create(
            workspace_id=workspace_id, url=url, events=[kind.value for kind in chosen],
            secret_encrypted=box.encrypt(signing_secret), using_db=connection,
        )
    return NewEndpoint(endpoint, signing_secret)


async def list_webhook_endpoints(workspace_id: str) -> list[WebhookEndpoint]:
    return await WebhookEndpoint.filter(workspace_id=workspace_id).order_by("id")


async def get_webhook_endpoint(workspace_id: str, endpoint_id: str) -> WebhookEndpoint | None:
    if not is_valid_id(endpoint_id, "whk"):
        return None
    return await WebhookEndpoint.get_or_none(id=endpoint_id, workspace_id=workspace_id)


async def delete_webhook_endpoint(workspace_id: str, endpoint_id: str) -> str | Missing:
    """Its deliveries go with it, sent or not."""
    if not is_valid_id(endpoint_id, "whk"):
        return Missing(endpoint_id)
    deleted = await WebhookEndpoint.filter(id=endpoint_id, workspace_id=workspace_id).delete()
    return endpoint_id if deleted else Missing(endpoint_id)
