"""Score tokens and signed score updates through the API: every row of the status table of shared/API.md."""

from __future__ import annotations

import json
import logging
import time
import uuid

import jwt
import pytest
import redis
from django.db import connection, transaction
from redis.backoff import NoBackoff
from redis.retry import Retry

from adplatform.core.api.errors import ERROR_CODES, DomainError
from adplatform.core.redis import get_redis
from games.tests.factories import GameFactory
from scoreboard import leaderboard, metrics, services
from scoreboard.models import Player, RevokedToken, Score, ScoreHistory
from scoreboard.services import tokens
from scoreboard.tests.factories import ActionTypeFactory, GameServer, assert_error, sign

pytestmark = pytest.mark.django_db

PLAYER = 123456789


@pytest.fixture
def token(server, coin):
    return server.token(PLAYER, "builderman")


def _score(player_id: int = PLAYER, game=None) -> int:
    qs = Score.objects.filter(player__roblox_user_id=player_id)
    if game is not None:
        qs = qs.filter(game=game)
    return qs.get().score


# --------------------------------------------------------------------------- tokens


def test_token_issue_returns_a_short_lived_jwt_for_the_keys_game(server, game):
    response = server.keyed().post(
        "/api/v1/scores/tokens", {"player_id": PLAYER, "username": "builderman"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"token", "expires_at"}
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["sub"] == str(PLAYER)
    assert claims["game"] == game.pk
    assert claims["jti"]
    assert 0 < claims["exp"] - claims["iat"] <= 900
    assert jwt.get_unverified_header(body["token"])["alg"] == "HS256"
    player = Player.objects.get(game=game, roblox_user_id=PLAYER)
    assert player.username == "builderman"


def test_token_issue_needs_the_game_key_and_a_valid_player(server, api_client):
    assert api_client.post("/api/v1/scores/tokens", {"player_id": PLAYER}, format="json").status_code == 401
    assert_error(server.keyed().post("/api/v1/scores/tokens", {"player_id": 0}, format="json"), 400, "validation_error")
    response = server.keyed().post("/api/v1/scores/tokens", {"player_id": 1, "username": "bad name!"}, format="json")
    assert "username" in assert_error(response, 400, "validation_error")["details"]


def test_token_issue_updates_the_username(server, game):
    server.token(PLAYER, "old_name")
    server.token(PLAYER, "new_name")
    assert Player.objects.get(game=game, roblox_user_id=PLAYER).username == "new_name"


def test_a_banned_player_gets_no_token(server, game):
    services.player_ban(player=services.player_upsert(game_id=game.pk, player_id=PLAYER))
    response = server.keyed().post("/api/v1/scores/tokens", {"player_id": PLAYER}, format="json")
    assert_error(response, 403, "player_banned")


# --------------------------------------------------------------------------- a valid update


@pytest.mark.django_db(transaction=True)
def test_a_signed_update_credits_the_action_types_score(server, coin, token):
    response = server.update(token, "coin_collected", action_id="coin-1")
    assert response.status_code == 200, response.content
    assert response.json() == {"player_id": PLAYER, "score": 10, "previous_score": 0, "increment": 10, "rank": 1}
    history = ScoreHistory.objects.get()
    assert (history.action_id, history.increment, history.new_score) == ("coin-1", 10, 10)
    assert history.signature and history.nonce and history.ip_address == "127.0.0.1"
    second = server.update(token, "coin_collected").json()
    assert (second["previous_score"], second["score"]) == (10, 20)
    assert leaderboard.board_top(server.game.pk, 10).entries[0].score == 20


def test_the_caller_never_sends_a_score(server, coin, token):
    response = server.update(token, "coin_collected", score=1_000_000)
    assert "score" in assert_error(response, 400, "validation_error")["details"]
    assert not ScoreHistory.objects.exists()


def test_a_malformed_signed_body_is_a_400(server, coin, token):
    assert_error(server.post(token, b"{not json"), 400, "malformed_json")
    response = server.post(token, {"action_type": "coin_collected"})
    details = assert_error(response, 400, "validation_error")["details"]
    assert {"action_id", "nonce", "timestamp"} <= set(details)


# --------------------------------------------------------------------------- 401 token_invalid / expired / revoked


def test_no_token_is_token_invalid(server, coin):
    response = server.post(None, server.body())
    assert_error(response, 401, "token_invalid")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("bad", ["not-a-jwt", "a.b.c", "Basic abc"])
def test_a_malformed_token_is_token_invalid(server, coin, bad):
    assert_error(server.post(bad, server.body()), 401, "token_invalid")


def test_a_badly_signed_token_is_token_invalid(server, coin, token):
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode(claims, b"a key of 32 bytes that is not ours", algorithm="HS256")
    assert_error(server.post(forged, server.body()), 401, "token_invalid")
    none_alg = jwt.encode(claims, None, algorithm="none")
    assert_error(server.post(none_alg, server.body()), 401, "token_invalid")


def test_a_token_longer_lived_than_15_minutes_is_refused(server, coin, token):
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["exp"] = int(claims["iat"]) + 3600
    long_lived = jwt.encode(claims, services._jwt_key(server.game.pk), algorithm="HS256")
    assert_error(server.post(long_lived, server.body()), 401, "token_invalid")


def test_an_expired_token_is_token_expired(server, coin, token):
    claims = jwt.decode(token, options={"verify_signature": False})
    claims.update(iat=time.time() - 1000, exp=int(time.time()) - 10)
    expired = jwt.encode(claims, services._jwt_key(server.game.pk), algorithm="HS256")
    assert_error(server.post(expired, server.body()), 401, "token_expired")


def test_a_token_revoked_by_jti_is_token_revoked(server, coin, token):
    assert server.revoke(token=token).status_code == 204
    assert RevokedToken.objects.filter(jti=jwt.decode(token, options={"verify_signature": False})["jti"]).exists()
    assert_error(server.update(token), 401, "token_revoked")
    assert server.update(server.token(PLAYER)).status_code == 200


def test_revoking_every_token_of_a_player(server, coin, token):
    other = server.token(555)
    assert server.revoke(player_id=PLAYER).status_code == 204
    assert_error(server.update(token), 401, "token_revoked")
    assert server.update(other).status_code == 200
    time.sleep(0.002)  # a token issued after the revocation works
    assert server.update(server.token(PLAYER)).status_code == 200


def test_revocations_survive_a_redis_flush(server, coin, token):
    by_player = server.token(777)
    server.revoke(token=token)
    server.revoke(player_id=777)
    get_redis().flushdb()
    assert_error(server.update(token), 401, "token_revoked")
    assert_error(server.update(by_player), 401, "token_revoked")
    assert ScoreHistory.objects.count() == 0


def test_revoke_validates_its_body(server, coin, token):
    assert_error(server.revoke(), 400, "validation_error")
    assert_error(server.revoke(token="garbage"), 400, "validation_error")
    assert server.revoke(player_id=42424242).status_code == 204  # nothing to revoke is fine


def test_tokens_of_a_revoked_api_key_are_refused(server, coin, token):
    from games import services as game_services

    game_services.api_key_revoke(key=server.key)
    services._signing_keys.clear()
    assert_error(server.update(token), 401, "token_revoked")


# --------------------------------------------------------------------------- 401 signature / timestamp


def test_a_bad_signature_is_signature_invalid(server, coin, token):
    body = server.body()
    assert_error(server.post(token, body, signature="0" * 64), 401, "signature_invalid")
    assert_error(server.post(token, body, signature=""), 401, "signature_invalid")  # missing header
    assert_error(server.post(token, body, signature="zz"), 401, "signature_invalid")
    assert_error(server.post(token, body, secret="gs_another_secret"), 401, "signature_invalid")
    assert ScoreHistory.objects.count() == 0


def test_the_signature_covers_the_raw_bytes(server, coin, token):
    body = server.body()
    raw = json.dumps(body).encode()
    reordered = json.dumps(dict(reversed(list(body.items())))).encode()  # the same JSON, other bytes
    assert_error(server.post(token, reordered, signature=sign(server.secret, raw)), 401, "signature_invalid")
    assert server.post(token, raw, signature=sign(server.secret, raw).upper()).status_code == 200


@pytest.mark.parametrize("offset", [-301, 301, -10_000])
def test_a_timestamp_outside_300_seconds_is_refused(server, coin, token, offset):
    response = server.update(token, timestamp=int(time.time()) + offset)
    assert_error(response, 401, "timestamp_out_of_window")


def test_a_timestamp_inside_the_window_is_accepted(server, coin, token):
    assert server.update(token, timestamp=int(time.time()) - 290).status_code == 200


# --------------------------------------------------------------------------- 409 / 422 / 403


def test_a_reused_nonce_is_refused(server, coin, token):
    assert server.update(token, nonce="nonce-0001").status_code == 200
    assert_error(server.update(token, nonce="nonce-0001"), 409, "nonce_reused")
    assert _score() == 10


def test_the_same_action_id_is_credited_once(server, coin, token):
    assert server.update(token, action_id="chest-42").status_code == 200
    error = assert_error(server.update(token, action_id="chest-42"), 409, "action_duplicate")
    assert error["details"] == {"action_id": "chest-42"}
    assert _score() == 10
    assert ScoreHistory.objects.count() == 1


@pytest.mark.parametrize("rules", [False, True], ids=["one-statement path", "rules path"])
def test_both_credit_paths_refuse_duplicates_bans_and_revoked_tokens(server, game, rules):
    # given: an action type without rules (credited by one statement) or with them (read-then-write)
    ActionTypeFactory(game=game, key="gem", base_score=7, max_per_hour=100 if rules else None)
    token = server.token(PLAYER)
    # then
    assert server.update(token, "gem", action_id="gem-1").json()["score"] == 7
    assert_error(server.update(token, "gem", action_id="gem-1"), 409, "action_duplicate")
    server.revoke(player_id=PLAYER)
    assert_error(server.update(token, "gem"), 401, "token_revoked")
    time.sleep(0.002)
    token = server.token(PLAYER)
    services.player_ban(player=Player.objects.get(game=game, roblox_user_id=PLAYER))
    assert_error(server.update(token, "gem"), 403, "player_banned")
    assert list(ScoreHistory.objects.values_list("new_score", flat=True)) == [7]


def test_an_unknown_or_inactive_action_type_is_422(server, coin, token, game):
    assert_error(server.update(token, "teleported"), 422, "action_type_invalid")
    ActionTypeFactory(game=game, key="retired", is_active=False)
    assert_error(server.update(token, "retired"), 422, "action_type_invalid")
    other_game_type = ActionTypeFactory(key="elsewhere")
    assert_error(server.update(token, other_game_type.key), 422, "action_type_invalid")


def test_a_banned_player_is_403(server, coin, token, game):
    services.player_ban(player=Player.objects.get(game=game, roblox_user_id=PLAYER), reason="exploiting")
    assert_error(server.update(token), 403, "player_banned")
    assert not ScoreHistory.objects.exists()


# --------------------------------------------------------------------------- 429


def test_too_many_updates_for_a_player_is_429_with_retry_after(server, coin, token, settings):
    settings.SCORE_RATE_PER_PLAYER = "3/min"
    for _ in range(3):
        assert server.update(token).status_code == 200
    response = server.update(token)
    error = assert_error(response, 429, "rate_limited")
    assert error["details"]["reason"] == "player_rate"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert server.update(server.token(PLAYER + 1)).status_code == 200  # another player is not limited


def test_too_many_updates_for_a_key_is_429(server, coin, settings):
    settings.SCORE_RATE_PER_KEY = "2/min"
    tokens = [server.token(PLAYER + i) for i in range(3)]
    assert [server.update(t).status_code for t in tokens] == [200, 200, 429]


def test_cooldown_of_the_action_type(server, boss, token):
    assert server.update(token, "boss_defeated").status_code == 200
    response = server.update(token, "boss_defeated")
    error = assert_error(response, 429, "rate_limited")
    assert error["details"]["reason"] == "cooldown"
    assert 295 <= int(response["Retry-After"]) <= 300
    assert _score() == 500


def test_a_banned_player_on_cooldown_is_told_of_the_ban(server, boss, token, game):
    # given: a credit that starts the action type's cooldown, then a ban
    assert server.update(token, "boss_defeated").status_code == 200
    services.player_ban(player=Player.objects.get(game=game, roblox_user_id=PLAYER))
    # then: the player's refusal comes before the rules' own answers
    assert_error(server.update(token, "boss_defeated"), 403, "player_banned")
    assert _score() == 500


def test_hourly_maximum_of_the_action_type(server, game, token):
    ActionTypeFactory(game=game, key="chest_opened", base_score=5, max_per_hour=3)
    for _ in range(3):
        assert server.update(token, "chest_opened").status_code == 200
    response = server.update(token, "chest_opened")
    assert assert_error(response, 429, "rate_limited")["details"]["reason"] == "max_per_hour"
    assert 3500 <= int(response["Retry-After"]) <= 3600
    assert _score() == 15


def test_repeated_signature_failures_block_the_key_and_are_counted(server, coin, token, settings, caplog):
    settings.SCORE_AUTH_FAILURE_LIMIT = 5
    blocks_before = metrics.BLOCKS.labels(scope="key")._value.get()
    for _ in range(4):
        assert_error(server.post(token, server.body(), signature="0" * 64), 401, "signature_invalid")
    with caplog.at_level(logging.WARNING, logger="scoreboard.services.tokens"):
        response = server.post(token, server.body(), signature="0" * 64)
    error = assert_error(response, 429, "rate_limited")
    assert error["details"]["reason"] == "blocked"
    assert int(response["Retry-After"]) > 200
    assert any("blocked" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert metrics.BLOCKS.labels(scope="key")._value.get() == blocks_before + 1
    # while blocked, even a well-signed update from that key is refused and not credited
    assert_error(server.update(token), 429, "rate_limited")
    assert not ScoreHistory.objects.exists()


def test_repeated_bad_tokens_block_the_address(server, coin, settings):
    settings.SCORE_AUTH_FAILURE_LIMIT = 3
    codes = [server.post("garbage", server.body()).json()["error"]["code"] for _ in range(4)]
    assert codes == ["token_invalid", "token_invalid", "rate_limited", "rate_limited"]
    other = GameServer(server.game)
    other.client.defaults["REMOTE_ADDR"] = "10.0.0.9"
    assert_error(other.post("garbage", other.body()), 401, "token_invalid")


# --------------------------------------------------------------------------- 503


def test_redis_down_is_503_and_nothing_is_credited(server, coin, token, monkeypatch):
    broken = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    monkeypatch.setattr("scoreboard.services.tokens.get_redis", lambda: broken)
    response = server.update(token)
    assert_error(response, 503, "service_unavailable")
    assert response["Retry-After"]
    assert not ScoreHistory.objects.exists()
    assert Score.objects.get().score == 0


# --------------------------------------------------------------------------- isolation between games


def test_a_key_of_game_a_cannot_credit_game_bs_players(server, coin, owner):
    game_b = GameFactory(owner=owner)
    server_b = GameServer(game_b)
    ActionTypeFactory(game=game_b, key="coin_collected", base_score=1000)
    token_b = server_b.token(PLAYER)
    # game A's server mints a token for the same Roblox user: it is A's player, credited with A's rules
    token_a = server.token(PLAYER)
    assert server.update(token_a).json()["score"] == 10
    assert _score(game=game_b.pk) == 0
    # B's player's token with A's signing secret is refused
    assert_error(server.post(token_b, server.body()), 401, "signature_invalid")
    # A token claiming game B but signed with game A's token key is forged
    claims = jwt.decode(token_a, options={"verify_signature": False}) | {"game": game_b.pk}
    forged = jwt.encode(claims, services._jwt_key(server.game.pk), algorithm="HS256")
    assert_error(server.post(forged, server.body()), 401, "token_invalid")
    assert _score(game=game_b.pk) == 0
    # and a key of game B cannot revoke game A's tokens
    assert_error(server_b.revoke(token=token_a), 400, "validation_error")


def test_a_token_of_game_a_with_game_bs_signature_is_refused(server, coin, owner):
    server_b = GameServer(GameFactory(owner=owner))
    token_a = server.token(PLAYER)
    assert_error(server.post(token_a, server.body(), secret=server_b.secret), 401, "signature_invalid")


def test_every_code_of_the_table_is_documented():
    for code, status in {"token_invalid": 401, "token_expired": 401, "token_revoked": 401,
                         "signature_invalid": 401, "timestamp_out_of_window": 401, "nonce_reused": 409,
                         "action_duplicate": 409, "action_type_invalid": 422, "player_banned": 403,
                         "rate_limited": 429}.items():  # fmt: skip
        assert ERROR_CODES[code][0] == status


def test_update_outcomes_are_counted(server, coin, token):
    credited = metrics.SCORE_UPDATES.labels(outcome="credited")._value.get()
    reused = metrics.SCORE_UPDATES.labels(outcome="nonce_reused")._value.get()
    nonce = uuid.uuid4().hex
    server.update(token, nonce=nonce)
    server.update(token, nonce=nonce)
    assert metrics.SCORE_UPDATES.labels(outcome="credited")._value.get() == credited + 1
    assert metrics.SCORE_UPDATES.labels(outcome="nonce_reused")._value.get() == reused + 1


# --------------------------------------------------------------------------- hot-path mechanics


@pytest.mark.parametrize("rules", [False, True], ids=["one-statement path", "rules path"])
def test_credits_run_as_prepared_statements_on_djangos_connection(server, game, rules):
    # given: an action type credited by the one-statement path or the read-then-write one
    ActionTypeFactory(game=game, key="gem", base_score=7, max_per_hour=100 if rules else None)
    token = server.token(PLAYER)
    before = _prepared_statements()
    # when
    for _ in range(3):
        assert server.update(token, "gem").status_code == 200
    # then: the credit statements were prepared once each and ran three times; Django's own queries are not
    after = _prepared_statements()
    runs = [uses - before.get(sql, 0) for sql, uses in after.items() if "scoreboard_scorehistory" in sql]
    assert set(runs) - {0} == {3}
    assert not [sql for sql in after if "games_game" in sql]
    assert _score() == 21


def _prepared_statements() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        return dict(cursor.fetchall())


def test_a_prepared_credit_belongs_to_the_callers_transaction(game, coin):
    # given: the demo seed credits inside its own transaction
    player = services.player_upsert(game_id=game.pk, player_id=PLAYER)
    rule = services.action_rules(game.pk)["coin_collected"]
    # when: that transaction rolls back
    with pytest.raises(RuntimeError), transaction.atomic():
        services.score_credit(game_id=game.pk, slug=game.slug, player_pk=player.pk, action=rule, action_id="a-1")
        raise RuntimeError
    # then: nothing was credited
    assert not ScoreHistory.objects.exists()
    assert _score() == 0


def test_a_verified_token_is_remembered_for_its_life_but_its_expiry_is_checked(server, coin, monkeypatch):
    # given: a token verified once
    token = server.token(PLAYER)
    claims = services.score_token_verify(token=token)
    # when: ten minutes later (in-process clock), with the JWT decoder gone
    now = time.monotonic() + 600
    monkeypatch.setattr("adplatform.core.localcache.time.monotonic", lambda: now)
    monkeypatch.setattr(tokens.jwt, "decode", None)
    # then: it is not decoded again, but refused once it expires
    assert services.score_token_verify(token=token) == claims
    monkeypatch.setattr(tokens.time, "time", lambda: claims.expires_at + 1)
    with pytest.raises(DomainError) as refused:
        services.score_token_verify(token=token)
    assert refused.value.code == "token_expired"


# --------------------------------------------------------------------------- the lean path's edges


def test_other_methods_are_405_in_the_error_format(server, coin, token, api_client):
    response = api_client.get("/api/v1/scores/update", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert_error(response, 405, "method_not_allowed")


def test_an_unexpected_failure_is_a_500_in_the_error_format_and_counted(server, coin, token):
    from unittest import mock

    before = metrics.SCORE_UPDATES.labels(outcome="internal_error")._value.get()
    with mock.patch("scoreboard.services.score_submit", side_effect=RuntimeError("boom")):
        response = server.update(token, "coin_collected")
    assert_error(response, 500, "internal_error")
    assert metrics.SCORE_UPDATES.labels(outcome="internal_error")._value.get() == before + 1
    assert not ScoreHistory.objects.exists()
