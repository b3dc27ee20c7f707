"""Rate limit of the game-server API: one budget per game API key, shared by every process."""

from __future__ import annotations

from adplatform.core.api.throttling import RedisRateThrottle
from games.keycache import ApiKeyInfo


class GameServerRateThrottle(RedisRateThrottle):
    scope = "game_server"

    def get_ident_key(self, request) -> str | None:
        auth = request.auth
        return str(auth.key_id) if isinstance(auth, ApiKeyInfo) else None
