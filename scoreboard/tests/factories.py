"""Factories and a game-server double that signs score updates the way a Roblox server does."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid

import factory
from rest_framework.test import APIClient

from adplatform.accounts.tests.factories import ModelFactory
from games.tests.factories import GameFactory, make_api_key
from scoreboard.models import ActionType


class ActionTypeFactory(ModelFactory[ActionType]):
    class Meta:
        model = ActionType

    game = factory.SubFactory(GameFactory)
    key = factory.Sequence(lambda n: f"action_{n}")
    name = factory.Sequence(lambda n: f"Action {n}")
    base_score = 10
    cooldown_seconds = 0
    max_per_hour = None
    is_active = True
    rules = factory.LazyFunction(dict)


def sign(secret: str, raw: bytes) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


class GameServer:
    """A game's server: holds one API key with its signing secret, mints tokens and posts signed updates."""

    def __init__(self, game, client: APIClient | None = None):
        self.game = game
        self.key, self.raw_key, self.secret = make_api_key(game)
        self.client = client or APIClient()

    def keyed(self) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=self.raw_key)
        return client

    def token(self, player_id: int, username: str = "") -> str:
        body = {"player_id": player_id, **({"username": username} if username else {})}
        response = self.keyed().post("/api/v1/scores/tokens", body, format="json")
        assert response.status_code == 201, response.content
        return response.json()["token"]

    def revoke(self, **body):
        return self.keyed().post("/api/v1/scores/tokens/revoke", body, format="json")

    @staticmethod
    def body(action_type: str = "coin_collected", **overrides) -> dict:
        return {
            "action_type": action_type,
            "action_id": overrides.pop("action_id", None) or uuid.uuid4().hex,
            "nonce": overrides.pop("nonce", None) or uuid.uuid4().hex,
            "timestamp": overrides.pop("timestamp", None) or int(time.time()),
            **overrides,
        }

    def post(self, token: str | None, body: dict | bytes, *, signature: str | None = None, secret: str | None = None,
             client: APIClient | None = None, **headers):  # fmt: skip
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        extra = dict(headers)
        if token is not None:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        sig = signature if signature is not None else sign(secret or self.secret, raw)
        if sig:
            extra["HTTP_X_SIGNATURE"] = sig
        # Django's generic() takes bytes (it encodes a str itself); DRF's stubs say str.
        return (client or self.client).generic(
            "POST",
            "/api/v1/scores/update",
            raw,  # type: ignore[arg-type]
            content_type="application/json",
            **extra,
        )

    def update(self, token: str, action_type: str = "coin_collected", **overrides):
        return self.post(token, self.body(action_type, **overrides))


def assert_error(response, status: int, code: str) -> dict:
    """The response is the common error body with this status and code; returns the error object."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code, body
    return body["error"]
