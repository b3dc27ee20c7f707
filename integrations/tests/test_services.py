"""The services the rest of the project calls: caching in Redis on top of the clients."""

from __future__ import annotations

import time

import pytest
import redis
import responses

from adplatform.core.redis import get_redis
from integrations import services
from integrations.roblox import cache
from integrations.roblox.errors import RobloxMessageTooLarge, RobloxNotFound
from integrations.roblox.types import ThumbnailState
from integrations.tests import roblox_bodies as rb


def test_second_call_is_served_from_the_cache(rsps):
    rsps.get(rb.GAMES_URL, json={"data": [rb.game(1818)]})

    first = services.roblox_games_details(universe_ids=[1818])
    second = services.roblox_games_details(universe_ids=[1818])

    assert len(rsps.calls) == 1
    assert second == first


def test_only_ids_missing_from_the_cache_are_asked(rsps):
    rsps.add_callback(responses.GET, rb.GAMES_URL, callback=rb.echo_games)
    services.roblox_games_details(universe_ids=[1, 2])

    result = services.roblox_games_details(universe_ids=[1, 2, 3])

    assert rb.ids_param(rsps.calls[1]) == [3]
    assert list(result) == [1, 2, 3]


def test_game_details_live_a_couple_of_minutes_in_the_cache(rsps, settings):
    settings.ROBLOX_CACHE_TTLS["game_details"] = 120
    rsps.get(rb.GAMES_URL, json={"data": [rb.game(1818)]})

    services.roblox_games_details(universe_ids=[1818])

    assert 119_000 < get_redis().pttl(cache.key("game_details", 1818)) <= 120_000


def test_use_cache_false_asks_roblox_and_refreshes_the_cache(rsps):
    rsps.get(rb.GAMES_URL, json={"data": [rb.game(1818, playing=1)]})
    services.roblox_games_details(universe_ids=[1818])
    rsps.replace(responses.GET, rb.GAMES_URL, json={"data": [rb.game(1818, playing=99)]})

    fresh = services.roblox_games_details(universe_ids=[1818], use_cache=False)

    assert fresh[1818].playing == 99
    assert services.roblox_games_details(universe_ids=[1818])[1818].playing == 99
    assert len(rsps.calls) == 2


def test_unknown_universe_is_remembered_as_not_found(rsps):
    rsps.get(rb.GAMES_URL, json={"data": []})

    with pytest.raises(RobloxNotFound):
        services.roblox_game_details(universe_id=424242)
    with pytest.raises(RobloxNotFound):
        services.roblox_game_details(universe_id=424242)

    assert len(rsps.calls) == 1


def test_place_universe_is_cached_for_a_day(rsps):
    rsps.get(rb.place_universe_url(1818), json={"universeId": 13058})

    assert services.roblox_place_universe(place_id=1818) == 13058
    assert services.roblox_place_universe(place_id=1818) == 13058

    assert len(rsps.calls) == 1
    assert 86_000_000 < get_redis().pttl(cache.key("place_universe", 1818)) <= 86_400_000


def test_unknown_place_is_not_asked_again_while_remembered(rsps):
    rsps.get(rb.place_universe_url(5), json={"universeId": None})

    for _ in range(2):
        with pytest.raises(RobloxNotFound):
            services.roblox_place_universe(place_id=5)

    assert len(rsps.calls) == 1


def test_pending_thumbnail_is_asked_again_soon_then_completed_is_kept(rsps, settings):
    # given: Roblox is still rendering the image
    settings.ROBLOX_CACHE_TTLS["thumbnail_pending"] = 0.05
    settings.ROBLOX_CACHE_TTLS["thumbnail"] = 3600
    rsps.get(rb.ASSET_THUMBNAILS_URL, json={"data": [rb.thumbnail(102611803, "Pending")]})
    pending = services.roblox_asset_thumbnails(asset_ids=[102611803])[102611803]
    assert pending.state == ThumbnailState.PENDING and pending.image_url is None

    # when: the short lifetime of a pending entry has passed and the image is ready
    time.sleep(0.08)
    rsps.replace(responses.GET, rb.ASSET_THUMBNAILS_URL, json={"data": [rb.thumbnail(102611803, "Completed")]})
    completed = services.roblox_asset_thumbnails(asset_ids=[102611803])[102611803]

    # then: Roblox was asked again, and the completed image is cached for long
    assert len(rsps.calls) == 2
    assert completed.state == ThumbnailState.COMPLETED
    assert (completed.image_url or "").startswith("https://tr.rbxcdn.com/")
    key = cache.key("asset_thumbnail:420x420:Png", 102611803)
    assert get_redis().pttl(key) > 3_500_000


def test_blocked_asset_thumbnail_is_reported_as_blocked(rsps):
    rsps.get(rb.ASSET_THUMBNAILS_URL, json={"data": [rb.thumbnail(77, "Blocked")]})
    assert services.roblox_asset_thumbnails(asset_ids=[77])[77].is_blocked


def test_cached_thumbnails_keep_their_state_type(rsps):
    rsps.get(rb.GAME_ICONS_URL, json={"data": [rb.thumbnail(1818, "Completed")]})
    services.roblox_game_icons(universe_ids=[1818])

    cached = services.roblox_game_icons(universe_ids=[1818])[1818]

    assert cached.state is ThumbnailState.COMPLETED and cached.is_final


def test_icons_of_different_sizes_are_cached_apart(rsps):
    rsps.get(rb.GAME_ICONS_URL, json={"data": [rb.thumbnail(1818)]})
    services.roblox_game_icons(universe_ids=[1818], size="150x150")
    services.roblox_game_icons(universe_ids=[1818], size="512x512")
    assert len(rsps.calls) == 2


def test_asset_details_are_cached(rsps):
    rsps.get(rb.asset_details_url(102611803), json=rb.asset_details())

    first = services.roblox_asset_details(asset_id=102611803)
    second = services.roblox_asset_details(asset_id=102611803)

    assert second == first and len(rsps.calls) == 1


def test_game_votes_are_cached(rsps):
    rsps.get(rb.VOTES_URL, json={"data": [rb.votes(1818)]})
    services.roblox_game_votes(universe_ids=[1818])
    assert services.roblox_game_votes(universe_ids=[1818])[1818].up_votes == 81614
    assert len(rsps.calls) == 1


class _RedisDown:
    """Every Redis command fails as if the server were gone."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise redis.ConnectionError("Connection refused")

        return fail


def test_roblox_calls_still_work_when_redis_is_down(rsps, monkeypatch):
    for module in ("cache", "ratelimit", "breaker"):
        monkeypatch.setattr(f"integrations.roblox.{module}.get_redis", lambda: _RedisDown())
    rsps.get(rb.GAMES_URL, json={"data": [rb.game(1818)]})

    assert services.roblox_games_details(universe_ids=[1818])[1818].name == "Classic: Crossroads"


def test_publish_message_service_sends_the_message(rsps):
    rsps.post(rb.publish_url(1818), status=200, body="")
    services.roblox_publish_message(universe_id=1818, api_key="oc-key-123456789", topic="ads", message="refresh")
    assert rsps.calls[0].request.headers["x-api-key"] == "oc-key-123456789"


def test_publish_message_service_refuses_over_1_kib(rsps):
    with pytest.raises(RobloxMessageTooLarge):
        services.roblox_publish_message(universe_id=1818, api_key="oc-key-123456789", topic="ads", message="x" * 2000)
    assert len(rsps.calls) == 0


def test_cloud_universe_service_reads_with_the_owner_key(rsps):
    rsps.get(rb.cloud_universe_url(1818), json=rb.cloud_universe(1818))
    universe = services.roblox_cloud_universe(universe_id=1818, api_key="oc-key-123456789")
    assert universe.display_name == "Classic: Crossroads"
