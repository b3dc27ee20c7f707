"""Thin Celery tasks over the games services: the Roblox syncs and the Open Cloud serving-change publisher.

Retry policy: a task retries when Roblox is unavailable (``RobloxUnavailable``: 5xx, timeouts, 429 past the
client's own retries, an open circuit), waiting what Roblox asked for (``retry_after``) or a capped
exponential backoff with jitter. ``RobloxNotFound`` is never retried: the sync records it on the object.
"""

from __future__ import annotations

import logging

from celery import shared_task

from games import messaging, sync
from integrations.backoff import delay, exponential, retry_countdown
from integrations.roblox.errors import RobloxUnavailable

logger = logging.getLogger(__name__)

SYNC_MAX_RETRIES = 6
# Assets Roblox has not decided on yet (Pending / InReview / TemporarilyUnavailable) are asked again after
# 1, 2, 4, ... minutes, this many times; the hourly sync takes over after that.
ASSET_PENDING_ROUNDS = 6
ASSET_PENDING_FIRST_DELAY = 60
ASSET_PENDING_MAX_DELAY = 3600


def _assets_again_later(roblox_asset_ids: list[int], pending_round: int) -> None:
    if not roblox_asset_ids:
        return
    if pending_round >= ASSET_PENDING_ROUNDS:
        logger.info(
            "assets still undecided by roblox; left to the hourly sync",
            extra={"assets": len(roblox_asset_ids), "rounds": pending_round},
        )
        return
    countdown = delay(exponential(base=ASSET_PENDING_FIRST_DELAY, cap=ASSET_PENDING_MAX_DELAY), pending_round + 1)
    asset_sync.apply_async(args=(roblox_asset_ids,), kwargs={"pending_round": pending_round + 1}, countdown=countdown)


@shared_task(bind=True, max_retries=SYNC_MAX_RETRIES, ignore_result=True)
def game_sync(self, game_id: int) -> None:
    """Refresh one game's Roblox details (universe, name, stats, icon)."""
    try:
        sync.game_sync(game_id=game_id)
    except RobloxUnavailable as exc:
        raise self.retry(exc=exc, countdown=retry_countdown(self.request.retries, exc.retry_after)) from exc


@shared_task(bind=True, max_retries=SYNC_MAX_RETRIES, ignore_result=True)
def asset_sync(self, roblox_asset_ids: list[int], pending_round: int = 0) -> None:
    """Refresh assets' thumbnails, details and moderation state; undecided ones are synced again later."""
    try:
        later = sync.asset_sync(roblox_asset_ids=roblox_asset_ids)
    except RobloxUnavailable as exc:
        raise self.retry(exc=exc, countdown=retry_countdown(self.request.retries, exc.retry_after)) from exc
    _assets_again_later(later, pending_round)


@shared_task(ignore_result=True)
def sync_all_games() -> None:
    """Beat, every 10 minutes: every active game. Not retried: the next run comes soon enough."""
    sync.games_sync_all()


@shared_task(ignore_result=True)
def sync_all_assets() -> None:
    """Beat, hourly: every asset creatives or playlists use. Not retried: the next run comes within the hour."""
    _assets_again_later(sync.assets_sync_all(), 0)


@shared_task(bind=True, max_retries=5, ignore_result=True)
def publish_serving_change(self, game_ids: list[int], trailing: bool = False) -> None:
    """Tell these games' live servers (MessagingService) that the serving version changed; debounced per game.

    Games inside their debounce window get one trailing run at the window's end; games Roblox could not be
    reached for are retried (honouring ``Retry-After``); a refused key is logged and not retried.
    """
    outcome = messaging.serving_change_publish(game_ids=game_ids, trailing=trailing)
    if outcome.deferred:
        publish_serving_change.apply_async(
            args=(sorted(outcome.deferred),), kwargs={"trailing": True}, countdown=max(outcome.deferred.values())
        )
    if outcome.retry:
        raise self.retry(
            args=[outcome.retry],
            kwargs={"trailing": False},
            countdown=retry_countdown(self.request.retries, outcome.retry_after),
        )
