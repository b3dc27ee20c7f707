"""The one HTTP path to Roblox: a shared ``requests.Session`` with timeouts, retries, rate limit and breaker.

Nothing else in the project imports ``requests``; the per-family clients call :func:`request_json`.

Each attempt of a call:

1. asks the host's circuit breaker (Redis) whether it may call at all;
2. takes a slot from the host's rate limiter (Redis), sleeping briefly if one is due soon;
3. sends the request with explicit connect and read timeouts;
4. on ``429``, ``5xx`` or a network error, retries up to ``ROBLOX_MAX_RETRIES`` times (tenacity), waiting
   what ``Retry-After`` or ``x-ratelimit-reset`` asks, otherwise a capped exponential backoff with jitter
   (:func:`integrations.backoff.equal_jitter`);
5. turns any other error answer into one of our exceptions (:mod:`integrations.roblox.errors`).

``sleep`` is a module attribute so tests replace it (no real waiting).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
import tenacity
from requests.adapters import HTTPAdapter

from integrations.backoff import equal_jitter
from integrations.metrics import ROBLOX_CALL_LATENCY, ROBLOX_CALLS, ROBLOX_RETRIES
from integrations.roblox.breaker import CircuitBreaker
from integrations.roblox.config import base_url, get_config
from integrations.roblox.errors import (
    RobloxBadRequest,
    RobloxBadResponse,
    RobloxError,
    RobloxForbidden,
    RobloxNotFound,
    RobloxRateLimited,
    RobloxUnavailable,
    parse_error_body,
)
from integrations.roblox.ratelimit import RateLimiter, Refused

logger = logging.getLogger(__name__)

USER_AGENT = "adplatform-roblox-integration/1.0"

# Replaced in tests; never call time.sleep directly below.
sleep = time.sleep

_session: requests.Session | None = None
_session_lock = threading.Lock()


def get_session() -> requests.Session:
    """The process-wide session (connection pooling per host); created lazily, recreated after fork."""
    global _session
    if _session is None:
        with _session_lock:
            if _session is None:
                session = requests.Session()
                # Retries are ours (they honour Retry-After and the breaker), not urllib3's.
                adapter = HTTPAdapter(pool_connections=8, pool_maxsize=32, max_retries=0)
                session.mount("https://", adapter)
                session.mount("http://", adapter)
                session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
                _session = session
    return _session


def reset_session() -> None:
    global _session
    with _session_lock:
        if _session is not None:
            _session.close()
        _session = None


def _forget_session_after_fork() -> None:
    # A forked worker must not share the parent's sockets; drop the reference without closing them.
    global _session
    _session = None


os.register_at_fork(after_in_child=_forget_session_after_fork)


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date."""
    if value is None or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def parse_ratelimit_reset(value: str | None) -> float | None:
    """Open Cloud's ``x-ratelimit-reset``: seconds until the quota resets (an epoch time is also understood)."""
    if value is None or not value.strip():
        return None
    try:
        seconds = float(value.split(",")[0])
    except ValueError:
        return None
    if seconds > 1_000_000_000:  # an absolute epoch timestamp rather than a delay
        seconds -= time.time()
    return max(0.0, seconds)


def server_wait(response: requests.Response) -> float | None:
    """How long the server asked us to wait, from ``Retry-After`` then ``x-ratelimit-reset``."""
    wait = parse_retry_after(response.headers.get("Retry-After"))
    if wait is None:
        wait = parse_ratelimit_reset(response.headers.get("x-ratelimit-reset"))
    return wait


def _error_for(response: requests.Response, *, what: str, host: str) -> RobloxError:
    try:
        body = response.json()
    except ValueError:
        body = None
    code, message = parse_error_body(body)
    status = response.status_code
    text = f"{what}: Roblox answered {status}" + (f" ({message})" if message else "")
    if status == 404:
        cls: type[RobloxError] = RobloxNotFound
    elif status in (401, 403):
        cls = RobloxForbidden
    elif status == 429:
        cls = RobloxRateLimited
    elif status >= 500:
        cls = RobloxUnavailable
    else:
        cls = RobloxBadRequest
    return cls(text, status=status, code=code, host=host)


class _Retryable(Exception):
    """An attempt that failed in a way worth another try: our error, and how long Roblox asked us to wait."""

    def __init__(self, error: RobloxError, *, server_asked: float | None, reason: str):
        super().__init__(error.message)
        self.error = error
        self.server_asked = server_asked
        self.reason = reason


def request_json(
    family: str,
    method: str,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    json_body: Any = None,
    headers: Mapping[str, str] | None = None,
    files: Mapping[str, Any] | None = None,
) -> Any:
    """Call ``{base URL of family}{path}`` and return the decoded JSON body (None for an empty body).

    Raises :class:`RobloxNotFound`, :class:`RobloxBadRequest`, :class:`RobloxForbidden` at once, and
    :class:`RobloxUnavailable` (or its :class:`RobloxRateLimited` / :class:`RobloxCircuitOpen` kinds) when
    Roblox stays unavailable past the retries. ``headers`` may carry credentials: they are never logged.
    Retries are tenacity's (:class:`tenacity.Retrying`), waiting what Roblox asked or
    :func:`integrations.backoff.equal_jitter`. Celery workers call this; web requests never do
    (:mod:`integrations.readthrough`).
    ``files`` sends a multipart body (``requests``' ``files``) instead of ``json_body``.
    """
    config = get_config()
    url = f"{base_url(family)}{path}"
    host = urlsplit(url).netloc.lower()
    what = f"{method} {path}"
    breaker = CircuitBreaker.from_settings()
    limiter = RateLimiter.from_settings()
    session = get_session()
    # POSTs are retried only when they certainly did not reach Roblox or Roblox said to retry.
    idempotent = method.upper() in ("GET", "HEAD", "OPTIONS")
    # The attempt after one that waited what Roblox asked may go although the host's block has not quite run out.
    waited_as_told = False

    def attempt() -> Any:
        try:
            breaker.before_call(host)
        except RobloxUnavailable:
            ROBLOX_CALLS.labels(host=host, status="circuit_open").inc()
            raise
        try:
            wait_for_slot = limiter.reserve(host, honour_block=not waited_as_told)
        except Refused as refused:
            breaker.release_probe(host)
            ROBLOX_CALLS.labels(host=host, status="throttled").inc()
            raise RobloxRateLimited(
                f"{what}: no slot in our rate limit for {host}", host=host, retry_after=refused.retry_after
            ) from None
        if wait_for_slot > 0:
            sleep(wait_for_slot)

        started = time.perf_counter()
        try:
            response = session.request(
                method,
                url,
                params=params,
                json=json_body,
                files=files,
                headers=dict(headers or {}),
                timeout=(config.connect_timeout, config.read_timeout),
            )
        except requests.RequestException as exc:
            ROBLOX_CALL_LATENCY.labels(host=host).observe(time.perf_counter() - started)
            reason = "timeout" if isinstance(exc, requests.Timeout) else "connection_error"
            ROBLOX_CALLS.labels(host=host, status=reason).inc()
            breaker.record_failure(host)
            error: RobloxError = RobloxUnavailable(f"{what}: {reason} talking to {host}", host=host)
            # A read timeout means the request was sent: a POST may have been applied.
            if idempotent or not isinstance(exc, requests.ReadTimeout):
                raise _Retryable(error, server_asked=None, reason=reason) from exc
            raise error from exc
        ROBLOX_CALL_LATENCY.labels(host=host).observe(time.perf_counter() - started)
        status = response.status_code
        ROBLOX_CALLS.labels(host=host, status=str(status)).inc()
        if status < 400:
            if not response.content:
                breaker.record_success(host)
                return None
            try:
                body = response.json()
            except ValueError:
                breaker.record_failure(host)
                raise RobloxBadResponse(
                    f"{what}: Roblox answered {status} with a body that is not JSON", host=host
                ) from None
            breaker.record_success(host)
            return body
        error = _error_for(response, what=what, host=host)
        if status == 429:
            # Roblox is up and telling us to slow down: not a breaker failure.
            breaker.release_probe(host)
            server_asked = server_wait(response)
            if server_asked:
                limiter.block(host, server_asked)
            error.retry_after = server_asked
        elif status >= 500:
            breaker.record_failure(host)
            server_asked = parse_retry_after(response.headers.get("Retry-After"))
        else:
            # 4xx: the host is healthy, the request is what is wrong.
            breaker.record_success(host)
            raise error
        if server_asked is not None and server_asked > config.retry_after_max:
            logger.warning(
                "roblox asked to wait longer than we retry",
                extra={"host": host, "path": path, "wait_seconds": server_asked},
            )
            error.retry_after = server_asked
            raise error
        raise _Retryable(error, server_asked=server_asked, reason=str(status))

    backoff = equal_jitter(base=config.backoff_base, cap=config.backoff_max)

    def wait(state: tenacity.RetryCallState) -> float:
        failed = state.outcome.exception() if state.outcome else None
        if isinstance(failed, _Retryable) and failed.server_asked is not None:
            return failed.server_asked
        return backoff(state)

    def before_sleep(state: tenacity.RetryCallState) -> None:
        nonlocal waited_as_told
        failed = state.outcome.exception() if state.outcome else None
        assert isinstance(failed, _Retryable)
        waited_as_told = failed.server_asked is not None
        seconds = state.next_action.sleep if state.next_action else 0.0
        ROBLOX_RETRIES.labels(host=host, reason=failed.reason).inc()
        logger.info(
            "roblox call retried",
            extra={
                "host": host,
                "path": path,
                "reason": failed.reason,
                "attempt": state.attempt_number,
                "wait_seconds": round(seconds, 3),
            },
        )

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(config.max_retries + 1),
        wait=wait,
        retry=tenacity.retry_if_exception_type(_Retryable),
        sleep=lambda seconds: sleep(seconds),  # the module attribute, which tests replace
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        return retrying(attempt)
    except _Retryable as failed:
        logger.warning("roblox call failed", extra={"host": host, "path": path, "reason": failed.reason})
        raise failed.error from failed.__cause__
