"""A small in-process cache with a time to live, for hot paths that must not call Redis or PostgreSQL.

Each process holds its own copy. A cache given a ``name`` also forgets a key in every process as soon as the
service that changed it publishes an invalidation (:mod:`adplatform.core.invalidation`); the TTL is the fallback.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

_MISSING = object()


class TTLCache(Generic[V]):
    _instances: weakref.WeakSet[TTLCache] = weakref.WeakSet()

    @classmethod
    def instances(cls) -> list[TTLCache]:
        """Every live cache (tests clear them between cases)."""
        return list(cls._instances)

    def __init__(self, ttl: float, max_entries: int = 10_000, *, name: str | None = None):
        TTLCache._instances.add(self)
        self.ttl = ttl
        self.max_entries = max_entries
        self.name = name
        self._data: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()
        # Bumped by every invalidation: a load that began before one must not store what it read.
        self._generation = 0
        if name is not None:
            from adplatform.core import invalidation

            invalidation.register(name, self)

    def get_or_load(self, key: Hashable, load: Callable[[], V]) -> V:
        if self.name is not None:
            from adplatform.core.invalidation import ensure_listening

            ensure_listening()
        now = time.monotonic()
        with self._lock:
            entry = self._data.get(key)
            if entry is not None and entry[0] > now:
                self._data.move_to_end(key)
                return entry[1]
            generation = self._generation
        value = load()  # outside the lock: a slow load must not block other keys
        with self._lock:
            if generation == self._generation:
                self._data[key] = (now + self.ttl, value)
                self._data.move_to_end(key)
                while len(self._data) > self.max_entries:
                    self._data.popitem(last=False)
        return value

    def invalidate(self, key: Hashable) -> None:
        """Forget ``key`` in this process."""
        with self._lock:
            self._generation += 1
            self._data.pop(key, None)

    def invalidate_everywhere(self, key: Hashable) -> None:
        """Forget ``key`` here now and, once the surrounding transaction commits, in every process."""
        self.invalidate(key)
        if self.name is not None:
            from adplatform.core import invalidation

            invalidation.publish(self.name, key)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._data.clear()
