"""A small in-process cache with a time to live, for hot paths that must not call Redis or PostgreSQL.

Each process holds its own copy, so a change is seen everywhere within the TTL.
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

    def __init__(self, ttl: float, max_entries: int = 10_000):
        TTLCache._instances.add(self)
        self.ttl = ttl
        self.max_entries = max_entries
        self._data: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_load(self, key: Hashable, load: Callable[[], V]) -> V:
        now = time.monotonic()
        with self._lock:
            entry = self._data.get(key)
            if entry is not None and entry[0] > now:
                self._data.move_to_end(key)
                return entry[1]
        value = load()  # outside the lock: a slow load must not block other keys
        with self._lock:
            self._data[key] = (now + self.ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)
        return value

    def invalidate(self, key: Hashable) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
