"""GraphQL over HTTP's two response media types, chosen by the client's Accept header.

application/json is the legacy type: every GraphQL result is a 200. application/graphql-response+json
says more with the status: a request error (the document did not parse or validate, or the variables
did not coerce) is a 400 with no `data` entry; a result that reached execution is a 200.
"""

from __future__ import annotations

from starlette.types import Message, Receive, Scope, Send

from app.asgi import HTTPMiddleware, on_response_start, request_header_list

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type value, without its parameters; lower case, as media types compare."""
    return (content_type or "").partition(";")[0].strip().lower()


def prefers_graphql_response(accept: str | None) -> bool:
    """True when the client names application/graphql-response+json at least as highly as JSON.

    Only an explicit mention counts: */* and application/* are met with application/json, the type
    every client reads (the GraphQL-over-HTTP spec's advice for legacy clients).
    """
    if not accept or GRAPHQL_RESPONSE not in accept.lower():
        return False  # most clients: no Accept, or one that does not name the type at all
    graphql_response = json = 0.0
    for media_range in accept.split(","):
        media_type, *parameters = (part.strip() for part in media_range.split(";"))
        quality = _quality(parameters)
        media_type = media_type.lower()
        if media_type == GRAPHQL_RESPONSE:
            graphql_response = max(graphql_response, quality)
        elif media_type in (JSON, "application/*", "*/*"):
            json = max(json, quality)
    return graphql_response > 0 and graphql_response >= json


def asks_for_graphql_response(scope: Scope) -> bool:
    """prefers_graphql_response of the request's Accept header (every value of it)."""
    return prefers_graphql_response(request_header_list(scope, b"accept"))


def _quality(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0


def is_request_error(response: dict) -> bool:
    """A GraphQL result whose errors came before execution: no data, and no error has a field path
    (every error raised while executing a field carries one)."""
    errors = response.get("errors") or []
    return response.get("data") is None and bool(errors) and not any(error.get("path") for error in errors)


class GraphQLMediaType(HTTPMiddleware):
    """Labels the endpoint's JSON answers, the error envelopes of the middleware inside it included, as
    application/graphql-response+json for clients that prefer it; Vary: Accept keeps caches apart."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        preferred = asks_for_graphql_response(scope)

        def label(start: Message) -> Message:
            headers = start.get("headers", [])
            if preferred:
                headers = [_relabelled(header) for header in headers]
            return {**start, "headers": _varying_by_accept(headers)}

        await self.app(scope, receive, on_response_start(send, label))


def _relabelled(header: tuple[bytes, bytes]) -> tuple[bytes, bytes]:
    name, value = header
    if name.lower() == b"content-type" and value.startswith(JSON.encode()):
        return name, f"{GRAPHQL_RESPONSE}; charset=utf-8".encode()
    return header


def _varying_by_accept(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The headers with Accept added to Vary (a new list): to the one there, or as a Vary of its own."""
    for index, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            if b"accept" in [v.strip().lower() for v in value.split(b",")]:
                return list(headers)
            return [*headers[:index], (name, value + b", Accept"), *headers[index + 1 :]]
    return [*headers, (b"vary", b"Accept")]

