"""``POST /api/v1/decisions/batch``: one request per player for every container (Roblox's 500 requests/min)."""

import json
from decimal import Decimal
from unittest import mock

import pytest

from ads.budget import budget_rebuild
from ads.decisions import engine
from ads.tests.factories import CampaignFactory, CreativeFactory
from games.tests.factories import AdContainerFactory, AssetFactory, GameFactory, PlaylistFactory, make_api_key

pytestmark = pytest.mark.django_db

URL = "/api/v1/decisions/batch"


@pytest.fixture(autouse=True)
def _no_worker():
    with mock.patch("games.tasks.asset_sync.delay"), mock.patch("games.tasks.game_sync.delay"):
        yield


@pytest.fixture
def setup():
    first = AdContainerFactory(floor_price_cpm=Decimal("1"))
    second = AdContainerFactory(game=first.game, type=first.type, floor_price_cpm=Decimal("1"))
    playlist = PlaylistFactory(game=first.game, container_type=first.type)
    asset = AssetFactory()
    playlist.items.create(position=1, asset=asset, display_seconds=12)
    for container in (first, second):
        container.playlist = playlist
        container.save()
    campaign = CampaignFactory(status="ACTIVE", max_bid=Decimal("4"), pacing="ASAP", total_budget=Decimal("10"))
    CreativeFactory(campaign=campaign, kind=first.type)
    budget_rebuild(campaign_ids=[campaign.pk])
    engine.reset()
    _, raw, _ = make_api_key(first.game)
    return first, second, campaign, asset, raw


def ask(client, raw_key, body):
    return client.generic("POST", URL, json.dumps(body), content_type="application/json", HTTP_X_API_KEY=raw_key)


def player(**overrides):
    return {"id": 4242, "country": "US", "device": "mobile", "age_bracket": "13+", "ads_allowed": True, **overrides}


def test_every_container_is_decided_in_one_request(client, setup):
    first, second, campaign, _, raw = setup
    response = ask(client, raw, {"container_ids": [first.pk, second.pk], "player": player(), "server_id": "job"})
    assert response.status_code == 200, response.content
    decisions = response.json()["decisions"]
    assert [d["container_id"] for d in decisions] == [first.pk, second.pk]
    for decision in decisions:
        assert decision["filled"] is True and decision["source"] == "campaign"
        assert decision["campaign_id"] == campaign.pk
        assert {"decision_id", "expires_at", "creative", "tracking_token", "price_cpm"} <= set(decision)
    assert decisions[0]["decision_id"] != decisions[1]["decision_id"]


def test_bad_and_foreign_ids_get_their_own_errors(client, setup):
    first, _, _, _, raw = setup
    foreign = AdContainerFactory(game=GameFactory())
    ids = [first.pk, 0, "x", 999999, foreign.pk, first.pk]
    response = ask(client, raw, {"container_ids": ids, "player": player()})
    assert response.status_code == 200, response.content
    decisions = response.json()["decisions"]
    assert decisions[0]["filled"] is True
    assert [(d.get("status"), d.get("error", {}).get("code")) for d in decisions[1:]] == [
        (400, "validation_error"),
        (400, "validation_error"),
        (404, "not_found"),
        (404, "not_found"),  # another game's container is no container of this game
        (400, "validation_error"),  # listed twice
    ]


def test_house_only_serves_the_playlist_and_never_a_campaign(client, setup):
    first, second, _, asset, raw = setup
    body = {"container_ids": [first.pk, second.pk], "player": player(), "house_only": True}
    decisions = ask(client, raw, body).json()["decisions"]
    for decision in decisions:
        assert decision["source"] == "house" and "price_cpm" not in decision
        assert decision["creative"]["roblox_asset_id"] == asset.roblox_asset_id
        assert decision["creative"]["display_seconds"] == 12


def test_an_inactive_container_does_not_fill(client, setup):
    first, second, _, _, raw = setup
    second.status = "INACTIVE"
    second.save()
    engine.reset()
    decisions = ask(client, raw, {"container_ids": [first.pk, second.pk], "player": player()}).json()["decisions"]
    assert decisions[0]["filled"] is True
    assert decisions[1] == {"container_id": second.pk, "filled": False, "reason": "container_inactive",
                            "decision_id": mock.ANY}  # fmt: skip


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"player": {"id": 1}}, 400, "validation_error"),
        ({"container_ids": [], "player": {"id": 1}}, 400, "validation_error"),
        ({"container_ids": [1], "player": {"id": 0}}, 400, "validation_error"),
        ({"container_ids": [1], "player": {"id": 1}, "house_only": "yes"}, 400, "validation_error"),
        ({"container_ids": list(range(1, 52)), "player": {"id": 1}}, 413, "batch_too_large"),
        ([], 400, "validation_error"),
    ],
)
def test_malformed_batches_are_refused_whole(client, setup, body, status, code):
    response = ask(client, setup[4], body)
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code


def test_the_batch_needs_the_game_key(client, setup):
    response = client.generic("POST", URL, json.dumps({"container_ids": [1], "player": {"id": 1}}),
                              content_type="application/json")  # fmt: skip
    assert response.status_code == 401
