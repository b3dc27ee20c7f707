"""Micro-benchmark: the Roblox client's circuit breaker and rate limiter against pybreaker and ``limits``.

Per call on the happy path (circuit closed, a slot free), against a real Redis, one thread:

* ours: ``CircuitBreaker.before_call`` + ``record_success`` (two Lua scripts, two round trips);
* pybreaker 1.4 with ``CircuitRedisStorage``, one breaker kept per host (``breaker.call``);
* ours: ``RateLimiter.reserve`` (one EVALSHA of the token bucket);
* limits 5.8 ``MovingWindowRateLimiter`` / ``SlidingWindowCounterRateLimiter`` / ``FixedWindowRateLimiter``
  ``hit`` on its ``RedisStorage``.

Usage: ``DATABASE_URL=... REDIS_URL=redis://127.0.0.1:6379/0 TEST_REDIS_DB=6 python bench/roblox_resilience.py``
(keys are prefixed ``bench:`` and deleted afterwards; about 10 s).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adplatform.project.settings_test")

import django

django.setup()

import pybreaker  # noqa: E402
from django.conf import settings  # noqa: E402
from limits import parse, storage, strategies  # noqa: E402

from adplatform.core.redis import get_redis  # noqa: E402
from integrations.roblox.breaker import CircuitBreaker  # noqa: E402
from integrations.roblox.ratelimit import RateLimiter  # noqa: E402

N = 1000
ROUNDS = 15
HOST = "bench:games.roblox.com"


_sent = [0]


def _count_round_trips() -> None:
    """Count what goes to Redis: one packed send is one round trip (a pipeline is one)."""
    from redis.connection import AbstractConnection

    original = AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        _sent[0] += 1
        return original(self, command, check_health)

    AbstractConnection.send_packed_command = counting  # type: ignore[method-assign]  # the counting patch itself


def measure(candidates) -> list[tuple[str, float, float, float, float]]:
    """``(name, wall min, wall median, client CPU min, round trips)`` per call over ROUNDS rounds of N calls,
    the candidates interleaved round by round so that the machine's load (shared) falls on all alike."""
    for _, fn in candidates:
        for _ in range(200):
            fn()
    wall: dict[str, list[float]] = {name: [] for name, _ in candidates}
    cpu: dict[str, list[float]] = {name: [] for name, _ in candidates}
    trips: dict[str, float] = {}
    for _ in range(ROUNDS):
        for name, fn in candidates:
            sent = _sent[0]
            started, started_cpu = time.perf_counter(), time.process_time()
            for _ in range(N):
                fn()
            wall[name].append((time.perf_counter() - started) / N * 1e6)
            cpu[name].append((time.process_time() - started_cpu) / N * 1e6)
            trips[name] = (_sent[0] - sent) / N
    return [(n, min(wall[n]), statistics.median(wall[n]), min(cpu[n]), trips[n]) for n, _ in candidates]


def main() -> None:
    _count_round_trips()
    r = get_redis()
    ours = CircuitBreaker(failure_threshold=5, cooldown=30, failure_window=60, probe_timeout=14)

    def ours_breaker():
        ours.before_call(HOST)
        ours.record_success(HOST)

    theirs = pybreaker.CircuitBreaker(
        fail_max=5,
        reset_timeout=30,
        state_storage=pybreaker.CircuitRedisStorage(pybreaker.STATE_CLOSED, r, namespace=f"{{{HOST}}}"),
    )

    def pybreaker_breaker():
        theirs.call(lambda: None)

    limiter = RateLimiter(per_minute=10**9, burst=10**6, max_wait=2)
    limits_storage = storage.RedisStorage(settings.REDIS_URL)
    rate = parse("1000000000/minute")
    moving = strategies.MovingWindowRateLimiter(limits_storage)
    sliding = strategies.SlidingWindowCounterRateLimiter(limits_storage)
    fixed = strategies.FixedWindowRateLimiter(limits_storage)

    rows = measure(
        [
            ("breaker: ours (2 Lua scripts)", ours_breaker),
            ("breaker: pybreaker CircuitRedisStorage", pybreaker_breaker),
            ("rate limit: ours (token bucket, 1 Lua script)", lambda: limiter.reserve(HOST)),
            ("rate limit: limits moving window", lambda: moving.hit(rate, "bench-moving", HOST)),
            ("rate limit: limits sliding window counter", lambda: sliding.hit(rate, "bench-sliding", HOST)),
            ("rate limit: limits fixed window", lambda: fixed.hit(rate, "bench-fixed", HOST)),
        ]
    )
    width = max(len(name) for name, *_ in rows)
    print(f"per call, happy path ({ROUNDS} rounds x {N} calls); microseconds, except round trips to Redis")
    print(f"{'':<{width}}  {'wall min':>8}  {'wall med':>8}  {'CPU min':>8}  {'trips':>5}")
    for name, low, median, cpu_low, trips in rows:
        print(f"{name:<{width}}  {low:8.1f}  {median:8.1f}  {cpu_low:8.1f}  {trips:5.1f}")

    for pattern in ("*bench:*", "LIMITS:*bench*"):
        keys = list(r.scan_iter(match=pattern, count=1000))
        if keys:
            r.delete(*keys)


if __name__ == "__main__":
    main()
