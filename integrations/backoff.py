"""How long to wait before trying Roblox again: every retry wait of the integration, written once.

The strategies are tenacity's (:mod:`tenacity.wait`); the HTTP client retries with :class:`tenacity.Retrying`
over them, and Celery tasks take their ``countdown`` from the same strategies through :func:`delay`.
"""

from __future__ import annotations

from tenacity import RetryCallState
from tenacity.wait import wait_base, wait_exponential, wait_random_exponential

TASK_RETRY_BASE_SECONDS = 30.0
TASK_RETRY_MAX_SECONDS = 900.0


def equal_jitter(*, base: float, cap: float) -> wait_base:
    """Capped exponential backoff with "equal jitter": after failure n (from 1), half of
    ``min(cap, base * 2 ** (n - 1))`` fixed plus up to the other half at random, so that retrying processes
    spread out but none retries at once."""
    half = {"multiplier": base / 2, "max": cap / 2}
    return wait_exponential(**half) + wait_random_exponential(**half)


def exponential(*, base: float, cap: float) -> wait_base:
    """``min(cap, base * 2 ** (n - 1))`` after failure n (from 1), without jitter: a schedule, not a stampede."""
    return wait_exponential(multiplier=base, max=cap)


def delay(strategy: wait_base, attempt_number: int) -> float:
    """The seconds ``strategy`` waits after failed attempt number ``attempt_number`` (1 for the first)."""
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = max(1, attempt_number)
    return float(strategy(state))


def retry_countdown(
    retries: int,
    retry_after: float | None,
    *,
    base: float = TASK_RETRY_BASE_SECONDS,
    cap: float = TASK_RETRY_MAX_SECONDS,
) -> float:
    """Seconds before a Celery task's retry number ``retries + 1``.

    What Roblox (or our breaker / rate limiter) asked for when it said (``retry_after``), capped; otherwise
    :func:`equal_jitter`, so that many failed tasks do not come back at once.
    """
    if retry_after is not None:
        return min(cap, max(1.0, float(retry_after)))
    return delay(equal_jitter(base=base, cap=cap), retries + 1)
