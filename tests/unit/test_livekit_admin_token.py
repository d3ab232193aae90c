"""The sip.admin token of our own Twirp requests is signed once and reused for half its life."""

import jwt
from livekit import api

from providers.livekit.transport import AdminToken


def test_the_token_is_reused_for_half_its_life_then_signed_again(monkeypatch):
    signed = []
    sign = api.AccessToken.to_jwt
    monkeypatch.setattr(api.AccessToken, "to_jwt", lambda self: signed.append(1) or sign(self))
    now = [1000.0]
    token = AdminToken("devkey", "a-secret-of-thirty-two-characters!", clock=lambda: now[0])

    first = token.get()
    now[0] += AdminToken.RENEW_AFTER - 1
    assert token.get() == first and len(signed) == 1
    now[0] += 1
    token.get()
    assert len(signed) == 2


def test_the_token_grants_sip_admin_and_outlives_its_reuse():
    token = AdminToken("devkey", "a-secret-of-thirty-two-characters!").get()

    claims = jwt.decode(token, "a-secret-of-thirty-two-characters!", algorithms=["HS256"])
    assert claims["iss"] == "devkey" and claims["sip"]["admin"] is True
    assert claims["exp"] - claims["nbf"] == AdminToken.LIFETIME > AdminToken.RENEW_AFTER
