"""Replay protection and crediting under concurrent requests (real transactions, one connection per thread)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection
from rest_framework.test import APIClient

from scoreboard import leaderboard
from scoreboard.models import Score, ScoreHistory
from scoreboard.tests.factories import ActionTypeFactory

pytestmark = pytest.mark.django_db(transaction=True)

PLAYER = 987654321


def run_concurrently(count: int, work) -> list:
    """Start ``count`` threads at once (a barrier) and return their results in order."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _codes(responses) -> Counter:
    return Counter(r.json()["error"]["code"] if r.status_code != 200 else "credited" for r in responses)


def test_50_concurrent_submissions_with_the_same_nonce_credit_exactly_one(server, coin):
    token = server.token(PLAYER)
    bodies = [server.body(nonce="the-same-nonce-0001", action_id=f"coin-{i}") for i in range(50)]

    responses = run_concurrently(50, lambda i: server.post(token, bodies[i], client=APIClient()))

    assert _codes(responses) == {"credited": 1, "nonce_reused": 49}
    assert ScoreHistory.objects.count() == 1
    assert Score.objects.get(player__roblox_user_id=PLAYER).score == 10
    assert leaderboard.board_top(server.game.pk, 10).entries[0].score == 10


def test_concurrent_submissions_of_one_action_id_credit_it_once(server, coin):
    token = server.token(PLAYER)
    bodies = [server.body(action_id="chest-1") for _ in range(20)]  # new nonce each: a retrying server

    responses = run_concurrently(20, lambda i: server.post(token, bodies[i], client=APIClient()))

    assert _codes(responses) == {"credited": 1, "action_duplicate": 19}
    assert Score.objects.get(player__roblox_user_id=PLAYER).score == 10


def test_concurrent_actions_of_one_player_all_add_up(server, coin):
    token = server.token(PLAYER)

    responses = run_concurrently(30, lambda i: server.post(token, server.body(), client=APIClient()))

    assert _codes(responses) == {"credited": 30}
    history = list(ScoreHistory.objects.order_by("id").values_list("previous_score", "new_score"))
    assert [prev for prev, _ in history] == [new for _, new in [(0, 0), *history[:-1]]]  # an unbroken chain
    assert Score.objects.get(player__roblox_user_id=PLAYER).score == 300
    assert leaderboard.board_top(server.game.pk, 10).entries[0].score == 300
    assert sorted(r.json()["score"] for r in responses) == list(range(10, 310, 10))


def test_concurrent_credits_with_rules_add_up_and_respect_the_hourly_maximum(server, game):
    # given: an action type with an hourly maximum (credited by the read-then-write path)
    ActionTypeFactory(game=game, key="chest_opened", base_score=5, max_per_hour=12)
    token = server.token(PLAYER)

    responses = run_concurrently(20, lambda i: server.post(token, server.body("chest_opened"), client=APIClient()))

    assert _codes(responses) == {"credited": 12, "rate_limited": 8}
    assert Score.objects.get(player__roblox_user_id=PLAYER).score == 60
    assert ScoreHistory.objects.count() == 12
