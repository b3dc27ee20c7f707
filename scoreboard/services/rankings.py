"""Leaderboards in Redis: changes applied after each commit, rebuilds from PostgreSQL, snapshots.

The reads that may have to rebuild a missing board (:func:`leaderboard_top`, :func:`leaderboard_player`)
live here too: a selector only reads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import redis
from django.db import transaction
from django.utils import timezone

from games.models import Game
from scoreboard import leaderboard, metrics
from scoreboard.models import Player, Score, ScoreboardSnapshot
from scoreboard.selectors import (
    MAX_LIMIT,
    GameRef,
    Leaderboard,
    PlayerStanding,
    game_by_slug,
    leaderboard_player_from_db,
    leaderboard_top_from_db,
    leaderboard_updated_at_from_db,
    scored_players,
)
from scoreboard.services.common import _ms

logger = logging.getLogger(__name__)


_dirty_boards: set[int] = set()


def _after_commit_board(*, player: Player, score: Score | None, op: str) -> None:
    game_id, slug = player.game_id, Game.objects.filter(pk=player.game_id).values_list("slug", flat=True).first()

    def apply() -> None:
        try:
            leaderboard.board_apply(
                board_id=game_id,
                slug=slug or "",
                player_id=player.roblox_user_id,
                version=score.version if score else 0,
                score=score.score if score else 0,
                reached_ms=_ms(score.reached_at) if score and score.reached_at else 0,
                username=player.username,
                op=op,
                now_ms=int(time.time() * 1000),
            )
        except redis.RedisError:
            metrics.BOARD_SYNC_FAILURES.inc()
            _dirty_boards.add(game_id)
            logger.error("leaderboard not updated: redis unavailable", extra={"game_id": game_id, "op": op})

    transaction.on_commit(apply)


def _board_after_credit(
    *, game_id: int, slug: str, player_id: int, username: str, version: int, score: int, reached_at: datetime
) -> int | None:
    """Apply a committed change to the Redis board (one script: sorted set + publish); return the rank."""
    try:
        if game_id in _dirty_boards:
            # An earlier change of this process missed the board: have it rebuilt from PostgreSQL.
            leaderboard.board_forget(game_id)
            _dirty_boards.discard(game_id)
        change = leaderboard.board_apply(
            board_id=game_id,
            slug=slug,
            player_id=player_id,
            version=version,
            score=score,
            reached_ms=_ms(reached_at),
            username=username,
            now_ms=int(time.time() * 1000),
        )
        if change.ready:
            return change.rank
        if leaderboard_ensure(game_id=game_id, slug=slug, reason="missing_on_update"):
            standing = leaderboard.board_standing(game_id, player_id, radius=0)
            return standing.rank if isinstance(standing, leaderboard.BoardStanding) else None
        return None
    except redis.RedisError:
        metrics.BOARD_SYNC_FAILURES.inc()
        _dirty_boards.add(game_id)
        logger.error(
            "leaderboard not updated after a credit: redis unavailable; the board will be rebuilt",
            extra={"game_id": game_id, "player_id": player_id},
        )
        return None


def _board_rows(game_id: int) -> Iterator[leaderboard.BoardRow]:
    rows = (
        Score.objects.filter(game_id=game_id, reached_at__isnull=False)
        .values_list(
            "player__roblox_user_id", "player__username", "score", "reached_at", "version", "player__is_banned"
        )
        .order_by()
        .iterator(chunk_size=5000)
    )
    for player_id, username, score, reached_at, version, banned in rows:
        if reached_at is None:  # excluded by the query; the column is nullable for scores not yet reached
            continue
        yield leaderboard.BoardRow(
            player_id=player_id,
            username=username,
            score=score,
            reached_ms=_ms(reached_at),
            version=version,
            removed=banned,
        )


def leaderboard_rebuild(*, game_id: int, slug: str | None = None, reason: str = "command") -> int | None:
    """Rebuild a game's sorted set from PostgreSQL; the number of players on it, or None if one is running."""
    if slug is None:
        slug = Game.objects.filter(pk=game_id).values_list("slug", flat=True).first() or ""
    started = time.monotonic()
    count = leaderboard.board_rebuild(
        board_id=game_id, slug=slug, rows=_board_rows(game_id), now_ms=int(time.time() * 1000)
    )
    if count is not None:
        metrics.BOARD_REBUILDS.labels(reason=reason).inc()
        logger.info(
            "leaderboard rebuilt",
            extra={
                "game_id": game_id,
                "players": count,
                "reason": reason,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            },
        )
    return count


def leaderboard_ensure(*, game_id: int, slug: str, reason: str = "missing", wait: float = 5.0) -> bool:
    """Make sure the board exists: rebuild it, or wait for the rebuild another process runs. True when ready."""
    if leaderboard.board_ready(game_id):
        return True
    if leaderboard_rebuild(game_id=game_id, slug=slug, reason=reason) is not None:
        return True
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if leaderboard.board_ready(game_id):
            return True
    return False


@transaction.atomic
def leaderboard_snapshot_take(*, game: Game, size: int = 10) -> ScoreboardSnapshot:
    """Record the top of the game's board as PostgreSQL has it (the truth, whatever Redis holds)."""
    entries = [
        {"rank": e.rank, "player_id": e.player_id, "username": e.username, "score": e.score}
        for e in leaderboard_top_from_db(game.pk, size)
    ]
    snapshot = ScoreboardSnapshot.objects.create(
        game=game, taken_at=timezone.now(), total_players=scored_players(game.pk).count(), entries=entries
    )
    metrics.SNAPSHOTS.inc()
    return snapshot


def leaderboard_snapshots_take_all() -> list[ScoreboardSnapshot]:
    """One snapshot per active game that has at least one scored player (the periodic job)."""
    games = Game.objects.filter(is_active=True, scores__reached_at__isnull=False).distinct().order_by("pk")
    snapshots = [leaderboard_snapshot_take(game=game) for game in games]
    logger.info(
        "leaderboard snapshots taken",
        extra={"games": len(snapshots), "players": sum(s.total_players for s in snapshots)},
    )
    return snapshots


# --------------------------------------------------------------------------- public reads (may rebuild)


def _when(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, tz=UTC) if ms else None


def _ready(game: GameRef) -> bool:
    return leaderboard_ensure(game_id=game.id, slug=game.slug, reason="missing_on_read")


def leaderboard_top(slug: str, limit: int = 10) -> Leaderboard | None:
    """The first ``limit`` (at most 100) players of a game's board; None for an unknown game.

    One round trip to the sorted set (a Lua script: ``ZREVRANGE`` plus the usernames). A missing set is
    rebuilt from PostgreSQL first; with Redis down the answer comes from PostgreSQL, in the same order.
    """
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
            updated_at=leaderboard_updated_at_from_db(game.id),
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
        return leaderboard_player_from_db(game, player_id)
    return PlayerStanding(
        game=game,
        rank=standing.rank,
        player_id=standing.player_id,
        username=standing.username,
        score=standing.score,
        around=standing.around,
        updated_at=_when(standing.updated_ms),
    )
