"""Game API keys resolved without a database query in the steady state.

The key's SHA-256 is looked up once and kept in process memory for
``GAME_API_KEY_CACHE_SECONDS``; a revoked key is refused at once by the
process that revoked it and, through an invalidation message, by every
other within milliseconds (the TTL bounds it if the message is lost). Using
a key writes ``last_used_at`` at most once a minute per key and process, through the recorder the games app
registers (:func:`set_use_recorder`: ``games.services.api_key_touch``), so that this cache, which the
services use to forget keys, does not import them back.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from adplatform.core.localcache import TTLCache

LAST_USED_RESOLUTION = 60.0
API_KEY_PREFIX = "gk_"


@dataclass(frozen=True)
class ApiKeyInfo:
    key_id: int
    key_hash: str
    game_id: int
    game_slug: str
    game_active: bool
    signing_secret: str
    revoked: bool

    # DRF treats request.user as a user; a game server is authenticated but is no person.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def pk(self) -> str:
        return f"game-key:{self.key_id}"


_cache: TTLCache[ApiKeyInfo | None] = TTLCache(
    ttl=getattr(settings, "GAME_API_KEY_CACHE_SECONDS", 5.0), name="game-api-keys"
)
_last_touched: dict[int, float] = {}
_record_use: Callable[[int], None] | None = None


def set_use_recorder(record: Callable[[int], None]) -> None:
    """Register the write that records a key's use (called with the key id, at most once a minute per key)."""
    global _record_use
    _record_use = record


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _load(digest: str) -> ApiKeyInfo | None:
    from games.models import GameApiKey

    key = GameApiKey.objects.select_related("game").filter(key_hash=digest).first()
    if key is None or not hmac.compare_digest(key.key_hash, digest):
        return None
    return ApiKeyInfo(
        key_id=key.pk,
        key_hash=key.key_hash,
        game_id=key.game_id,
        game_slug=key.game.slug,
        game_active=key.game.is_active,
        signing_secret=key.signing_secret,
        revoked=key.revoked_at is not None,
    )


def lookup(raw: str) -> ApiKeyInfo | None:
    """The key's info, or None for a key that does not exist (revoked keys come back with ``revoked``)."""
    if not raw.startswith(API_KEY_PREFIX) or len(raw) > 100:
        return None
    digest = hash_key(raw)
    info = _cache.get_or_load(digest, lambda: _load(digest))
    if info is not None and not info.revoked:
        _touch(info.key_id)
    return info


def _touch(key_id: int) -> None:
    now = time.monotonic()
    if now - _last_touched.get(key_id, float("-inf")) < LAST_USED_RESOLUTION:
        return
    _last_touched[key_id] = now
    if _record_use is not None:
        _record_use(key_id)


# Caches keyed by the key's id instead of its hash (the score path's signing keys) listen on this name.
KEY_IDS = "game-api-key-ids"


def forget(key_hash: str, key_id: int | None = None) -> None:
    """Forget a key here and, after the commit, in every process (a revocation, a game switched off)."""
    _cache.invalidate_everywhere(key_hash)
    if key_id is not None:
        from adplatform.core import invalidation

        invalidation.publish(KEY_IDS, key_id)


def clear() -> None:
    _cache.clear()
    _last_touched.clear()
