"""Thin Celery tasks of the ad server; each one logs what it did (through the services it calls)."""

from __future__ import annotations

from celery import shared_task

from adplatform.redis import get_redis


def _exclusive(name: str, seconds: int):
    """A Redis lock so a job scheduled every second never runs twice at once."""
    return get_redis().lock(f"lock:{name}", timeout=seconds, blocking=False)


@shared_task(ignore_result=True)
def drain_decisions() -> int:
    from ads.streams import drain_decisions as drain

    lock = _exclusive("drain_decisions", 60)
    if not lock.acquire():
        return 0
    try:
        return drain()
    finally:
        lock.release()


@shared_task(ignore_result=True)
def drain_events() -> int:
    from ads.events import events_drain

    lock = _exclusive("drain_events", 120)
    if not lock.acquire():
        return 0
    try:
        return events_drain()
    finally:
        lock.release()


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
    from ads.reporting import performance_rollup_recent

    lock = _exclusive("rollup_performance", 300)
    if not lock.acquire():
        return {}
    try:
        return performance_rollup_recent()
    finally:
        lock.release()


# --------------------------------------------------------------------------- Roblox compliance (ads.compliance)


@shared_task(ignore_result=True)
def creative_roblox_check_task(creative_id: int) -> str:
    """Ask Roblox (Open Cloud Assets) about a creative's asset: owner and moderation."""
    from ads.compliance import creative_roblox_check

    creative = creative_roblox_check(creative_id=creative_id)
    return creative.roblox_review if creative else ""


@shared_task(bind=True, ignore_result=True, max_retries=None)
def creative_upload_process_task(self, upload_id: int) -> str:
    """Send an upload to Roblox or poll its operation; polls again every 30 s until Roblox finished."""
    from ads.compliance import creative_upload_process
    from integrations.roblox.errors import RobloxUnavailable

    try:
        upload, again = creative_upload_process(upload_id=upload_id)
    except RobloxUnavailable as exc:
        if self.request.retries >= 8:
            raise
        raise self.retry(exc=exc, countdown=min(600, 30 * 2**self.request.retries)) from exc
    if again:
        creative_upload_process_task.apply_async(args=[upload_id], countdown=30)
    return upload.state if upload else ""


@shared_task(ignore_result=True)
def roblox_reviews_refresh() -> int:
    """Every 10 minutes: poll Roblox's moderation of creatives still in review."""
    from ads.compliance import roblox_reviews_refresh as refresh

    lock = _exclusive("roblox_reviews_refresh", 900)
    if not lock.acquire():
        return 0
    try:
        return refresh()
    finally:
        lock.release()


@shared_task(ignore_result=True)
def qualified_visits_collect() -> int:
    """Every minute: qualified visits (Roblox's revenue share) from the engagements of the last hours."""
    from ads.revenue_share import qualified_visits_collect_new as collect

    lock = _exclusive("qualified_visits_collect", 300)
    if not lock.acquire():
        return 0
    try:
        return collect()
    finally:
        lock.release()
