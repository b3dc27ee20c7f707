"""Settings and time helpers the scoreboard's rooms share."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

MAX_TOKEN_TTL = 900  # shared/API.md: a score token lives at most 15 minutes


def _setting(name: str, default):
    return getattr(settings, name, default)


def _token_ttl() -> int:
    return max(1, min(int(_setting("SCORE_TOKEN_TTL_SECONDS", MAX_TOKEN_TTL)), MAX_TOKEN_TTL))


def _timestamp_window() -> int:
    return int(_setting("SCORE_TIMESTAMP_WINDOW", 300))


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _truncate_ms(when: datetime) -> datetime:
    return when.replace(microsecond=when.microsecond // 1000 * 1000)
