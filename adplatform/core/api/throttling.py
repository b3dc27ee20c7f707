"""Rate limits of the API kept in Redis, shared by every process: DRF throttles over :mod:`adplatform.core.ratelimit`.

A fixed window counter (:class:`~adplatform.core.ratelimit.FixedWindow`, one Lua script) is exact across
processes, unlike DRF's cache-based history which races under load. When Redis is unreachable the limit is
not enforced (fail open) and a warning is logged: the limit protects capacity, not money.
"""

from __future__ import annotations

import logging

import redis
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from adplatform.core.api.client import client_ip
from adplatform.core.ratelimit import FixedWindow, hit, parse_rate

__all__ = ["AnonRateThrottle", "FixedWindow", "RedisRateThrottle", "UserRateThrottle", "hit", "parse_rate"]

logger = logging.getLogger(__name__)


class RedisRateThrottle(BaseThrottle):
    scope: str = ""

    def __init__(self) -> None:
        self.wait_seconds: float | None = None

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        return rate if isinstance(rate, str) else None

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
        window = FixedWindow.parse(rate)
        try:
            self.wait_seconds = hit(f"{self.scope}:{ident}", window)
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
