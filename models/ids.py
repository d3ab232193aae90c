"""Prefixed ULID wire ids: `<prefix>_<26 Crockford base32>`, made by the server."""

import os
import re
import threading
import time

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIXES = ("ws", "key", "phone", "agent", "trunk", "twacct", "evt", "whk")
_BODY = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")


_last = [0, 0]  # millisecond and random part of the previous ULID in this process
_lock = threading.Lock()
# A forked worker draws its own random part: two workers forked in one millisecond must not count up from the same one.
os.register_at_fork(after_in_child=lambda: _last.__setitem__(slice(None), [0, 0]))


def new_ulid() -> str:
    """A ULID: 48-bit millisecond time then 80 random bits, so ids sort by creation.

    Monotonic within a process: in the same millisecond the random part counts up, so
    pages ordered by id list rows in the order they were made.
    """
    with _lock:
        millis = time.time_ns() // 1_000_000
        if millis <= _last[0] and _last[1] < (1 << 80) - 1:
            millis, entropy = _last[0], _last[1] + 1
        else:
            entropy = int.from_bytes(os.urandom(10), "big")
        _last[:] = [millis, entropy]
    value = millis << 80 | entropy
    return "".join(CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def new_id(prefix: str) -> str:
    return f"{prefix}_{new_ulid()}"


def is_valid_id(value: object, prefix: str) -> bool:
    """True when value has exactly this prefix and a 26-character ULID body.

    A legacy UUID, another kind's id or lower-case base32 is not an id of ours.
    """
    if not isinstance(value, str) or not value.startswith(prefix + "_"):
        return False
    body = value[len(prefix) + 1 :]
    return _BODY.fullmatch(body) is not None and body[0] <= "7"


def prefix_of(value: str) -> str | None:
    """The prefix of a well-formed id, or None."""
    prefix, _, _ = value.partition("_")
    return prefix if prefix in PREFIXES and is_valid_id(value, prefix) else None
