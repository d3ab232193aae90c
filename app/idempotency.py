"""Idempotency-Key on mutations: the same key and body within 24 hours replays the first result
without touching the carriers again; the same key with another body is refused.

A duplicate that arrives while the first is still running waits for its result (up to WAIT), then
gets a clear 409; it never starts a second provisioning. Keys are scoped to the workspace.

A body is remembered only as an HMAC fingerprint, keyed from TRUNKLINE_SECRET_KEY: the table never
holds anything that tells what a request said, not even to someone guessing likely bodies.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from graphql import GraphQLError, OperationDefinitionNode, OperationType
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from app.asgi import request_header
from app.errors import EnvelopeResponse, envelope
from app.graphql_request import RequestRefused, decode_body
from models import IdempotencyKey, IdempotencyState
from schema.documents import parse_document

HEADER = b"idempotency-key"
REPLAYED_HEADER = "Idempotent-Replayed"
LIFETIME = timedelta(hours=24)
WAIT = 30.0
_KEY = re.compile(r"[\x21-\x7e]{1,255}")


def error(status: int, code: str, message: str) -> JSONResponse:
    return EnvelopeResponse(envelope(code, message), status_code=status)


async def idempotently(
    request: Request,
    workspace_id: str | None,
    execute: Callable[[], Awaitable[Response]],
    *,
    abandoned_after: timedelta,
    fingerprint_keys: list[bytes],
) -> Response:
    """Run `execute` at most once per (workspace, key, body); `abandoned_after`: when a key still in
    progress is taken as left by a crashed process (recovery has undone its work by then).
    `fingerprint_keys`: the current HMAC key first, then older ones still accepted."""
    key = request_header(request.scope, HEADER)
    if key is None or workspace_id is None or request.method != "POST":
        return await execute()
    try:
        data = decode_body(await request.body())
    except RequestRefused:
        return await execute()  # refused there, saying why
    if not _is_mutation(data):
        return await execute()
    if not _KEY.fullmatch(key):
        return error(400, "BAD_IDEMPOTENCY_KEY", "Idempotency-Key must be 1 to 255 visible ASCII characters")
    canonical = _canonical(data)
    request_hashes = [_hmac(fingerprint_key, canonical) for fingerprint_key in fingerprint_keys]

    record = await _claim(workspace_id, key, request_hashes, abandoned_after)
    if isinstance(record, Response):
        return record
    try:
        response = await execute()
    except BaseException:
        await IdempotencyKey.filter(id=record.id).delete()  # nothing to replay; the key may be used again
        raise
    if replayable(response):
        await IdempotencyKey.filter(id=record.id).update(
            state=IdempotencyState.DONE, response_body=response.body.decode(), updated_at=datetime.now(UTC)
        )
    else:
        await IdempotencyKey.filter(id=record.id).delete()
    return response


def replayable(response: Response) -> bool:
    """A result the client may see again: a 200 that is not a crash. A crash changed nothing that recovery
    leaves, so a retry with the same key should run again rather than replay "Unexpected error."."""
    if response.status_code != 200:
        return False
    try:
        errors = json.loads(response.body).get("errors") or []
    except (ValueError, AttributeError):
        return False
    return not any((error.get("extensions") or {}).get("code") == "INTERNAL_SERVER_ERROR" for error in errors)


async def _claim(
    workspace_id: str, key: str, request_hashes: list[str], abandoned_after: timedelta
) -> IdempotencyKey | Response:
    """The new record for this key (ours to fulfil), or the response a duplicate gets. The record
    holds the first fingerprint; one made with a key since rotated out of first place still matches."""
    deadline = asyncio.get_running_loop().time() + WAIT
    pause = 0.05
    while True:
        try:
            async with in_transaction():
                return await IdempotencyKey.create(workspace_id=workspace_id, key=key, request_hash=request_hashes[0])
        except IntegrityError:
            pass
        existing = await IdempotencyKey.get_or_none(workspace_id=workspace_id, key=key)
        if existing is None:
            continue  # it expired and was removed just now
        now = datetime.now(UTC)
        if existing.created_at < now - LIFETIME:
            await IdempotencyKey.filter(id=existing.id, created_at=existing.created_at).delete()
            continue
        if existing.request_hash not in request_hashes:
            return error(
                422, "IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was already used with a different request body."
            )
        if existing.state == IdempotencyState.DONE:
            return Response(
                existing.response_body, media_type="application/json", headers={REPLAYED_HEADER: "true"}
            )
        if existing.updated_at < now - abandoned_after:
            taken = await IdempotencyKey.filter(id=existing.id, updated_at=existing.updated_at).update(updated_at=now)
            if taken:
                return await IdempotencyKey.get(id=existing.id)
        if asyncio.get_running_loop().time() >= deadline:
            return error(
                409, "IDEMPOTENCY_KEY_IN_PROGRESS", "A request with this Idempotency-Key is still in progress; retry shortly."
            )
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.5)


def fingerprint(body: bytes, key: bytes) -> str:
    """HMAC-SHA256 of a request body, the same whatever its JSON spacing or key order."""
    return _hmac(key, _canonical(decode_body(body)))


def _canonical(data: dict) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def _hmac(key: bytes, canonical: bytes) -> str:
    return hmac.new(key, canonical, hashlib.sha256).hexdigest()


def _is_mutation(data: dict) -> bool:
    if not isinstance(data.get("query"), str):
        return False
    try:
        document = parse_document(data["query"])
    except GraphQLError:
        return False  # refused when it is executed, saying why
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    name = data.get("operationName")
    chosen = [op for op in operations if name is None or (op.name and op.name.value == name)]
    return any(op.operation == OperationType.MUTATION for op in chosen)


async def purge_expired_keys() -> int:
    return await IdempotencyKey.filter(created_at__lt=datetime.now(UTC) - LIFETIME).delete()


