"""Thin Celery tasks of the ad server; each one logs what it did (through the services it calls)."""

from __future__ import annotations

import contextlib
from contextlib import contextmanager

import redis
from celery import shared_task
from redis.exceptions import LockError

from adplatform.core.redis import get_redis

LEASE_SECONDS = 5  # a worker killed mid-run holds its lock this long at most; renewed every second while it runs


@contextmanager
def _exclusive(name: str, seconds: int = LEASE_SECONDS):
    """A Redis lock so a job scheduled every second never runs twice at once: yields whether this run has it.

    A short lease renewed while the job runs (not a timeout as long as the longest run): a worker killed
    mid-run (``kill -9``) stops renewing, and the next run starts within ``seconds``.
    """
    from ads.streams import kept_alive

    # thread_local=False: the renewal thread extends the lock this thread took
    lock = get_redis().lock(f"lock:{name}", timeout=seconds, blocking=False, thread_local=False)
    if not lock.acquire():
        yield False
        return
    try:
        with kept_alive(lambda: lock.reacquire()):
            yield True
    finally:
        with contextlib.suppress(redis.RedisError, LockError):  # lapsed (Redis away longer than the lease)
            lock.release()


@shared_task(ignore_result=True)
def drain_decisions() -> int:
    from ads.streams import drain_decisions as drain

    with _exclusive("drain_decisions") as mine:
        return drain() if mine else 0


@shared_task(ignore_result=True)
def drain_events() -> int:
    from ads.events import events_drain

    with _exclusive("drain_events") as mine:
        return events_drain() if mine else 0


@shared_task(ignore_result=True)
def release_expired_reservations() -> int:
    from ads.budget import decisions_release_expired

    released, total = 1, 0
    while released:
        released = decisions_release_expired()
        total += released
    return total


@shared_task(ignore_result=True)
def reconcile_budgets() -> dict:
    from ads.budget import budget_reconcile

    return {str(k): v for k, v in budget_reconcile().items()}


@shared_task(ignore_result=True)
def rollup_performance() -> dict:
    """Every minute: the current and previous hour of ``AdPerformance``, plus hours late rows touched."""
    from ads.rollups import performance_rollup_recent

    with _exclusive("rollup_performance") as mine:
        return performance_rollup_recent() if mine else {}


# --------------------------------------------------------------------------- Roblox compliance (ads.compliance)


@shared_task(ignore_result=True)
def asset_verdict_task(game_id: int, roblox_asset_id: int) -> str:
    """Ask Roblox whether an asset is the game owner's (a web request waits briefly for the answer)."""
    from ads.compliance import asset_verdict_record

    return asset_verdict_record(game_id=game_id, roblox_asset_id=roblox_asset_id).review


@shared_task(ignore_result=True)
def creative_roblox_check_task(creative_id: int) -> str:
    """Ask Roblox (Open Cloud Assets) about a creative's asset: owner and moderation."""
    from ads.compliance import creative_roblox_check

    creative = creative_roblox_check(creative_id=creative_id)
    return creative.roblox_review if creative else ""


@shared_task(bind=True, ignore_result=True, max_retries=None)
def creative_upload_process_task(self, upload_id: int) -> str:
    """Send an upload to Roblox or poll its operation; polls again every 30 s until Roblox finished."""
    from ads.uploads import creative_upload_process
    from integrations.roblox.errors import RobloxUnavailable

    try:
        upload, again = creative_upload_process(upload_id=upload_id)
    except RobloxUnavailable as exc:
        if self.request.retries >= 8:
            raise
        raise self.retry(exc=exc, countdown=min(600, 30 * 2**self.request.retries)) from exc
    if again:
        creative_upload_process_task.apply_async(args=(upload_id,), countdown=30)
    return upload.state if upload else ""


@shared_task(ignore_result=True)
def roblox_reviews_refresh() -> int:
    """Every 10 minutes: poll Roblox's moderation of creatives still in review."""
    from ads.compliance import roblox_reviews_refresh as refresh

    with _exclusive("roblox_reviews_refresh") as mine:
        return refresh() if mine else 0


@shared_task(ignore_result=True)
def qualified_visits_collect() -> int:
    """Every minute: qualified visits (Roblox's revenue share) from the engagements of the last hours."""
    from ads.revenue_share import qualified_visits_collect_new as collect

    with _exclusive("qualified_visits_collect") as mine:
        return collect() if mine else 0
