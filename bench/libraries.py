"""Micro-benchmark: each piece of our own code against the well-kept library that could replace it, one run.

Four items (issue 23, item 7), each candidate measured in the same process, interleaved round by round so
that the shared machine's load falls on all alike; the figure is the minimum over the rounds, per call, and
the ratio is library / ours (above 1: the library is slower).

* settings: reading the platform's ~60 variables, the hand parser this replaced (kept here as it was) vs.
  ``adplatform.core.env`` (django-environ behind the strict wrapper) vs. bare ``environ.Env`` (not strict);
* rate limits: one hit of a fixed window in Redis, ``FixedWindow`` + one ``LuaScript`` (ours) vs. the
  redis-py pipeline it replaced (``INCR`` + ``EXPIRE``) vs. ``limits`` 5.8 ``FixedWindowRateLimiter.hit`` on
  its ``RedisStorage`` (over our connection pool), and ``limits``' extra round trip to learn the wait;
* circuit breaker: the happy path of one call, ours (Redis, two Lua scripts) vs. pybreaker 1.4
  ``CircuitRedisStorage`` (``breaker.call``);
* JSON logging: formatting one access-log record with extras, ``adplatform.core.logging.JSONFormatter`` vs.
  python-json-logger 4 ``JsonFormatter`` given the same fields and the same redaction.

Usage (a Redis database of its own; keys are prefixed ``bench:`` and deleted afterwards; about 30 s):
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/adplatform REDIS_URL=redis://127.0.0.1:6379/9 TEST_REDIS_DB=10
python bench/libraries.py``
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adplatform.project.settings_test")

import django

django.setup()

import environ  # noqa: E402
import pybreaker  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402
from limits import parse, storage, strategies  # noqa: E402
from pythonjsonlogger.json import JsonFormatter  # noqa: E402

from adplatform.core import env as ours_env  # noqa: E402
from adplatform.core.logging import _SENSITIVE_KEY, JSONFormatter, RequestIDFilter, redact  # noqa: E402
from adplatform.core.ratelimit import FixedWindow, hit  # noqa: E402
from adplatform.core.redis import get_redis  # noqa: E402
from integrations.roblox.breaker import CircuitBreaker  # noqa: E402

ROUNDS = 15
HOST = "bench:games.roblox.com"

# --------------------------------------------------------------------------- settings

# The variables settings.py reads (name, kind, default), as it reads them.
VARIABLES = (
    [("DEBUG", "bool", False), ("SECURE_COOKIES", "bool", False), ("SECURE_SSL_REDIRECT", "bool", False)]
    + [("BEHIND_PROXY", "bool", False), ("STATIC_MANIFEST", "bool", True), ("ADPLATFORM_IGNORE_DOTENV", "bool", 0)]
    + [("ALLOWED_HOSTS", "list", ["localhost"]), ("CSRF_TRUSTED_ORIGINS", "list", []), ("TRUSTED_PROXIES", "list", [])]
    + [("FIELD_ENCRYPTION_KEYS", "list", [])]
    + [(f"BENCH_STR_{i}", "str", "https://apis.roblox.com") for i in range(12)]
    + [(f"BENCH_INT_{i}", "int", 60) for i in range(40)]
)
os.environ.update(
    {
        "BENCH_INT_3": "120",
        "BENCH_STR_2": "https://games.example",
        "TRUSTED_PROXIES": "10.0.0.1, 10.0.0.2",
    }
)


class HandParser:
    """The settings parser before django-environ (env.py as of commit 153be53), kept to measure against."""

    _TRUE = {"1", "true", "yes", "on"}
    _FALSE = {"0", "false", "no", "off", ""}

    def str(self, name, default=""):
        return os.environ.get(name, default)

    def bool(self, name, default=False):
        raw = os.environ.get(name)
        if raw is None:
            return default
        value = raw.strip().lower()
        if value in self._TRUE:
            return True
        if value in self._FALSE:
            return False
        raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")

    def int(self, name, default):
        raw = os.environ.get(name)
        if raw is None or raw.strip() == "":
            return default
        try:
            return int(raw)
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc

    def list(self, name, default=None):
        raw = os.environ.get(name)
        if raw is None:
            return list(default or [])
        return [item.strip() for item in raw.split(",") if item.strip()]


def read_all(readers) -> None:
    for name, kind, default in VARIABLES:
        readers[kind](name, default)


hand = HandParser()
hand_readers = {"str": hand.str, "bool": hand.bool, "int": hand.int, "list": hand.list}
wrapper_readers = {
    "str": ours_env.env_str,
    "bool": ours_env.env_bool,
    "int": ours_env.env_int,
    "list": ours_env.env_list,
}
bare = environ.Env()
bare_readers = {
    "str": lambda name, default: bare.str(name, default=default),
    "bool": lambda name, default: bare.bool(name, default=default),
    "int": lambda name, default: bare.int(name, default=default),
    "list": lambda name, default: bare.list(name, default=default),
}

# --------------------------------------------------------------------------- logging

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "request_id"}


class RedactingJsonFormatter(JsonFormatter):
    """python-json-logger given our fields (time, level, logger, message, request_id, extras) and redaction."""

    def __init__(self):
        super().__init__(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
            json_default=str,
            json_ensure_ascii=True,
        )

    def process_log_record(self, log_record):
        for key, value in log_record.items():
            log_record[key] = "[redacted]" if _SENSITIVE_KEY.search(key) else redact(value)
        return log_record


def _record() -> logging.LogRecord:
    record = logging.LogRecord("adplatform.access", logging.INFO, __file__, 1, "GET %s %s", ("/api/v1/x", 200), None)
    for key, value in {"method": "GET", "path": "/api/v1/x", "status": 200, "duration_ms": 3.2, "user_id": 7}.items():
        setattr(record, key, value)
    record.request_id = "d77ebc47ea55400d876339022e100e0d"
    RequestIDFilter().filter(record)
    return record


# --------------------------------------------------------------------------- measuring


def measure(candidates, n: int) -> dict[str, float]:
    """Minimum microseconds per call over ROUNDS rounds of ``n`` calls, candidates interleaved."""
    for _, fn in candidates:
        for _ in range(min(n, 200)):
            fn()
    best = {name: float("inf") for name, _ in candidates}
    for _ in range(ROUNDS):
        for name, fn in candidates:
            started = time.perf_counter()
            for _ in range(n):
                fn()
            best[name] = min(best[name], (time.perf_counter() - started) / n * 1e6)
    return best


def table(title: str, best: dict[str, float], ours: str) -> None:
    print(f"\n{title}")
    width = max(len(name) for name in best)
    for name, us in best.items():
        print(f"  {name:<{width}}  {us:9.2f} us   x{us / best[ours]:.2f}")


def main() -> None:
    r = get_redis()

    table(
        f"settings: reading {len(VARIABLES)} variables (ratio against the hand parser)",
        measure(
            [
                ("hand parser (before)", lambda: read_all(hand_readers)),
                ("adplatform.core.env: django-environ + strict wrapper", lambda: read_all(wrapper_readers)),
                ("bare environ.Env (not strict)", lambda: read_all(bare_readers)),
            ],
            500,
        ),
        "hand parser (before)",
    )

    window = FixedWindow.parse("1000000000/min")
    pipe_key = "bench:rl:pipe"

    def pipeline_hit():  # the API throttle before FixedWindow
        now = time.time()
        number = int(now // window.period)
        pipe = r.pipeline(transaction=False)
        pipe.incr(f"{pipe_key}:{number}")
        pipe.expire(f"{pipe_key}:{number}", window.period + 1)
        count, _ = pipe.execute()
        return (number + 1) * window.period - now if count > window.limit else None

    fixed = strategies.FixedWindowRateLimiter(
        storage.RedisStorage("redis://", connection_pool=r.connection_pool, key_prefix="bench-limits")
    )
    item = parse("1000000000/minute")

    def limits_rejected():  # what a 429 costs with limits: the hit, then the window's stats for Retry-After
        fixed.hit(item, "bench", "b")
        return fixed.get_window_stats(item, "bench", "b").reset_time - time.time()

    table(
        "rate limit: one fixed-window hit in Redis (ratio against FixedWindow + Lua script)",
        measure(
            [
                ("ours: FixedWindow + 1 Lua script", lambda: hit("bench:a", window)),
                ("ours before: redis-py pipeline INCR+EXPIRE", pipeline_hit),
                ("limits FixedWindowRateLimiter.hit", lambda: fixed.hit(item, "bench", "a")),
                ("limits hit + get_window_stats (a 429's wait)", limits_rejected),
            ],
            1000,
        ),
        "ours: FixedWindow + 1 Lua script",
    )

    ours_breaker = CircuitBreaker(failure_threshold=5, cooldown=30, failure_window=60, probe_timeout=14)

    def ours_call():
        ours_breaker.before_call(HOST)
        ours_breaker.record_success(HOST)

    theirs = pybreaker.CircuitBreaker(
        fail_max=5,
        reset_timeout=30,
        state_storage=pybreaker.CircuitRedisStorage(pybreaker.STATE_CLOSED, r, namespace=f"{{{HOST}}}"),
    )
    table(
        "circuit breaker: one call, circuit closed (ratio against ours)",
        measure(
            [("ours: Redis, 2 Lua scripts", ours_call), ("pybreaker CircuitRedisStorage", lambda: theirs.call(int))],
            1000,
        ),
        "ours: Redis, 2 Lua scripts",
    )

    record = _record()
    own_formatter, library_formatter = JSONFormatter(), RedactingJsonFormatter()
    print("\n  ours:              ", own_formatter.format(record))
    print("  python-json-logger:", library_formatter.format(record))
    table(
        "JSON logging: format one access-log record (ratio against ours)",
        measure(
            [
                ("ours: adplatform.core.logging.JSONFormatter", lambda: own_formatter.format(record)),
                ("python-json-logger JsonFormatter + our redaction", lambda: library_formatter.format(record)),
            ],
            5000,
        ),
        "ours: adplatform.core.logging.JSONFormatter",
    )

    for pattern in ("*bench:*", "bench-limits*"):
        keys = list(r.scan_iter(match=pattern, count=1000))
        if keys:
            r.delete(*keys)


if __name__ == "__main__":
    main()
