"""Tracking tokens: what verifies and what does not."""

from __future__ import annotations

import base64
import json

import pytest

from ads import tokens

CLAIMS = tokens.TrackingClaims(
    decision_id="0b9e6a52-2f4e-4b8e-9a57-0f1f0d1c2b3a", container_id=7, game_id=3, player_id=1001,
    campaign_id=11, creative_id=12, pricing="CPM", price_micros=2_510, issued_at=1_795_000_000,
    expires_at=1_795_000_300,
)  # fmt: skip


def test_a_signed_token_verifies_to_its_claims():
    assert tokens.verify(tokens.sign(CLAIMS)) == CLAIMS


def _reencoded(token: str, **changes) -> str:
    body, mac = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    data.update(changes)
    new_body = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{new_body}.{mac}"


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda t: _reencoded(t, v=999_999), id="price raised, old MAC"),
        pytest.param(lambda t: _reencoded(t, g=4), id="another game, old MAC"),
        pytest.param(lambda t: t[:-1], id="MAC truncated"),
        pytest.param(lambda t: t + "==", id="MAC padded"),
        pytest.param(lambda t: t[:-2] + "é" + t[-1], id="non-ASCII MAC"),
        pytest.param(lambda t: t.split(".")[0], id="no MAC"),
        pytest.param(lambda t: t + ".x", id="two dots"),
        pytest.param(lambda t: "é" + t, id="non-ASCII body"),
        pytest.param(lambda t: "", id="empty"),
        pytest.param(lambda t: "x" * 2000, id="too long"),
        pytest.param(lambda t: None, id="not a string"),
    ],
)
def test_anything_else_is_refused(make):
    assert tokens.verify(make(tokens.sign(CLAIMS))) is None


def test_a_token_signed_with_another_secret_is_refused(settings):
    token = tokens.sign(CLAIMS)
    settings.SECRET_KEY = "another-secret-key-that-is-long-enough-for-the-checks-0123456789"
    assert tokens.verify(token) is None
    assert tokens.verify(tokens.sign(CLAIMS)) == CLAIMS


def test_a_body_that_is_not_the_claims_is_refused_even_when_signed():
    body = base64.urlsafe_b64encode(b'{"unknown": 1}').rstrip(b"=").decode()
    assert tokens.verify(f"{body}.{tokens._mac(body)}") is None
    body = base64.urlsafe_b64encode(b"not json").rstrip(b"=").decode()
    assert tokens.verify(f"{body}.{tokens._mac(body)}") is None
