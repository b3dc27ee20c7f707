"""Roblox data for a web request, never waiting on Roblox itself: from the cache, or from a worker, briefly.

A web request must not hold its thread through Roblox's retries and backoff (a minute, at worst). So
:func:`read` answers from the cache; on a miss it hands the read to a Celery worker (once per object, however
many requests miss it at the same moment) and waits up to ``ROBLOX_DATA_API_WAIT_MS`` for the worker to fill
the cache. Then it answers what the worker found, the failure the worker recorded, or
:class:`~integrations.roblox.errors.RobloxPending` (the data API's ``503`` with ``Retry-After``).
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from django.conf import settings

from integrations import services, tasks
from integrations.roblox.errors import RobloxNotCached, RobloxPending

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.05
sleep = time.sleep  # replaced in tests


def wait_seconds() -> float:
    return max(0.0, float(getattr(settings, "ROBLOX_DATA_API_WAIT_MS", 1500)) / 1000)


def read(kind: str, **params: Any) -> Any:
    """The answer of the read ``kind`` (a key of :data:`integrations.services.READS`) for ``params``.

    Raises what the read raises (``RobloxNotFound``...), the failure a worker recorded for it, or
    ``RobloxPending`` when the worker has not answered within the wait.
    """
    try:
        return services.roblox_read_cached(kind=kind, params=params)
    except RobloxNotCached as miss:
        missing = miss.missing
    failure = services.roblox_refresh_failure(kind=kind, params=params, ids=missing)
    if failure is not None:
        raise failure
    _queue(kind, params, missing)
    deadline = time.monotonic() + wait_seconds()
    while True:
        try:
            return services.roblox_read_cached(kind=kind, params=params)
        except RobloxNotCached as miss:
            missing = miss.missing
        failure = services.roblox_refresh_failure(kind=kind, params=params, ids=missing)
        if failure is not None:
            raise failure
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        sleep(min(POLL_SECONDS, remaining))
    retry_after = max(1, math.ceil(wait_seconds()))
    raise RobloxPending(f"Roblox is being asked for {kind}; retry in {retry_after} s", retry_after=retry_after)


def _queue(kind: str, params: dict[str, Any], missing: list[int]) -> None:
    claimed = services.roblox_refresh_claim(kind=kind, params=params, ids=missing)
    if not claimed:
        return  # another request's worker is already asking
    try:
        tasks.roblox_refresh.delay(kind, services.roblox_refresh_params(kind=kind, params=params, ids=claimed))
    except Exception as exc:  # the broker (Redis) is down: nobody will ask Roblox
        services.roblox_refresh_release(kind=kind, params=params, ids=claimed)
        logger.warning("roblox refresh not queued", extra={"kind": kind, "error": type(exc).__name__})
        raise RobloxPending("cannot queue the Roblox request now", retry_after=5) from exc
