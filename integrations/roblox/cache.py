"""Roblox results cached in Redis as JSON, with a lifetime chosen per entry.

An entry is either a result (the ``to_dict`` form of a typed result) or a *not found* marker, so an unknown
id does not cost a Roblox call on every request either. Redis trouble never fails a call: the cache is
skipped (and logged).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Hashable, Iterable
from typing import Any

import redis

from adplatform.core.redis import get_redis
from integrations.metrics import ROBLOX_CACHE

logger = logging.getLogger(__name__)

PREFIX = "roblox:cache:v1"


class _NotFound:
    def __repr__(self) -> str:
        return "NOT_FOUND"


NOT_FOUND = _NotFound()


def key(kind: str, ident: Hashable) -> str:
    return f"{PREFIX}:{kind}:{ident}"


def get_many(kind: str, idents: Iterable[Hashable]) -> dict[Any, dict[str, Any] | _NotFound]:
    """Cached entries of ``kind`` for the ids that have one (a dict, or :data:`NOT_FOUND`)."""
    idents = list(idents)
    if not idents:
        return {}
    try:
        raw = get_redis().mget([key(kind, i) for i in idents])
    except redis.RedisError:
        logger.warning("roblox cache skipped: redis unavailable", extra={"kind": kind})
        return {}
    found: dict[Any, dict[str, Any] | _NotFound] = {}
    for ident, value in zip(idents, raw, strict=True):
        if value is None:
            continue
        try:
            entry = json.loads(value)
        except ValueError:
            continue
        found[ident] = NOT_FOUND if entry.get("not_found") else entry["value"]
    ROBLOX_CACHE.labels(kind=kind, result="hit").inc(len(found))
    ROBLOX_CACHE.labels(kind=kind, result="miss").inc(len(idents) - len(found))
    return found


def set_many(kind: str, entries: Iterable[tuple[Hashable, dict[str, Any] | None, float]]) -> None:
    """Store ``(id, value or None for not found, ttl seconds)`` entries."""
    try:
        pipe = get_redis().pipeline(transaction=False)
        count = 0
        for ident, value, ttl in entries:
            if ttl <= 0:
                continue
            entry = {"not_found": True} if value is None else {"value": value}
            pipe.set(key(kind, ident), json.dumps(entry, separators=(",", ":")), px=max(1, int(ttl * 1000)))
            count += 1
        if count:
            pipe.execute()
    except redis.RedisError:
        logger.warning("roblox cache not written: redis unavailable", extra={"kind": kind})
