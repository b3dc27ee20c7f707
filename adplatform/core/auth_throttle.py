"""Failed sign-ins are counted and locked out for a while: passwords per account and per address, API keys and
personal access tokens per address. (Score tokens and signatures have their own, ``scoreboard.services``.)

Counters live in Redis (``authfail:*``): a :class:`~adplatform.core.ratelimit.FixedWindow` of ``*_LIMIT``
failures per ``*_WINDOW`` seconds, the window opening at the first failure (so the key a lock-out lives in
stays the same); at the limit the account or address is locked for ``*_LOCK_SECONDS``, and every further
failure while locked extends the lock.
A locked login is refused before the password is even checked (the right password does not open it), with a
clear message on the login page; a locked address gets ``429 rate_limited`` with ``Retry-After`` for further
bad credentials. A valid API key or token never pays for this: only failures touch Redis. Every failure is
counted in ``adplatform_auth_failures_total{kind, outcome}`` and logged (never with the password or key).
If Redis is unreachable the counting is skipped (logged): sign-in keeps working, unthrottled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import redis
from django.conf import settings
from prometheus_client import Counter

from adplatform.core.ratelimit import FixedWindow
from adplatform.core.redis import LuaScript, get_redis

logger = logging.getLogger("adplatform.security")

AUTH_FAILURES = Counter(
    "adplatform_auth_failures_total",
    "Failed sign-ins by credential kind (login, api_key, token) and outcome (failed, locked).",
    ["kind", "outcome"],
)


@dataclass(frozen=True)
class Policy:
    window: FixedWindow
    lock_seconds: int


def _policy(kind: str, scope: str) -> Policy:
    prefix = f"AUTH_{kind.upper()}_{scope.upper()}"
    defaults = {
        ("login", "account"): (5, 900, 900),  # 5 wrong passwords in 15 min lock the account for 15 min
        ("login", "ip"): (20, 900, 900),  # 20 from one address, whatever the accounts
        ("api_key", "ip"): (30, 60, 300),  # a game server with a wrong key retries; a scanner does not stop
        ("token", "ip"): (30, 60, 300),
    }[(kind, scope)]
    limit, window, lock = (getattr(settings, f"{prefix}_{name}", d) for name, d in
                           zip(("LIMIT", "WINDOW", "LOCK_SECONDS"), defaults, strict=True))  # fmt: skip
    return Policy(FixedWindow(int(limit), int(window)), int(lock))


def _key(kind: str, scope: str, ident: str) -> str:
    return f"authfail:{kind}:{scope}:{ident[:200]}"


# KEYS: the counter. ARGV: window (s), limit, lock (s). Returns {count, seconds left}.
_RECORD = LuaScript("""
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if n >= tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
return {n, redis.call('TTL', KEYS[1])}
""")


def locked_for(kind: str, scopes: dict[str, str]) -> int:
    """Seconds until the first of ``scopes`` (``{"account": name, "ip": addr}``) that is locked opens; 0: none is."""
    try:
        client = get_redis()
        pipe = client.pipeline(transaction=False)
        for scope, ident in scopes.items():
            pipe.get(_key(kind, scope, ident))
            pipe.ttl(_key(kind, scope, ident))
        replies = pipe.execute()
    except redis.RedisError:
        logger.warning("auth throttle unavailable (Redis)", exc_info=True)
        return 0
    wait = 0
    for index, scope in enumerate(scopes):
        count, ttl = replies[2 * index], replies[2 * index + 1]
        if count is not None and int(count) >= _policy(kind, scope).window.limit and ttl and ttl > 0:
            wait = max(wait, int(ttl))
    return wait


def record_failure(kind: str, scopes: dict[str, str], **log_extra) -> int:
    """Count one failure against each scope; return the seconds the caller is now locked out for (0: not)."""
    wait = 0
    try:
        for scope, ident in scopes.items():
            policy = _policy(kind, scope)
            count, ttl = _RECORD(keys=[_key(kind, scope, ident)],
                                 args=[policy.window.period, policy.window.limit, policy.lock_seconds])  # fmt: skip
            if int(count) >= policy.window.limit:
                wait = max(wait, int(ttl))
    except redis.RedisError:
        logger.warning("auth throttle unavailable (Redis)", exc_info=True)
    outcome = "locked" if wait else "failed"
    AUTH_FAILURES.labels(kind=kind, outcome=outcome).inc()
    logger.warning(
        "authentication failed (%s)%s", kind, f"; locked out for {wait} s" if wait else "",
        extra={"auth_kind": kind, "outcome": outcome, "locked_seconds": wait, **scopes, **log_extra},
    )  # fmt: skip
    return wait


def reset(kind: str, scopes: dict[str, str]) -> None:
    try:
        get_redis().delete(*(_key(kind, scope, ident) for scope, ident in scopes.items()))
    except redis.RedisError:
        logger.warning("auth throttle unavailable (Redis)", exc_info=True)


def login_scopes(username: str, ip: str) -> dict[str, str]:
    return {"account": (username or "").strip().lower(), "ip": ip}


def api_failure(kind: str, request) -> None:
    """A bad ``X-API-Key`` or personal access token: counted; once the address is locked, 429 instead of 401."""
    from rest_framework import exceptions

    from adplatform.core.api.client import client_ip

    wait = record_failure(kind, {"ip": client_ip(request) or "unknown"}, path=request.path)
    if wait:
        raise exceptions.Throttled(wait=wait, detail="Too many failed authentications from this address.")
