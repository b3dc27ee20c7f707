"""The serving version: a counter in Redis that decision engines watch.

Every change that affects what may be served (containers, campaigns,
creatives, asset moderation) bumps it after its transaction commits; each
process reloads its in-memory index when it sees a new value.

Whoever else must hear of a bump subscribes to :data:`serving_version_bumped`
(the games app tells live game servers through Open Cloud): this module, at the
bottom of the platform, imports none of its listeners.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

import redis
from django.db import transaction
from django.dispatch import Signal

from adplatform.core.redis import LuaScript, get_redis

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

# Sent after each bump, once its transaction committed, with ``version``, ``reason`` and ``game_ids`` (the
# sorted ids of the games concerned, None for "any game"). Listeners are best effort: one that fails is
# logged and never fails the change nor the other listeners.
serving_version_bumped = Signal()


def serving_version_bump(reason: str, *, game_ids: Iterable[int] | None = None) -> None:
    """Bump the version once the surrounding transaction commits (right away outside one).

    Then :data:`serving_version_bumped` is sent with ``game_ids`` when the change concerns only these games,
    None otherwise (a campaign may serve anywhere).
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
        _notify(version, reason, ids)

    transaction.on_commit(bump)


def _notify(version: int, reason: str, game_ids: list[int] | None) -> None:
    # Best effort: engines and servers also refresh on their own timer, and a failure here must not fail the change.
    for receiver, result in serving_version_bumped.send_robust(
        sender=None, version=version, reason=reason, game_ids=game_ids
    ):
        if isinstance(result, Exception):
            logger.warning(
                "a serving version listener failed",
                extra={"reason": reason, "listener": getattr(receiver, "__qualname__", repr(receiver))},
                exc_info=result,
            )


def serving_version() -> int:
    value = get_redis().get(SERVING_VERSION_KEY)
    return int(value) if value else 0
