"""One shared Redis connection pool for the hot state of every app.

The Django cache, Celery and the channel layer use the same server through
their own clients; code that keeps hot state (budgets, nonces, rate limits,
sorted sets) calls :func:`get_redis`.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

import redis
from django.conf import settings
from redis.backoff import ExponentialBackoff
from redis.exceptions import NoScriptError
from redis.retry import Retry

_lock = threading.Lock()
_client: redis.Redis | None = None


def get_redis() -> redis.Redis:
    """The process-wide Redis client (thread-safe, pooled, lazily created)."""
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                _client = redis.Redis.from_url(
                    settings.REDIS_URL,
                    socket_connect_timeout=settings.REDIS_CONNECT_TIMEOUT,
                    socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
                    health_check_interval=30,
                    # One quick retry covers a dropped connection. redis-py's default (10 retries with
                    # backoff up to 1 s) would hold every hot-path request for seconds while Redis is down,
                    # where the platform should answer "degraded" or 503 at once.
                    retry=Retry(ExponentialBackoff(cap=0.05, base=0.01), retries=1),
                )
    return _client


class LuaScript:
    """A Lua script the hot paths run by ``EVALSHA`` on the shared client, loading it on ``NOSCRIPT``.

    redis-py's ``Script`` does the same through ``Redis.evalsha``, whose deprecation wrapper inspects its
    arguments on every call (about 5% of a decision's CPU, measured); this sends the command directly.
    Not bound to a client, so it follows :func:`get_redis` (tests swap the client) and works after a
    Redis restart or flush (the script is loaded again).
    """

    def __init__(self, source: str):
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()  # Redis names scripts so

    def __call__(self, keys: Sequence[Any] = (), args: Sequence[Any] = ()) -> Any:
        client = get_redis()
        try:
            return client.execute_command("EVALSHA", self.sha, len(keys), *keys, *args)
        except NoScriptError:
            client.script_load(self.source)
            return client.execute_command("EVALSHA", self.sha, len(keys), *keys, *args)


def reset_redis_client() -> None:
    """Drop the shared client (tests that point REDIS_URL elsewhere call this)."""
    global _client
    with _lock:
        if _client is not None:
            _client.close()
        _client = None


def celery_broker_url(redis_url: str) -> str:
    """Kombu spells unix-socket Redis URLs differently from redis-py."""
    parts = urlsplit(redis_url)
    if parts.scheme != "unix":
        return redis_url
    db = parse_qs(parts.query).get("db", ["0"])[0]
    return f"redis+socket://{parts.path}?virtual_host={db}"


def with_db(redis_url: str, db: int) -> str:
    """The same server as ``redis_url`` but another logical database."""
    parts = urlsplit(redis_url)
    if parts.scheme == "unix":
        query = "&".join(p for p in parts.query.split("&") if p and not p.startswith("db="))
        query = f"{query}&db={db}" if query else f"db={db}"
        return f"unix://{parts.path}?{query}"
    return parts._replace(path=f"/{db}").geturl()
