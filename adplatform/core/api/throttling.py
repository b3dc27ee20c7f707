"""Rate limits kept in Redis, shared by every process.

A fixed window counter (``INCR`` + ``EXPIRE`` in one pipeline) is exact across
processes, unlike DRF's cache-based history which races under load. When
Redis is unreachable the limit is not enforced (fail open) and a warning is
logged: the limit protects capacity, not money.
"""

from __future__ import annotations

import logging
import time

import redis
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from adplatform.core.api.client import client_ip
from adplatform.core.redis import get_redis

logger = logging.getLogger(__name__)

_PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"120/min"`` -> ``(120, 60)``; ``"10/5s"`` -> ``(10, 5)``."""
    count, _, period = rate.partition("/")
    digits = "".join(ch for ch in period if ch.isdigit())
    unit = period[len(digits) :]
    if unit not in _PERIODS:
        raise ValueError(f"bad rate {rate!r}")
    return int(count), int(digits or 1) * _PERIODS[unit]


def hit(key: str, limit: int, period: int) -> float | None:
    """Count one request against ``key``; return seconds to wait when over ``limit``, else None."""
    now = time.time()
    window = int(now // period)
    redis_key = f"rl:{key}:{window}"
    pipe = get_redis().pipeline(transaction=False)
    pipe.incr(redis_key)
    pipe.expire(redis_key, period + 1)
    count, _ = pipe.execute()
    if count > limit:
        return (window + 1) * period - now
    return None


class RedisRateThrottle(BaseThrottle):
    scope: str = ""

    def __init__(self):
        self.wait_seconds: float | None = None

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_ident_key(self, request) -> str | None:
        raise NotImplementedError

    def get_ident(self, request) -> str:
        # The one derivation of the client's address (trusted proxy hops only), not DRF's own.
        return client_ip(request)

    def allow_request(self, request, view) -> bool:
        rate = self.get_rate()
        ident = self.get_ident_key(request)
        if not rate or ident is None:
            return True
        limit, period = parse_rate(rate)
        try:
            self.wait_seconds = hit(f"{self.scope}:{ident}", limit, period)
        except redis.RedisError:
            logger.warning("rate limit not enforced: redis unavailable", extra={"scope": self.scope})
            return True
        return self.wait_seconds is None

    def wait(self) -> float | None:
        return self.wait_seconds


class AnonRateThrottle(RedisRateThrottle):
    scope = "anon"

    def get_ident_key(self, request) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.get_ident(request)


class UserRateThrottle(RedisRateThrottle):
    scope = "user"

    def get_ident_key(self, request) -> str | None:
        if request.user and request.user.is_authenticated:
            return str(request.user.pk)
        return None
