"""Issue 20, item 4, on the owner's forms: every problem in one submit, with the summary and the marks."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from games import services
from games.models import AdContainer, AssetType, ContainerType, Playlist
from games.tests.factories import AdContainerFactory, AssetFactory, GameFactory, PlaylistFactory
from games.tests.test_views import CONTAINER, items_formset

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def game(owner):
    return GameFactory(owner=owner, name="Obby Land", slug="obby-land")


def test_a_container_with_four_problems_reports_all_four_in_one_submit(owner_client, game):
    # given: a placement another container uses (uniqueness), a billboard wider than Roblox allows
    # (model rule), maintenance without a reason (service rule) and a missing name (form rule)
    AdContainerFactory(game=game, name="Spawn", placement="spawn")
    data = {**CONTAINER, "name": "", "placement": "spawn", "width_studs": "40", "status": "MAINTENANCE"}

    response = owner_client.post(reverse("games:container-add", args=[game.slug]), data)

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"name", "width_studs", "status_reason"} <= set(errors), errors
    assert "placement" in errors or "already exists" in str(errors.get("__all__")), errors
    assert AdContainer.objects.filter(game=game).count() == 1
    html = response.content.decode()
    assert 'class="error-summary"' in html
    found = re.search(r'<input[^>]*id="id_width_studs"[^>]*>', html)
    assert found is not None
    tag = found.group(0)
    assert 'aria-invalid="true"' in tag and "id_width_studs_error" in tag


def test_container_validate_writes_nothing(game):
    with pytest.raises(ValidationError) as caught:
        services.container_validate(game=game, data={**CONTAINER, "width_studs": "40", "status": "MAINTENANCE",
                                                     "blocked_categories": [], "playlist": None})  # fmt: skip
    assert {"width_studs", "status_reason"} <= set(caught.value.message_dict)
    assert not AdContainer.objects.exists()


def test_container_validate_of_an_edit_does_not_clash_with_itself(game):
    container = AdContainerFactory(game=game, name="Spawn", placement="spawn")
    services.container_validate(game=game, container=container, data={"name": "Spawn 2", "placement": "spawn"})


def test_game_edit_reports_a_reserved_address_from_the_service(owner_client, game):
    response = owner_client.post(
        reverse("games:edit", args=[game.slug]), {"name": "Obby Land", "slug": "add", "description": ""}
    )
    assert "This address is reserved" in str(response.context["form"].errors["slug"])
    with pytest.raises(ValidationError):
        services.game_update(game=game, data={"slug": "add"})


def test_game_add_reports_a_place_already_registered(owner_client, game):
    response = owner_client.post(reverse("games:add"), {"roblox_place_id": str(game.roblox_place_id), "name": ""})
    assert "already registered" in str(response.context["form"].errors["roblox_place_id"])


def test_a_playlist_edit_reports_the_name_and_every_bad_row_in_one_submit(owner_client, game):
    PlaylistFactory(game=game, name="Taken")
    playlist = PlaylistFactory(game=game, name="Mine", container_type=ContainerType.DISPLAY)
    model = AssetFactory(asset_type=AssetType.MODEL)  # a model cannot show on a billboard
    rows = [(model.roblox_asset_id, 10), (2, 0)]
    data = {"name": "Taken", "container_type": "DISPLAY", **items_formset(rows)}

    response = owner_client.post(reverse("games:playlist-edit", args=[game.slug, playlist.pk]), data)

    assert response.status_code == 200
    assert "already has a playlist" in str(response.context["form"].errors["name"])
    rows_with_errors = [i for i, form in enumerate(response.context["formset"].forms) if form.errors]
    assert rows_with_errors == [0, 1]
    html = response.content.decode()
    assert 'class="error-summary"' in html and "Row 2" in html
    playlist.refresh_from_db()
    assert playlist.name == "Mine"


def test_playlist_validate_reports_each_row(game):
    with pytest.raises(ValidationError) as caught:
        services.playlist_validate(
            game=game, name="", container_type="DISPLAY",
            items=[{"roblox_asset_id": "x", "display_seconds": 5}, {"roblox_asset_id": 5, "display_seconds": -1}],
        )  # fmt: skip
    assert set(caught.value.message_dict) == {"name", "items[0]", "items[1]"}
    assert not Playlist.objects.exists()
