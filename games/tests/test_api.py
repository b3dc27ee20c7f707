"""The game-server API (``X-API-Key``) and the owners' management API (``Authorization: Token``)."""

from __future__ import annotations

import time
from decimal import Decimal
from unittest import mock

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext

from adplatform.core.api.errors import ERROR_CODES
from games import services
from games.api.throttling import GameServerRateThrottle
from games.models import AdContainer, ContainerStatusChange, Game, GameApiKey, Playlist, SyncStatus
from games.tests.factories import AdContainerFactory, AssetFactory, GameFactory, PlaylistFactory, make_api_key

pytestmark = pytest.mark.django_db

GAME_FIELDS = {
    "id",
    "slug",
    "name",
    "roblox_place_id",
    "roblox_universe_id",
    "icon_url",
    "sync_status",
    "last_synced_at",
}
CONTAINER_FIELDS = {
    "id",
    "name",
    "type",
    "status",
    "placement",
    "width_studs",
    "height_studs",
    "floor_price_cpm",
    "blocked_categories",
    "playlist",
}
KEY_FIELDS = {"id", "name", "prefix", "created_at", "last_used_at", "revoked_at"}
SERVER_CONTAINER_FIELDS = {"id", "name", "type", "status", "placement", "width_studs", "height_studs", "updated_at"}


@pytest.fixture(autouse=True)
def _no_worker():
    with mock.patch("games.tasks.game_sync.delay") as game_sync, mock.patch("games.tasks.asset_sync.delay"):
        yield game_sync


@pytest.fixture
def game(owner):
    return GameFactory(owner=owner, name="Obby World", slug="obby-world")


@pytest.fixture
def container(game):
    return AdContainerFactory(game=game, name="Lobby billboard", placement="lobby", floor_price_cpm=Decimal("1.5"))


@pytest.fixture
def server_key(game):
    """``(key, raw_key, signing_secret)`` of ``game``."""
    return make_api_key(game)


@pytest.fixture
def server(api_client, server_key):
    api_client.credentials(HTTP_X_API_KEY=server_key[1])
    return api_client


@pytest.fixture
def owner_client(token_client, owner):
    return token_client(owner)


def advance_clock(monkeypatch, seconds: float) -> None:
    """Move the monotonic clock the in-process caches read forward."""
    real = time.monotonic
    monkeypatch.setattr(time, "monotonic", lambda: real() + seconds)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert code in ERROR_CODES
    return body["error"]


def manage(game_id: int, rest: str = "") -> str:
    return f"/api/v1/manage/games/{game_id}/{rest}"


# =========================================================================== game-server API


def test_game_server_reads_its_game(server, game):
    response = server.get("/api/v1/game")
    assert response.status_code == 200
    assert response.json() == {
        "id": game.pk,
        "slug": "obby-world",
        "name": "Obby World",
        "roblox_place_id": game.roblox_place_id,
        "roblox_universe_id": game.roblox_universe_id,
    }
    assert response["X-Request-ID"]


def test_game_server_lists_only_its_games_containers(server, game, container):
    AdContainerFactory(game=GameFactory())  # another game's
    npc = AdContainerFactory(game=game, type="NPC", name="Guide", placement="guide", width_studs=Decimal("4.5"))
    response = server.get("/api/v1/containers")
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"results", "next"}
    assert body["next"] is None
    assert [row["id"] for row in body["results"]] == [container.pk, npc.pk]
    first = body["results"][0]
    assert set(first) >= SERVER_CONTAINER_FIELDS
    assert first["type"] == "DISPLAY" and first["status"] == "ACTIVE" and first["placement"] == "lobby"
    assert first["width_studs"] == 16 and first["height_studs"] == 9  # JSON numbers
    assert isinstance(first["width_studs"], int | float)
    assert first["floor_price_cpm"] == "1.500000"
    assert first["updated_at"].endswith("Z")
    assert body["results"][1]["width_studs"] == 4.5


def test_game_server_reads_one_container(server, container):
    response = server.get(f"/api/v1/containers/{container.pk}")
    assert response.status_code == 200
    assert response.json()["id"] == container.pk
    assert response.json()["name"] == "Lobby billboard"


def test_another_games_container_is_404(server, game):
    foreign = AdContainerFactory(game=GameFactory())
    assert_error(server.get(f"/api/v1/containers/{foreign.pk}"), 404, "not_found")


@pytest.mark.parametrize("path", ["/api/v1/containers/999999", "/api/v1/containers/abc"])
def test_unknown_container_is_404(server, game, path):
    assert_error(server.get(path), 404, "not_found")


def test_game_server_container_list_is_paginated_with_limit(server, game):
    ids = [AdContainerFactory(game=game).pk for _ in range(3)]
    first = server.get("/api/v1/containers?limit=2").json()
    assert [row["id"] for row in first["results"]] == ids[:2]
    assert first["next"]
    second = server.get(first["next"]).json()
    assert [row["id"] for row in second["results"]] == ids[2:]
    assert second["next"] is None


def test_game_server_container_list_refuses_bad_cursor_and_limit(server, game):
    assert_error(server.get("/api/v1/containers?cursor=nonsense!"), 400, "invalid_cursor")
    error = assert_error(server.get("/api/v1/containers?limit=0"), 400, "validation_error")
    assert "limit" in error["details"]


@pytest.mark.parametrize("path", ["/api/v1/game", "/api/v1/containers", "/api/v1/containers/1"])
def test_missing_key_is_401_not_authenticated(api_client, path):
    response = api_client.get(path)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "X-API-Key"


@pytest.mark.parametrize(
    "raw",
    [
        "not-a-key",  # malformed: no prefix
        "gk_" + "x" * 200,  # malformed: too long
        "gk_thisKeyWasNeverIssued0000000000000000000",  # unknown
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/game", "/api/v1/containers"])
def test_malformed_or_unknown_key_is_401_api_key_invalid(api_client, game, raw, path):
    api_client.credentials(HTTP_X_API_KEY=raw)
    assert_error(api_client.get(path), 401, "api_key_invalid")


def test_revoked_key_is_refused_at_once(server, server_key):
    assert server.get("/api/v1/containers").status_code == 200  # the key is cached now
    services.api_key_revoke(key=server_key[0])
    assert_error(server.get("/api/v1/containers"), 401, "api_key_invalid")
    assert_error(server.get("/api/v1/game"), 401, "api_key_invalid")


def test_key_of_a_deactivated_game_is_refused(server, game):
    services.game_update(game=game, data={"is_active": False})
    assert_error(server.get("/api/v1/game"), 401, "api_key_invalid")


def test_personal_token_does_not_open_the_game_server_api(owner_client, game):
    assert_error(owner_client.get("/api/v1/containers"), 401, "not_authenticated")


def test_steady_state_game_server_requests_make_no_query(server, container, django_assert_num_queries):
    # given: warmed caches (key, containers, game)
    for path in ("/api/v1/containers", "/api/v1/game"):
        assert server.get(path).status_code == 200
    # then
    with django_assert_num_queries(0):
        assert server.get("/api/v1/containers").status_code == 200
        assert server.get(f"/api/v1/containers/{container.pk}").status_code == 200
        assert server.get("/api/v1/game").status_code == 200
        assert server.get("/api/v1/containers/999999").status_code == 404


def test_owner_change_is_visible_to_game_servers_within_5_seconds(server, container, owner, monkeypatch):
    assert settings.CONTAINER_CACHE_SECONDS <= 5
    assert server.get(f"/api/v1/containers/{container.pk}").json()["status"] == "ACTIVE"
    services.container_update(
        container=container, data={"name": "Renamed", "status": "MAINTENANCE", "status_reason": "repaint"}, by=owner
    )
    advance_clock(monkeypatch, settings.CONTAINER_CACHE_SECONDS + 0.01)
    body = server.get(f"/api/v1/containers/{container.pk}").json()
    assert body["status"] == "MAINTENANCE" and body["name"] == "Renamed"
    assert [row["name"] for row in server.get("/api/v1/containers").json()["results"]] == ["Renamed"]


def test_new_and_deleted_containers_show_after_the_ttl(server, game, container, monkeypatch):
    assert len(server.get("/api/v1/containers").json()["results"]) == 1
    created = services.container_create(game=game, data={"name": "Arena", "type": "NPC"})
    services.container_delete(container=container)
    advance_clock(monkeypatch, settings.CONTAINER_CACHE_SECONDS + 0.01)
    assert [row["id"] for row in server.get("/api/v1/containers").json()["results"]] == [created.pk]
    assert_error(server.get(f"/api/v1/containers/{container.pk}"), 404, "not_found")


def test_game_rename_is_visible_after_the_ttl(server, game, monkeypatch):
    assert server.get("/api/v1/game").json()["name"] == "Obby World"
    services.game_update(game=game, data={"name": "Obby World 2"})
    advance_clock(monkeypatch, settings.CONTAINER_CACHE_SECONDS + 0.01)
    assert server.get("/api/v1/game").json()["name"] == "Obby World 2"


def test_last_used_at_is_recorded_without_a_write_per_request(server, server_key, container, monkeypatch):
    key = server_key[0]
    assert key.last_used_at is None
    with CaptureQueriesContext(connection) as queries:
        for _ in range(10):
            assert server.get("/api/v1/containers").status_code == 200
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    assert len(writes) == 1  # the first use only
    key.refresh_from_db()
    first_use = key.last_used_at
    assert first_use is not None

    # a minute later (and past every cache's TTL) the next use is written again
    advance_clock(monkeypatch, 61)
    with CaptureQueriesContext(connection) as queries:
        server.get("/api/v1/containers")
        server.get("/api/v1/containers")
    assert sum(q["sql"].lstrip().upper().startswith("UPDATE") for q in queries.captured_queries) == 1
    key.refresh_from_db()
    assert key.last_used_at > first_use


def test_game_server_api_is_throttled_per_key(server, game, monkeypatch):
    monkeypatch.setattr(GameServerRateThrottle, "get_rate", lambda self: "2/min")
    assert server.get("/api/v1/game").status_code == 200
    assert server.get("/api/v1/containers").status_code == 200
    response = server.get("/api/v1/containers")
    assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) >= 1
    # another key has its own budget
    _, other_raw, _ = make_api_key(game, name="staging")
    server.credentials(HTTP_X_API_KEY=other_raw)
    assert server.get("/api/v1/game").status_code == 200


def test_game_server_api_is_read_only(server, container):
    assert_error(server.post("/api/v1/containers", {}, format="json"), 405, "method_not_allowed")
    assert_error(server.delete(f"/api/v1/containers/{container.pk}"), 405, "method_not_allowed")


def test_game_server_throttle_rate_is_configured():
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert isinstance(rates, dict) and rates["game_server"]


# =========================================================================== management API: games


def test_manage_requires_a_token(api_client, game):
    assert_error(api_client.get("/api/v1/manage/games/"), 401, "not_authenticated")
    assert_error(api_client.get(manage(game.pk)), 401, "not_authenticated")


def test_owner_lists_own_games(owner_client, game):
    GameFactory()  # another owner's
    response = owner_client.get("/api/v1/manage/games/")
    assert response.status_code == 200
    body = response.json()
    assert [row["id"] for row in body["results"]] == [game.pk]
    assert set(body["results"][0]) >= GAME_FIELDS
    assert body["next"] is None


def test_game_list_is_paginated_with_limit(owner_client, owner):
    ids = {GameFactory(owner=owner).pk for _ in range(3)}
    first = owner_client.get("/api/v1/manage/games/?limit=2").json()
    assert len(first["results"]) == 2 and first["next"]
    second = owner_client.get(first["next"]).json()
    assert len(second["results"]) == 1 and second["next"] is None
    assert {row["id"] for row in first["results"] + second["results"]} == ids


def test_game_list_refuses_a_bad_limit(owner_client):
    error = assert_error(owner_client.get("/api/v1/manage/games/?limit=abc"), 400, "validation_error")
    assert "limit" in error["details"]


def test_owner_registers_a_game_by_place_id(owner_client, owner, _no_worker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post("/api/v1/manage/games/", {"roblox_place_id": 920587237}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) >= GAME_FIELDS
    assert body["roblox_place_id"] == 920587237
    assert body["sync_status"] == SyncStatus.PENDING
    assert body["roblox_universe_id"] is None and body["last_synced_at"] is None
    game = Game.objects.get(pk=body["id"])
    assert game.owner == owner
    _no_worker.assert_called_once_with(game.pk)


def test_game_create_takes_an_optional_name(owner_client):
    response = owner_client.post(
        "/api/v1/manage/games/", {"roblox_place_id": "920587237", "name": "Tower Run"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["name"] == "Tower Run"
    assert response.json()["slug"] == "tower-run"


@pytest.mark.parametrize("place_id", ["abc", "12ab", -5, 0, 1.5, None, True, str(2**64)])
def test_game_create_refuses_bad_place_ids(owner_client, place_id):
    response = owner_client.post("/api/v1/manage/games/", {"roblox_place_id": place_id}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert "roblox_place_id" in error["details"]
    assert not Game.objects.exists()


def test_game_create_refuses_a_registered_place(owner_client, game):
    response = owner_client.post("/api/v1/manage/games/", {"roblox_place_id": game.roblox_place_id}, format="json")
    assert "roblox_place_id" in assert_error(response, 400, "validation_error")["details"]
    assert Game.objects.count() == 1


def test_advertiser_cannot_register_games(token_client, advertiser):
    response = token_client(advertiser).post("/api/v1/manage/games/", {"roblox_place_id": 1}, format="json")
    assert_error(response, 403, "permission_denied")
    assert not Game.objects.exists()


def test_owner_reads_a_game(owner_client, game):
    response = owner_client.get(manage(game.pk))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == game.pk and body["slug"] == "obby-world"
    assert set(body["stats"]) == {"visits", "playing", "favorites", "up_votes", "down_votes"}


def test_owner_updates_a_game(owner_client, game):
    response = owner_client.patch(
        manage(game.pk), {"name": "Obby World II", "description": "Jump!", "slug": "Obby II"}, format="json"
    )
    assert response.status_code == 200, response.content
    game.refresh_from_db()
    assert (game.name, game.description, game.slug) == ("Obby World II", "Jump!", "obby-ii")
    assert response.json()["slug"] == "obby-ii"


def test_game_update_ignores_read_only_fields(owner_client, game):
    place_id = game.roblox_place_id
    response = owner_client.patch(manage(game.pk), {"roblox_place_id": 1, "sync_status": "OK"}, format="json")
    assert response.status_code == 200
    game.refresh_from_db()
    assert game.roblox_place_id == place_id and game.sync_status == SyncStatus.PENDING


def test_game_update_refuses_a_taken_slug(owner_client, game):
    GameFactory(slug="taken")
    response = owner_client.patch(manage(game.pk), {"slug": "taken"}, format="json")
    assert "slug" in assert_error(response, 400, "validation_error")["details"]
    game.refresh_from_db()
    assert game.slug == "obby-world"


def test_game_update_refuses_an_empty_name(owner_client, game):
    response = owner_client.patch(manage(game.pk), {"name": ""}, format="json")
    assert "name" in assert_error(response, 400, "validation_error")["details"]


def test_put_on_a_game_is_405(owner_client, game):
    assert_error(owner_client.put(manage(game.pk), {"name": "x"}, format="json"), 405, "method_not_allowed")


def test_owner_deletes_a_game_and_its_keys_stop_working(owner_client, game, container, server):
    assert server.get("/api/v1/game").status_code == 200
    response = owner_client.delete(manage(game.pk))
    assert response.status_code == 204
    assert not Game.objects.filter(pk=game.pk).exists()
    assert not AdContainer.objects.filter(pk=container.pk).exists()
    assert_error(server.get("/api/v1/game"), 401, "api_key_invalid")


def test_owner_requests_a_sync(owner_client, game, _no_worker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(manage(game.pk, "sync/"))
    assert response.status_code == 202
    assert response.json()["sync_status"] == SyncStatus.SYNCING
    game.refresh_from_db()
    assert game.sync_status == SyncStatus.SYNCING
    _no_worker.assert_called_once_with(game.pk)


# =========================================================================== containers


def test_owner_lists_containers(owner_client, game, container):
    AdContainerFactory(game=GameFactory())
    body = owner_client.get(manage(game.pk, "containers/")).json()
    assert [row["id"] for row in body["results"]] == [container.pk]
    row = body["results"][0]
    assert set(row) >= CONTAINER_FIELDS
    assert "status_reason" not in row
    assert row["floor_price_cpm"] == "1.500000"
    assert row["width_studs"] == 16 and row["height_studs"] == 9


def test_owner_creates_a_container(owner_client, owner, game):
    playlist = PlaylistFactory(game=game)
    response = owner_client.post(
        manage(game.pk, "containers/"),
        {
            "name": "Spawn billboard",
            "type": "DISPLAY",
            "width_studs": 12.5,
            "height_studs": "7",
            "floor_price_cpm": "2.5",
            "blocked_categories": ["food", "toys"],
            "playlist": playlist.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["placement"] == "spawn-billboard"
    assert body["status"] == "ACTIVE"
    assert body["width_studs"] == 12.5 and body["height_studs"] == 7
    assert body["floor_price_cpm"] == "2.500000"
    assert body["blocked_categories"] == ["food", "toys"]
    assert body["playlist"] == playlist.pk
    container = AdContainer.objects.get(pk=body["id"])
    assert container.game == game and container.floor_price_cpm == Decimal("2.5")
    assert container.status_changes.get().changed_by == owner


def test_owner_reads_a_container(owner_client, game, container):
    response = owner_client.get(manage(game.pk, f"containers/{container.pk}/"))
    assert response.status_code == 200
    assert response.json()["name"] == "Lobby billboard"


def test_owner_updates_a_container(owner_client, game, container):
    response = owner_client.patch(
        manage(game.pk, f"containers/{container.pk}/"),
        {"name": "Lobby sign", "floor_price_cpm": "0.75", "width_studs": 20, "height_studs": 11.25},
        format="json",
    )
    assert response.status_code == 200, response.content
    container.refresh_from_db()
    assert container.name == "Lobby sign"
    assert container.floor_price_cpm == Decimal("0.75")
    assert (container.width_studs, container.height_studs) == (Decimal("20"), Decimal("11.25"))


def test_status_change_is_audited_with_its_reason(owner_client, owner, game, container):
    response = owner_client.patch(
        manage(game.pk, f"containers/{container.pk}/"),
        {"status": "MAINTENANCE", "status_reason": "Repainting the lobby"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "MAINTENANCE"
    change = ContainerStatusChange.objects.filter(container=container).first()
    assert change is not None
    assert (change.from_status, change.to_status, change.reason) == ("ACTIVE", "MAINTENANCE", "Repainting the lobby")
    assert change.changed_by == owner


def test_maintenance_without_a_reason_is_refused(owner_client, game, container):
    response = owner_client.patch(
        manage(game.pk, f"containers/{container.pk}/"), {"status": "MAINTENANCE", "name": "Changed"}, format="json"
    )
    assert "status_reason" in assert_error(response, 400, "validation_error")["details"]
    container.refresh_from_db()
    assert container.status == "ACTIVE" and container.name == "Lobby billboard"


def test_delete_of_an_object_other_records_protect_is_409(owner_client, game, container):
    with mock.patch("games.services.container_delete", side_effect=ProtectedError("in use", set())):
        response = owner_client.delete(manage(game.pk, f"containers/{container.pk}/"))
    assert_error(response, 409, "conflict")
    assert AdContainer.objects.filter(pk=container.pk).exists()


def test_owner_deletes_a_container(owner_client, game, container):
    assert owner_client.delete(manage(game.pk, f"containers/{container.pk}/")).status_code == 204
    assert not AdContainer.objects.filter(pk=container.pk).exists()


VALID_CONTAINER = {"name": "Billboard", "type": "DISPLAY", "width_studs": 16, "height_studs": 9}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"width_studs": 100}, "width_studs"),  # wider than a display billboard may be
        ({"height_studs": 2}, "height_studs"),  # lower than a display billboard may be
        ({"width_studs": -1}, "width_studs"),
        ({"width_studs": 0}, "width_studs"),
        ({"height_studs": "tall"}, "height_studs"),
        ({"width_studs": 123456}, "width_studs"),
        ({"type": "POSTER"}, "type"),
        ({"status": "PAUSED"}, "status"),
        ({"floor_price_cpm": "-0.01"}, "floor_price_cpm"),
        ({"floor_price_cpm": "1.1234567"}, "floor_price_cpm"),
        ({"blocked_categories": ["weapons"]}, "blocked_categories"),
        ({"blocked_categories": "food"}, "blocked_categories"),
        ({"placement": "has spaces"}, "placement"),
        ({"name": ""}, "name"),
        ({"status": "MAINTENANCE"}, "status_reason"),
        ({"playlist": 999999}, "playlist"),
    ],
)
def test_container_create_refuses_bad_input(owner_client, game, change, field):
    response = owner_client.post(manage(game.pk, "containers/"), {**VALID_CONTAINER, **change}, format="json")
    assert field in assert_error(response, 400, "validation_error")["details"]
    assert not AdContainer.objects.exists()


def test_npc_containers_have_no_billboard_size_limit(owner_client, game):
    response = owner_client.post(
        manage(game.pk, "containers/"), {**VALID_CONTAINER, "type": "NPC", "width_studs": 3}, format="json"
    )
    assert response.status_code == 201


def test_container_cannot_use_another_games_playlist(owner_client, game):
    foreign = PlaylistFactory(game=GameFactory())
    response = owner_client.post(
        manage(game.pk, "containers/"), {**VALID_CONTAINER, "playlist": foreign.pk}, format="json"
    )
    assert "playlist" in assert_error(response, 400, "validation_error")["details"]
    assert not AdContainer.objects.exists()


def test_container_refuses_a_playlist_of_another_type(owner_client, game):
    npc_playlist = PlaylistFactory(game=game, container_type="NPC")
    response = owner_client.post(
        manage(game.pk, "containers/"), {**VALID_CONTAINER, "playlist": npc_playlist.pk}, format="json"
    )
    assert "playlist" in assert_error(response, 400, "validation_error")["details"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"width_studs": 40}, "width_studs"),
        ({"type": "BANNER"}, "type"),
        ({"status": "OFF"}, "status"),
        ({"floor_price_cpm": -3}, "floor_price_cpm"),
    ],
)
def test_container_update_refuses_bad_input_and_saves_nothing(owner_client, game, container, change, field):
    response = owner_client.patch(manage(game.pk, f"containers/{container.pk}/"), change, format="json")
    assert field in assert_error(response, 400, "validation_error")["details"]
    fresh = AdContainer.objects.get(pk=container.pk)
    assert (fresh.width_studs, fresh.type, fresh.status, fresh.floor_price_cpm) == (
        Decimal("16"),
        "DISPLAY",
        "ACTIVE",
        Decimal("1.5"),
    )


def test_container_of_another_game_under_this_game_is_404(owner_client, owner, game):
    other_game_of_same_owner = GameFactory(owner=owner)
    other = AdContainerFactory(game=other_game_of_same_owner)
    assert_error(owner_client.get(manage(game.pk, f"containers/{other.pk}/")), 404, "not_found")
    assert_error(owner_client.delete(manage(game.pk, f"containers/{other.pk}/")), 404, "not_found")
    assert AdContainer.objects.filter(pk=other.pk).exists()


# =========================================================================== API keys


def test_api_key_create_shows_key_and_secret_once(owner_client, owner, game, api_client):
    response = owner_client.post(manage(game.pk, "api-keys/"), {"name": "production servers"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) >= KEY_FIELDS | {"key", "signing_secret"}
    assert body["key"].startswith("gk_") and body["signing_secret"].startswith("gs_")
    assert body["prefix"] == body["key"][:10]
    key = GameApiKey.objects.get(pk=body["id"])
    assert key.created_by == owner and key.key_hash != body["key"]

    # the key works on the game-server API
    api_client.credentials(HTTP_X_API_KEY=body["key"])
    assert api_client.get("/api/v1/game").json()["id"] == game.pk

    # and neither the list nor the detail ever shows it again
    listed = owner_client.get(manage(game.pk, "api-keys/"))
    detail = owner_client.get(manage(game.pk, f"api-keys/{key.pk}/"))
    for text, row in ((listed.content, listed.json()["results"][0]), (detail.content, detail.json())):
        assert body["key"].encode() not in text and body["signing_secret"].encode() not in text
        assert set(row) >= KEY_FIELDS
        assert "key" not in row and "signing_secret" not in row
    assert listed.json()["results"][0]["last_used_at"] is not None


def test_api_key_create_needs_a_name(owner_client, game):
    response = owner_client.post(manage(game.pk, "api-keys/"), {"name": ""}, format="json")
    assert "name" in assert_error(response, 400, "validation_error")["details"]
    assert not GameApiKey.objects.exists()


def test_api_key_delete_revokes_it(owner_client, game, server_key, server):
    key = server_key[0]
    assert server.get("/api/v1/game").status_code == 200
    assert owner_client.delete(manage(game.pk, f"api-keys/{key.pk}/")).status_code == 204
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert_error(server.get("/api/v1/game"), 401, "api_key_invalid")
    row = owner_client.get(manage(game.pk, "api-keys/")).json()["results"][0]
    assert row["revoked_at"] is not None and row["is_active"] is False
    assert owner_client.delete(manage(game.pk, f"api-keys/{key.pk}/")).status_code == 204  # idempotent


def test_api_key_of_another_game_is_404(owner_client, owner, game):
    key, _, _ = make_api_key(GameFactory(owner=owner))
    assert_error(owner_client.delete(manage(game.pk, f"api-keys/{key.pk}/")), 404, "not_found")
    key.refresh_from_db()
    assert key.revoked_at is None


# =========================================================================== playlists


def test_owner_creates_a_playlist_with_items(owner_client, game):
    poster = AssetFactory(roblox_asset_id=1818)
    response = owner_client.post(
        manage(game.pk, "playlists/"),
        {
            "name": "House posters",
            "container_type": "DISPLAY",
            "items": [{"roblox_asset_id": 1818, "display_seconds": 10}, {"roblox_asset_id": 2424}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "House posters" and body["container_type"] == "DISPLAY"
    assert [(i["roblox_asset_id"], i["display_seconds"], i["position"]) for i in body["items"]] == [
        (1818, 10, 1),
        (2424, 15, 2),
    ]
    assert body["items"][0]["asset_name"] == poster.name


def test_owner_lists_reads_updates_and_deletes_playlists(owner_client, game, container):
    playlist = PlaylistFactory(game=game, name="Posters")
    PlaylistFactory(game=GameFactory())
    assert [row["id"] for row in owner_client.get(manage(game.pk, "playlists/")).json()["results"]] == [playlist.pk]
    assert owner_client.get(manage(game.pk, f"playlists/{playlist.pk}/")).json()["name"] == "Posters"

    response = owner_client.patch(
        manage(game.pk, f"playlists/{playlist.pk}/"),
        {"name": "Summer posters", "items": [{"roblox_asset_id": 777, "display_seconds": 30}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Summer posters"
    assert [i["roblox_asset_id"] for i in response.json()["items"]] == [777]

    owner_client.patch(manage(game.pk, f"containers/{container.pk}/"), {"playlist": playlist.pk}, format="json")
    assert owner_client.get(manage(game.pk, f"containers/{container.pk}/")).json()["playlist"] == playlist.pk

    assert owner_client.delete(manage(game.pk, f"playlists/{playlist.pk}/")).status_code == 204
    assert not Playlist.objects.filter(pk=playlist.pk).exists()
    assert owner_client.get(manage(game.pk, f"containers/{container.pk}/")).json()["playlist"] is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "P", "container_type": "POSTER"}, "container_type"),
        ({"name": ""}, "name"),
        ({"name": "P", "items": [{"roblox_asset_id": "abc"}]}, "items[0].roblox_asset_id"),
        (
            {"name": "P", "items": [{"roblox_asset_id": 5}, {"roblox_asset_id": 5, "display_seconds": 0}]},
            "items[1].display_seconds",
        ),
        ({"name": "P", "items": [{"roblox_asset_id": 5, "display_seconds": 4000}]}, "items[0].display_seconds"),
        ({"name": "P", "items": "poster"}, "items"),
        ({"name": "P", "items": [{"roblox_asset_id": i} for i in range(1, 60)]}, "items"),
    ],
)
def test_playlist_create_refuses_bad_input(owner_client, game, payload, field):
    response = owner_client.post(manage(game.pk, "playlists/"), payload, format="json")
    details = assert_error(response, 400, "validation_error")["details"]
    assert field in details
    assert all(isinstance(messages, list) for messages in details.values())
    assert not Playlist.objects.exists()


def test_playlist_refuses_an_asset_its_containers_cannot_show(owner_client, game):
    AssetFactory(roblox_asset_id=3131, asset_type="Model")
    response = owner_client.post(
        manage(game.pk, "playlists/"), {"name": "P", "items": [{"roblox_asset_id": 3131}]}, format="json"
    )
    assert_error(response, 400, "validation_error")
    assert not Playlist.objects.exists()  # the playlist and its items are one change


def test_playlist_name_is_unique_per_game(owner_client, game):
    PlaylistFactory(game=game, name="Posters")
    response = owner_client.post(manage(game.pk, "playlists/"), {"name": "Posters"}, format="json")
    assert "name" in assert_error(response, 400, "validation_error")["details"]


# =========================================================================== isolation


@pytest.fixture
def objects_of_a(owner, game, container, server_key):
    """Owner A's game with one object of each kind."""
    return {
        "game": game.pk,
        "container": container.pk,
        "key": server_key[0].pk,
        "playlist": PlaylistFactory(game=game).pk,
    }


ENDPOINTS_OF_A_GAME = [
    ("get", "/api/v1/manage/games/{game}/"),
    ("patch", "/api/v1/manage/games/{game}/"),
    ("delete", "/api/v1/manage/games/{game}/"),
    ("post", "/api/v1/manage/games/{game}/sync/"),
    ("get", "/api/v1/manage/games/{game}/containers/"),
    ("post", "/api/v1/manage/games/{game}/containers/"),
    ("get", "/api/v1/manage/games/{game}/containers/{container}/"),
    ("patch", "/api/v1/manage/games/{game}/containers/{container}/"),
    ("delete", "/api/v1/manage/games/{game}/containers/{container}/"),
    ("get", "/api/v1/manage/games/{game}/api-keys/"),
    ("post", "/api/v1/manage/games/{game}/api-keys/"),
    ("get", "/api/v1/manage/games/{game}/api-keys/{key}/"),
    ("delete", "/api/v1/manage/games/{game}/api-keys/{key}/"),
    ("get", "/api/v1/manage/games/{game}/playlists/"),
    ("post", "/api/v1/manage/games/{game}/playlists/"),
    ("get", "/api/v1/manage/games/{game}/playlists/{playlist}/"),
    ("patch", "/api/v1/manage/games/{game}/playlists/{playlist}/"),
    ("delete", "/api/v1/manage/games/{game}/playlists/{playlist}/"),
]
PAYLOADS = {"patch": {"name": "Hijacked", "status": "INACTIVE"}, "post": {"name": "Hijacked", "type": "DISPLAY"}}


def _snapshot(objects):
    game = Game.objects.get(pk=objects["game"])
    return (
        game.name,
        game.sync_status,
        sorted(AdContainer.objects.filter(game=game).values_list("id", "name", "status")),
        sorted(GameApiKey.objects.filter(game=game).values_list("id", "revoked_at")),
        sorted(Playlist.objects.filter(game=game).values_list("id", "name")),
    )


@pytest.mark.parametrize(("method", "template"), ENDPOINTS_OF_A_GAME)
@pytest.mark.parametrize("intruder", ["other_owner", "advertiser"])
def test_others_get_404_on_every_endpoint_of_a_game(
    request, token_client, user_factory, objects_of_a, method, template, intruder
):
    user = user_factory(role="OWNER") if intruder == "other_owner" else request.getfixturevalue("advertiser")
    before = _snapshot(objects_of_a)
    client = token_client(user)
    response = getattr(client, method)(template.format(**objects_of_a), PAYLOADS.get(method, {}), format="json")
    assert_error(response, 404, "not_found")
    assert _snapshot(objects_of_a) == before


def test_other_owner_does_not_see_the_game_in_lists(token_client, user_factory, game):
    other = user_factory(role="OWNER")
    own = GameFactory(owner=other)
    body = token_client(other).get("/api/v1/manage/games/").json()
    assert [row["id"] for row in body["results"]] == [own.pk]


def test_advertiser_sees_no_games(token_client, advertiser, game):
    body = token_client(advertiser).get("/api/v1/manage/games/").json()
    assert body["results"] == []


def test_staff_see_and_manage_every_game(token_client, staff_user, game, container):
    other = GameFactory()
    client = token_client(staff_user)
    ids = {row["id"] for row in client.get("/api/v1/manage/games/").json()["results"]}
    assert ids == {game.pk, other.pk}
    assert client.get(manage(game.pk, f"containers/{container.pk}/")).status_code == 200
    response = client.patch(
        manage(game.pk, f"containers/{container.pk}/"),
        {"status": "INACTIVE", "status_reason": "policy review"},
        format="json",
    )
    assert response.status_code == 200
    change = ContainerStatusChange.objects.filter(container=container).first()
    assert change is not None and change.changed_by == staff_user


def test_a_game_key_cannot_open_the_management_api(server, game):
    assert_error(server.get("/api/v1/manage/games/"), 401, "not_authenticated")


# =========================================================================== OpenAPI


def test_schema_documents_the_games_api(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    expected = {
        "/api/v1/game": {"get"},
        "/api/v1/containers": {"get"},
        "/api/v1/containers/{id}": {"get"},
        "/api/v1/manage/games/": {"get", "post"},
        "/api/v1/manage/games/{id}/": {"get", "patch", "delete"},
        "/api/v1/manage/games/{id}/sync/": {"post"},
        "/api/v1/manage/games/{game_pk}/containers/": {"get", "post"},
        "/api/v1/manage/games/{game_pk}/containers/{id}/": {"get", "patch", "delete"},
        "/api/v1/manage/games/{game_pk}/api-keys/": {"get", "post"},
        "/api/v1/manage/games/{game_pk}/api-keys/{id}/": {"get", "delete"},
        "/api/v1/manage/games/{game_pk}/playlists/": {"get", "post"},
        "/api/v1/manage/games/{game_pk}/playlists/{id}/": {"get", "patch", "delete"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))
    scheme = schema["components"]["securitySchemes"]["GameApiKey"]
    assert scheme == {**scheme, "type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert paths["/api/v1/containers"]["get"]["security"] == [{"GameApiKey": []}]
    created = paths["/api/v1/manage/games/{game_pk}/api-keys/"]["post"]["responses"]["201"]
    component = created["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert {"key", "signing_secret"} <= set(schema["components"]["schemas"][component]["properties"])
