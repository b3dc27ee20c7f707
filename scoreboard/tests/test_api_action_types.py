"""Owners manage their games' action types through the management API; nobody else sees them."""

from __future__ import annotations

import pytest

from games.tests.factories import GameFactory
from scoreboard.models import ActionType
from scoreboard.tests.factories import ActionTypeFactory, assert_error

pytestmark = pytest.mark.django_db

FIELDS = {"id", "key", "name", "base_score", "cooldown_seconds", "max_per_hour", "is_active", "rules",
          "created_at", "updated_at"}  # fmt: skip


def url(game, pk=None) -> str:
    base = f"/api/v1/manage/games/{game.pk}/action-types/"
    return f"{base}{pk}/" if pk else base


def test_owner_lists_creates_reads_and_updates_action_types(token_client, owner, game, coin):
    client = token_client(owner)
    listed = client.get(url(game)).json()
    assert [a["key"] for a in listed["results"]] == ["coin_collected"]
    assert set(listed["results"][0]) == FIELDS and listed["next"] is None

    body = {"key": "daily_login", "name": "Daily login", "base_score": 100, "cooldown_seconds": 72000,
            "rules": {"streak": {"window_seconds": 172800, "step_percent": 20}}}  # fmt: skip
    created = client.post(url(game), body, format="json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["rules"] == {"streak": {"window_seconds": 172800, "step_percent": 20, "max_percent": 200}}
    assert (data["max_per_hour"], data["is_active"]) == (None, True)

    assert client.get(url(game, data["id"])).json()["name"] == "Daily login"
    changed = client.patch(url(game, data["id"]), {"base_score": 150, "is_active": False}, format="json").json()
    assert (changed["base_score"], changed["is_active"]) == (150, False)
    assert ActionType.objects.get(pk=data["id"]).base_score == 150


def test_a_deactivated_action_type_is_refused_by_game_servers_at_once(
    token_client, owner, game, coin, server, django_capture_on_commit_callbacks
):
    token = server.token(1)
    assert server.update(token).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        token_client(owner).patch(url(game, coin.pk), {"is_active": False}, format="json")
    assert_error(server.update(token), 422, "action_type_invalid")


def test_action_types_are_validated(token_client, owner, game, coin):
    client = token_client(owner)
    bad = [
        {"key": "x", "name": "X", "base_score": -1},
        {"key": "bad key", "name": "X", "base_score": 1},
        {"key": "x", "name": "X", "base_score": 1, "max_per_hour": 0},
        {"key": "x", "name": "X", "base_score": 1, "rules": {"jackpot": True}},
        {"key": "x", "name": "X", "base_score": 1, "rules": {"streak": {"window_seconds": 0}}},
        {"key": "coin_collected", "name": "Again", "base_score": 1},
        {"name": "No key", "base_score": 1},
    ]
    for body in bad:
        assert_error(client.post(url(game), body, format="json"), 400, "validation_error")
    response = client.patch(url(game, coin.pk), {"key": "renamed"}, format="json")
    assert "key" in assert_error(response, 400, "validation_error")["details"]


def test_other_owners_and_advertisers_get_404(token_client, owner, user_factory, advertiser, game, coin):
    stranger = user_factory(role="OWNER")
    for user in (stranger, advertiser):
        client = token_client(user)
        assert_error(client.get(url(game)), 404, "not_found")
        assert_error(client.get(url(game, coin.pk)), 404, "not_found")
        assert_error(client.post(url(game), {"key": "x", "name": "X", "base_score": 1}, format="json"), 404,
                     "not_found")  # fmt: skip
        assert_error(client.patch(url(game, coin.pk), {"base_score": 1}, format="json"), 404, "not_found")
    assert ActionType.objects.get(pk=coin.pk).base_score == 10


def test_an_action_type_of_another_game_is_404_under_this_game(token_client, owner, game):
    other = ActionTypeFactory(game=GameFactory(owner=owner))
    assert_error(token_client(owner).get(url(game, other.pk)), 404, "not_found")


def test_staff_see_every_game(token_client, staff_user, game, coin):
    assert token_client(staff_user).get(url(game, coin.pk)).status_code == 200


def test_anonymous_is_401(api_client, game):
    assert api_client.get(url(game)).status_code == 401
