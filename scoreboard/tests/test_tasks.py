"""The periodic leaderboard snapshot job."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from games.tests.factories import GameFactory
from scoreboard import tasks
from scoreboard.models import Player, RevokedToken, Score, ScoreboardSnapshot

pytestmark = pytest.mark.django_db


def scores(game, values):
    reached = timezone.now() - timedelta(minutes=5)
    for i, value in enumerate(values, start=1):
        player = Player.objects.create(game=game, roblox_user_id=i, username=f"u{i}")
        Score.objects.create(player=player, game=game, score=value, reached_at=reached + timedelta(seconds=i),
                             version=i)  # fmt: skip


def test_the_snapshot_job_records_the_top_of_every_active_game(owner, caplog):
    busy, quiet, inactive = GameFactory(owner=owner), GameFactory(owner=owner), GameFactory(owner=owner)
    scores(busy, [30, 10, 20] + [1] * 12)
    scores(inactive, [5])
    inactive.is_active = False
    inactive.save()
    RevokedToken.objects.create(jti="old", game=busy, expires_at=timezone.now() - timedelta(minutes=1))

    with caplog.at_level(logging.INFO, logger="scoreboard"):
        assert tasks.leaderboard_snapshots_take() == 1

    snapshot = ScoreboardSnapshot.objects.get()
    assert snapshot.game == busy and snapshot.total_players == 15
    assert [(e["rank"], e["player_id"], e["score"]) for e in snapshot.entries[:3]] == [
        (1, 1, 30),
        (2, 3, 20),
        (3, 2, 10),
    ]
    assert len(snapshot.entries) == 10
    assert not ScoreboardSnapshot.objects.filter(game__in=[quiet, inactive]).exists()
    assert not RevokedToken.objects.exists()  # expired revocations are purged
    assert any("snapshot" in r.getMessage() for r in caplog.records)


def test_snapshots_are_kept_for_history(owner):
    game = GameFactory(owner=owner)
    scores(game, [1])
    tasks.leaderboard_snapshots_take()
    tasks.leaderboard_snapshots_take()
    assert ScoreboardSnapshot.objects.filter(game=game).count() == 2


def test_the_job_runs_every_five_minutes():
    entry = settings.CELERY_BEAT_SCHEDULE["scoreboard-snapshots"]
    assert entry["task"] == "scoreboard.tasks.leaderboard_snapshots_take"
    assert entry["schedule"] == timedelta(minutes=5)
    assert tasks.leaderboard_snapshots_take.name == entry["task"]
