"""Thin Celery tasks over the scoreboard services."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

logger = logging.getLogger(__name__)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=120, max_retries=3)
def leaderboard_snapshots_take() -> int:
    """Every 5 minutes (beat): record the top 10 and the player count of every active game with scores.

    Each run adds rows (snapshots are kept for history); a repeated run only adds one more point in time.
    """
    from scoreboard import services

    snapshots = services.leaderboard_snapshots_take_all()
    purged = services.revoked_tokens_purge()
    logger.info(
        "scoreboard snapshot job done",
        extra={"snapshots": len(snapshots), "game_ids": [s.game_id for s in snapshots], "revocations_purged": purged},
    )
    return len(snapshots)


@shared_task(ignore_result=True, max_retries=0)
def avatar_headshots_fetch(user_ids: list[int], slug: str | None = None) -> int:
    """Fetch and cache the Roblox headshots of a live board's players, then have the board broadcast them.

    Queued by the boards themselves (``scoreboard.live_avatars``) for players with no cached picture; a
    failure leaves the placeholders and is asked again a minute later, so this task never retries itself.
    """
    from integrations.roblox.errors import RobloxError
    from scoreboard import live_avatars

    try:
        found = live_avatars.fetch_and_cache(user_ids)
    except RobloxError as exc:
        logger.info("avatar headshots not fetched", extra={"count": len(user_ids), "reason": type(exc).__name__})
        return 0
    if slug and any(t.is_completed for t in found.values()):
        live_avatars.announce(slug)
    return len(found)
