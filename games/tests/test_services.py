from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import ValidationError

from adplatform.core.redis import get_redis
from adplatform.core.serving import SERVING_VERSION_KEY
from games import keycache, services
from games.models import AdContainer, ContainerStatusChange, Game, GameApiKey, PlaylistItem, SyncStatus
from games.tests.factories import AdContainerFactory, AssetFactory, GameFactory, PlaylistFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_worker():
    with mock.patch("games.tasks.game_sync.delay") as game_sync, mock.patch("games.tasks.asset_sync.delay"):
        yield game_sync


def test_game_create_saves_pending_and_queues_a_sync(owner, _no_worker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        game = services.game_create(owner=owner, roblox_place_id="920587237")
    assert game.roblox_place_id == 920587237
    assert game.name == "Place 920587237"
    assert game.slug == "place-920587237"
    assert game.sync_status == SyncStatus.PENDING
    _no_worker.assert_called_once_with(game.pk)


@pytest.mark.parametrize("place_id", ["abc", "-5", "0", "", None, "1.5", str(2**64)])
def test_game_create_refuses_bad_place_ids(owner, place_id):
    with pytest.raises(ValidationError) as exc:
        services.game_create(owner=owner, roblox_place_id=place_id)
    assert "roblox_place_id" in exc.value.message_dict
    assert not Game.objects.exists()


def test_a_place_is_registered_once(owner, advertiser):
    services.game_create(owner=owner, roblox_place_id=42)
    with pytest.raises(ValidationError) as exc:
        services.game_create(owner=advertiser, roblox_place_id=42)
    assert "already registered" in exc.value.message_dict["roblox_place_id"][0]


def test_slugs_are_unique(owner):
    first = services.game_create(owner=owner, roblox_place_id=1, name="Tower Run")
    second = services.game_create(owner=owner, roblox_place_id=2, name="Tower Run")
    assert (first.slug, second.slug) == ("tower-run", "tower-run-2")


def test_game_update_refuses_unknown_fields_and_taken_slugs(owner):
    game = GameFactory(owner=owner)
    other = GameFactory(owner=owner)
    with pytest.raises(ValidationError):
        services.game_update(game=game, data={"owner": other.owner})
    with pytest.raises(ValidationError) as exc:
        services.game_update(game=game, data={"slug": other.slug})
    assert "slug" in exc.value.message_dict


def test_failed_sync_keeps_the_data_already_there():
    game = GameFactory(name="Real Name", visits=1000)
    services.game_record_sync_error(game=game, error="HTTP 503 from games.roblox.com")
    game.refresh_from_db()
    assert (game.name, game.visits, game.sync_status) == ("Real Name", 1000, SyncStatus.ERROR)
    assert "503" in game.last_sync_error
    services.game_apply_roblox_details(game=game, details={"visits": 2000, "name": None})
    game.refresh_from_db()
    assert (game.name, game.visits, game.sync_status, game.last_sync_error) == ("Real Name", 2000, "OK", "")


def _container_data(**overrides):
    return {"name": "Billboard", "type": "DISPLAY", "placement": "lobby", "width_studs": "16",
            "height_studs": "9", "floor_price_cpm": "1.5", **overrides}  # fmt: skip


def test_container_create_records_its_first_status_and_bumps_serving(owner, django_capture_on_commit_callbacks):
    game = GameFactory(owner=owner)
    with django_capture_on_commit_callbacks(execute=True):
        container = services.container_create(game=game, data=_container_data(), by=owner)
    assert container.floor_price_cpm == Decimal("1.5")
    change = ContainerStatusChange.objects.get(container=container)
    assert (change.from_status, change.to_status, change.changed_by) == ("", "ACTIVE", owner)
    assert int(get_redis().get(SERVING_VERSION_KEY) or 0) >= 1


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"width_studs": "40", "height_studs": "40"}, "width_studs"),
        ({"width_studs": "7.9"}, "width_studs"),
        ({"height_studs": "4.4"}, "height_studs"),
        ({"height_studs": "18.5"}, "height_studs"),
        ({"type": "BANNER"}, "type"),
        ({"floor_price_cpm": "-1"}, "floor_price_cpm"),
        ({"floor_price_cpm": "abc"}, "floor_price_cpm"),
        ({"blocked_categories": ["weapons"]}, "blocked_categories"),
        ({"status": "BROKEN"}, "status"),
        ({"status": "MAINTENANCE"}, "status_reason"),
    ],
)
def test_container_create_refuses_bad_input_and_saves_nothing(overrides, field):
    game = GameFactory()
    with pytest.raises(ValidationError) as exc:
        services.container_create(game=game, data=_container_data(**overrides))
    assert field in exc.value.message_dict
    assert not AdContainer.objects.exists()


def test_display_limits_are_inclusive():
    game = GameFactory()
    services.container_create(game=game, data=_container_data(width_studs="8", height_studs="4.5"))
    services.container_create(game=game, data=_container_data(placement="big", width_studs="32", height_studs="18"))
    assert AdContainer.objects.count() == 2


def test_npc_and_minigame_containers_are_not_bound_to_billboard_sizes():
    game = GameFactory()
    services.container_create(game=game, data=_container_data(type="NPC", width_studs="4", height_studs="6"))
    assert AdContainer.objects.get().type == "NPC"


def test_placement_is_unique_per_game():
    game = GameFactory()
    services.container_create(game=game, data=_container_data())
    with pytest.raises(ValidationError):
        services.container_create(game=game, data=_container_data())
    services.container_create(game=GameFactory(), data=_container_data())  # another game may reuse it


def test_set_status_needs_a_reason_for_maintenance_and_keeps_an_audit_trail(owner):
    container = AdContainerFactory(game__owner=owner)
    with pytest.raises(ValidationError):
        services.container_set_status(container=container, status="MAINTENANCE", reason="  ", by=owner)
    services.container_set_status(container=container, status="MAINTENANCE", reason="repainting", by=owner)
    services.container_set_status(container=container, status="MAINTENANCE", reason="again", by=owner)  # no-op
    services.container_set_status(container=container, status="ACTIVE", by=owner)
    history = list(ContainerStatusChange.objects.filter(container=container).order_by("id"))
    assert [(h.from_status, h.to_status, h.reason) for h in history] == [
        ("ACTIVE", "MAINTENANCE", "repainting"),
        ("MAINTENANCE", "ACTIVE", ""),
    ]


def test_container_update_with_status_goes_through_set_status(owner):
    container = AdContainerFactory(game__owner=owner)
    services.container_update(container=container, data={"status": "INACTIVE", "name": "Renamed"}, by=owner)
    container.refresh_from_db()
    assert (container.name, container.status) == ("Renamed", "INACTIVE")
    assert ContainerStatusChange.objects.filter(container=container, to_status="INACTIVE").exists()


def test_container_playlist_must_match_type_and_game():
    game = GameFactory()
    npc_playlist = PlaylistFactory(game=game, container_type="NPC")
    with pytest.raises(ValidationError) as exc:
        services.container_create(game=game, data=_container_data(playlist=npc_playlist.pk))
    assert "playlist" in exc.value.message_dict
    foreign = PlaylistFactory()
    with pytest.raises(ValidationError):
        services.container_create(game=game, data=_container_data(playlist=foreign.pk))


def test_playlist_items_replace_in_order_and_check_asset_types():
    playlist = PlaylistFactory(container_type="DISPLAY")
    image = AssetFactory(roblox_asset_id=111, asset_type="Image")
    model = AssetFactory(roblox_asset_id=222, asset_type="Model")
    services.playlist_set_items(playlist=playlist, items=[{"roblox_asset_id": 111, "display_seconds": 10},
                                                          {"roblox_asset_id": 333}])  # fmt: skip
    assert [(i.asset.roblox_asset_id, i.position, i.display_seconds) for i in playlist.items.all()] == [
        (111, 1, 10),
        (333, 2, 15),
    ]
    with pytest.raises(ValidationError) as exc:
        services.playlist_set_items(playlist=playlist, items=[{"roblox_asset_id": model.roblox_asset_id}])
    assert "items[0]" in exc.value.message_dict
    assert PlaylistItem.objects.filter(playlist=playlist).count() == 2  # unchanged
    assert image.playlist_items.count() == 1


def test_api_key_is_hashed_shown_once_and_revocable():
    game = GameFactory()
    key, raw, secret = services.api_key_create(game=game, name="prod")
    stored = GameApiKey.objects.get(pk=key.pk)
    assert raw.startswith("gk_") and secret.startswith("gs_")
    assert stored.key_hash == keycache.hash_key(raw) and raw not in stored.key_hash
    info = keycache.lookup(raw)
    assert info is not None and info.game_id == game.pk
    services.api_key_revoke(key=stored)
    info = keycache.lookup(raw)
    assert info is not None and info.revoked is True


def test_key_lookup_is_cached_and_touches_last_used_once(django_assert_num_queries):
    game = GameFactory()
    key, raw, _ = services.api_key_create(game=game, name="prod")
    keycache.lookup(raw)  # load + first touch
    with django_assert_num_queries(0):
        for _ in range(50):
            info = keycache.lookup(raw)
            assert info is not None and info.key_id == key.pk
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_unknown_keys_are_refused_without_leaking_timing_paths():
    assert keycache.lookup("not-a-key") is None
    assert keycache.lookup("gk_" + "x" * 200) is None
    assert keycache.lookup("gk_unknownunknownunknown") is None
