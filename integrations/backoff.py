"""How long a Celery task waits before retrying after Roblox was unavailable."""

from __future__ import annotations

import random

TASK_RETRY_BASE_SECONDS = 30.0
TASK_RETRY_MAX_SECONDS = 900.0


def retry_countdown(
    retries: int,
    retry_after: float | None,
    *,
    base: float = TASK_RETRY_BASE_SECONDS,
    cap: float = TASK_RETRY_MAX_SECONDS,
) -> float:
    """Seconds before retry number ``retries + 1``.

    What Roblox (or our breaker / rate limiter) asked for when it said (``retry_after``), capped; otherwise a
    capped exponential backoff with equal jitter so that many failed tasks do not come back at once.
    """
    if retry_after is not None:
        return min(cap, max(1.0, float(retry_after)))
    ceiling = min(cap, base * (2 ** max(0, retries)))
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not security
