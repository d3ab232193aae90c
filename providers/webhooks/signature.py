"""The Trunkline-Signature header: how deliveries are signed, and how a receiver written in Python checks one.

    from providers.webhooks.signature import verify

    if not verify(signing_secret, raw_body, request.headers["Trunkline-Signature"]):
        return 400

The signed text is "<t>.<raw body>" with the unix time t of the attempt; the key is the whole signing
secret, "whsec_" included. The tolerance on t refuses a recorded delivery replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Trunkline-Signature"
EVENT_ID_HEADER = "Trunkline-Event-Id"
TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of "<timestamp>.<body>" under the secret."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The header's value: t=<unix seconds>,v1=<hex signature>."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={signature(secret, t, body)}"


def verify(
    secret: str, body: bytes | str, header: str | None, *, tolerance: float = TOLERANCE_SECONDS, now: float | None = None
) -> bool:
    """True when `header` signs exactly `body` (the raw bytes received) under `secret`, at a time within
    `tolerance` seconds of `now`. Any v1 value may match, so a header carrying several is accepted."""
    if not header:
        return False
    raw = body.encode() if isinstance(body, str) else body
    parts = [part.partition("=") for part in header.split(",")]
    stamps = [value for key, _, value in parts if key.strip() == "t"]
    candidates = [value.strip() for key, _, value in parts if key.strip() == "v1"]
    if len(stamps) != 1 or not stamps[0].strip().isdigit() or not candidates:
        return False
    timestamp = int(stamps[0])
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, raw)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
