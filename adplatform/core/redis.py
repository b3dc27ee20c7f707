"""One shared Redis connection pool for the hot state of every app.

The Django cache, Celery and the channel layer use the same server through
their own clients; code that keeps hot state (budgets, nonces, rate limits,
sorted sets) calls :func:`get_redis`.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

import hiredis
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


_local = threading.local()


def _script_connection(client: redis.Redis) -> redis.connection.AbstractConnection:
    """This thread's own connection to ``client``'s server, for :class:`LuaScript` (made on first use).

    Made with the pool's settings (address, database, credentials, TLS, timeouts, health checks, retry), but
    held by the thread instead of taken from and returned to the pool on every call. A new client (tests
    swap it) or a forked process (Celery's prefork workers) gets a new connection: a socket is never
    shared between processes.
    """
    held = getattr(_local, "held", None)
    pid = os.getpid()
    if held is None or held[0] is not client or held[1] != pid:
        if held is not None and held[1] == pid:
            held[2].disconnect()
        pool = client.connection_pool
        held = (client, pid, pool.connection_class(**pool.connection_kwargs))
        _local.held = held
    return held[2]


class LuaScript:
    """A Lua script the hot paths run by ``EVALSHA``, loading it on ``NOSCRIPT``.

    Every decision, event batch and score update runs one or two of these, so they skip the general client:
    each thread sends on its own connection (:func:`_script_connection`), the command packed by hiredis in
    one call. redis-py's ``Redis.evalsha`` takes a connection from the pool and gives it back, runs its
    observability hooks and deprecation wrapper and packs the arguments in Python: about 40 us of CPU a
    call here, this path half that (measured). The semantics stay the client's: a dropped connection is
    retried once as the client's ``Retry`` says, an idle one is health-checked, errors are redis-py's.
    Not bound to a client, so it follows :func:`get_redis` and works after a Redis restart or flush (the
    script is loaded again).
    """

    def __init__(self, source: str):
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()  # Redis names scripts so

    def __call__(self, keys: Sequence[Any] = (), args: Sequence[Any] = ()) -> Any:
        client = get_redis()
        conn = _script_connection(client)
        try:  # str, bytes, int and float, encoded exactly as redis-py's own encoder writes them
            packed = [hiredis.pack_command(("EVALSHA", self.sha, len(keys), *keys, *args))]
        except TypeError as exc:
            raise redis.DataError(f"A script argument of a type Redis has no encoding for: {exc}") from exc

        def send() -> Any:
            conn.send_packed_command(packed)
            return conn.read_response()

        def failed(_error: Exception) -> None:
            conn.disconnect()

        try:
            return conn.retry.call_with_retry(send, failed)
        except NoScriptError:
            client.script_load(self.source)
            return conn.retry.call_with_retry(send, failed)


# channels-redis waits for a channel's next message with a blocking pop of this many seconds
# (RedisChannelLayer.brpop_timeout), answered by Redis with "nothing" when it ends.
CHANNEL_LAYER_BLOCKING_POP = 5
# Since redis-py 8, a connection without a socket_timeout gets 5 s: exactly the pop's length, so the client
# gave up just before Redis answered (Redis times blocked clients out on its 100 ms clock), dropped the
# connection and raised TimeoutError into every websocket consumer waiting on the layer (issue 20).
CHANNEL_LAYER_SOCKET_TIMEOUT = CHANNEL_LAYER_BLOCKING_POP + 5


def channel_layer_host(redis_url: str) -> dict[str, Any]:
    """A channels-redis host entry with timeouts that outlast its blocking pop (CHANNEL_LAYERS' ``hosts``)."""
    return {
        "address": redis_url,
        "socket_timeout": CHANNEL_LAYER_SOCKET_TIMEOUT,
        "socket_connect_timeout": 2.0,
        "health_check_interval": 30,  # a connection idle that long is pinged before use (a silent drop shows)
    }


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
