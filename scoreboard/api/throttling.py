"""Rate limit of the public leaderboard reads: per client address, shared by every process."""

from __future__ import annotations

from django.conf import settings

from adplatform.core.api.throttling import RedisRateThrottle


class LeaderboardReadThrottle(RedisRateThrottle):
    scope = "leaderboard"

    def get_rate(self) -> str | None:
        return getattr(settings, "SCORE_LEADERBOARD_READ_RATE", "600/min")

    def get_ident_key(self, request) -> str | None:
        return self.get_ident(request)
