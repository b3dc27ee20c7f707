"""seed_demo: action types and players with scores for the demo game, idempotently."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from scoreboard import services
from scoreboard.models import ActionType, ScoreHistory

pytestmark = pytest.mark.django_db


def _seed() -> dict:
    out = StringIO()
    call_command("seed_demo", "--json", stdout=out)
    return json.loads(out.getvalue())


def test_seed_demo_creates_action_types_and_a_leaderboard_idempotently():
    first = _seed()
    assert first["action_types"] == ["boss_defeated", "checkpoint_reached", "coin_collected", "daily_login"]
    board = services.leaderboard_top(first["game_slug"], 100)
    assert len(board.entries) == 20 == first["leaderboard_players"]
    assert board.entries[0].score > board.entries[-1].score > 0
    history = ScoreHistory.objects.count()

    second = _seed()
    assert ScoreHistory.objects.count() == history
    assert ActionType.objects.filter(game__slug=second["game_slug"]).count() == 4
    assert [e.score for e in services.leaderboard_top(second["game_slug"], 100).entries] == [
        e.score for e in board.entries
    ]
