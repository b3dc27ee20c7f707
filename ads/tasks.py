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
