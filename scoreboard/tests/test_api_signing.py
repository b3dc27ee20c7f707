"""Per-server signing keys (X-Signing-Key) and batched score updates: signing that works with Roblox Secrets."""

from __future__ import annotations

import json
import time
import uuid
from unittest import mock

import pytest
from django.utils import timezone

from games.tests.factories import GameFactory
from scoreboard import signing
from scoreboard.models import Score
from scoreboard.tests.factories import GameServer, assert_error, sign

pytestmark = pytest.mark.django_db

PLAYER = 123456789
JOB = "6f1c1a2e-5b0c-4a69-9a1e-2f8d7c9b3e11"


def _issue(server: GameServer, server_id: str = JOB):
    return server.keyed().post("/api/v1/scores/signing-keys", {"server_id": server_id}, format="json")


@pytest.fixture
def skey(server, coin):
    response = _issue(server)
    assert response.status_code == 201, response.content
    return response.json()


def _post_signed(server, token, key, body: dict | None = None, **overrides):
    raw = json.dumps(body or server.body(**overrides)).encode()
    return server.post(token, raw, secret=key["secret"], HTTP_X_SIGNING_KEY=key["key_id"])


def _batch(server, key, updates, *, secret=None, key_id=None):
    raw = json.dumps({"updates": updates}).encode()
    return server.client.generic(
        "POST", "/api/v1/scores/update/batch", raw, content_type="application/json",
        HTTP_X_SIGNING_KEY=key_id or key["key_id"], HTTP_X_SIGNATURE=sign(secret or key["secret"], raw),
    )  # fmt: skip


def test_a_server_key_is_issued_for_the_game_key_and_bound_to_the_job_id(server, skey):
    assert set(skey) == {"key_id", "secret", "server_id", "issued_at", "expires_at", "refresh_after"}
    assert skey["server_id"] == JOB
    assert skey["key_id"].startswith("ssk1.")
    assert len(skey["secret"]) == 64 and skey["secret"] != server.secret
    claims, secret = signing.server_key_verify(key_id=skey["key_id"])
    assert (claims.api_key_id, claims.game_id, claims.server_id) == (server.key.pk, server.game.pk, JOB)
    assert secret == skey["secret"]
    other = _issue(server).json()
    assert other["key_id"] != skey["key_id"] and other["secret"] != skey["secret"]  # rotation gives a new key


def test_issuing_needs_the_api_key_and_a_server_id(server, api_client):
    assert_error(api_client.post("/api/v1/scores/signing-keys", {"server_id": JOB}, format="json"), 401,
                 "not_authenticated")  # fmt: skip
    assert "server_id" in assert_error(_issue(server, ""), 400, "validation_error")["details"]
    assert "server_id" in assert_error(_issue(server, "x" * 101), 400, "validation_error")["details"]


def test_an_update_signed_with_the_server_key_is_credited(server, skey):
    token = server.token(PLAYER)
    response = _post_signed(server, token, skey)
    assert response.status_code == 200, response.content
    assert response.json()["score"] == 10
    assert Score.objects.get(player__roblox_user_id=PLAYER).score == 10


def test_the_old_signing_path_still_works(server, coin):
    response = server.update(server.token(PLAYER))
    assert response.status_code == 200, response.content


def test_a_server_key_signature_with_the_wrong_secret_is_refused(server, skey):
    token = server.token(PLAYER)
    raw = json.dumps(server.body()).encode()
    response = server.post(token, raw, secret=server.secret, HTTP_X_SIGNING_KEY=skey["key_id"])
    assert_error(response, 401, "signature_invalid")
    assert not Score.objects.filter(score__gt=0).exists()


def test_a_forged_or_altered_server_key_is_refused(server, skey):
    token = server.token(PLAYER)
    prefix, payload, mac = skey["key_id"].split(".")
    forged = f"{prefix}.{payload[:-2]}AA.{mac}"
    for key_id in (forged, "ssk1.x.y", "nonsense", "ssk1." + "a" * 700):
        raw = json.dumps(server.body()).encode()
        response = server.post(token, raw, secret=skey["secret"], HTTP_X_SIGNING_KEY=key_id)
        assert_error(response, 401, "signing_key_invalid")


def test_an_expired_server_key_is_refused(server, coin):
    with mock.patch("scoreboard.signing.time.time", return_value=time.time() - 3601):
        old = _issue(server).json()  # issued an hour and a second ago
    assert_error(_post_signed(server, server.token(PLAYER), old), 401, "signing_key_expired")


def test_a_server_key_of_another_game_key_cannot_sign_for_this_one(server, skey, coin, owner):
    other = GameServer(server.game)  # a second key of the same game
    token = other.token(PLAYER)
    assert_error(_post_signed(other, token, skey), 401, "signing_key_invalid")
    elsewhere = GameServer(GameFactory(owner=owner))
    assert_error(_post_signed(elsewhere, elsewhere.token(PLAYER), skey), 401, "signing_key_invalid")


def test_revoking_the_game_key_ends_its_server_keys(server, skey):
    token = server.token(PLAYER)
    server.key.revoked_at = timezone.now()
    server.key.save()
    with mock.patch("scoreboard.services._signing_keys.get_or_load", side_effect=lambda k, load: load()):
        assert_error(_post_signed(server, token, skey), 401, "token_revoked")


def test_nonces_are_single_use_with_server_keys(server, skey):
    token = server.token(PLAYER)
    body = server.body()
    assert _post_signed(server, token, skey, body=body).status_code == 200
    assert_error(_post_signed(server, token, skey, body={**body, "action_id": "again"}), 409, "nonce_reused")


# --------------------------------------------------------------------------- batch


def test_a_batch_credits_each_item_with_its_own_result(server, skey):
    alice, bob = server.token(1), server.token(2)
    first = {"token": alice, **server.body()}
    updates = [
        first,
        {"token": bob, **server.body()},
        {"token": alice, **server.body(nonce=first["nonce"])},  # nonce reused
        {"token": "garbage", **server.body()},
        {"token": bob, **server.body("no_such_action")},
        {"token": bob, **server.body(timestamp=int(time.time()) - 1000)},
        "not an object",
        {"token": alice, **server.body(action_id=first["action_id"])},  # action already credited
    ]
    response = _batch(server, skey, updates)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["credited"] == 2
    results = body["results"]
    assert [r["index"] for r in results] == list(range(len(updates)))
    assert [r["status"] for r in results] == [200, 200, 409, 401, 422, 401, 400, 409]
    assert {k: v for k, v in results[0]["result"].items() if k != "rank"} == {
        "player_id": 1,
        "score": 10,
        "previous_score": 0,
        "increment": 10,
    }
    codes = [r.get("error", {}).get("code") for r in results]
    assert codes[2:] == ["nonce_reused", "token_invalid", "action_type_invalid", "timestamp_out_of_window",
                         "validation_error", "action_duplicate"]  # fmt: skip
    assert Score.objects.get(player__roblox_user_id=1).score == 10


def test_a_badly_signed_batch_changes_nothing(server, skey):
    updates = [{"token": server.token(1), **server.body()}]
    assert_error(_batch(server, skey, updates, secret=server.secret), 401, "signature_invalid")
    assert_error(_batch(server, skey, updates, key_id="ssk1.a.b"), 401, "signing_key_invalid")
    assert not Score.objects.filter(score__gt=0).exists()


def test_a_batch_is_bounded_and_must_be_a_list(server, skey):
    token = server.token(1)
    too_many = [{"token": token, **server.body()} for _ in range(101)]
    assert_error(_batch(server, skey, too_many), 413, "batch_too_large")
    assert_error(_batch(server, skey, []), 400, "validation_error")
    assert not Score.objects.filter(score__gt=0).exists()


def test_a_batch_item_minted_by_another_game_key_is_refused(server, skey):
    other = GameServer(server.game)
    response = _batch(server, skey, [{"token": other.token(1), **server.body(nonce=uuid.uuid4().hex)}])
    assert response.json()["results"][0]["error"]["code"] == "token_invalid"
