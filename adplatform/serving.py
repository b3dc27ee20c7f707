"""The serving version: a counter in Redis that decision engines watch.

Every change that affects what may be served (containers, campaigns,
creatives, asset moderation) bumps it after its transaction commits; each
process reloads its in-memory index when it sees a new value.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

import redis
from django.db import transaction

from adplatform.redis import LuaScript, get_redis

logger = logging.getLogger(__name__)

SERVING_VERSION_KEY = "serving:version"

# A version must never repeat: an engine compares it with its index's. After Redis lost its data the counter
# would start again at 1 and could meet an index built from older data with the same number, so a counter
# that starts afresh starts from the clock (milliseconds), above any number it handed out before.
_bump = LuaScript("""
local v = redis.call('INCR', KEYS[1])
if v == 1 then v = redis.call('INCRBY', KEYS[1], ARGV[1]) end
return v
""")


def serving_version_bump(reason: str, *, game_ids: Iterable[int] | None = None) -> None:
    """Bump the version once the surrounding transaction commits (right away outside one).

    Live game servers that gave us an Open Cloud key are then told through MessagingService: those of
    ``game_ids`` when the change concerns only these games, every such game otherwise (a campaign may
    serve anywhere).
    """
    ids = None if game_ids is None else sorted({int(i) for i in game_ids})

    def bump() -> None:
        try:
            version = _bump([SERVING_VERSION_KEY], [int(time.time() * 1000)])
        except redis.RedisError:
            # Engines also reload on a timer, so a lost bump delays a change; it never loses one.
            logger.warning("serving version not bumped: redis unavailable", extra={"reason": reason})
            return
        logger.info("serving version bumped", extra={"reason": reason, "serving_version": version})
        _tell_live_servers(ids, reason)

    transaction.on_commit(bump)


def _tell_live_servers(game_ids: list[int] | None, reason: str) -> None:
    # Best effort: servers also refresh on their own timer, and a failure here must not fail the change.
    try:
        from integrations.messaging import serving_change_enqueue

        serving_change_enqueue(game_ids=game_ids)
    except Exception:
        logger.warning("live servers not told of the serving change", extra={"reason": reason}, exc_info=True)


def serving_version() -> int:
    value = get_redis().get(SERVING_VERSION_KEY)
    return int(value) if value else 0
