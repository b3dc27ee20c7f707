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
