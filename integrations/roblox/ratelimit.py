"""A token bucket per Roblox host, kept in Redis so every web and worker process shares one budget.

The bucket refills ``per_minute / 60`` tokens a second up to ``burst``. A caller that finds it empty may
*reserve* the next token (the bucket goes negative) when it would come within ``max_wait`` seconds, and then
sleeps that long; otherwise it is refused and the call fails as rate limited. Redis's own clock is used so
processes on different machines agree.

A ``429`` from Roblox blocks the host for every process for the time Roblox asked (:meth:`block`).

When Redis is unreachable the limit is not enforced (fail open, logged): it protects Roblox's capacity and
our reputation with it, not money.

One Lua script (:class:`adplatform.core.redis.LuaScript`), one round trip a call. ``limits`` was measured against it
(``bench/roblox_resilience.py``) and not taken: no faster (one round trip too), and it has no token bucket
that lets a caller reserve the next slot and sleep until it, which is how a sync waits out a short limit
instead of failing.
"""

from __future__ import annotations

import logging
import math

import redis

from adplatform.core.redis import LuaScript, get_redis
from integrations.roblox.config import get_config

logger = logging.getLogger(__name__)

# KEYS[1] bucket hash, KEYS[2] block key. ARGV: burst, tokens per ms, max wait ms, bucket ttl ms, honour block.
# Returns 0 (go), a positive wait in ms (a token is reserved: go after waiting) or a negative wait (refused).
_RESERVE = LuaScript("""
local blocked = 0
if ARGV[5] == '1' then blocked = redis.call('PTTL', KEYS[2]) end
if blocked > 0 then
  if blocked <= tonumber(ARGV[3]) then return blocked end
  return -blocked
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens < 1 then
  wait = math.ceil((1 - tokens) / rate)
  if wait > tonumber(ARGV[3]) then
    redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
    redis.call('PEXPIRE', KEYS[1], ARGV[4])
    return -wait
  end
end
tokens = tokens - 1
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return wait
""")


class Refused(Exception):
    """No slot within the allowed wait; ``retry_after`` seconds until one frees up."""

    def __init__(self, retry_after: float):
        super().__init__(f"rate limited for {retry_after:.2f}s")
        self.retry_after = retry_after


class RateLimiter:
    """Per-host token bucket in Redis. Instances are cheap; the state lives in Redis only."""

    def __init__(self, *, per_minute: int, burst: int, max_wait: float):
        self.per_minute = per_minute
        self.burst = burst
        self.max_wait = max_wait

    @classmethod
    def from_settings(cls) -> RateLimiter:
        config = get_config()
        return cls(
            per_minute=config.rate_limit_per_minute, burst=config.rate_limit_burst, max_wait=config.rate_limit_max_wait
        )

    @staticmethod
    def bucket_key(host: str) -> str:
        # The braces are a Redis Cluster hash tag: a host's keys live in one slot.
        return f"roblox:rl:{{{host}}}:bucket"

    @staticmethod
    def block_key(host: str) -> str:
        return f"roblox:rl:{{{host}}}:blocked"

    def reserve(self, host: str, *, honour_block: bool = True) -> float:
        """Take a slot for one call to ``host``: seconds to sleep first (0 to go now).

        Raises :class:`Refused` when no slot comes within ``max_wait``. ``honour_block=False`` is for the
        caller that got the 429 and has already waited what Roblox asked.
        """
        if self.per_minute <= 0:
            return 0.0
        rate_per_ms = self.per_minute / 60_000
        refill_ms = math.ceil(self.burst / rate_per_ms)
        try:
            result = int(
                _RESERVE(
                    keys=[self.bucket_key(host), self.block_key(host)],
                    args=[
                        self.burst,
                        repr(rate_per_ms),
                        int(self.max_wait * 1000),
                        refill_ms + 1000,
                        "1" if honour_block else "0",
                    ],
                )
            )
        except redis.RedisError:
            logger.warning("roblox rate limit not enforced: redis unavailable", extra={"host": host})
            return 0.0
        if result < 0:
            raise Refused(-result / 1000)
        return result / 1000

    def block(self, host: str, seconds: float) -> None:
        """Stop every process calling ``host`` for ``seconds`` (Roblox said 429 and how long to wait)."""
        if seconds <= 0:
            return
        try:
            key = self.block_key(host)
            r = get_redis()
            current = r.pttl(key)
            wanted = int(seconds * 1000)
            if current is None or current < wanted:
                r.set(key, "1", px=wanted)
        except redis.RedisError:
            logger.warning("roblox host block not stored: redis unavailable", extra={"host": host})
