"""A circuit breaker per Roblox host whose state lives in Redis, shared by every process.

States:

* **closed**: calls go through; consecutive failures (5xx, timeouts, connection errors) are counted.
* **open**: after ``failure_threshold`` consecutive failures no call is made for ``cooldown`` seconds;
  callers get :class:`~integrations.roblox.errors.RobloxCircuitOpen` at once.
* **half-open**: once the cool-down has passed, exactly one caller (in any process) is let through as a
  probe. Its success closes the circuit; its failure opens it for another cool-down.

Keys (with the host as a Redis Cluster hash tag): ``tripped`` marks a circuit that opened and has not closed
since; ``open`` expires when the cool-down ends (Redis's clock, so processes agree); ``probe`` is held by the
caller probing a half-open circuit; ``failures`` counts the current failure streak.

When Redis is unreachable the breaker lets calls through (fail open, logged).

Each step is one Lua script (:class:`adplatform.core.redis.LuaScript`), one round trip. pybreaker was measured
against it (``bench/roblox_resilience.py``; ``bench/libraries.py``: 1.5 times as long a call) and not taken:
the same two round trips a call, and it lacks what this breaker must do across processes: one probe in
half-open for every process, the cool-down on Redis's clock to the millisecond (pybreaker keeps
``opened_at`` in whole seconds of each machine's clock), a 429 that neither fails nor closes the circuit,
and failure streaks that expire.
"""

from __future__ import annotations

import logging

import redis

from adplatform.core.redis import LuaScript, get_redis
from integrations.metrics import CIRCUIT_STATE_VALUES, ROBLOX_CIRCUIT_STATE
from integrations.roblox.config import get_config
from integrations.roblox.errors import RobloxCircuitOpen

logger = logging.getLogger(__name__)

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"

# KEYS: failures, tripped, open, probe. ARGV: probe ttl ms.
# Returns {0} closed; {1, open ms} open; {2, 1} half-open and this caller holds the probe; {2, 0} another has it.
_BEFORE = LuaScript("""
if redis.call('EXISTS', KEYS[2]) == 0 then return {0} end
local open_ms = redis.call('PTTL', KEYS[3])
if open_ms > 0 then return {1, open_ms} end
if redis.call('SET', KEYS[4], '1', 'NX', 'PX', ARGV[1]) then return {2, 1} end
return {2, 0}
""")

# KEYS: failures, tripped, open, probe. Returns 1 when this success closed a tripped circuit.
_SUCCESS = LuaScript("""
local closed = redis.call('DEL', KEYS[2])
redis.call('DEL', KEYS[1], KEYS[3], KEYS[4])
return closed
""")

# KEYS: failures, tripped, open, probe. ARGV: threshold, cooldown ms, failure window ms, tripped ttl ms.
# Returns 1 when this failure opened (or re-opened) the circuit, else 0.
_FAILURE = LuaScript("""
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('SET', KEYS[3], '1', 'PX', ARGV[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
  redis.call('DEL', KEYS[4])
  return 1
end
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if n >= tonumber(ARGV[1]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[4])
  redis.call('SET', KEYS[3], '1', 'PX', ARGV[2])
  redis.call('DEL', KEYS[1], KEYS[4])
  return 1
end
return 0
""")

# A circuit nobody called for this long is forgotten (closed).
_TRIPPED_TTL_MS = 24 * 3600 * 1000


class CircuitBreaker:
    def __init__(self, *, failure_threshold: int, cooldown: float, failure_window: float, probe_timeout: float):
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown
        self.failure_window = failure_window
        self.probe_timeout = probe_timeout

    @classmethod
    def from_settings(cls) -> CircuitBreaker:
        config = get_config()
        return cls(
            failure_threshold=config.breaker_failures,
            cooldown=config.breaker_cooldown,
            failure_window=config.breaker_failure_window,
            # A probe that never reports back (killed process) must not hold the circuit forever.
            probe_timeout=config.connect_timeout + config.read_timeout + 1,
        )

    @staticmethod
    def _keys(host: str) -> tuple[str, str, str, str]:
        prefix = f"roblox:cb:{{{host}}}"
        return f"{prefix}:failures", f"{prefix}:tripped", f"{prefix}:open", f"{prefix}:probe"

    def state(self, host: str) -> str:
        """``closed``, ``open`` or ``half_open`` as Redis holds it now."""
        _, tripped, open_key, _ = self._keys(host)
        try:
            pipe = get_redis().pipeline(transaction=False)
            pipe.exists(tripped)
            pipe.pttl(open_key)
            is_tripped, open_ms = pipe.execute()
        except redis.RedisError:
            return CLOSED
        if not is_tripped:
            return CLOSED
        return OPEN if open_ms and open_ms > 0 else HALF_OPEN

    def before_call(self, host: str) -> str:
        """Let a call through (returns the state it went through in) or raise ``RobloxCircuitOpen``."""
        try:
            reply = _BEFORE(keys=self._keys(host), args=[int(self.probe_timeout * 1000)])
        except redis.RedisError:
            logger.warning("roblox circuit breaker not consulted: redis unavailable", extra={"host": host})
            return CLOSED
        if reply[0] == 0:
            self._observe(host, CLOSED)
            return CLOSED
        if reply[0] == 1:
            self._observe(host, OPEN)
            raise RobloxCircuitOpen(
                f"circuit open for {host}: not calling it for {reply[1] / 1000:.1f}s",
                host=host,
                retry_after=reply[1] / 1000,
            )
        self._observe(host, HALF_OPEN)
        if reply[1]:
            logger.info("roblox circuit half-open: probing", extra={"host": host})
            return HALF_OPEN
        raise RobloxCircuitOpen(
            f"circuit half-open for {host}: another caller is probing it",
            host=host,
            retry_after=max(1.0, self.cooldown / 10),
        )

    def record_success(self, host: str) -> None:
        """The host answered: forget the failure streak and close the circuit."""
        try:
            closed = _SUCCESS(keys=self._keys(host))
        except redis.RedisError:
            return
        if closed:
            logger.info("roblox circuit closed", extra={"host": host})
        self._observe(host, CLOSED)

    def record_failure(self, host: str) -> None:
        """The host failed (5xx, timeout, connection error): count it, open the circuit at the threshold."""
        try:
            opened = _FAILURE(
                keys=self._keys(host),
                args=[
                    self.failure_threshold,
                    max(1, int(self.cooldown * 1000)),
                    max(1, int(self.failure_window * 1000)),
                    _TRIPPED_TTL_MS,
                ],
            )
        except redis.RedisError:
            return
        if opened:
            logger.warning("roblox circuit opened", extra={"host": host, "cooldown_seconds": self.cooldown})
            self._observe(host, OPEN)

    def release_probe(self, host: str) -> None:
        """Neither success nor failure (a 429, our own limit): let another caller probe."""
        try:
            get_redis().delete(self._keys(host)[3])
        except redis.RedisError:
            return

    @staticmethod
    def _observe(host: str, state: str) -> None:
        ROBLOX_CIRCUIT_STATE.labels(host=host).set(CIRCUIT_STATE_VALUES[state])
