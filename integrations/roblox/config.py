"""The integration's settings, read at call time so tests and operators can change them."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

FAMILIES = ("universes", "games", "thumbnails", "economy", "opencloud")


@dataclass(frozen=True, slots=True)
class RobloxConfig:
    connect_timeout: float
    read_timeout: float
    max_retries: int
    backoff_base: float
    backoff_max: float
    retry_after_max: float
    rate_limit_per_minute: int
    rate_limit_burst: int
    rate_limit_max_wait: float
    breaker_failures: int
    breaker_cooldown: float
    breaker_failure_window: float


def get_config() -> RobloxConfig:
    return RobloxConfig(
        connect_timeout=float(settings.ROBLOX_CONNECT_TIMEOUT),
        read_timeout=float(settings.ROBLOX_READ_TIMEOUT),
        max_retries=max(0, int(settings.ROBLOX_MAX_RETRIES)),
        backoff_base=settings.ROBLOX_BACKOFF_BASE_MS / 1000,
        backoff_max=settings.ROBLOX_BACKOFF_MAX_MS / 1000,
        retry_after_max=float(settings.ROBLOX_RETRY_AFTER_MAX),
        rate_limit_per_minute=int(settings.ROBLOX_RATE_LIMIT_PER_MINUTE),
        rate_limit_burst=max(1, int(settings.ROBLOX_RATE_LIMIT_BURST)),
        rate_limit_max_wait=settings.ROBLOX_RATE_LIMIT_MAX_WAIT_MS / 1000,
        breaker_failures=max(1, int(settings.ROBLOX_BREAKER_FAILURES)),
        breaker_cooldown=float(settings.ROBLOX_BREAKER_COOLDOWN),
        breaker_failure_window=float(settings.ROBLOX_BREAKER_FAILURE_WINDOW),
    )


def base_url(family: str) -> str:
    """The configured base URL of an API family, without a trailing slash."""
    try:
        url = settings.ROBLOX_BASE_URLS[family]
    except KeyError as exc:
        raise ImproperlyConfigured(f"ROBLOX_BASE_URLS has no {family!r} entry") from exc
    return url.rstrip("/")


def cache_ttl(kind: str) -> float:
    return float(settings.ROBLOX_CACHE_TTLS[kind])
