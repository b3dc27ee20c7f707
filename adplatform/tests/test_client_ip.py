"""The client's address behind proxies: only our own proxies' X-Forwarded-For hops are believed, everywhere."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from adplatform.core.api.client import client_ip
from games.tests.factories import GameFactory
from scoreboard.tests.factories import ActionTypeFactory, GameServer

rf = RequestFactory()


def _ip(remote: str, forwarded: str | None = None) -> str:
    extra: dict[str, Any] = {"REMOTE_ADDR": remote}  # WSGI environ entries: the stubs' **extra: Any
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(rf.get("/", **extra))


# --------------------------------------------------------------------------- the rule


def test_without_proxies_the_header_is_ignored(settings):
    settings.NUM_PROXIES = 0
    settings.TRUSTED_PROXIES = []
    assert _ip("203.0.113.7", "1.2.3.4") == "203.0.113.7"


def test_one_proxy_believes_only_the_hop_it_appended(settings):
    settings.NUM_PROXIES = 1
    settings.TRUSTED_PROXIES = []
    # the client wrote "1.2.3.4, 5.6.7.8"; our load balancer (10.0.0.2) appended the address it saw
    assert _ip("10.0.0.2", "1.2.3.4, 5.6.7.8, 203.0.113.7") == "203.0.113.7"
    assert _ip("10.0.0.2", "203.0.113.7") == "203.0.113.7"
    assert _ip("10.0.0.2") == "10.0.0.2"


def test_two_proxies_take_the_second_hop_from_the_right(settings):
    settings.NUM_PROXIES = 2
    settings.TRUSTED_PROXIES = []
    assert _ip("10.0.0.3", "6.6.6.6, 203.0.113.7, 10.0.0.2") == "203.0.113.7"


def test_garbage_written_by_the_client_is_dropped(settings):
    settings.NUM_PROXIES = 1
    settings.TRUSTED_PROXIES = []
    assert _ip("10.0.0.2", "not-an-ip, 203.0.113.7:51234") == "203.0.113.7"
    assert _ip("10.0.0.2", "[2001:db8::1]:443") == "2001:db8::1"


def test_trusted_proxies_are_skipped_from_the_right(settings):
    settings.NUM_PROXIES = 0
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert _ip("10.0.0.3", "6.6.6.6, 203.0.113.7, 10.1.2.3") == "203.0.113.7"


def test_a_peer_that_is_no_trusted_proxy_keeps_its_own_address(settings):
    settings.NUM_PROXIES = 0
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    # reached the app directly: whatever it says it forwards is its own word
    assert _ip("198.51.100.9", "10.0.0.1, 1.2.3.4") == "198.51.100.9"


# --------------------------------------------------------------------------- every throttle and block uses it


def _leaderboard_reads(settings, headers: list[dict]) -> list[int]:
    settings.SCORE_LEADERBOARD_READ_RATE = "3/min"
    game = GameFactory()
    client = APIClient()
    return [client.get(f"/api/v1/leaderboards/{game.slug}", **h).status_code for h in headers]


@pytest.mark.django_db
def test_a_spoofed_header_does_not_escape_the_throttle_without_proxies(settings):
    settings.NUM_PROXIES = 0
    rotating = [{"HTTP_X_FORWARDED_FOR": f"198.51.100.{i}"} for i in range(5)]
    assert _leaderboard_reads(settings, rotating) == [200, 200, 200, 429, 429]


@pytest.mark.django_db
def test_a_spoofed_header_does_not_escape_the_throttle_behind_a_proxy(settings):
    # given one load balancer, which appends the real client's address (203.0.113.7) to what the client wrote
    settings.NUM_PROXIES = 1
    rotating = [{"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": f"198.51.100.{i}, 203.0.113.7"} for i in range(5)]
    assert _leaderboard_reads(settings, rotating) == [200, 200, 200, 429, 429]


@pytest.mark.django_db
def test_behind_a_proxy_two_clients_have_two_budgets(settings):
    settings.NUM_PROXIES = 1
    first = [{"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.7"}] * 4
    second = [{"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.8"}]
    # one load balancer address, yet each client is limited on its own
    assert _leaderboard_reads(settings, first + second) == [200, 200, 200, 429, 200]


def _bad_tokens(server, client_headers: list[dict]) -> list[str]:
    return [server.post("garbage", server.body(), **h).json()["error"]["code"] for h in client_headers]


@pytest.mark.django_db
def test_score_token_blocking_ignores_a_spoofed_header(settings, owner):
    settings.SCORE_AUTH_FAILURE_LIMIT = 3
    settings.NUM_PROXIES = 0
    game = GameFactory(owner=owner)
    ActionTypeFactory(game=game, key="coin_collected")
    rotating = [{"HTTP_X_FORWARDED_FOR": f"198.51.100.{i}"} for i in range(4)]

    assert _bad_tokens(GameServer(game), rotating) == ["token_invalid", "token_invalid", "rate_limited", "rate_limited"]


@pytest.mark.django_db
def test_behind_a_load_balancer_one_attackers_bad_tokens_block_only_that_attacker(settings, owner):
    # given every game server and the attacker reach the app through one load balancer (10.0.0.2)
    settings.SCORE_AUTH_FAILURE_LIMIT = 3
    settings.NUM_PROXIES = 1
    game = GameFactory(owner=owner)
    ActionTypeFactory(game=game, key="coin_collected")
    server = GameServer(game)
    attacker = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.66"}
    spoofing = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "198.51.100.1, 203.0.113.66"}

    # when the attacker sends bad tokens, rotating what it writes in the header
    codes = _bad_tokens(server, [attacker, spoofing, attacker, spoofing])

    # then the attacker is blocked, and a game server behind the same load balancer is not
    assert codes == ["token_invalid", "token_invalid", "rate_limited", "rate_limited"]
    honest = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "192.0.2.10"}
    token = server.token(5001)
    assert server.post(token, server.body(), **honest).status_code == 200
