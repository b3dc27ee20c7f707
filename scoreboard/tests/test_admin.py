"""Staff tools: every scoreboard admin page renders, and the player actions go through the services."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from scoreboard import leaderboard, services
from scoreboard.models import ActionType, Player, RevokedToken, ScoreboardSnapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def scored(game, coin, server):
    token = server.token(42, "builderman")
    assert server.update(token).status_code == 200
    server.revoke(token=token)
    services.leaderboard_snapshots_take_all()
    services.leaderboard_rebuild(game_id=game.pk)  # the credit's post-commit update never runs in a test transaction
    return Player.objects.get(game=game, roblox_user_id=42)


def _changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


@pytest.mark.parametrize("model", [m for m in admin.site._registry if m._meta.app_label == "scoreboard"])
def test_every_scoreboard_admin_page_renders(staff_client, scored, model):
    obj = model.objects.first()
    assert obj is not None, model
    assert staff_client.get(_changelist(model)).status_code == 200
    assert staff_client.get(_changelist(model) + "?q=42").status_code == 200
    meta = model._meta
    assert (
        staff_client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])).status_code == 200
    )


def test_history_can_be_filtered(staff_client, scored, game):
    url = _changelist(scored.history.model)
    for query in (f"?game__id__exact={game.pk}", "?source__exact=GAME_SERVER", f"?player__id__exact={scored.pk}"):
        response = staff_client.get(url + query)
        assert response.status_code == 200
        assert b"builderman" in response.content


def test_ban_and_unban_actions(staff_client, scored, game, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(_changelist(Player), {"action": "ban", "_selected_action": [scored.pk]}, follow=True)
    scored.refresh_from_db()
    assert scored.is_banned and "admin" in scored.ban_reason
    assert leaderboard.board_standing(game.pk, 42) is leaderboard.NO_SCORE
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(_changelist(Player), {"action": "unban", "_selected_action": [scored.pk]}, follow=True)
    scored.refresh_from_db()
    assert not scored.is_banned
    assert leaderboard.board_standing(game.pk, 42).rank == 1


def test_revoke_tokens_action(staff_client, scored, server):
    token = server.token(42)
    staff_client.post(_changelist(Player), {"action": "revoke_tokens", "_selected_action": [scored.pk]}, follow=True)
    scored.refresh_from_db()
    assert scored.tokens_not_before is not None
    assert server.update(token).json()["error"]["code"] == "token_revoked"


def test_records_are_read_only(staff_client, scored):
    for model in (RevokedToken, ScoreboardSnapshot, scored.history.model):
        assert staff_client.get(reverse(f"admin:scoreboard_{model._meta.model_name}_add")).status_code == 403


def test_action_types_are_saved_through_the_service(staff_client, game):
    response = staff_client.post(
        reverse("admin:scoreboard_actiontype_add"),
        {
            "game": game.pk,
            "key": "gem_found",
            "name": "Gem found",
            "base_score": 25,
            "cooldown_seconds": 0,
            "max_per_hour": "",
            "is_active": "on",
            "rules": '{"streak": {"window_seconds": 60}}',
        },
    )
    assert response.status_code == 302, response.content
    action_type = ActionType.objects.get(game=game, key="gem_found")
    assert action_type.rules["streak"]["max_percent"] == 200
    bad = staff_client.post(
        reverse("admin:scoreboard_actiontype_add"),
        {"game": game.pk, "key": "gem2", "name": "Gem", "base_score": 1, "cooldown_seconds": 0, "rules": '{"x": 1}'},
    )
    assert bad.status_code == 200 and b"Unknown rules" in bad.content
