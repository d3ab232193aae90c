"""Browser clients on the origins in TRUNKLINE_CORS_ORIGINS, through Starlette's CORSMiddleware.

It wraps every other middleware, so refusals made before the view (401, 413, 429) carry the CORS headers
too and a browser lets the page read their status, body and Retry-After.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from app.errors import BAD_REQUEST, error_response

ALLOW_METHODS = ("GET", "POST")
ALLOW_HEADERS = ("authorization", "content-type", "idempotency-key", "x-request-id")
EXPOSE_HEADERS = ("Idempotent-Replayed", "X-Request-Id", "Retry-After")


class Cors(CORSMiddleware):
    def preflight_response(self, request_headers: Headers) -> Response:
        """A refused preflight in the error envelope, like every other refusal (Starlette's is plain text)."""
        response = super().preflight_response(request_headers)
        if response.status_code == 200:
            return response
        refused = response.body.decode()  # "Disallowed CORS origin, method" and the like
        message = (
            f"{refused}: allowed are the origins in TRUNKLINE_CORS_ORIGINS, the methods {', '.join(ALLOW_METHODS)} "
            f"and the headers {', '.join(ALLOW_HEADERS)}."
        )
        return error_response(response.status_code, BAD_REQUEST, message, {"Vary": "Origin"})


def cors_middleware(origins: tuple[str, ...]) -> list[Middleware]:
    """The middleware for these origins; none without any, so that OPTIONS stays a plain 405."""
    if not origins:
        return []
    return [
        Middleware(
            Cors,
            allow_origins=list(origins),
            allow_methods=list(ALLOW_METHODS),
            allow_headers=list(ALLOW_HEADERS),
            expose_headers=list(EXPOSE_HEADERS),
        )
    ]
