"""The per-host rate limit kept in Redis and shared by every process."""

from __future__ import annotations

import pytest

from adplatform.core.redis import get_redis
from integrations.roblox import games, opencloud, thumbnails, universes
from integrations.roblox.errors import RobloxRateLimited
from integrations.roblox.ratelimit import RateLimiter, Refused
from integrations.tests import roblox_bodies as rb


@pytest.fixture
def tight_limit(settings):
    settings.ROBLOX_RATE_LIMIT_PER_MINUTE = 60  # one a second
    settings.ROBLOX_RATE_LIMIT_BURST = 2
    settings.ROBLOX_RATE_LIMIT_MAX_WAIT_MS = 0
    return settings


def test_two_processes_share_one_budget_through_redis():
    web = RateLimiter(per_minute=60, burst=2, max_wait=0)
    worker = RateLimiter(per_minute=60, burst=2, max_wait=0)  # another process: nothing shared but Redis

    assert web.reserve("games.roblox.com") == 0
    assert web.reserve("games.roblox.com") == 0
    with pytest.raises(Refused) as refused:
        worker.reserve("games.roblox.com")

    assert 0 < refused.value.retry_after <= 1.0
    assert get_redis().exists(RateLimiter.bucket_key("games.roblox.com"))


def test_a_slot_due_within_the_allowed_wait_is_reserved_and_waited_for():
    limiter = RateLimiter(per_minute=60, burst=1, max_wait=2)
    assert limiter.reserve("games.roblox.com") == 0

    wait = limiter.reserve("games.roblox.com")

    assert 0.9 <= wait <= 1.0


def test_limits_are_per_host():
    limiter = RateLimiter(per_minute=60, burst=1, max_wait=0)
    limiter.reserve("games.roblox.com")
    assert limiter.reserve("thumbnails.roblox.com") == 0


def test_a_call_without_a_slot_fails_rate_limited_and_makes_no_request(rsps, tight_limit):
    rsps.get(rb.GAMES_URL, json={"data": []})
    games.games_details([1])
    games.games_details([2])

    with pytest.raises(RobloxRateLimited) as caught:
        games.games_details([3])

    assert len(rsps.calls) == 2
    assert caught.value.retry_after is not None and caught.value.retry_after > 0


def test_the_call_sleeps_for_a_slot_due_soon(rsps, settings, sleeps):
    settings.ROBLOX_RATE_LIMIT_PER_MINUTE = 60
    settings.ROBLOX_RATE_LIMIT_BURST = 1
    settings.ROBLOX_RATE_LIMIT_MAX_WAIT_MS = 2000
    rsps.get(rb.GAME_ICONS_URL, json={"data": []})

    thumbnails.game_icons([1])
    thumbnails.game_icons([2])

    assert len(rsps.calls) == 2
    assert len(sleeps) == 1 and 0.9 <= sleeps[0] <= 1.0


def test_a_429_holds_every_process_off_the_host(rsps, settings):
    # given: Roblox says 429 for two minutes on apis.roblox.com, longer than we retry
    settings.ROBLOX_RETRY_AFTER_MAX = 30
    rsps.get(rb.cloud_universe_url(1818), status=429, headers={"Retry-After": "120"})
    with pytest.raises(RobloxRateLimited):
        opencloud.universe(1818, api_key="oc-key-123456789")
    rsps.get(rb.place_universe_url(1818), json={"universeId": 1818})

    # when: any caller, in any process, wants the same host
    with pytest.raises(RobloxRateLimited) as caught:
        universes.place_universe(1818)

    # then: it is refused without calling Roblox
    assert len(rsps.calls) == 1
    assert caught.value.retry_after is not None and 100 < caught.value.retry_after <= 120
