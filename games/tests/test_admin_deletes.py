"""Deleting in the games admin, one object or "delete selected", goes through the services: the serving
version is bumped, keys are forgotten, live servers are told."""

from __future__ import annotations

from unittest import mock

import pytest
from django.urls import reverse

from adplatform.core.redis import get_redis
from adplatform.core.serving import SERVING_VERSION_KEY, serving_version
from games import keycache
from games.models import AdContainer, Asset, ContainerStatusChange, Game, GameApiKey, Playlist
from games.tests.factories import AdContainerFactory, AssetFactory, GameFactory, PlaylistFactory, make_api_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture(autouse=True)
def counted_bumps():
    """The serving version starts at a known number, so "bumped once" reads as 100 -> 101 (a counter that
    starts afresh starts from the clock instead: adplatform/core/serving.py)."""
    get_redis().set(SERVING_VERSION_KEY, 100)


@pytest.fixture(autouse=True)
def queued():
    """The Celery tasks the services queue (nothing reaches a worker)."""
    with (
        mock.patch("games.tasks.game_sync.delay"),
        mock.patch("games.tasks.asset_sync.delay") as asset_sync,
        mock.patch("games.tasks.publish_serving_change.delay") as publish,
    ):
        yield {"asset_sync": asset_sync, "publish": publish}


def _changelist(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def _delete_selected(client, model, objects):
    return client.post(
        _changelist(model),
        {"action": "delete_selected", "_selected_action": [o.pk for o in objects], "post": "yes"},
        follow=True,
    )


def _delete_one(client, model, obj):
    meta = model._meta
    return client.post(reverse(f"admin:{meta.app_label}_{meta.model_name}_delete", args=[obj.pk]), {"post": "yes"})


def test_delete_selected_games_forgets_their_keys_and_bumps_serving_once(
    staff_client, django_capture_on_commit_callbacks
):
    # given two games whose keys game servers are using (so the key cache holds them)
    games = [GameFactory(), GameFactory()]
    raws = [make_api_key(game)[1] for game in games]
    assert all(keycache.lookup(raw) for raw in raws)
    before = serving_version()

    # when staff delete both from the changelist
    with django_capture_on_commit_callbacks(execute=True):
        response = _delete_selected(staff_client, Game, games)

    # then they are gone, their keys are refused at once, and engines see one new serving version
    assert response.status_code == 200
    assert not Game.objects.filter(pk__in=[g.pk for g in games]).exists()
    assert [keycache.lookup(raw) for raw in raws] == [None, None]
    assert serving_version() == before + 1


def test_delete_one_game_goes_through_the_same_service(staff_client, django_capture_on_commit_callbacks):
    game = GameFactory()
    raw = make_api_key(game)[1]
    assert keycache.lookup(raw)

    with django_capture_on_commit_callbacks(execute=True):
        _delete_one(staff_client, Game, game)

    assert not Game.objects.filter(pk=game.pk).exists()
    assert keycache.lookup(raw) is None
    assert serving_version() == 101


def test_delete_selected_containers_bumps_serving_and_tells_their_games_servers(
    staff_client, queued, django_capture_on_commit_callbacks
):
    # given two containers of a game that gave us its Open Cloud key, and one of another game
    keyed = GameFactory(open_cloud_api_key="ocK3y-Sup3rS3cret-7f9a2b6c1d0e4f8a9b7c6d5e4f3a2b1c0d9e8f7a")
    doomed = [AdContainerFactory(game=keyed), AdContainerFactory(game=keyed)]
    kept = AdContainerFactory()

    with django_capture_on_commit_callbacks(execute=True):
        _delete_selected(staff_client, AdContainer, doomed)

    assert list(AdContainer.objects.values_list("pk", flat=True)) == [kept.pk]
    assert serving_version() == 101
    queued["publish"].assert_called_once_with([keyed.pk])


def test_delete_one_container_goes_through_the_same_service(staff_client, django_capture_on_commit_callbacks):
    container = AdContainerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        _delete_one(staff_client, AdContainer, container)
    assert not AdContainer.objects.exists()
    assert serving_version() == 101


def test_delete_selected_playlists_bumps_serving(staff_client, django_capture_on_commit_callbacks):
    container = AdContainerFactory()
    playlists = [PlaylistFactory(game=container.game), PlaylistFactory(game=container.game)]
    AdContainer.objects.filter(pk=container.pk).update(playlist=playlists[0])

    with django_capture_on_commit_callbacks(execute=True):
        _delete_selected(staff_client, Playlist, playlists)

    assert not Playlist.objects.exists()
    container.refresh_from_db()
    assert container.playlist is None  # back to no house content
    assert serving_version() == 101


def test_asset_sync_now_goes_through_the_service(staff_client, queued, django_capture_on_commit_callbacks):
    assets = [AssetFactory(), AssetFactory()]
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(_changelist(Asset), {"action": "sync_now", "_selected_action": [a.pk for a in assets]})
    queued["asset_sync"].assert_called_once_with(sorted(a.roblox_asset_id for a in assets))


@pytest.mark.parametrize("model", [Asset, GameApiKey, ContainerStatusChange])
def test_records_staff_revoke_or_that_are_history_cannot_be_deleted(staff_client, model):
    container = AdContainerFactory()
    AssetFactory()
    make_api_key(container.game)
    container.status_changes.create(to_status="ACTIVE", reason="seed")
    obj = model.objects.first()

    page = staff_client.get(_changelist(model)).content.decode()
    response = _delete_one(staff_client, model, obj)

    assert "delete_selected" not in page
    assert response.status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()
