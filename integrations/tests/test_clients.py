"""The per-family clients: request shapes, chunking, mapping by id, parsing, Roblox's quirks."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import pytest
import responses

from integrations.roblox import economy, games, opencloud, thumbnails, universes
from integrations.roblox.errors import RobloxBadResponse, RobloxMessageTooLarge, RobloxNotFound
from integrations.roblox.types import ThumbnailState
from integrations.tests import roblox_bodies as rb


def test_place_universe_reads_the_universe_id(rsps):
    rsps.get(rb.place_universe_url(1818), json={"universeId": 13058})
    assert universes.place_universe(1818) == 13058


def test_place_universe_null_is_not_found(rsps):
    # Roblox answers 200 with a null universe for a place that does not exist.
    rsps.get(rb.place_universe_url(999), json={"universeId": None})
    with pytest.raises(RobloxNotFound):
        universes.place_universe(999)


def test_games_details_chunks_120_ids_into_calls_of_50(rsps):
    rsps.add_callback(responses.GET, rb.GAMES_URL, callback=rb.echo_games)
    ids = list(range(1, 121))

    result = games.games_details(ids)

    assert [len(rb.ids_param(call)) for call in rsps.calls] == [50, 50, 20]
    assert sorted(result) == ids


def test_games_details_maps_items_by_id_not_by_position(rsps):
    rsps.get(rb.GAMES_URL, json={"data": [rb.game(30), rb.game(10), rb.game(20)]})

    result = games.games_details([10, 20, 30])

    assert {uid: game.name for uid, game in result.items()} == {10: "Obby 10", 20: "Obby 20", 30: "Obby 30"}


def test_games_details_parses_the_roblox_item(rsps):
    rsps.get(rb.GAMES_URL, json={"data": [rb.game(1818)]})

    game = games.games_details([1818])[1818]

    assert (game.root_place_id, game.name, game.max_players, game.favorited_count) == (
        1818,
        "Classic: Crossroads",
        10,
        148584,
    )
    assert (game.creator.id, game.creator.type, game.creator.has_verified_badge) == (1, "User", True)
    # Roblox sends up to 7 fraction digits; the 7th is dropped, the time stays exact to the microsecond.
    assert game.updated == datetime(2023, 5, 9, 17, 3, 42, 393333, tzinfo=UTC)


def test_games_details_leaves_out_unknown_universes(rsps):
    rsps.get(rb.GAMES_URL, json={"data": [rb.game(1818)]})
    assert set(games.games_details([1818, 424242])) == {1818}


def test_games_details_sends_each_id_once(rsps):
    rsps.get(rb.GAMES_URL, json={"data": [rb.game(5)]})
    games.games_details([5, 5, 5])
    assert rb.ids_param(rsps.calls[0]) == [5]


@pytest.mark.parametrize("bad", [0, -3, "12", 1.5, True, None])
def test_ids_must_be_positive_integers(rsps, bad):
    with pytest.raises(ValueError):
        games.games_details([1, bad])
    assert len(rsps.calls) == 0


def test_games_votes_are_mapped_by_id(rsps):
    rsps.get(rb.VOTES_URL, json={"data": [rb.votes(2, up=5, down=1), rb.votes(1, up=90, down=10)]})

    result = games.games_votes([1, 2])

    assert (result[1].up_votes, result[1].down_votes, result[2].up_votes) == (90, 10, 5)


def test_asset_thumbnails_chunk_250_ids_into_calls_of_100(rsps):
    rsps.add_callback(responses.GET, rb.ASSET_THUMBNAILS_URL, callback=rb.echo_thumbnails())
    ids = list(range(1000, 1250))

    result = thumbnails.asset_thumbnails(ids)

    assert [len(rb.ids_param(call)) for call in rsps.calls] == [100, 100, 50]
    assert sorted(result) == ids


def test_thumbnails_are_matched_on_target_id_when_shuffled(rsps):
    ids = list(range(1, 31))
    shuffled = ids[:]
    random.Random(7).shuffle(shuffled)
    rsps.get(rb.GAME_ICONS_URL, json={"data": [rb.thumbnail(i) for i in shuffled]})

    result = thumbnails.game_icons(ids)

    assert all(result[i].target_id == i and f"-{i:x}4a8e" in (result[i].image_url or "") for i in ids)


def test_game_icons_ask_for_size_format_and_shape(rsps):
    rsps.get(rb.GAME_ICONS_URL, json={"data": [rb.thumbnail(1818)]})

    thumbnails.game_icons([1818], size="150x150", image_format="Webp", is_circular=True)

    assert "universeIds=1818&size=150x150&format=Webp&isCircular=true" in rsps.calls[0].request.url


def test_thumbnail_states_are_typed_and_only_completed_has_an_image(rsps):
    rsps.get(
        rb.ASSET_THUMBNAILS_URL,
        json={"data": [rb.thumbnail(1, "Completed"), rb.thumbnail(2, "Pending"), rb.thumbnail(3, "Blocked")]},
    )

    result = thumbnails.asset_thumbnails([1, 2, 3])

    assert result[1].state is ThumbnailState.COMPLETED and result[1].image_url
    assert result[2].state is ThumbnailState.PENDING and result[2].image_url is None and not result[2].is_final
    assert result[3].is_blocked and result[3].is_final


def test_unknown_thumbnail_state_is_kept_and_not_final(rsps):
    rsps.get(rb.ASSET_THUMBNAILS_URL, json={"data": [rb.thumbnail(1, "Queued")]})
    thumb = thumbnails.asset_thumbnails([1])[1]
    assert (thumb.state, thumb.is_final) == ("Queued", False)


def test_list_response_without_data_is_a_bad_response(rsps):
    rsps.get(rb.GAMES_URL, json={"games": []})
    with pytest.raises(RobloxBadResponse):
        games.games_details([1])


def test_item_missing_its_id_is_a_bad_response(rsps):
    item = rb.game(1)
    del item["id"]
    rsps.get(rb.GAMES_URL, json={"data": [item]})
    with pytest.raises(RobloxBadResponse):
        games.games_details([1])


def test_asset_details_are_parsed(rsps):
    rsps.get(rb.asset_details_url(102611803), json=rb.asset_details(PriceInRobux=25, IsForSale=True))

    asset = economy.asset_details(102611803)

    assert (asset.id, asset.name, asset.asset_type_id, asset.price_in_robux, asset.is_for_sale) == (
        102611803,
        "Sponsor billboard",
        13,
        25,
        True,
    )
    assert asset.creator.name == "Roblox"


def test_unknown_asset_is_not_found(rsps):
    # Economy answers 400 with a legacy error body for an asset that does not exist.
    rsps.get(rb.asset_details_url(7), status=400, json=rb.legacy_error(0, "Asset is invalid or does not exist"))
    with pytest.raises(RobloxNotFound, match="Asset is invalid or does not exist"):
        economy.asset_details(7)


def test_open_cloud_universe_sends_the_key_and_parses_the_resource(rsps):
    rsps.get(rb.cloud_universe_url(1818), json=rb.cloud_universe(1818))

    universe = opencloud.universe(1818, api_key="oc-key-123456789")

    assert rsps.calls[0].request.headers["x-api-key"] == "oc-key-123456789"
    assert (universe.id, universe.display_name, universe.owner_type, universe.owner_id, universe.visibility) == (
        1818,
        "Classic: Crossroads",
        "user",
        1,
        "PUBLIC",
    )


def test_publish_message_posts_topic_and_message_with_the_key(rsps):
    rsps.post(rb.publish_url(1818), status=200, body="")

    opencloud.publish_message(1818, api_key="oc-key-123456789", topic="campaigns", message={"changed": [7]})

    request = rsps.calls[0].request
    assert request.headers["x-api-key"] == "oc-key-123456789"
    assert json.loads(request.body) == {"topic": "campaigns", "message": '{"changed":[7]}'}


def test_publish_message_accepts_exactly_1_kib(rsps):
    rsps.post(rb.publish_url(1818), status=200, body="")
    opencloud.publish_message(1818, api_key="k" * 20, topic="t", message="x" * 1024)
    assert len(rsps.calls) == 1


@pytest.mark.parametrize("message", ["x" * 1025, "é" * 513], ids=["ascii", "multibyte-utf8"])
def test_publish_message_over_1_kib_is_refused_before_any_request(rsps, message):
    with pytest.raises(RobloxMessageTooLarge):
        opencloud.publish_message(1818, api_key="k" * 20, topic="t", message=message)
    assert len(rsps.calls) == 0


@pytest.mark.parametrize("topic", ["", "t" * 81])
def test_publish_message_refuses_a_bad_topic(rsps, topic):
    with pytest.raises(ValueError):
        opencloud.publish_message(1818, api_key="k" * 20, topic=topic, message="hi")
    assert len(rsps.calls) == 0
