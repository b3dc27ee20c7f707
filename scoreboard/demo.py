"""Demo data for seed_demo: action types and 20 players with a week of credited actions on the demo game.

Scores are made by the same crediting function the update endpoint uses
(``services.score_credit``, with times in the past), so history, scores and
the leaderboard agree. Re-running adds nothing: credits have fixed action ids.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.utils import timezone

from adplatform.core.api.errors import DomainError
from scoreboard import services
from scoreboard.models import ActionType, Player, ScoreHistory, ScoreSource

ACTION_TYPES: list[dict[str, Any]] = [
    {"key": "coin_collected", "name": "Coin collected", "base_score": 10, "cooldown_seconds": 0, "max_per_hour": 600},
    {"key": "checkpoint_reached", "name": "Checkpoint reached", "base_score": 50, "cooldown_seconds": 5,
     "max_per_hour": 120},
    {"key": "boss_defeated", "name": "Boss defeated", "base_score": 500, "cooldown_seconds": 300,
     "max_per_hour": 6},
    {"key": "daily_login", "name": "Daily login", "base_score": 100, "cooldown_seconds": 43200,
     "rules": {"streak": {"window_seconds": 172800, "step_percent": 20, "max_percent": 300}}},
]  # fmt: skip

PLAYERS = [
    "builderman", "Shedletsky", "ObbyQueen", "LavaHopper", "NoobMaster_77", "PixelPanda", "TurboTom", "SkyWalker_R",
    "BlockyBella", "CaptainCube", "NeonNinja", "RocketRaccoon", "JumpyJess", "StudMuncher", "GlitchGuru",
    "SpeedySam", "CoinCollector", "TowerTitan", "ZoomZara", "BaconHair42",
]  # fmt: skip
FIRST_PLAYER_ID = 90_000_001


def seed(context: dict) -> None:
    game = context["_game"]
    action_types: dict[str, ActionType] = {}
    for spec in ACTION_TYPES:
        existing = ActionType.objects.filter(game=game, key=spec["key"]).first()
        action_types[spec["key"]] = existing or services.action_type_create(game=game, data=dict(spec))
    rules = {key: services.ActionRule.of(at) for key, at in action_types.items()}

    already = set(ScoreHistory.objects.filter(game=game, source=ScoreSource.SEED).values_list("action_id", flat=True))
    rng = random.Random(8)  # noqa: S311 - the same demo every time, not a secret
    start = timezone.now() - timedelta(days=7)
    for index, username in enumerate(PLAYERS):
        player_id = FIRST_PLAYER_ID + index
        player = Player.objects.filter(game=game, roblox_user_id=player_id).first() or services.player_upsert(
            game_id=game.pk, player_id=player_id, username=username
        )
        at = start + timedelta(minutes=rng.randint(0, 600))
        for day in range(7):
            for n, key in enumerate(_day_of_actions(rng, day)):
                action_id = f"demo-{player_id}-{day}-{n}"
                at = max(at, start + timedelta(days=day)) + timedelta(seconds=rng.randint(301, 900))
                if action_id in already:
                    continue
                try:
                    services.score_credit(
                        game_id=game.pk,
                        slug=game.slug,
                        player_pk=player.pk,
                        action=rules[key],
                        action_id=action_id,
                        at=at,
                        source=ScoreSource.SEED,
                    )
                except DomainError as exc:  # a cooldown the random schedule ran into: skip that credit
                    if exc.code != "rate_limited":
                        raise
    players = services.leaderboard_rebuild(game_id=game.pk, slug=game.slug, reason="seed")
    context.update(
        action_types=sorted(action_types),
        leaderboard_url=f"/api/v1/leaderboards/{game.slug}",
        leaderboard_players=players,
    )


def _day_of_actions(rng: random.Random, day: int) -> list[str]:
    actions = ["daily_login"] if rng.random() < 0.85 else []
    actions += ["coin_collected"] * rng.randint(0, 6)
    actions += ["checkpoint_reached"] * rng.randint(0, 4)
    actions += ["boss_defeated"] * (1 if rng.random() < 0.3 else 0)
    return actions
