"""LiveKit's Twirp routes: check the bearer token, decode the request, run the method, encode the answer.

`livekit.SIP` speaks protobuf (what the official SDK sends) and JSON; `livekit.PhoneNumberService`
speaks JSON only, because no Python message classes exist for it.
"""

from __future__ import annotations

import json
import warnings
from typing import Awaitable, Callable

import jwt
from aiohttp import web
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message

from providers.sandbox.livekit import wire
from providers.sandbox.livekit.errors import TwirpError, malformed
from providers.sandbox.livekit.number_methods import NUMBER_METHODS
from providers.sandbox.livekit.sip_methods import SIP_METHODS
from providers.sandbox.livekit.state import LiveKitState
from providers.sandbox.livekit.wire import JSON, PROTOBUF, JsonFields


def authorize(state: LiveKitState, request: web.Request) -> None:
    """Check the bearer JWT like LiveKit: signed by the project's secret and carrying `sip.admin`."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TwirpError("unauthenticated", "authorization header missing or not a bearer token")
    try:
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        raise TwirpError("unauthenticated", "invalid token: could not be parsed") from None
    if issuer != state.api_key:
        raise TwirpError("unauthenticated", "invalid API key")
    try:
        with warnings.catch_warnings():
            # LiveKit's dev secret ("secret") is shorter than PyJWT likes; the real server accepts it too.
            warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
            claims = jwt.decode(
                token, state.api_secret, algorithms=["HS256"], issuer=state.api_key,
                options={"require": ["exp", "iss"]}, leeway=10,
            )
    except jwt.ExpiredSignatureError:
        raise TwirpError("unauthenticated", "invalid token: expired") from None
    except jwt.PyJWTError:
        raise TwirpError("unauthenticated", "invalid token: signature could not be verified") from None
    grants = claims.get("sip")
    if not (isinstance(grants, dict) and grants.get("admin") is True):
        raise TwirpError("permission_denied", "permissions denied: the token lacks the sip.admin grant")


def _no_handler(request: web.Request) -> TwirpError:
    return TwirpError("bad_route", f"no handler for path {request.path!r}")


async def _decode_sip(request: web.Request, message_type: type[Message]) -> Message:
    raw = await request.read()
    try:
        if request.content_type == PROTOBUF:
            return message_type.FromString(raw)
        return json_format.Parse(raw or b"{}", message_type(), ignore_unknown_fields=True)
    except (DecodeError, json_format.ParseError, UnicodeDecodeError):
        kind = "protobuf" if request.content_type == PROTOBUF else "json"
        raise TwirpError("malformed", f"the {kind} request could not be decoded") from None


def _encode_sip(request: web.Request, message: Message) -> web.Response:
    if request.content_type == PROTOBUF:
        return web.Response(body=message.SerializeToString(), content_type=PROTOBUF)
    return web.json_response(wire.message_dict(message))


async def _serve_sip(state: LiveKitState, request: web.Request) -> web.Response:
    if request.content_type not in (PROTOBUF, JSON):
        raise TwirpError("bad_route", f"unexpected Content-Type: {request.content_type!r}")
    if request.match_info["method"] not in SIP_METHODS:
        raise _no_handler(request)
    message_type, method = SIP_METHODS[request.match_info["method"]]
    return _encode_sip(request, method(state, await _decode_sip(request, message_type)))


async def _serve_numbers(state: LiveKitState, request: web.Request) -> web.Response:
    if request.content_type != JSON:
        raise TwirpError("bad_route", "PhoneNumberService is served as JSON only (application/json)")
    method = NUMBER_METHODS.get(request.match_info["method"])
    if method is None:
        raise _no_handler(request)
    try:
        body = json.loads(await request.read() or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise malformed() from None
    return web.json_response(method(state, JsonFields(body)))


Service = Callable[[LiveKitState, web.Request], Awaitable[web.Response]]


def _endpoint(state: LiveKitState, serve: Service) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Authorize, then serve; every TwirpError becomes Twirp's error answer."""

    async def endpoint(request: web.Request) -> web.Response:
        try:
            authorize(state, request)
            return await serve(state, request)
        except TwirpError as error:
            body, status = wire.error_body(error)
            return web.json_response(body, status=status)

    return endpoint


def setup_livekit(app: web.Application, state: LiveKitState) -> None:
    """Serve `livekit.SIP` and `livekit.PhoneNumberService` for `state` on `app`."""
    app.router.add_post("/twirp/livekit.SIP/{method}", _endpoint(state, _serve_sip))
    app.router.add_post("/twirp/livekit.PhoneNumberService/{method}", _endpoint(state, _serve_numbers))
