"""Helpers that keep carrier secrets out of messages, logs and reprs."""

from __future__ import annotations

MASK = "***"


def mask_sid(sid: str) -> str:
    """Shorten a SID to its prefix and last four characters, e.g. `AC…1234`."""
    if len(sid) <= 6:
        return MASK
    return f"{sid[:2]}…{sid[-4:]}"


def scrub(text: str, *secrets: str | None) -> str:
    """Replace every occurrence of the given secrets in `text` by stars."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text
