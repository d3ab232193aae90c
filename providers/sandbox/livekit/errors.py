"""The Twirp error the LiveKit emulator raises: a Twirp code, a message and metadata."""

from __future__ import annotations


class TwirpError(Exception):
    """A Twirp error answer: `{code, msg, meta}`, sent with the HTTP status of its code."""

    def __init__(self, code: str, msg: str, meta: dict[str, str] | None = None) -> None:
        super().__init__(f"{code}: {msg}")
        self.code, self.msg, self.meta = code, msg, meta or {}


def invalid(msg: str) -> TwirpError:
    return TwirpError("invalid_argument", msg)


def not_found(what: str) -> TwirpError:
    return TwirpError("not_found", f"{what} not found")


def malformed(detail: str = "") -> TwirpError:
    """A JSON body that does not decode; `detail` says which field was wrong."""
    return TwirpError("malformed", "the json request could not be decoded" + (f": {detail}" if detail else ""))
