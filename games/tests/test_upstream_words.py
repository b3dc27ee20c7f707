"""Issue 20, item 7: every page that shows Roblox integration status says what happened in words, with an
offline badge when Roblox could not be reached; internal state (circuits, hosts, seconds) never shows."""

from __future__ import annotations

from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from ads.tests.factories import AdvertiserFactory, CampaignFactory, CreativeFactory
from games.models import Asset, Game, SyncStatus
from games.tests.factories import AssetFactory, GameFactory, PlaylistFactory

pytestmark = pytest.mark.django_db

CIRCUIT = "Roblox unavailable: circuit open for apis.roblox.com: not calling it for 29.5s; will retry"
WORDS = "Couldn&#x27;t reach Roblox; retrying automatically (last try "


@pytest.fixture(autouse=True)
def no_tasks():
    with mock.patch("games.tasks.asset_sync.delay"), mock.patch("games.tasks.game_sync.delay"):
        yield


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def failing_game(owner):
    game = GameFactory(owner=owner, name="Obby Land", slug="obby-land")
    Game.objects.filter(pk=game.pk).update(sync_status=SyncStatus.ERROR, last_sync_error=CIRCUIT)
    game.refresh_from_db()
    return game


def assert_words(html: str) -> None:
    assert WORDS in html
    assert "Roblox offline" in html
    assert "circuit" not in html and "apis.roblox.com" not in html and "29.5s" not in html


def test_the_dashboard_says_roblox_is_offline_in_words(owner_client, failing_game):
    assert_words(owner_client.get(reverse("games:dashboard")).content.decode())


def test_the_game_page_says_roblox_is_offline_in_words(owner_client, failing_game):
    assert_words(owner_client.get(reverse("games:detail", args=[failing_game.slug])).content.decode())


def test_a_playlist_says_an_asset_check_failed_in_words(owner_client, failing_game):
    playlist = PlaylistFactory(game=failing_game, name="House ads")
    asset = AssetFactory()
    Asset.objects.filter(pk=asset.pk).update(last_sync_error=CIRCUIT, last_synced_at=timezone.now())
    playlist.items.create(asset=asset, position=1, display_seconds=10)
    html = owner_client.get(reverse("games:playlist-edit", args=[failing_game.slug, playlist.pk])).content.decode()
    assert_words(html)


def test_a_campaign_says_an_asset_check_failed_in_words(client, advertiser):
    campaign = CampaignFactory(advertiser=AdvertiserFactory(user=advertiser))
    asset = AssetFactory()
    Asset.objects.filter(pk=asset.pk).update(last_sync_error=CIRCUIT, last_synced_at=timezone.now())
    CreativeFactory(campaign=campaign, asset=asset, roblox_asset_id=asset.roblox_asset_id)
    client.force_login(advertiser)
    html = client.get(reverse("ads:campaign-detail", args=[campaign.pk])).content.decode()
    assert_words(html)
