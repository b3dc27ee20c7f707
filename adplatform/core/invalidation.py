"""Invalidation messages: a change made in one process is forgotten by the caches of every process at once.

The hot paths keep small in-process caches (:class:`adplatform.core.localcache.TTLCache`) so that a request needs
no database query. A cache made with a ``name`` takes part here: :func:`publish` (called by the service that
made the change, after its commit) sends ``[name, key]`` on one Redis pub/sub channel, and every process
listening drops that key from its cache of that name, typically within a few milliseconds. The TTL stays as
the fallback: a process that lost its subscription (Redis restarted, a network blip) clears every named cache
when it subscribes again, since it may have missed messages, and a message lost in flight is outlived by the
TTL.

Each process listens on a daemon thread of its own, started the first time one of its named caches is used
(so it starts after a fork, in the process that serves).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import time
import weakref
from collections.abc import Hashable
from typing import Any

import redis
from django.conf import settings
from django.db import transaction

from adplatform.core.redis import get_redis

logger = logging.getLogger(__name__)

CHANNEL = "platform:invalidate"


def channel() -> str:
    """The channel of this Redis database: pub/sub is server-wide, so two databases (deployments, test runs)
    on one server must not hear each other's changes."""
    return f"{CHANNEL}:{get_redis().connection_pool.connection_kwargs.get('db', 0)}"


_caches: dict[str, weakref.WeakSet[Any]] = {}
_lock = threading.Lock()
_listening_pid: int | None = None
_connected = threading.Event()


def register(name: str, cache: Any) -> None:
    """Join ``cache`` (anything with ``invalidate(key)`` and ``clear()``) to the messages for ``name``."""
    with _lock:
        _caches.setdefault(name, weakref.WeakSet()).add(cache)


def publish(name: str, key: Hashable | None = None) -> None:
    """Tell every process to forget ``key`` (or everything, for None) of the caches named ``name``.

    Sent once the surrounding transaction commits (right away outside one), so no process can reload the old
    row after forgetting it. Best effort: when Redis is unreachable the TTL still bounds the staleness.
    """
    message = json.dumps([name, key])

    def send() -> None:
        try:
            get_redis().publish(channel(), message)
        except redis.RedisError:
            logger.warning("invalidation not published: redis unavailable", extra={"cache": name})

    transaction.on_commit(send)


def _apply(name: str, key: Any) -> None:
    for cache in list(_caches.get(name, ())):
        if key is None:
            cache.clear()
        else:
            cache.invalidate(key)


def _clear_all() -> None:
    for caches in list(_caches.values()):
        for cache in list(caches):
            cache.clear()


def ensure_listening() -> None:
    """Start this process's listener (cheap to call on every cache use: one comparison once started)."""
    global _listening_pid
    pid = os.getpid()
    if _listening_pid == pid:
        return
    with _lock:
        if _listening_pid == pid:
            return
        _listening_pid = pid
        _connected.clear()
        threading.Thread(target=_listen, name="cache-invalidation", daemon=True).start()


def stop_listening() -> None:
    """Let this process's listener end (at exit, so it does not log a Redis that went away first)."""
    global _listening_pid
    _listening_pid = None


atexit.register(stop_listening)


def wait_connected(timeout: float = 5.0) -> bool:
    """Until this process's listener is subscribed (tests, and readiness)."""
    return _connected.wait(timeout)


def _listen() -> None:
    pid = os.getpid()
    backoff = 0.1
    while _listening_pid == pid:
        client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_connect_timeout=settings.REDIS_CONNECT_TIMEOUT,
            socket_timeout=None,  # a subscription waits for messages; liveness comes from the health checks
            health_check_interval=15,
        )
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(channel())
            # Anything published while we were not subscribed is lost: forget everything, once.
            _clear_all()
            _connected.set()
            backoff = 0.1
            while _listening_pid == pid:
                message = pubsub.get_message(timeout=1.0)
                if message is None:
                    continue
                try:
                    name, key = json.loads(message["data"])
                except (TypeError, ValueError):
                    continue
                _apply(name, key)
        except Exception as exc:  # noqa: BLE001 - a listener must outlive any failure; it resubscribes
            _connected.clear()
            if _listening_pid != pid:
                return  # the process is shutting down
            # Once per outage, not once per retry; the caches are cleared when the subscription is back.
            log = logger.warning if backoff == 0.1 else logger.debug
            log("cache invalidation listener lost redis; resubscribing", extra={"error": repr(exc)})
            time.sleep(backoff)
            backoff = min(backoff * 2, 5.0)
        finally:
            try:
                pubsub.close()
                client.close()
            except Exception:  # noqa: BLE001, S110 - closing a dead connection
                pass
