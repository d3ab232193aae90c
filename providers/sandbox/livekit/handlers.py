"""LiveKit's Twirp routes: check the bearer token, decode the request, run the method, encode the answer.

`livekit.SIP` speaks protobuf (what the official SDK sends) and JSON; `livekit.PhoneNumberService`
speaks JSON only, because no Python message classes exist for it.
"""

from __future__ import annotations

import json
import time
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


class VerifiedTokens:
    """Bearer tokens whose signature and claims were checked, with their expiry. A client signs one token and
    sends it for minutes (Trunkline renews its own every five), and verifying it again on every request was a
    third of the emulator's CPU. A token is taken from here only while PyJWT would still accept it: until
    `exp` plus the leeway. Its not-before and issued-at times were met when it was checked and stay met."""

    LEEWAY = 10  # seconds, as LiveKit allows for clock skew
    SIZE = 256  # tokens kept; all are forgotten when full

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._verified: dict[tuple[str, str, str], tuple[float, dict]] = {}

    def claims(self, state: LiveKitState, token: str) -> dict:
        """The token's claims if the project's secret signed it and it has not expired; else TwirpError."""
        key = (token, state.api_key, state.api_secret)
        found = self._verified.get(key)
        if found is not None:
            expires, claims = found
            if self._clock() < expires + self.LEEWAY:
                return claims
            raise TwirpError("unauthenticated", "invalid token: expired")  # its exp never changes
        claims = _verified_claims(state, token)
        if len(self._verified) >= self.SIZE:
            self._verified.clear()
        self._verified[key] = (claims["exp"], claims)
        return claims


def _verified_claims(state: LiveKitState, token: str) -> dict:
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
                options={"require": ["exp", "iss"]}, leeway=VerifiedTokens.LEEWAY,
            )
    except jwt.ExpiredSignatureError:
        raise TwirpError("unauthenticated", "invalid token: expired") from None
    except jwt.PyJWTError:
        raise TwirpError("unauthenticated", "invalid token: signature could not be verified") from None
    return claims


def authorize(state: LiveKitState, request: web.Request, verified: VerifiedTokens) -> None:
    """Check the bearer JWT like LiveKit: signed by the project's secret and carrying `sip.admin`."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TwirpError("unauthenticated", "authorization header missing or not a bearer token")
    grants = verified.claims(state, token).get("sip")
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


def _endpoint(
    state: LiveKitState, serve: Service, verified: VerifiedTokens
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Authorize, then serve; every TwirpError becomes Twirp's error answer."""

    async def endpoint(request: web.Request) -> web.Response:
        try:
            authorize(state, request, verified)
            return await serve(state, request)
        except TwirpError as error:
            body, status = wire.error_body(error)
            return web.json_response(body, status=status)

    return endpoint


def setup_livekit(app: web.Application, state: LiveKitState, verified: VerifiedTokens | None = None) -> None:
    """Serve `livekit.SIP` and `livekit.PhoneNumberService` for `state` on `app`."""
    verified = verified or VerifiedTokens()
    app.router.add_post("/twirp/livekit.SIP/{method}", _endpoint(state, _serve_sip, verified))
    app.router.add_post("/twirp/livekit.PhoneNumberService/{method}", _endpoint(state, _serve_numbers, verified))
