"""The one error envelope: every non-2xx answer is {"errors": [{"message", "extensions": {"code"}}]}.

The codes are a contract (README, "Limits and errors"); clients branch on them, never on messages.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from app import request_context
from app.security_headers import HEADERS
# GraphQL's codes, defined where GraphQL errors are made; these two are HTTP-layer answers too.
from schema.error_codes import BAD_USER_INPUT as BAD_USER_INPUT
from schema.error_codes import INTERNAL_SERVER_ERROR as INTERNAL_SERVER_ERROR

BAD_REQUEST = "BAD_REQUEST"
NOT_FOUND = "NOT_FOUND"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
REQUEST_TIMEOUT = "REQUEST_TIMEOUT"
RATE_LIMITED = "RATE_LIMITED"
UNAUTHENTICATED = "UNAUTHENTICATED"

NO_SUCH_PATH = "No such path: this server answers /graphql, /healthz and /readyz."
_CODE_FOR_STATUS = {
    400: BAD_REQUEST,
    401: UNAUTHENTICATED,
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    408: REQUEST_TIMEOUT,
    413: PAYLOAD_TOO_LARGE,
    429: RATE_LIMITED,
}


def envelope(code: str, message: str) -> dict:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


class EnvelopeResponse(JSONResponse):
    """JSON in ASCII: a message may echo the client's own text (an unknown operation name, say), and a lone
    surrogate in it cannot be encoded as UTF-8, while its \\u escape is valid JSON."""

    def render(self, content) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def error_response(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return EnvelopeResponse(envelope(code, message), status_code=status, headers=dict(headers or {}))


def code_for_status(status: int) -> str:
    return _CODE_FOR_STATUS.get(status, BAD_REQUEST if status < 500 else INTERNAL_SERVER_ERROR)


async def http_exception(_request: Request, exc: HTTPException) -> JSONResponse:
    """Starlette's own refusals (unknown path, method not allowed) in the envelope, keeping Allow."""
    message = NO_SUCH_PATH if exc.status_code == 404 else exc.detail
    return error_response(exc.status_code, code_for_status(exc.status_code), message, exc.headers)


async def unexpected_exception(_request: Request, exc: Exception) -> JSONResponse:
    """A crash: the client learns nothing about it; Starlette logs the traceback after this answers.
    Starlette answers it outside every middleware, so the security headers are added here."""
    headers = {name.decode(): value.decode() for name, value in HEADERS}
    if (info := request_context.current.get()) is not None:
        headers[request_context.HEADER] = info.request_id
    return error_response(500, INTERNAL_SERVER_ERROR, "Unexpected error.", headers)
