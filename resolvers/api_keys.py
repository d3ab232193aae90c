"""API keys: made once and shown once, stored as SHA-256 hashes, revocable at once."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from models import ApiKey, Workspace, statements
from models.ids import is_valid_id

KEY_PATTERN = re.compile(r"sk_[A-Za-z0-9_-]{43}")
VISIBLE_PREFIX_LENGTH = 11  # "sk_" and 8 characters: enough to tell keys apart, useless to an attacker
# Every request runs this: one statement written out once, where the ORM would build and parse it each time
# (a third of a small request's time). Read on every request, never cached, so a revocation acts at once.
_LIVE_KEY_WORKSPACE = (
    "SELECT w.id, w.name, w.phone_number_limit FROM api_key k JOIN workspace w ON w.id = k.workspace_id "
    "WHERE k.key_hash = ? AND k.revoked_at IS NULL LIMIT 1"
)


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    workspace_id: str
    secret: str  # the only time the whole key exists outside its holder's hands


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def issue_api_key(workspace: Workspace) -> IssuedKey:
    secret = "sk_" + secrets.token_urlsafe(32)
    row = await ApiKey.create(workspace=workspace, prefix=secret[:VISIBLE_PREFIX_LENGTH], key_hash=hash_key(secret))
    return IssuedKey(key_id=row.id, workspace_id=workspace.id, secret=secret)


async def workspace_for_key(key: str) -> Workspace | None:
    """The workspace a live key acts for; None for a malformed, unknown or revoked key."""
    if not KEY_PATTERN.fullmatch(key):
        return None
    found = await statements.rows_now(_LIVE_KEY_WORKSPACE, [hash_key(key)])
    if not found:
        return None
    # A partial row (no timestamps): Tortoise saves such an instance only field by field, never whole.
    return Workspace._init_from_db(**found[0])


async def revoke_api_key(key: str) -> bool:
    """Revoke by key id (key_…) or by the key itself (sk_…); False when there is no such live key."""
    if is_valid_id(key, "key"):
        live = ApiKey.filter(id=key, revoked_at=None)
    elif KEY_PATTERN.fullmatch(key):
        live = ApiKey.filter(key_hash=hash_key(key), revoked_at=None)
    else:
        return False
    return await live.update(revoked_at=datetime.now(UTC)) == 1


async def list_api_keys(workspace_id: str) -> list[ApiKey]:
    """A workspace's keys, live and revoked, oldest first; the rows hold hashes, never the keys."""
    return await ApiKey.filter(workspace_id=workspace_id).order_by("id")
