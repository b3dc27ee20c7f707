"""Roblox avatar headshots on the live boards: read from the cache only, fetched by a Celery task, never in a request.

A board (page, snapshot or broadcast) asks :func:`avatar_urls` for its players' pictures: what the Roblox cache
holds is used at once (``None`` shows the placeholder), and the ids it does not hold are handed to
:func:`scoreboard.tasks.avatar_headshots_fetch` (at most once a minute per player, across processes). The task
calls thumbnails.roblox.com (with the integration's retries, rate limit and circuit breaker), caches every answer
(Completed and final states for ``ROBLOX_CACHE_TTL_THUMBNAIL``, Pending ones for ``..._PENDING``, unknown users as
not found) and asks the board to broadcast again, so the pictures appear without a reload.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

import redis
from celery import current_app

from adplatform.core.redis import get_redis
from integrations.roblox import cache
from integrations.roblox.config import cache_ttl
from integrations.roblox.types import Thumbnail, to_dict
from scoreboard.leaderboard import leaderboard_group

logger = logging.getLogger(__name__)

SIZE = "150x150"
KIND = f"avatar_headshot:{SIZE}:Png:0"
ASK_AGAIN_MS = 60_000  # a player whose picture was asked for is not asked again for this long (any process)


FETCH_TASK = "scoreboard.tasks.avatar_headshots_fetch"


def _asked_key(user_id: int) -> str:
    return f"live:avatar:asked:{user_id}"


def avatar_urls(user_ids: Iterable[int], *, slug: str | None = None) -> dict[int, str | None]:
    """The cached headshot URL of each user (``None``: no picture yet, or none to show); queues the unknown ones."""
    ids = [int(i) for i in user_ids if isinstance(i, int) and not isinstance(i, bool) and i > 0]
    found = cache.get_many(KIND, ids)
    urls: dict[int, str | None] = {}
    for user_id in ids:
        entry = found.get(user_id)
        urls[user_id] = entry.get("image_url") if isinstance(entry, dict) else None
    missing = [user_id for user_id in ids if user_id not in found]
    if missing:
        request_fetch(missing, slug=slug)
    return urls


def request_fetch(user_ids: list[int], *, slug: str | None = None) -> list[int]:
    """Queue a fetch of the ids not asked for in the last minute; the ids queued. Never raises."""
    try:
        with get_redis().pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                pipe.set(_asked_key(user_id), "1", nx=True, px=ASK_AGAIN_MS)
            fresh = [user_id for user_id, ok in zip(user_ids, pipe.execute(), strict=True) if ok]
    except redis.RedisError:
        return []
    if not fresh:
        return []
    try:
        # By name in the Celery registry, not imported: the task calls this module (scoreboard.apps imports the
        # tasks at start-up, so the name is registered in every process).
        current_app.tasks[FETCH_TASK].delay(fresh, slug)
    except Exception:  # the broker is down: the page keeps its placeholders, the next minute asks again
        logger.warning("avatar fetch not queued", exc_info=True, extra={"count": len(fresh)})
        return []
    return fresh


def fetch_and_cache(user_ids: list[int]) -> dict[int, Thumbnail]:
    """Ask Roblox for the headshots and cache every answer (the Celery task's work). Raises Roblox errors."""
    from integrations.roblox import thumbnails

    ids = sorted({int(i) for i in user_ids if int(i) > 0})
    if not ids:
        return {}
    result = thumbnails.avatar_headshots(ids, size=SIZE)
    entries: list[tuple[int, dict[str, Any] | None, float]] = []
    for user_id in ids:
        thumbnail = result.get(user_id)
        if thumbnail is None:
            entries.append((user_id, None, cache_ttl("not_found")))
        else:
            ttl = cache_ttl("thumbnail") if thumbnail.is_final else cache_ttl("thumbnail_pending")
            entries.append((user_id, to_dict(thumbnail), ttl))
    cache.set_many(KIND, entries)
    return result


def announce(slug: str) -> None:
    """Ask every process with viewers of ``slug`` to broadcast the board again (it now has pictures)."""
    message = json.dumps({"type": "avatars", "game": slug, "top10_changed": True}, separators=(",", ":"))
    get_redis().publish(leaderboard_group(slug), message)
