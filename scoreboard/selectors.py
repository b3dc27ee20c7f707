"""Reads of the scoreboard, read-only: games by slug, the board as PostgreSQL has it (the truth and the fallback).

The public board reads (``leaderboard_top``, ``leaderboard_player``) read Redis and may have a missing board
rebuilt, which is a write: they are :mod:`scoreboard.services.rankings`'s. This module imports no service.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Max, Q, QuerySet

from adplatform.core.localcache import TTLCache
from games.models import Game
from scoreboard.leaderboard import BoardEntry, BoardStanding, leaderboard_group  # noqa: F401 - re-exported
from scoreboard.models import ActionType, Player, Score, ScoreHistory

logger = logging.getLogger(__name__)

MAX_LIMIT = 100
RANK_ORDER = ("-score", "reached_at", "-player__roblox_user_id")


@dataclass(frozen=True)
class GameRef:
    id: int
    slug: str
    name: str


@dataclass(frozen=True)
class Leaderboard:
    game: GameRef
    updated_at: datetime | None
    entries: list[BoardEntry]
    total: int


@dataclass(frozen=True)
class PlayerStanding:
    game: GameRef
    rank: int
    player_id: int
    username: str
    score: int
    around: list[BoardEntry]
    updated_at: datetime | None


_games_by_slug: TTLCache[GameRef | None] = TTLCache(ttl=getattr(settings, "SCORE_GAME_CACHE_SECONDS", 5.0))


def game_by_slug(slug: str) -> GameRef | None:
    """An active game by its public slug (cached in process for a few seconds), or None."""

    def load() -> GameRef | None:
        row = Game.objects.filter(slug=slug, is_active=True).values_list("pk", "slug", "name").first()
        return GameRef(*row) if row else None

    return _games_by_slug.get_or_load(slug, load)


# --------------------------------------------------------------------------- PostgreSQL (truth and fallback)


def scored_players(game_id: int) -> QuerySet[Score]:
    """Scores on the game's board: players with at least one credit who are not banned."""
    return Score.objects.filter(game_id=game_id, reached_at__isnull=False, player__is_banned=False)


def _entry(rank: int, row: tuple) -> BoardEntry:
    player_id, username, score = row
    return BoardEntry(rank=rank, player_id=player_id, username=username, score=score)


def _rows(qs: QuerySet[Score]):
    return qs.values_list("player__roblox_user_id", "player__username", "score")


def leaderboard_top_from_db(game_id: int, limit: int) -> list[BoardEntry]:
    """The top of the board computed by PostgreSQL, in the sorted set's order."""
    rows = _rows(scored_players(game_id).order_by(*RANK_ORDER))[:limit]
    return [_entry(i, row) for i, row in enumerate(rows, start=1)]


def leaderboard_updated_at_from_db(game_id: int) -> datetime | None:
    """When the board last changed, as PostgreSQL has it."""
    return scored_players(game_id).aggregate(latest=Max("last_action_at"))["latest"]


def leaderboard_player_from_db(game: GameRef, player_id: int) -> PlayerStanding | None:
    """A player's standing computed by PostgreSQL, in the sorted set's order; None without a score."""
    me = (
        scored_players(game.id)
        .filter(player__roblox_user_id=player_id)
        .values_list("score", "reached_at", "player__username")
        .first()
    )
    if me is None:
        return None
    score, reached_at, username = me
    ahead = (
        Q(score__gt=score)
        | Q(score=score, reached_at__lt=reached_at)
        | Q(score=score, reached_at=reached_at, player__roblox_user_id__gt=player_id)
    )
    board = scored_players(game.id)
    rank = board.filter(ahead).count() + 1
    above = list(_rows(board.filter(ahead).order_by("score", "-reached_at", "player__roblox_user_id"))[:5])
    below = list(_rows(board.exclude(ahead).exclude(player__roblox_user_id=player_id).order_by(*RANK_ORDER))[:5])
    around = [_entry(rank - i, row) for i, row in enumerate(above, start=1)][::-1]
    around += [_entry(rank + i, row) for i, row in enumerate(below, start=1)]
    return PlayerStanding(
        game=game,
        rank=rank,
        player_id=player_id,
        username=username,
        score=score,
        around=around,
        updated_at=leaderboard_updated_at_from_db(game.id),
    )


# --------------------------------------------------------------------------- management


def action_types_of(game: Game) -> QuerySet[ActionType]:
    return ActionType.objects.filter(game=game).order_by("key", "id")


def player_history(player: Player, limit: int = 50) -> QuerySet[ScoreHistory]:
    return player.history.select_related("action_type")[:limit]
