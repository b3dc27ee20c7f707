"""The owner console's pages, through Django's test client."""

from __future__ import annotations

import re
from decimal import Decimal
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse

from games import keycache, services
from games.models import (
    AdContainer,
    ContainerStatus,
    ContainerStatusChange,
    Game,
    GameApiKey,
    Playlist,
    PlaylistItem,
    SyncStatus,
)
from games.tests.factories import AdContainerFactory, AssetFactory, GameFactory, PlaylistFactory, make_api_key

pytestmark = pytest.mark.django_db

CONTAINER = {
    "name": "Lobby billboard",
    "type": "DISPLAY",
    "placement": "lobby-billboard",
    "width_studs": "16",
    "height_studs": "9",
    "floor_price_cpm": "1.50",
    "blocked_categories": ["food", "toys"],
    "playlist": "",
    "status": "ACTIVE",
    "status_reason": "",
}


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def game(owner):
    return GameFactory(owner=owner, name="Obby Land", slug="obby-land", visits=12345, playing=17, favorites=99,
                       up_votes=90, down_votes=10)  # fmt: skip


@pytest.fixture
def container(game):
    return AdContainerFactory(game=game, name="Spawn board", placement="spawn-board")


@pytest.fixture
def playlist(game):
    return PlaylistFactory(game=game, name="House ads")


@pytest.fixture
def sync_delay():
    with mock.patch("games.tasks.game_sync.delay") as delay:
        yield delay


def status_form(container, status, reason=""):
    return {f"c{container.pk}-status": status, f"c{container.pk}-status_reason": reason}


def items_formset(rows, extra=0):
    data = {
        "items-TOTAL_FORMS": str(len(rows) + extra),
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
    }
    for i, (asset_id, seconds) in enumerate(rows):
        data[f"items-{i}-roblox_asset_id"] = str(asset_id)
        data[f"items-{i}-display_seconds"] = str(seconds)
    return data


# --------------------------------------------------------------------------- dashboard


def test_dashboard_lists_the_owners_games_with_stats_and_counts(owner_client, game, container):
    AdContainerFactory(game=game, status=ContainerStatus.INACTIVE)
    html = owner_client.get(reverse("games:dashboard")).content.decode()
    assert "Obby Land" in html
    assert "12,345" in html
    assert "90%" in html  # like ratio
    assert "1 active / 2" in html
    assert "Waiting for sync" in html


def test_dashboard_empty_state_invites_the_first_game(owner_client):
    html = owner_client.get(reverse("games:dashboard")).content.decode()
    assert "Add your first game" in html
    assert reverse("games:add") in html


def test_dashboard_searches_by_name_slug_and_place_id(owner_client, owner):
    GameFactory(owner=owner, name="Tycoon Town", slug="tycoon-town", roblox_place_id=555001)
    GameFactory(owner=owner, name="Racing Rivals", slug="racing-rivals", roblox_place_id=555002)
    by_name = owner_client.get(reverse("games:dashboard"), {"q": "tycoon"}).content.decode()
    assert "Tycoon Town" in by_name and "Racing Rivals" not in by_name
    by_place = owner_client.get(reverse("games:dashboard"), {"q": "555002"}).content.decode()
    assert "Racing Rivals" in by_place and "Tycoon Town" not in by_place
    nothing = owner_client.get(reverse("games:dashboard"), {"q": "zzz"}).content.decode()
    assert "No game matches" in nothing


def test_dashboard_paginates_and_keeps_the_search(owner_client, owner):
    for n in range(23):
        GameFactory(owner=owner, name=f"Obby {n:02d}")
    first = owner_client.get(reverse("games:dashboard"), {"q": "obby"}).content.decode()
    assert "Page 1 of 2" in first
    assert "?q=obby&amp;page=2" in first
    second = owner_client.get(reverse("games:dashboard"), {"q": "obby", "page": 2}).content.decode()
    assert "Obby 22" in second and "Obby 00" not in second


def test_dashboard_does_not_show_other_owners_games(owner_client, user_factory):
    GameFactory(owner=user_factory(role="OWNER"), name="Someone Else's")
    assert "Someone Else" not in owner_client.get(reverse("games:dashboard")).content.decode()


def test_advertisers_may_not_open_the_owner_console(client, advertiser):
    client.force_login(advertiser)
    assert client.get(reverse("games:dashboard")).status_code == 403
    assert client.post(reverse("games:add"), {"roblox_place_id": "920587237"}).status_code == 403
    assert not Game.objects.exists()


def test_owner_navigation_links_to_the_games(owner_client):
    html = owner_client.get(reverse("home")).content.decode()
    assert f'href="{reverse("games:dashboard")}"' in html


# --------------------------------------------------------------------------- adding and editing games


def test_add_a_game_by_place_id_enqueues_a_sync_and_shows_its_state(
    owner_client, owner, sync_delay, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("games:add"), {"roblox_place_id": " 920587237 ", "name": ""})
    game = Game.objects.get(roblox_place_id=920587237)
    assert game.owner == owner
    assert response.status_code == 302
    assert response["Location"] == reverse("games:detail", args=[game.slug])
    sync_delay.assert_called_once_with(game.pk)
    html = owner_client.get(response["Location"]).content.decode()
    assert "Waiting for sync" in html
    assert "Refresh from Roblox" in html


@pytest.mark.parametrize(
    ("place_id", "message"),
    [
        ("abc", "A place id is a whole number"),
        ("12ab", "A place id is a whole number"),
        ("-5", "A place id is a positive number."),
        ("0", "A place id is a positive number."),
        ("", "Enter the place id"),
    ],
)
def test_add_a_game_with_a_bad_place_id_shows_the_error_and_saves_nothing(owner_client, place_id, message):
    response = owner_client.post(reverse("games:add"), {"roblox_place_id": place_id})
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'class="field field-invalid"' in html
    assert not Game.objects.exists()


def test_add_a_place_already_registered_shows_the_services_error(owner_client, game):
    response = owner_client.post(reverse("games:add"), {"roblox_place_id": game.roblox_place_id})
    assert "already registered" in response.content.decode()
    assert Game.objects.count() == 1


def test_a_game_named_like_a_console_path_gets_a_reachable_address(owner_client, sync_delay):
    response = owner_client.post(reverse("games:add"), {"roblox_place_id": "4242", "name": "Add"})
    game = Game.objects.get()
    assert game.slug != "add"
    assert response["Location"] == reverse("games:detail", args=[game.slug])


def test_game_page_shows_stats_icon_placeholder_and_sections(owner_client, game, container, playlist):
    html = owner_client.get(reverse("games:detail", args=[game.slug])).content.decode()
    assert "12,345" in html and "90%" in html
    assert "img/game-placeholder" in html
    assert reverse("games:edit", args=[game.slug]) in html
    assert "Spawn board" in html and "spawn-board" in html
    assert "House ads" in html
    assert "API keys" in html and "Connect your game" in html


def test_game_page_shows_the_roblox_icon_when_synced(owner_client, game):
    game.icon_url = "https://tr.rbxcdn.com/abc/512/512/Image/Png"
    game.save()
    html = owner_client.get(reverse("games:detail", args=[game.slug])).content.decode()
    assert game.icon_url in html
    assert "game-placeholder" not in html


@pytest.mark.parametrize(
    ("sync_status", "error", "shown"),
    [
        (SyncStatus.PENDING, "", "Waiting for sync"),
        (SyncStatus.OK, "", "Synced"),
        (SyncStatus.ERROR, "Roblox answered 503", "Roblox offline"),  # unreachable: the offline badge
    ],
)
def test_game_page_shows_the_sync_state(owner_client, game, sync_status, error, shown):
    Game.objects.filter(pk=game.pk).update(sync_status=sync_status, last_sync_error=error)
    html = owner_client.get(reverse("games:detail", args=[game.slug])).content.decode()
    assert shown in html
    if error:  # in words for people, not the upstream's status line
        assert "Couldn&#x27;t reach Roblox; retrying automatically (last try " in html
        assert error not in html


def test_an_open_circuit_reads_as_words_for_people(owner_client, game):
    Game.objects.filter(pk=game.pk).update(
        sync_status=SyncStatus.ERROR,
        last_sync_error="Roblox unavailable: circuit open for apis.roblox.com: not calling it for 29.5s; will retry",
    )
    game.refresh_from_db()
    html = owner_client.get(reverse("games:detail", args=[game.slug])).content.decode()
    expected = f"Couldn&#x27;t reach Roblox; retrying automatically (last try {game.updated_at:%H:%M} UTC)."
    assert expected in html
    assert "circuit" not in html


def test_refresh_from_roblox_enqueues_the_sync(owner_client, game, sync_delay, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("games:sync", args=[game.slug]))
    assert response.status_code == 302
    sync_delay.assert_called_once_with(game.pk)
    game.refresh_from_db()
    assert game.sync_status == SyncStatus.SYNCING


def test_refresh_needs_post(owner_client, game, sync_delay):
    assert owner_client.get(reverse("games:sync", args=[game.slug])).status_code == 405
    sync_delay.assert_not_called()


def test_edit_a_game(owner_client, game):
    response = owner_client.post(
        reverse("games:edit", args=[game.slug]),
        {"name": "Obby Land 2", "description": "Jump!", "slug": "obby-two", "is_active": ""},
    )
    assert response.status_code == 302
    game.refresh_from_db()
    assert (game.name, game.description, game.slug, game.is_active) == ("Obby Land 2", "Jump!", "obby-two", False)
    assert response["Location"] == reverse("games:detail", args=["obby-two"])


def test_edit_a_game_page_renders_with_current_values(owner_client, game):
    html = owner_client.get(reverse("games:edit", args=[game.slug])).content.decode()
    assert 'value="Obby Land"' in html and 'value="obby-land"' in html


def test_edit_a_game_with_a_taken_slug_shows_the_error(owner_client, game, user_factory):
    GameFactory(slug="taken")
    response = owner_client.post(reverse("games:edit", args=[game.slug]), {"name": "New", "slug": "taken"})
    assert "This address is taken by another game." in response.content.decode()
    game.refresh_from_db()
    assert (game.name, game.slug) == ("Obby Land", "obby-land")


def test_delete_a_game_after_confirmation(owner_client, game, container):
    confirm = owner_client.get(reverse("games:delete", args=[game.slug]))
    assert confirm.status_code == 200
    assert "cannot be undone" in confirm.content.decode()
    assert Game.objects.filter(pk=game.pk).exists()
    response = owner_client.post(reverse("games:delete", args=[game.slug]))
    assert response["Location"] == reverse("games:dashboard")
    assert not Game.objects.filter(pk=game.pk).exists()
    assert not AdContainer.objects.exists()


# --------------------------------------------------------------------------- containers


def test_container_pages_render(owner_client, game, container):
    assert owner_client.get(reverse("games:container-add", args=[game.slug])).status_code == 200
    edit = owner_client.get(reverse("games:container-edit", args=[game.slug, container.pk]))
    assert edit.status_code == 200
    assert 'value="Spawn board"' in edit.content.decode()


def test_create_a_container(owner_client, owner, game):
    response = owner_client.post(reverse("games:container-add", args=[game.slug]), CONTAINER)
    assert response.status_code == 302
    container = AdContainer.objects.get(game=game)
    assert container.name == "Lobby billboard"
    assert container.floor_price_cpm == Decimal("1.5")
    assert container.blocked_categories == ["food", "toys"]
    change = ContainerStatusChange.objects.get(container=container)
    assert change.changed_by == owner and change.to_status == ContainerStatus.ACTIVE


def test_create_a_container_makes_the_placement_from_the_name(owner_client, game):
    owner_client.post(reverse("games:container-add", args=[game.slug]), {**CONTAINER, "placement": ""})
    assert AdContainer.objects.get().placement == "lobby-billboard"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"floor_price_cpm": "-1"}, "floor_price_cpm", "greater than or equal to 0"),
        ({"width_studs": "40", "height_studs": "40"}, "width_studs", "8 to 32 studs wide"),
        ({"width_studs": "40", "height_studs": "40"}, "height_studs", "4.5 to 18 studs high"),
        ({"status": "MAINTENANCE", "status_reason": ""}, "status_reason", "Say why the container is in maintenance."),
        ({"type": "HOLOGRAM"}, "type", "Select a valid choice"),
        ({"name": ""}, "name", "This field is required."),
    ],
)
def test_create_a_container_with_bad_input_shows_the_error_and_saves_nothing(
    owner_client, game, change, field, message
):
    response = owner_client.post(reverse("games:container-add", args=[game.slug]), {**CONTAINER, **change})
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    # the message sits under its own field
    field_html = html.split(f'for="id_{field}"')[1].split('<div class="field')[0]
    assert message in field_html
    assert not AdContainer.objects.exists()
    assert not ContainerStatusChange.objects.exists()


def test_a_large_npc_is_allowed(owner_client, game):
    data = {**CONTAINER, "type": "NPC", "width_studs": "40", "height_studs": "40"}
    assert owner_client.post(reverse("games:container-add", args=[game.slug]), data).status_code == 302
    assert AdContainer.objects.get().type == "NPC"


def test_a_duplicate_placement_is_refused(owner_client, game, container):
    response = owner_client.post(
        reverse("games:container-add", args=[game.slug]), {**CONTAINER, "placement": container.placement}
    )
    assert response.status_code == 200
    assert AdContainer.objects.count() == 1
    assert "already exists" in response.content.decode()


def test_container_form_offers_only_this_games_playlists(owner_client, game, playlist, user_factory):
    other = PlaylistFactory(name="Not mine")
    html = owner_client.get(reverse("games:container-add", args=[game.slug])).content.decode()
    assert "House ads" in html and "Not mine" not in html
    response = owner_client.post(
        reverse("games:container-add", args=[game.slug]), {**CONTAINER, "playlist": str(other.pk)}
    )
    assert "Select a valid choice" in response.content.decode()
    assert not AdContainer.objects.exists()


def test_edit_a_container(owner_client, owner, game, container, playlist):
    data = {**CONTAINER, "name": "Spawn board XL", "width_studs": "32", "height_studs": "18",
            "playlist": str(playlist.pk)}  # fmt: skip
    response = owner_client.post(reverse("games:container-edit", args=[game.slug, container.pk]), data)
    assert response.status_code == 302
    container.refresh_from_db()
    assert container.name == "Spawn board XL"
    assert container.width_studs == Decimal("32")
    assert container.playlist == playlist


def test_edit_a_container_with_a_bad_size_saves_nothing(owner_client, game, container):
    data = {**CONTAINER, "name": "Renamed", "width_studs": "40", "height_studs": "40"}
    response = owner_client.post(reverse("games:container-edit", args=[game.slug, container.pk]), data)
    assert "8 to 32 studs wide" in response.content.decode()
    container.refresh_from_db()
    assert container.name == "Spawn board"
    assert container.width_studs == Decimal("16")


def test_edit_page_shows_the_status_history(owner_client, owner, game, container):
    services.container_set_status(container=container, status="MAINTENANCE", reason="repainting the lobby", by=owner)
    html = owner_client.get(reverse("games:container-edit", args=[game.slug, container.pk])).content.decode()
    assert "Status history" in html
    assert "repainting the lobby" in html
    assert owner.username in html


def test_status_switch_records_a_change(owner_client, owner, game, container):
    response = owner_client.post(
        reverse("games:container-status", args=[game.slug, container.pk]),
        status_form(container, "MAINTENANCE", "new sponsor artwork"),
    )
    assert response.status_code == 302
    container.refresh_from_db()
    assert container.status == ContainerStatus.MAINTENANCE
    change = ContainerStatusChange.objects.get(container=container)
    assert (change.from_status, change.to_status, change.reason, change.changed_by) == (
        "ACTIVE",
        "MAINTENANCE",
        "new sponsor artwork",
        owner,
    )


def test_status_switch_to_maintenance_without_a_reason_shows_the_error(owner_client, game, container):
    response = owner_client.post(
        reverse("games:container-status", args=[game.slug, container.pk]), status_form(container, "MAINTENANCE")
    )
    assert response.status_code == 200
    html = response.content.decode()
    row = html.split(f'id="container-{container.pk}"')[1].split("</tr>")[0]
    assert "Say why the container is in maintenance." in row
    container.refresh_from_db()
    assert container.status == ContainerStatus.ACTIVE
    assert not ContainerStatusChange.objects.exists()


def test_status_switch_to_inactive_needs_no_reason(owner_client, game, container):
    owner_client.post(reverse("games:container-status", args=[game.slug, container.pk]),
                      status_form(container, "INACTIVE"))  # fmt: skip
    container.refresh_from_db()
    assert container.status == ContainerStatus.INACTIVE


def test_status_switch_refuses_an_unknown_status(owner_client, game, container):
    response = owner_client.post(
        reverse("games:container-status", args=[game.slug, container.pk]), status_form(container, "BROKEN")
    )
    assert "Select a valid choice" in response.content.decode()
    container.refresh_from_db()
    assert container.status == ContainerStatus.ACTIVE


def test_status_switch_needs_post(owner_client, game, container):
    assert owner_client.get(reverse("games:container-status", args=[game.slug, container.pk])).status_code == 405


def test_delete_a_container_after_confirmation(owner_client, game, container):
    confirm = owner_client.get(reverse("games:container-delete", args=[game.slug, container.pk]))
    assert "Delete container" in confirm.content.decode()
    assert AdContainer.objects.filter(pk=container.pk).exists()
    owner_client.post(reverse("games:container-delete", args=[game.slug, container.pk]))
    assert not AdContainer.objects.filter(pk=container.pk).exists()


def test_containers_table_paginates(owner_client, game):
    for n in range(27):
        AdContainerFactory(game=game, name=f"Board {n:02d}")
    html = owner_client.get(reverse("games:detail", args=[game.slug])).content.decode()
    assert "Board 24" in html and "Board 25" not in html
    assert "?cpage=2#containers" in html
    second = owner_client.get(reverse("games:detail", args=[game.slug]), {"cpage": 2}).content.decode()
    assert "Board 25" in second and "Board 00" not in second


# --------------------------------------------------------------------------- playlists


def test_create_a_playlist_then_set_its_items(owner_client, game):
    response = owner_client.post(reverse("games:playlist-add", args=[game.slug]),
                                 {"name": "Posters", "container_type": "DISPLAY"})  # fmt: skip
    playlist = Playlist.objects.get(game=game)
    assert response["Location"] == reverse("games:playlist-edit", args=[game.slug, playlist.pk])
    assert owner_client.get(response["Location"]).status_code == 200

    AssetFactory(roblox_asset_id=1818, asset_type="Image")
    data = {"name": "Posters", "container_type": "DISPLAY", **items_formset([(1818, 10), (2929, 20)], extra=1)}
    response = owner_client.post(reverse("games:playlist-edit", args=[game.slug, playlist.pk]), data)
    assert response.status_code == 302
    items = list(playlist.items.select_related("asset").order_by("position"))
    assert [(i.asset.roblox_asset_id, i.display_seconds) for i in items] == [(1818, 10), (2929, 20)]


def test_playlist_edit_shows_current_items(owner_client, game, playlist):
    services.playlist_set_items(playlist=playlist, items=[{"roblox_asset_id": 777, "display_seconds": 12}])
    html = owner_client.get(reverse("games:playlist-edit", args=[game.slug, playlist.pk])).content.decode()
    assert 'value="777"' in html and 'value="12"' in html


def test_playlist_items_with_bad_input_save_nothing(owner_client, game, playlist):
    services.playlist_set_items(playlist=playlist, items=[{"roblox_asset_id": 777, "display_seconds": 12}])
    data = {"name": "Renamed", "container_type": "DISPLAY", **items_formset([(888, 10), ("abc", 5)])}
    response = owner_client.post(reverse("games:playlist-edit", args=[game.slug, playlist.pk]), data)
    assert response.status_code == 200
    assert "An asset id is a whole number." in response.content.decode()
    playlist.refresh_from_db()
    assert playlist.name == "House ads"
    assert [i.asset.roblox_asset_id for i in playlist.items.all()] == [777]


def test_playlist_item_of_the_wrong_type_is_shown_on_its_row(owner_client, game, playlist):
    AssetFactory(roblox_asset_id=4444, asset_type="Model")
    data = {"name": "House ads", "container_type": "DISPLAY", **items_formset([(1, 10), (4444, 10)])}
    response = owner_client.post(reverse("games:playlist-edit", args=[game.slug, playlist.pk]), data)
    html = response.content.decode()
    assert "cannot be shown in a DISPLAY container" in html
    assert not PlaylistItem.objects.exists()


def test_playlist_duplicate_name_is_refused(owner_client, game, playlist):
    response = owner_client.post(reverse("games:playlist-add", args=[game.slug]),
                                 {"name": "House ads", "container_type": "DISPLAY"})  # fmt: skip
    assert "already has a playlist with that name" in response.content.decode()
    assert Playlist.objects.count() == 1


def test_delete_a_playlist_after_confirmation(owner_client, game, playlist):
    assert owner_client.get(reverse("games:playlist-delete", args=[game.slug, playlist.pk])).status_code == 200
    owner_client.post(reverse("games:playlist-delete", args=[game.slug, playlist.pk]))
    assert not Playlist.objects.exists()


# --------------------------------------------------------------------------- API keys and the connect panel


def test_creating_a_key_shows_key_and_secret_once(owner_client, owner, game):
    response = owner_client.post(reverse("games:key-add", args=[game.slug]), {"name": "production servers"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    key = GameApiKey.objects.get(game=game)
    raw_match = re.search(r'id="api-key">([^<]+)<', html)
    secret_match = re.search(r'id="signing-secret">([^<]+)<', html)
    assert raw_match and secret_match, html
    raw, secret = raw_match.group(1), secret_match.group(1)
    assert keycache.hash_key(raw) == key.key_hash
    assert secret == key.signing_secret
    assert 'data-copy="#api-key"' in html and 'data-copy="#signing-secret"' in html
    assert key.created_by == owner
    session = str(dict(owner_client.session))
    assert raw not in session and secret not in session

    # then the list shows only the prefix
    listing = owner_client.get(reverse("games:detail", args=[game.slug])).content.decode()
    assert "production servers" in listing
    assert f"{key.prefix}…" in listing
    assert raw not in listing and secret not in listing


def test_creating_a_key_without_a_name_shows_the_error(owner_client, game):
    response = owner_client.post(reverse("games:key-add", args=[game.slug]), {"name": "  "})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not GameApiKey.objects.exists()


def test_key_list_shows_status_and_last_used(owner_client, game):
    key, _, _ = make_api_key(game, "old servers")
    services.api_key_revoke(key=key)
    make_api_key(game, "new servers")
    html = owner_client.get(reverse("games:detail", args=[game.slug])).content.decode()
    assert 'badge-muted">revoked' in html and 'badge-ok">active' in html
    assert "never" in html


def test_revoke_a_key(owner_client, game):
    key, _, _ = make_api_key(game)
    html = owner_client.get(reverse("games:detail", args=[game.slug])).content.decode()
    assert "data-confirm=" in html
    response = owner_client.post(reverse("games:key-revoke", args=[game.slug, key.pk]))
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_revoke_needs_post(owner_client, game):
    key, _, _ = make_api_key(game)
    assert owner_client.get(reverse("games:key-revoke", args=[game.slug, key.pk])).status_code == 405
    key.refresh_from_db()
    assert key.revoked_at is None


def test_connect_panel_has_the_luau_snippet_for_this_server(owner_client, game, container, settings):
    settings.ALLOWED_HOSTS = ["ads.example.com"]
    html = owner_client.get(reverse("games:detail", args=[game.slug]), HTTP_HOST="ads.example.com").content.decode()
    panel = html.split('id="connect"')[1]
    assert "HttpService:RequestAsync" in panel
    assert "HttpService:GetSecret(&quot;adplatform_api_key&quot;)" in panel
    assert "[&quot;X-API-Key&quot;] = API_KEY" in panel
    assert "pcall(function()" in panel
    assert "local BASE_URL = &quot;http://ads.example.com/api/v1&quot;" in panel
    for call in ("GET http://ads.example.com/api/v1/game", "GET http://ads.example.com/api/v1/containers",
                 "POST http://ads.example.com/api/v1/decisions"):  # fmt: skip
        assert call in panel
    assert "callPlatform(&quot;POST&quot;, &quot;/decisions&quot;" in panel
    assert "requestAd(&quot;spawn-board&quot;, player)" in panel
    assert 'data-copy="#connect-snippet"' in panel


# --------------------------------------------------------------------------- access


def _other_owners_urls(game, container, playlist, key):
    s = game.slug
    return {
        "get": [
            reverse("games:detail", args=[s]),
            reverse("games:edit", args=[s]),
            reverse("games:delete", args=[s]),
            reverse("games:container-add", args=[s]),
            reverse("games:container-edit", args=[s, container.pk]),
            reverse("games:container-delete", args=[s, container.pk]),
            reverse("games:playlist-add", args=[s]),
            reverse("games:playlist-edit", args=[s, playlist.pk]),
            reverse("games:playlist-delete", args=[s, playlist.pk]),
        ],
        "post": [
            (reverse("games:edit", args=[s]), {"name": "Mine now", "slug": "mine-now", "is_active": "on"}),
            (reverse("games:delete", args=[s]), {}),
            (reverse("games:sync", args=[s]), {}),
            (reverse("games:container-add", args=[s]), CONTAINER),
            (reverse("games:container-edit", args=[s, container.pk]), {**CONTAINER, "name": "Mine now"}),
            (reverse("games:container-status", args=[s, container.pk]), status_form(container, "INACTIVE")),
            (reverse("games:container-delete", args=[s, container.pk]), {}),
            (reverse("games:playlist-add", args=[s]), {"name": "Mine now", "container_type": "DISPLAY"}),
            (
                reverse("games:playlist-edit", args=[s, playlist.pk]),
                {"name": "Mine now", "container_type": "DISPLAY", **items_formset([(99, 5)])},
            ),
            (reverse("games:playlist-delete", args=[s, playlist.pk]), {}),
            (reverse("games:key-add", args=[s]), {"name": "Mine now"}),
            (reverse("games:key-revoke", args=[s, key.pk]), {}),
        ],
    }


GET_PAGES = ["detail", "edit", "delete", "container-add", "container-edit", "container-delete", "playlist-add",
             "playlist-edit", "playlist-delete"]  # fmt: skip
POSTS = ["edit", "delete", "sync", "container-add", "container-edit", "container-status", "container-delete",
         "playlist-add", "playlist-edit", "playlist-delete", "key-add", "key-revoke"]  # fmt: skip


@pytest.fixture
def owner_a_world(user_factory):
    owner_a = user_factory(role="OWNER")
    game = GameFactory(owner=owner_a, name="A's game", slug="a-game")
    container = AdContainerFactory(game=game, name="A's board")
    playlist = PlaylistFactory(game=game, name="A's playlist")
    key, _, _ = make_api_key(game, "A's key")
    return game, container, playlist, key


def _snapshot():
    return (
        list(Game.objects.values_list("id", "name", "slug", "is_active", "sync_status")),
        list(AdContainer.objects.values_list("id", "name", "status")),
        list(Playlist.objects.values_list("id", "name")),
        list(GameApiKey.objects.values_list("id", "name", "revoked_at")),
        ContainerStatusChange.objects.count(),
        PlaylistItem.objects.count(),
    )


@pytest.mark.parametrize("index", range(len(GET_PAGES)), ids=GET_PAGES)
def test_owner_b_gets_404_on_every_page_of_owner_as_game(client, owner, owner_a_world, index):
    client.force_login(owner)  # owner B
    url = _other_owners_urls(*owner_a_world)["get"][index]
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("index", range(len(POSTS)), ids=POSTS)
def test_owner_b_gets_404_on_every_post_to_owner_as_game(client, owner, owner_a_world, index, sync_delay):
    client.force_login(owner)  # owner B
    url, data = _other_owners_urls(*owner_a_world)["post"][index]
    before = _snapshot()
    assert client.post(url, data).status_code == 404
    assert _snapshot() == before
    sync_delay.assert_not_called()


def test_an_advertiser_gets_404_on_an_owners_game(client, advertiser, owner_a_world):
    client.force_login(advertiser)
    game = owner_a_world[0]
    assert client.get(reverse("games:detail", args=[game.slug])).status_code == 404


def test_owner_b_cannot_reach_owner_as_objects_through_their_own_game(client, owner, owner_a_world):
    """Container, playlist and key ids of another game are 404 even under one's own game's address."""
    _, container, playlist, key = owner_a_world
    mine = GameFactory(owner=owner, slug="mine")
    client.force_login(owner)
    assert client.get(reverse("games:container-edit", args=[mine.slug, container.pk])).status_code == 404
    assert client.post(reverse("games:container-status", args=[mine.slug, container.pk]),
                       status_form(container, "INACTIVE")).status_code == 404  # fmt: skip
    assert client.get(reverse("games:playlist-edit", args=[mine.slug, playlist.pk])).status_code == 404
    assert client.post(reverse("games:key-revoke", args=[mine.slug, key.pk])).status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_staff_may_open_any_game(client, staff_user, owner_a_world):
    client.force_login(staff_user)
    game = owner_a_world[0]
    assert client.get(reverse("games:detail", args=[game.slug])).status_code == 200
    assert "A&#x27;s game" in client.get(reverse("games:dashboard")).content.decode()


@pytest.mark.parametrize("index", range(len(GET_PAGES)), ids=GET_PAGES)
def test_anonymous_users_are_sent_to_log_in(client, owner_a_world, index):
    url = _other_owners_urls(*owner_a_world)["get"][index]
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("name", ["games:dashboard", "games:add"])
def test_anonymous_users_are_sent_to_log_in_from_the_lists(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_anonymous_posts_change_nothing(client, owner_a_world):
    before = _snapshot()
    for url, data in _other_owners_urls(*owner_a_world)["post"]:
        assert client.post(url, data).status_code == 302
    assert _snapshot() == before


def test_forms_without_a_csrf_token_are_rejected(owner, game, container):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    posts = [
        (reverse("games:add"), {"roblox_place_id": "123"}),
        (reverse("games:key-add", args=[game.slug]), {"name": "x"}),
        (reverse("games:container-status", args=[game.slug, container.pk]), status_form(container, "INACTIVE")),
        (reverse("games:delete", args=[game.slug]), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403
    assert Game.objects.count() == 1
    assert not GameApiKey.objects.exists()
    container.refresh_from_db()
    assert container.status == ContainerStatus.ACTIVE


def test_pages_carry_a_csrf_token_in_every_form(owner_client, game, container):
    html = owner_client.get(reverse("games:detail", args=[game.slug])).content.decode()
    post_forms = re.findall(r'<form method="post".*?</form>', html, flags=re.S)
    assert len(post_forms) >= 4
    assert all("csrfmiddlewaretoken" in form for form in post_forms)


def test_connect_snippet_escapes_the_games_name(owner_client, game):
    Game.objects.filter(pk=game.pk).update(name="</pre><script>alert(1)</script>")
    html = owner_client.get(reverse("games:detail", args=[game.slug])).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;/pre&gt;&lt;script&gt;alert(1)" in html


def test_lists_do_not_query_per_row(owner_client, owner, django_assert_max_num_queries):
    for n in range(15):
        game = GameFactory(owner=owner, name=f"Obby {n:02d}")
        AdContainerFactory(game=game)
    main = Game.objects.first()
    assert main is not None
    for n in range(10):
        AdContainerFactory(game=main)
        PlaylistFactory(game=main)
        make_api_key(main, f"key {n}")
    with django_assert_max_num_queries(12):
        assert owner_client.get(reverse("games:dashboard")).status_code == 200
    with django_assert_max_num_queries(16):
        assert owner_client.get(reverse("games:detail", args=[main.slug])).status_code == 200
