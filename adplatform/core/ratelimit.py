"""The one fixed-window rule every rate limit of the platform uses, and its Redis counter.

:class:`FixedWindow` is that rule: ``limit`` hits per ``period`` seconds, parsed from ``"120/min"``, the
windows aligned on the epoch so that every process counts into the same key, and the wait until the next
window. :func:`hit` counts in one Lua script (``INCR``, ``EXPIRE`` on the first hit: one round trip). Users:
the DRF throttles (``adplatform.core.api.throttling``), the score updates' precheck script (``scoreboard``), the
failed sign-ins (``adplatform.core.auth_throttle``), and the settings, which refuse a malformed rate at start-up
(``adplatform.core.env.env_rate``). ``limits`` (its Redis storage) was measured against the script and not
taken: twice as long a hit, and a second round trip to learn the wait (``bench/libraries.md``).

No Django REST framework here: the settings import this module.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

from adplatform.core.redis import LuaScript

_PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


@dataclass(frozen=True, slots=True)
class FixedWindow:
    """``limit`` hits per ``period`` seconds; window ``n`` covers ``[n * period, (n + 1) * period)``."""

    limit: int
    period: int

    @staticmethod
    @functools.lru_cache(maxsize=256)
    def parse(rate: str) -> FixedWindow:
        """``"120/min"`` -> ``FixedWindow(120, 60)``; ``"10/5s"`` -> ``FixedWindow(10, 5)``."""
        count, _, period = rate.strip().partition("/")
        digits = "".join(ch for ch in period if ch.isdigit())
        unit = period[len(digits) :]
        if unit not in _PERIODS or not count.strip().isdigit() or digits.startswith("0"):
            raise ValueError(f"bad rate {rate!r} (expected a count per period, such as '120/min' or '10/5s')")
        return FixedWindow(int(count), int(digits or 1) * _PERIODS[unit])

    def number(self, now: float) -> int:
        """The window ``now`` (epoch seconds) falls in."""
        return int(now // self.period)

    def key(self, base: str, now: float) -> str:
        """The counter's Redis key for ``base`` in the window of ``now``."""
        return f"{base}:{int(now // self.period)}"

    def retry_after(self, now: float) -> float:
        """Seconds from ``now`` until the next window opens."""
        return (int(now // self.period) + 1) * self.period - now

    @property
    def ttl(self) -> int:
        """How long a window's counter is kept: its period and a second for clocks a little apart."""
        return self.period + 1

    def exceeded(self, count: int) -> bool:
        return count > self.limit


def parse_rate(rate: str) -> tuple[int, int]:
    """``"120/min"`` -> ``(120, 60)`` (the pair of :meth:`FixedWindow.parse`)."""
    window = FixedWindow.parse(rate)
    return window.limit, window.period


# KEYS: the window's counter. ARGV: its ttl (s). Returns the count with this hit.
_HIT = LuaScript("""
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
""")


def hit(key: str, window: FixedWindow, now: float | None = None) -> float | None:
    """Count one request against ``key``; return seconds to wait when over the window's limit, else None."""
    now = time.time() if now is None else now
    count = _HIT(keys=[window.key(f"rl:{key}", now)], args=[window.ttl])
    return window.retry_after(now) if window.exceeded(count) else None
