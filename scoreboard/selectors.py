"""Reads of the scoreboard: leaderboards (Redis, O(log N)), with PostgreSQL as the fallback and the truth.

``leaderboard_top`` and ``leaderboard_player`` read the game's sorted set in
one round trip each (a Lua script: ``ZREVRANGE``/``ZREVRANK`` plus the
usernames). When the set is missing they have it rebuilt from PostgreSQL
first; when Redis is down they answer from PostgreSQL, in the same order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from django.conf import settings
from django.db.models import Max, Q, QuerySet

from adplatform.core.localcache import TTLCache
from games.models import Game
from scoreboard import leaderboard
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


def _when(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, tz=UTC) if ms else None


def _ready(game: GameRef) -> bool:
    from scoreboard.services import leaderboard_ensure

    return leaderboard_ensure(game_id=game.id, slug=game.slug, reason="missing_on_read")


def leaderboard_top(slug: str, limit: int = 10) -> Leaderboard | None:
    """The first ``limit`` (at most 100) players of a game's board; None for an unknown game."""
    game = game_by_slug(slug)
    if game is None:
        return None
    limit = max(1, min(limit, MAX_LIMIT))
    try:
        top = leaderboard.board_top(game.id, limit)
        if top is None and _ready(game):
            top = leaderboard.board_top(game.id, limit)
    except redis.RedisError:
        logger.warning("leaderboard read from postgresql: redis unavailable", extra={"game_id": game.id})
        top = None
    if top is None:
        return Leaderboard(
            game=game,
            updated_at=_db_updated_at(game.id),
            entries=leaderboard_top_from_db(game.id, limit),
            total=scored_players(game.id).count(),
        )
    return Leaderboard(game=game, updated_at=_when(top.updated_ms), entries=top.entries, total=top.total)


def leaderboard_player(slug: str, player_id: int) -> PlayerStanding | None:
    """A player's rank and score with up to 5 players above and 5 below; None when the player has no score."""
    game = game_by_slug(slug)
    if game is None:
        return None
    try:
        standing = leaderboard.board_standing(game.id, player_id)
        if standing is None and _ready(game):
            standing = leaderboard.board_standing(game.id, player_id)
    except redis.RedisError:
        logger.warning("leaderboard read from postgresql: redis unavailable", extra={"game_id": game.id})
        standing = None
    if standing is leaderboard.NO_SCORE:
        return None
    if standing is None:
        return _standing_from_db(game, player_id)
    return PlayerStanding(
        game=game,
        rank=standing.rank,
        player_id=standing.player_id,
        username=standing.username,
        score=standing.score,
        around=standing.around,
        updated_at=_when(standing.updated_ms),
    )


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


def _db_updated_at(game_id: int) -> datetime | None:
    return scored_players(game_id).aggregate(latest=Max("last_action_at"))["latest"]


def _standing_from_db(game: GameRef, player_id: int) -> PlayerStanding | None:
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
        updated_at=_db_updated_at(game.id),
    )


# --------------------------------------------------------------------------- management


def action_types_of(game: Game) -> QuerySet[ActionType]:
    return ActionType.objects.filter(game=game).order_by("key", "id")


def player_history(player: Player, limit: int = 50) -> QuerySet[ScoreHistory]:
    return player.history.select_related("action_type")[:limit]
