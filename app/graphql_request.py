"""The GraphQL request a client sent, read without trusting it.

A body must be UTF-8 JSON holding one object (no batches). Variables may nest at most 32 levels,
checked on the raw text before the JSON decoder (which recurses) sees it, and hold integers of at most
64 bits, checked as the decoder meets them, before Python converts the digits (it refuses more than
4,300 of them with a bare ValueError).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from itertools import accumulate
from typing import Any

from app.errors import BAD_REQUEST, BAD_USER_INPUT

MAX_VARIABLE_DEPTH = 32
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
EXAMPLE = '{"query": "{ workspace { id } }"}'

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[{]}"))


class RequestRefused(Exception):
    """The request is refused before execution: HTTP `status` with `code` in the envelope."""

    def __init__(self, message: str, *, status: int = 400, code: str = BAD_REQUEST) -> None:
        super().__init__(message)
        self.message, self.status, self.code = message, status, code


class BadUserInput(RequestRefused):
    """The variables are refused: a GraphQL error (BAD_USER_INPUT) in a 200, like any other bad input."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=200, code=BAD_USER_INPUT)


def decode_body(body: bytes) -> dict[str, Any]:
    """A POST body as the request object it must be; raises RequestRefused saying what was expected."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestRefused(f"The request body must be UTF-8 encoded JSON; byte {exc.start} is not UTF-8.") from None
    # The request object itself is one level; its variables may nest MAX_VARIABLE_DEPTH below it.
    data = _decode_json(text, "request body", max_depth=MAX_VARIABLE_DEPTH + 1)
    if isinstance(data, list):
        raise RequestRefused("Batched requests (a JSON array) are not supported: send one operation per request.")
    if not isinstance(data, dict):
        raise RequestRefused(f"The request body must be a JSON object such as {EXAMPLE}, not {_json_kind(data)}.")
    return _checked_fields(data)


def decode_query_params(params: Mapping[str, str]) -> dict[str, Any]:
    """A GET request's parameters: query and operationName as they are, variables and extensions as JSON."""
    data: dict[str, Any] = {"query": params.get("query"), "operationName": params.get("operationName")}
    for name in ("variables", "extensions"):
        if params.get(name):
            data[name] = _decode_json(params[name], f"{name} parameter", max_depth=MAX_VARIABLE_DEPTH)
    return _checked_fields(data)


def _checked_fields(data: dict[str, Any]) -> dict[str, Any]:
    expected = {"query": (str, "a string holding the GraphQL document"), "operationName": (str, "a string"),
                "variables": (dict, "a JSON object"), "extensions": (dict, "a JSON object")}  # fmt: skip
    for name, (kind, description) in expected.items():
        value = data.get(name)
        if value is not None and not isinstance(value, kind):
            raise RequestRefused(f'"{name}" must be {description} or null, not {_json_kind(value)}.')
    return data


def _decode_json(text: str, what: str, *, max_depth: int) -> Any:
    if nests_deeper_than(text.encode("utf-8", "surrogatepass"), max_depth):
        raise BadUserInput(f"Variables may nest at most {MAX_VARIABLE_DEPTH} levels of objects and lists.")
    try:
        data = json.loads(text, parse_int=_int64, parse_constant=_not_json)
    except json.JSONDecodeError as exc:
        raise RequestRefused(
            f"The {what} must be JSON such as {EXAMPLE}; it is not valid JSON "
            f"({exc.msg} at line {exc.lineno} column {exc.colno})."
        ) from None
    return data


def nests_deeper_than(text: bytes, limit: int) -> bool:
    """True when JSON `text` nests objects and arrays deeper than `limit`; brackets inside strings do
    not count. Text that is not JSON may be reported deep too: it is refused either way."""
    if text.count(b"{") + text.count(b"[") <= limit:
        return False  # nothing can nest deeper than its opening brackets number (most requests: no scan)
    steps = _STRING.sub(b"", text).translate(_STEPS, _NOT_BRACKETS)
    # Opening brackets are the signed byte 1, closing ones -1: the deepest point is the largest running sum.
    return max(accumulate(memoryview(steps).cast("b")), default=0) > limit


def _int64(digits: str) -> int:
    if len(digits) > 20 or not INT64_MIN <= int(digits) <= INT64_MAX:
        raise BadUserInput(f"Integers in variables must fit in 64 bits ({INT64_MIN} to {INT64_MAX}).")
    return int(digits)


def _not_json(constant: str) -> None:
    raise RequestRefused(f"The request must be standard JSON: {constant} is not a JSON value.")


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (int, float)):
        return "a number"
    return "an array" if isinstance(value, list) else "an object"
