"""Sync jobs, their Celery tasks, and the Open Cloud serving-change publisher (Roblox served by ``responses``)."""

# ruff: noqa: F811 - the imported fixtures are parameters of the tests

from __future__ import annotations

import json
import logging
from decimal import Decimal
from unittest import mock

import pytest
import responses
from celery.exceptions import Retry
from django.core.exceptions import ValidationError
from django.urls import reverse

from adplatform.core.redis import get_redis
from adplatform.core.serving import SERVING_VERSION_KEY, serving_version, serving_version_bump
from ads.budget import budget_rebuild
from ads.decisions import Player, ad_decide, engine
from ads.tests.factories import CampaignFactory, CreativeFactory
from games import messaging, sync, tasks
from games import services as game_services
from games.models import Game
from games.tests.factories import AdContainerFactory, AssetFactory, GameFactory, PlaylistFactory
from integrations.roblox.errors import RobloxUnavailable
from integrations.tests import roblox_bodies as rb

# The Roblox fixtures (responses, no sleeping), as in integrations/tests: tests take ``rsps`` by name.
from integrations.tests.fixtures import _jitter_at_upper_bound, _roblox_settings, rsps, sleeps  # noqa: F401

pytestmark = pytest.mark.django_db

OPEN_CLOUD_KEY = "ocK3y-Sup3rS3cret-7f9a2b6c1d0e4f8a9b7c6d5e4f3a2b1c0d9e8f7a"
ADULT = Player(id=1001, country="US", device="mobile", age_bracket="13+", ads_allowed=True)


@pytest.fixture(autouse=True)
def _no_worker():
    """Nothing reaches a real Celery worker; tests that care assert on these mocks."""
    with (
        mock.patch("games.tasks.game_sync.delay"),
        mock.patch("games.tasks.asset_sync.delay"),
        mock.patch("games.tasks.asset_sync.apply_async") as asset_later,
        mock.patch("games.tasks.publish_serving_change.delay") as publish,
        mock.patch("games.tasks.publish_serving_change.apply_async") as publish_later,
    ):
        yield {"asset_later": asset_later, "publish": publish, "publish_later": publish_later}


def _echo_votes(request):
    ids = rb.ids_param(type("Call", (), {"request": request}))
    return 200, {"Content-Type": "application/json"}, json.dumps({"data": [rb.votes(i) for i in reversed(ids)]})


def _roblox_answers_for_any_universe(rsps):
    rsps.add_callback(responses.GET, rb.GAMES_URL, callback=rb.echo_games)
    rsps.add_callback(responses.GET, rb.VOTES_URL, callback=_echo_votes)
    rsps.add_callback(responses.GET, rb.GAME_ICONS_URL, callback=rb.echo_thumbnails("Completed"))


def _calls_to(rsps, url):
    return [call for call in rsps.calls if call.request.url.split("?")[0] == url]


def _stats(game):
    game.refresh_from_db()
    return (game.name, game.roblox_universe_id, game.visits, game.playing, game.favorites, game.up_votes,
            game.down_votes, game.icon_url)  # fmt: skip


# ----------------------------------------------------------------------------- games


def test_game_sync_fills_universe_name_stats_and_icon(rsps):
    # given a game registered by its place only
    game = GameFactory(roblox_place_id=1818, roblox_universe_id=None, name="Place 1818")
    rsps.get(rb.place_universe_url(1818), json={"universeId": 13058})
    rsps.get(rb.GAMES_URL, json={"data": [rb.game(13058, name="Classic: Crossroads")]})
    rsps.get(rb.VOTES_URL, json={"data": [rb.votes(13058, up=81614, down=4717)]})
    rsps.get(rb.GAME_ICONS_URL, json={"data": [rb.thumbnail(13058)]})

    # when
    sync.game_sync(game_id=game.pk)

    # then
    game.refresh_from_db()
    assert (game.roblox_universe_id, game.name, game.description) == (
        13058,
        "Classic: Crossroads",
        "The classic ROBLOX level is back!",
    )
    assert (game.visits, game.playing, game.favorites) == (13016394, 312, 148584)
    assert (game.up_votes, game.down_votes) == (81614, 4717)
    assert game.icon_url == rb.thumbnail(13058)["imageUrl"]
    assert (game.sync_status, game.last_sync_error) == ("OK", "")
    assert game.last_synced_at is not None
    assert "size=512x512" in _calls_to(rsps, rb.GAME_ICONS_URL)[0].request.url


def test_game_sync_keeps_the_icon_it_has_while_roblox_renders_a_new_one(rsps):
    game = GameFactory(icon_url="https://tr.rbxcdn.com/old/512/512/Image/Png")
    universe = game.roblox_universe_id
    assert universe is not None
    rsps.get(rb.GAMES_URL, json={"data": [rb.game(universe)]})
    rsps.get(rb.VOTES_URL, json={"data": [rb.votes(universe)]})
    rsps.get(rb.GAME_ICONS_URL, json={"data": [rb.thumbnail(universe, "Pending")]})

    sync.game_sync(game_id=game.pk)

    game.refresh_from_db()
    assert game.icon_url == "https://tr.rbxcdn.com/old/512/512/Image/Png"
    assert game.sync_status == "OK"


def test_a_failed_game_sync_keeps_the_old_data_and_records_the_error(rsps):
    game = GameFactory(name="Real Name", visits=1000, playing=5, up_votes=10, icon_url="https://tr.rbxcdn.com/a.png")
    before = _stats(game)
    rsps.get(rb.GAMES_URL, status=503, json=rb.legacy_error(0, "Service unavailable"))

    with pytest.raises(RobloxUnavailable):
        sync.game_sync(game_id=game.pk)

    assert _stats(game) == before
    assert game.sync_status == "ERROR"
    assert game.last_sync_error.startswith("Roblox unavailable")
    assert "503" in game.last_sync_error


def test_place_not_found_is_recorded_and_not_raised(rsps):
    game = GameFactory(roblox_place_id=424242, roblox_universe_id=None, name="Typo Place", visits=7)
    rsps.get(rb.place_universe_url(424242), status=404, json=rb.legacy_error(2, "Place not found"))

    sync.game_sync(game_id=game.pk)

    game.refresh_from_db()
    assert (game.sync_status, game.last_sync_error) == ("ERROR", "place not found on Roblox")
    assert (game.name, game.visits, game.roblox_universe_id) == ("Typo Place", 7, None)


def test_a_universe_roblox_no_longer_knows_is_recorded(rsps):
    game = GameFactory(roblox_universe_id=987654)
    rsps.get(rb.GAMES_URL, json={"data": []})

    sync.game_sync(game_id=game.pk)

    game.refresh_from_db()
    assert (game.sync_status, game.last_sync_error) == ("ERROR", "universe 987654 not found on Roblox")
    assert not _calls_to(rsps, rb.VOTES_URL)


def test_sync_of_a_deleted_game_does_nothing(rsps):
    assert sync.game_sync(game_id=999_999) is None
    assert not rsps.calls


def test_games_sync_all_chunks_50_universes_a_call(rsps):
    # given 120 active games, two of them without a universe yet, and an inactive one
    GameFactory.create_batch(118)
    unresolved = [GameFactory(roblox_universe_id=None), GameFactory(roblox_universe_id=None)]
    for number, game in enumerate(unresolved):
        rsps.get(rb.place_universe_url(game.roblox_place_id), json={"universeId": 8800000 + number})
    inactive = GameFactory(is_active=False)
    _roblox_answers_for_any_universe(rsps)

    # when
    result = sync.games_sync_all()

    # then three chunks: one games, one votes and one icons call each, none over 50 ids
    assert result["total"] == 120 and result["synced"] == 120 and result["universe_resolved"] == 2
    for url in (rb.GAMES_URL, rb.VOTES_URL, rb.GAME_ICONS_URL):
        calls = _calls_to(rsps, url)
        assert [len(rb.ids_param(c)) for c in calls] == [50, 50, 20]
    assert Game.objects.filter(sync_status="OK").count() == 120
    assert [g.roblox_universe_id for g in Game.objects.filter(pk__in=[g.pk for g in unresolved])] == [
        8800000,
        8800001,
    ]
    inactive.refresh_from_db()
    assert inactive.sync_status == "PENDING"


def test_games_sync_all_stops_when_roblox_is_down_and_loses_nothing(rsps):
    games = GameFactory.create_batch(60, visits=42)
    rsps.get(rb.GAMES_URL, status=503, json=rb.legacy_error(0, "Service unavailable"))

    result = sync.games_sync_all()

    assert result["unavailable"] == 50 and result["skipped"] == 10
    assert len(_calls_to(rsps, rb.GAMES_URL)) == 4  # one chunk, its attempts; the second chunk is not tried
    states = dict(Game.objects.values_list("pk", "sync_status"))
    assert [states[g.pk] for g in games] == ["ERROR"] * 50 + ["PENDING"] * 10
    assert set(Game.objects.values_list("visits", flat=True)) == {42}


# ----------------------------------------------------------------------------- assets


def _asset_details(rsps, asset_id, **overrides):
    rsps.get(rb.asset_details_url(asset_id), json=rb.asset_details(asset_id, **overrides))


def test_thumbnail_pending_then_completed_across_two_runs(rsps):
    asset = AssetFactory(roblox_asset_id=102611803, moderation_state="UNKNOWN", thumbnail_url="", name="",
                         asset_type="Unknown")  # fmt: skip
    _asset_details(rsps, 102611803, Name="Summer billboard", AssetTypeId=13)
    rsps.get(rb.ASSET_THUMBNAILS_URL, json={"data": [rb.thumbnail(102611803, "Pending", "420/420/Image/Png")]})

    assert sync.asset_sync(roblox_asset_ids=[102611803]) == [102611803]
    asset.refresh_from_db()
    assert (asset.moderation_state, asset.thumbnail_url) == ("PENDING", "")
    assert (asset.name, asset.asset_type) == ("Summer billboard", "Decal")

    rsps.replace(responses.GET, rb.ASSET_THUMBNAILS_URL, json={"data": [rb.thumbnail(102611803, "Completed")]})
    assert sync.asset_sync(roblox_asset_ids=[102611803]) == []
    asset.refresh_from_db()
    assert asset.moderation_state == "COMPLETED"
    assert asset.thumbnail_url == rb.thumbnail(102611803)["imageUrl"]
    assert asset.last_sync_error == ""


@pytest.mark.parametrize("state,stored", [("InReview", "IN_REVIEW"), ("TemporarilyUnavailable",
                                                                        "TEMPORARILY_UNAVAILABLE")])  # fmt: skip
def test_undecided_thumbnail_states_are_asked_again_later(rsps, state, stored):
    asset = AssetFactory(thumbnail_url="https://tr.rbxcdn.com/old.png")
    _asset_details(rsps, asset.roblox_asset_id)
    rsps.get(rb.ASSET_THUMBNAILS_URL, json={"data": [rb.thumbnail(asset.roblox_asset_id, state)]})

    assert sync.asset_sync(roblox_asset_ids=[asset.roblox_asset_id]) == [asset.roblox_asset_id]
    asset.refresh_from_db()
    assert (asset.moderation_state, asset.thumbnail_url) == (stored, "https://tr.rbxcdn.com/old.png")


def test_the_asset_task_schedules_undecided_assets_again_with_a_countdown(rsps, _no_worker):
    asset = AssetFactory()
    _asset_details(rsps, asset.roblox_asset_id)
    rsps.get(rb.ASSET_THUMBNAILS_URL, json={"data": [rb.thumbnail(asset.roblox_asset_id, "Pending")]})

    tasks.asset_sync([asset.roblox_asset_id])
    tasks.asset_sync([asset.roblox_asset_id], pending_round=2)
    tasks.asset_sync([asset.roblox_asset_id], pending_round=tasks.ASSET_PENDING_ROUNDS)

    assert _no_worker["asset_later"].call_args_list == [
        mock.call(args=([asset.roblox_asset_id],), kwargs={"pending_round": 1}, countdown=60),
        mock.call(args=([asset.roblox_asset_id],), kwargs={"pending_round": 3}, countdown=240),
    ]


def test_asset_thumbnails_are_asked_100_at_a_time(rsps):
    assets = AssetFactory.create_batch(230)
    for asset in assets:
        _asset_details(rsps, asset.roblox_asset_id)
    rsps.add_callback(responses.GET, rb.ASSET_THUMBNAILS_URL, callback=rb.echo_thumbnails("Completed"))

    assert sync.asset_sync(roblox_asset_ids=[a.roblox_asset_id for a in assets]) == []

    assert [len(rb.ids_param(c)) for c in _calls_to(rsps, rb.ASSET_THUMBNAILS_URL)] == [100, 100, 30]


def test_a_blocked_asset_is_marked_bumps_serving_and_its_creative_stops_serving(
    rsps, django_capture_on_commit_callbacks
):
    # given a campaign serving a creative made of an approved Roblox asset
    container = AdContainerFactory(floor_price_cpm=Decimal("1.00"))
    asset = AssetFactory(moderation_state="COMPLETED", thumbnail_url="https://tr.rbxcdn.com/ok.png")
    campaign = CampaignFactory(status="ACTIVE", max_bid=Decimal("5"))
    CreativeFactory(campaign=campaign, kind=container.type, asset=asset, roblox_asset_id=asset.roblox_asset_id)
    budget_rebuild(campaign_ids=[campaign.pk])
    engine.reset()
    assert ad_decide(container_id=container.pk, game_id=container.game_id, player=ADULT).body["filled"] is True
    version_before = serving_version()
    _asset_details(rsps, asset.roblox_asset_id)
    rsps.get(rb.ASSET_THUMBNAILS_URL, json={"data": [rb.thumbnail(asset.roblox_asset_id, "Blocked")]})

    # when Roblox moderation blocks the image
    with django_capture_on_commit_callbacks(execute=True):
        retry = sync.asset_sync(roblox_asset_ids=[asset.roblox_asset_id])

    # then the asset is blocked, the serving version moved, and once the engine sees it the creative is gone
    asset.refresh_from_db()
    assert retry == []
    assert (asset.moderation_state, asset.thumbnail_url) == ("BLOCKED", "")
    assert serving_version() > version_before
    ad_decide(container_id=container.pk, game_id=container.game_id, player=ADULT)  # sees the new version
    assert engine.index().version == serving_version()
    body = ad_decide(container_id=container.pk, game_id=container.game_id, player=ADULT).body
    assert body["filled"] is False


def test_the_hourly_sync_blocks_an_asset_a_playlist_uses(rsps):
    asset = AssetFactory(moderation_state="COMPLETED")
    playlist = PlaylistFactory()
    game_services.playlist_set_items(
        playlist=playlist, items=[{"roblox_asset_id": asset.roblox_asset_id, "display_seconds": 10}]
    )
    assert sync.assets_in_use() == [asset.roblox_asset_id]
    _asset_details(rsps, asset.roblox_asset_id)
    rsps.get(rb.ASSET_THUMBNAILS_URL, json={"data": [rb.thumbnail(asset.roblox_asset_id, "Blocked")]})

    assert sync.assets_sync_all() == []

    asset.refresh_from_db()
    assert asset.is_blocked


def test_unchanged_moderation_does_not_bump_serving(rsps, django_capture_on_commit_callbacks):
    asset = AssetFactory(moderation_state="COMPLETED")
    _asset_details(rsps, asset.roblox_asset_id)
    rsps.get(rb.ASSET_THUMBNAILS_URL, json={"data": [rb.thumbnail(asset.roblox_asset_id, "Completed")]})

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        sync.asset_sync(roblox_asset_ids=[asset.roblox_asset_id])
        sync.asset_sync(roblox_asset_ids=[asset.roblox_asset_id])

    assert callbacks == []
    assert get_redis().get(SERVING_VERSION_KEY) is None


def test_thumbnail_error_is_recorded(rsps):
    asset = AssetFactory(moderation_state="UNKNOWN")
    _asset_details(rsps, asset.roblox_asset_id)
    rsps.get(rb.ASSET_THUMBNAILS_URL, json={"data": [rb.thumbnail(asset.roblox_asset_id, "Error")]})

    assert sync.asset_sync(roblox_asset_ids=[asset.roblox_asset_id]) == []

    asset.refresh_from_db()
    assert asset.moderation_state == "ERROR"
    assert "state Error" in asset.last_sync_error


def test_an_asset_roblox_does_not_return_is_recorded_and_keeps_its_state(rsps):
    asset = AssetFactory(moderation_state="COMPLETED", thumbnail_url="https://tr.rbxcdn.com/ok.png")
    rsps.get(rb.ASSET_THUMBNAILS_URL, json={"data": []})

    assert sync.asset_sync(roblox_asset_ids=[asset.roblox_asset_id, 77]) == []

    asset.refresh_from_db()
    assert (asset.moderation_state, asset.thumbnail_url) == ("COMPLETED", "https://tr.rbxcdn.com/ok.png")
    assert asset.last_sync_error == "asset not found on Roblox"
    assert rb.ids_param(rsps.calls[0]) == [asset.roblox_asset_id]  # 77 is not an asset of ours


def test_details_unavailable_still_stores_the_thumbnail_and_asks_again(rsps):
    asset = AssetFactory(moderation_state="PENDING", name="Kept")
    rsps.get(rb.asset_details_url(asset.roblox_asset_id), status=503)
    rsps.get(rb.ASSET_THUMBNAILS_URL, json={"data": [rb.thumbnail(asset.roblox_asset_id, "Completed")]})

    assert sync.asset_sync(roblox_asset_ids=[asset.roblox_asset_id]) == [asset.roblox_asset_id]

    asset.refresh_from_db()
    assert (asset.moderation_state, asset.name) == ("COMPLETED", "Kept")
    assert "details not refreshed" in asset.last_sync_error


def test_assets_sync_all_takes_assets_used_by_creatives_or_playlists_only(rsps):
    used = AssetFactory()
    CreativeFactory(asset=used, roblox_asset_id=used.roblox_asset_id)
    CreativeFactory(asset=used, roblox_asset_id=used.roblox_asset_id)
    AssetFactory()  # nobody uses it
    _asset_details(rsps, used.roblox_asset_id)
    rsps.add_callback(responses.GET, rb.ASSET_THUMBNAILS_URL, callback=rb.echo_thumbnails("Completed"))

    sync.assets_sync_all()

    assert [rb.ids_param(c) for c in _calls_to(rsps, rb.ASSET_THUMBNAILS_URL)] == [[used.roblox_asset_id]]


# ----------------------------------------------------------------------------- task retries


def test_game_sync_task_retries_on_roblox_unavailable_honouring_retry_after(rsps):
    game = GameFactory(visits=5)
    rsps.get(rb.GAMES_URL, status=429, headers={"Retry-After": "45"}, json=rb.legacy_error(0, "Too many requests"))

    with mock.patch.object(tasks.game_sync, "retry", side_effect=Retry()) as retry, pytest.raises(Retry):
        tasks.game_sync(game.pk)

    assert retry.call_args.kwargs["countdown"] == 45
    assert isinstance(retry.call_args.kwargs["exc"], RobloxUnavailable)
    game.refresh_from_db()
    assert (game.sync_status, game.visits) == ("ERROR", 5)


def test_game_sync_task_never_retries_not_found(rsps):
    game = GameFactory(roblox_universe_id=None)
    rsps.get(rb.place_universe_url(game.roblox_place_id), status=404, json=rb.legacy_error(2, "Not found"))

    with mock.patch.object(tasks.game_sync, "retry") as retry:
        tasks.game_sync(game.pk)

    retry.assert_not_called()
    game.refresh_from_db()
    assert game.last_sync_error == "place not found on Roblox"


def test_game_sync_task_retried_by_celery_succeeds_once_roblox_is_back(rsps):
    game = GameFactory()
    universe = game.roblox_universe_id
    assert universe is not None
    for _ in range(4):  # the first attempt of the task: the client's own retries all fail
        rsps.get(rb.GAMES_URL, status=503)
    rsps.get(rb.GAMES_URL, json={"data": [rb.game(universe, name="Back Again")]})
    rsps.get(rb.VOTES_URL, json={"data": [rb.votes(universe)]})
    rsps.get(rb.GAME_ICONS_URL, json={"data": [rb.thumbnail(universe)]})

    result = tasks.game_sync.apply(args=(game.pk,))  # eager: Celery runs the retry at once

    assert result.successful()
    game.refresh_from_db()
    assert (game.name, game.sync_status, game.last_sync_error) == ("Back Again", "OK", "")


def test_asset_sync_task_retries_with_backoff_when_thumbnails_are_down(rsps):
    asset = AssetFactory(moderation_state="COMPLETED")
    rsps.get(rb.ASSET_THUMBNAILS_URL, status=502)

    with mock.patch.object(tasks.asset_sync, "retry", side_effect=Retry()) as retry, pytest.raises(Retry):
        tasks.asset_sync([asset.roblox_asset_id])

    assert 15 <= retry.call_args.kwargs["countdown"] <= 30
    asset.refresh_from_db()
    assert asset.moderation_state == "COMPLETED"
    assert asset.last_sync_error.startswith("Roblox unavailable")


def test_beat_runs_both_syncs():
    from django.conf import settings

    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["sync-games"]["task"] == "games.tasks.sync_all_games"
    assert schedule["sync-games"]["schedule"].total_seconds() == 600
    assert schedule["sync-assets"]["task"] == "games.tasks.sync_all_assets"
    assert schedule["sync-assets"]["schedule"].total_seconds() == 3600


def test_sync_all_tasks_call_the_jobs(rsps, _no_worker):
    with mock.patch("games.sync.games_sync_all") as games_all:
        tasks.sync_all_games()
    with mock.patch("games.sync.assets_sync_all", return_value=[5]):
        tasks.sync_all_assets()
    games_all.assert_called_once_with()
    _no_worker["asset_later"].assert_called_once_with(args=([5],), kwargs={"pending_round": 1}, countdown=60)


# ----------------------------------------------------------------------------- Open Cloud


@pytest.fixture
def keyed_game():
    game = GameFactory(roblox_universe_id=13058)
    game_services.game_set_open_cloud_key(game=game, api_key=f"  {OPEN_CLOUD_KEY}\n")
    return game


def _published(rsps):
    return [json.loads(json.loads(c.request.body)["message"]) for c in rsps.calls if "publishMessage" in c.request.url]


def test_the_key_is_stored_stripped_and_can_be_removed(keyed_game):
    keyed_game.refresh_from_db()
    assert keyed_game.open_cloud_api_key == OPEN_CLOUD_KEY
    game_services.game_set_open_cloud_key(game=keyed_game, api_key="")
    keyed_game.refresh_from_db()
    assert keyed_game.open_cloud_api_key == ""


@pytest.mark.parametrize("bad", ["two words", "x" * 5000])
def test_a_key_that_cannot_be_a_key_is_refused(bad):
    with pytest.raises(ValidationError) as exc:
        game_services.game_set_open_cloud_key(game=GameFactory(), api_key=bad)
    assert "open_cloud_api_key" in exc.value.message_dict


def test_serving_change_is_published_with_the_key_and_debounced(rsps, caplog, keyed_game, _no_worker):
    caplog.set_level(logging.DEBUG)
    get_redis().set(SERVING_VERSION_KEY, 41)
    rsps.post(rb.publish_url(13058), status=200, body="")

    # a change publishes at once, with the owner's key
    tasks.publish_serving_change([keyed_game.pk])
    assert len(rsps.calls) == 1
    request = rsps.calls[0].request
    assert request.headers["x-api-key"] == OPEN_CLOUD_KEY
    assert json.loads(request.body)["topic"] == "adplatform"
    assert _published(rsps) == [{"type": "serving_changed", "version": 41}]

    # two more changes inside the 10 s window: no publish, one trailing run at the window's end
    get_redis().incr(SERVING_VERSION_KEY)
    tasks.publish_serving_change([keyed_game.pk])
    tasks.publish_serving_change([keyed_game.pk])
    assert len(rsps.calls) == 1
    later = _no_worker["publish_later"]
    later.assert_called_once()
    assert later.call_args.kwargs["args"] == ([keyed_game.pk],)
    assert later.call_args.kwargs["kwargs"] == {"trailing": True}
    assert 0 < later.call_args.kwargs["countdown"] <= messaging.DEBOUNCE_SECONDS

    # the trailing run, once the window is over, sends the version current then
    get_redis().delete(messaging.sent_key(keyed_game.pk))
    tasks.publish_serving_change([keyed_game.pk], trailing=True)
    assert _published(rsps) == [{"type": "serving_changed", "version": 41}, {"type": "serving_changed", "version": 42}]

    # and the key never reached a log record
    assert caplog.records
    for record in caplog.records:
        assert OPEN_CLOUD_KEY not in record.getMessage()
        assert OPEN_CLOUD_KEY not in repr(record.__dict__)
    assert OPEN_CLOUD_KEY not in caplog.text


def test_a_trailing_run_inside_the_window_schedules_itself_again(rsps, keyed_game, _no_worker):
    rsps.post(rb.publish_url(13058), status=200, body="")
    tasks.publish_serving_change([keyed_game.pk])
    tasks.publish_serving_change([keyed_game.pk])  # deferred, trailing scheduled

    tasks.publish_serving_change([keyed_game.pk], trailing=True)  # fired early: window still open

    assert len(rsps.calls) == 1
    assert _no_worker["publish_later"].call_count == 2


def test_a_refused_key_is_logged_without_the_key_and_not_retried(rsps, caplog, keyed_game):
    caplog.set_level(logging.DEBUG)
    rsps.post(rb.publish_url(13058), status=401, json={"code": "UNAUTHENTICATED", "message": "Invalid API Key"})

    with mock.patch.object(tasks.publish_serving_change, "retry") as retry:
        tasks.publish_serving_change([keyed_game.pk])

    retry.assert_not_called()
    assert "refused by roblox" in caplog.text
    assert OPEN_CLOUD_KEY not in caplog.text
    assert all(OPEN_CLOUD_KEY not in repr(r.__dict__) for r in caplog.records)


def test_publish_retries_when_open_cloud_is_unavailable(rsps, keyed_game):
    rsps.post(rb.publish_url(13058), status=429, headers={"Retry-After": "40"})

    with (
        mock.patch.object(tasks.publish_serving_change, "retry", side_effect=Retry()) as retry,
        pytest.raises(Retry),
    ):
        tasks.publish_serving_change([keyed_game.pk])

    assert retry.call_args.kwargs["args"] == [[keyed_game.pk]]
    assert retry.call_args.kwargs["countdown"] == 40
    assert get_redis().get(messaging.sent_key(keyed_game.pk)) is None  # the retry may publish at once


def test_serving_bump_enqueues_a_publish_for_games_with_a_key_only(
    keyed_game, _no_worker, django_capture_on_commit_callbacks
):
    other = GameFactory()  # no key
    with django_capture_on_commit_callbacks(execute=True):
        serving_version_bump("test", game_ids=[keyed_game.pk, other.pk])
        serving_version_bump("test", game_ids=[other.pk])
        serving_version_bump("test")  # e.g. a campaign change: every game with a key

    assert _no_worker["publish"].call_args_list == [mock.call([keyed_game.pk]), mock.call([keyed_game.pk])]


def test_a_container_change_reaches_live_servers(rsps, keyed_game, _no_worker, django_capture_on_commit_callbacks):
    rsps.post(rb.publish_url(13058), status=200, body="")
    _no_worker["publish"].side_effect = lambda ids: tasks.publish_serving_change(ids)

    with django_capture_on_commit_callbacks(execute=True):
        game_services.container_create(
            game=keyed_game,
            data={"name": "Lobby", "type": "DISPLAY", "placement": "lobby", "width_studs": "16", "height_studs": "9"},
        )

    assert _published(rsps) == [{"type": "serving_changed", "version": serving_version()}]


def test_a_failing_publisher_never_fails_the_change(keyed_game, django_capture_on_commit_callbacks, caplog):
    with (
        mock.patch("games.messaging.serving_change_enqueue", side_effect=RuntimeError("broker down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        serving_version_bump("test")

    assert serving_version() > 0
    assert "a serving version listener failed" in caplog.text


# ----------------------------------------------------------------------------- admin


def test_admin_stores_the_key_write_only(client, staff_user, keyed_game):
    client.force_login(staff_user)
    url = reverse("admin:games_game_change", args=[keyed_game.pk])
    page = client.get(url).content.decode()
    assert OPEN_CLOUD_KEY not in page
    assert "A key is stored" in page

    data = {
        "name": keyed_game.name,
        "slug": keyed_game.slug,
        "description": "",
        "is_active": "on",
        "new_open_cloud_api_key": "brand-new-key-123",
        "containers-TOTAL_FORMS": "0",
        "containers-INITIAL_FORMS": "0",
        "api_keys-TOTAL_FORMS": "0",
        "api_keys-INITIAL_FORMS": "0",
    }
    response = client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    keyed_game.refresh_from_db()
    assert keyed_game.open_cloud_api_key == "brand-new-key-123"
    assert "brand-new-key-123" not in client.get(url).content.decode()

    client.post(url, {**data, "new_open_cloud_api_key": "", "remove_open_cloud_api_key": "on"})
    keyed_game.refresh_from_db()
    assert keyed_game.open_cloud_api_key == ""


# ----------------------------------------------------------------------------- Open Cloud Assets for details


def test_asset_details_come_from_open_cloud_with_the_owners_key(rsps):
    game = GameFactory(open_cloud_api_key="owner-key")
    asset = AssetFactory(roblox_asset_id=3131, name="", asset_type="Unknown")
    CreativeFactory(campaign=CampaignFactory(game=game), roblox_asset_id=3131, asset=asset)
    rsps.get(rb.ASSET_THUMBNAILS_URL, json={"data": [rb.thumbnail(3131, "Completed")]})
    rsps.get(
        "https://apis.roblox.com/assets/v1/assets/3131",
        json={"assetId": "3131", "assetType": "ASSET_TYPE_DECAL", "displayName": "Cloud poster",
              "creationContext": {"creator": {"userId": "1"}}},
    )  # fmt: skip
    sync.asset_sync(roblox_asset_ids=[3131])
    asset.refresh_from_db()
    assert (asset.name, asset.asset_type) == ("Cloud poster", "Decal")
    assert _calls_to(rsps, rb.asset_details_url(3131)) == []  # the legacy endpoint was not needed
    cloud = next(c for c in rsps.calls if "/assets/v1/assets/3131" in c.request.url)
    assert cloud.request.headers["x-api-key"] == "owner-key"


def test_asset_details_fall_back_to_the_legacy_call_when_open_cloud_refuses(rsps):
    game = GameFactory(open_cloud_api_key="owner-key")
    asset = AssetFactory(roblox_asset_id=3232, name="", asset_type="Unknown")
    playlist = PlaylistFactory(game=game)
    playlist.items.create(position=1, asset=asset)
    rsps.get(rb.ASSET_THUMBNAILS_URL, json={"data": [rb.thumbnail(3232, "Completed")]})
    rsps.get("https://apis.roblox.com/assets/v1/assets/3232", status=403, json={"message": "Forbidden"})
    _asset_details(rsps, 3232, Name="Legacy poster", AssetTypeId=1)
    sync.asset_sync(roblox_asset_ids=[3232])
    asset.refresh_from_db()
    assert (asset.name, asset.asset_type) == ("Legacy poster", "Image")
