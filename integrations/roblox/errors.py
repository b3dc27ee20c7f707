"""Our own exceptions for Roblox calls, whatever the API family or the shape of its error body.

Roblox answers errors in three shapes: the legacy web APIs ``{"errors": [{"code": 4, "message": "..."}]}``,
Open Cloud v2 ``{"code": "NOT_FOUND", "message": "..."}`` and Open Cloud v1
``{"error": "INVALID_ARGUMENT", "message": "..."}``. :func:`parse_error_body` reads all three.
"""

from __future__ import annotations

from typing import Any


class RobloxError(Exception):
    """A Roblox call failed. ``status`` is Roblox's HTTP status (None when no answer came back),
    ``code`` the error code of its body, ``host`` the host that was called."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | str | None = None,
        host: str | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.host = host
        self.retry_after = retry_after


class RobloxNotFound(RobloxError):
    """Roblox has no such object (404, or an answer that names nothing)."""


class RobloxBadRequest(RobloxError):
    """Roblox refused the request itself (a 4xx other than 401/403/404/429): not worth retrying."""


class RobloxForbidden(RobloxError):
    """401/403: the Open Cloud key is invalid, revoked, or lacks the scope for this universe."""


class RobloxUnavailable(RobloxError):
    """Roblox is unreachable or failing (5xx, timeouts, connection errors, a body we cannot read): transient."""


class RobloxBadResponse(RobloxUnavailable):
    """Roblox answered 2xx with a body that is not the documented shape."""


class RobloxRateLimited(RobloxUnavailable):
    """Too many calls: Roblox said 429 past our retries, or our own per-host limit has no slot soon enough.
    ``retry_after`` is the number of seconds to wait before trying again."""


class RobloxCircuitOpen(RobloxUnavailable):
    """The host's circuit breaker is open: we are not calling it for ``retry_after`` seconds."""


class RobloxPending(RobloxUnavailable):
    """Not in our cache yet: a worker is asking Roblox. Try again after ``retry_after`` seconds."""


class RobloxNotCached(Exception):
    """A cache-only read missed: ``missing`` are the ids the cache has no entry for."""

    def __init__(self, missing: list[int]):
        super().__init__(f"not cached: {missing}")
        self.missing = missing


class RobloxMessageTooLarge(RobloxError, ValueError):
    """A MessagingService message over the 1 KiB limit; refused before any request is made."""


def parse_error_body(body: Any) -> tuple[int | str | None, str | None]:
    """``(code, message)`` from any of Roblox's error body shapes, ``(None, None)`` when there is none."""
    if not isinstance(body, dict):
        return None, None
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        return first.get("code"), _short(first.get("message"))
    if isinstance(body.get("error"), str):
        return body["error"], _short(body.get("message"))
    if "code" in body or "message" in body:
        return body.get("code"), _short(body.get("message"))
    return None, None


def _short(message: Any) -> str | None:
    if message is None:
        return None
    return str(message)[:300]
