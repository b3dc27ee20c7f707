from unittest import mock

import pytest
from django.contrib import admin
from django.urls import reverse

from games import keycache
from games.models import AdContainer, ContainerStatusChange, Game, GameApiKey
from games.tests.factories import AdContainerFactory, AssetFactory, GameFactory, PlaylistFactory, make_api_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture(autouse=True)
def _no_worker():
    with mock.patch("games.tasks.game_sync.delay") as game_sync, mock.patch("games.tasks.asset_sync.delay"):
        yield game_sync


def _changelist(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


@pytest.mark.parametrize("model", [m for m in admin.site._registry if m._meta.app_label == "games"])
def test_every_games_admin_page_renders(staff_client, model):
    container = AdContainerFactory()
    PlaylistFactory(game=container.game)
    AssetFactory()
    make_api_key(container.game)
    container.status_changes.create(to_status="ACTIVE", reason="seed")
    obj = model.objects.first()
    assert staff_client.get(_changelist(model)).status_code == 200
    assert staff_client.get(_changelist(model) + "?q=1").status_code == 200
    meta = model._meta
    assert (
        staff_client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])).status_code == 200
    )


def test_status_actions_go_through_the_service(staff_client, staff_user):
    containers = [AdContainerFactory(), AdContainerFactory()]
    response = staff_client.post(
        _changelist(AdContainer),
        {"action": "set_maintenance", "_selected_action": [c.pk for c in containers]},
        follow=True,
    )
    assert response.status_code == 200
    assert set(AdContainer.objects.values_list("status", flat=True)) == {"MAINTENANCE"}
    changes = ContainerStatusChange.objects.filter(to_status="MAINTENANCE")
    assert changes.count() == 2
    assert all(c.changed_by == staff_user and c.reason for c in changes)


def test_revoke_keys_action(staff_client):
    key, raw, _ = make_api_key(GameFactory())
    staff_client.post(_changelist(GameApiKey), {"action": "revoke", "_selected_action": [key.pk]})
    key.refresh_from_db()
    assert key.revoked_at is not None
    info = keycache.lookup(raw)
    assert info is not None and info.revoked


def test_sync_now_action_queues_the_sync(staff_client, _no_worker, django_capture_on_commit_callbacks):
    game = GameFactory()
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(_changelist(Game), {"action": "sync_now", "_selected_action": [game.pk]})
    _no_worker.assert_called_once_with(game.pk)
    game.refresh_from_db()
    assert game.sync_status == "SYNCING"


def test_container_edit_in_admin_records_the_status_change(staff_client, staff_user):
    container = AdContainerFactory()
    url = reverse("admin:games_adcontainer_change", args=[container.pk])
    data = {
        "game": container.game.pk, "name": "Renamed", "type": "DISPLAY", "status": "INACTIVE",
        "placement": container.placement, "width_studs": "16", "height_studs": "9", "floor_price_cpm": "2",
        "blocked_categories": "", "playlist": "", "status_reason": "season over",
        "status_changes-TOTAL_FORMS": "0", "status_changes-INITIAL_FORMS": "0",
    }  # fmt: skip
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    container.refresh_from_db()
    assert (container.name, container.status) == ("Renamed", "INACTIVE")
    assert ContainerStatusChange.objects.get(container=container, to_status="INACTIVE").reason == "season over"


def test_admin_refuses_a_billboard_outside_roblox_limits(staff_client):
    container = AdContainerFactory()
    url = reverse("admin:games_adcontainer_change", args=[container.pk])
    data = {
        "game": container.game.pk, "name": "x", "type": "DISPLAY", "status": "ACTIVE",
        "placement": container.placement, "width_studs": "100", "height_studs": "9", "floor_price_cpm": "2",
        "blocked_categories": "", "playlist": "", "status_reason": "",
        "status_changes-TOTAL_FORMS": "0", "status_changes-INITIAL_FORMS": "0",
    }  # fmt: skip
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert "studs wide" in response.content.decode()
    container.refresh_from_db()
    assert container.width_studs == 16
