"""The stable error codes of the API (``{"error": {"code": ...}}``).

Codes are part of the public contract: add new ones, never rename one.
"""

from __future__ import annotations

from typing import Any

# code -> (default HTTP status, meaning). The OpenAPI description lists them.
ERROR_CODES: dict[str, tuple[int, str]] = {
    "validation_error": (400, "The request body or query failed validation; `details` maps fields to messages."),
    "malformed_json": (400, "The body is not valid JSON."),
    "invalid_cursor": (400, "The pagination cursor is not one this server issued."),
    "not_authenticated": (401, "No credentials were sent."),
    "authentication_failed": (401, "The credentials were not accepted."),
    "token_invalid": (401, "The token is malformed, unknown or badly signed."),
    "token_expired": (401, "The token has expired."),
    "token_revoked": (401, "The token was revoked."),
    "api_key_invalid": (401, "The X-API-Key is missing, malformed, unknown or revoked."),
    "signature_invalid": (401, "The X-Signature header is missing or does not match the body."),
    "timestamp_out_of_window": (401, "The request timestamp is too far from server time."),
    # score signing with per-server keys (scoreboard/signing.py)
    "signing_key_invalid": (401, "The X-Signing-Key is not a server signing key issued to this game key."),
    "signing_key_expired": (401, "The server signing key has expired; fetch a new one."),
    "permission_denied": (403, "The caller may not do this."),
    "player_banned": (403, "The player is banned from this game's leaderboard."),
    "csrf_failed": (403, "The CSRF check failed."),
    "not_found": (404, "No such object, or not one the caller may see."),
    "method_not_allowed": (405, "The HTTP method is not allowed on this endpoint."),
    "not_acceptable": (406, "The requested response format is not available."),
    "conflict": (409, "The request conflicts with the object's current state."),
    "nonce_reused": (409, "The request's nonce was already used within the timestamp window."),
    "action_duplicate": (409, "This action id was already credited for the game."),
    "batch_too_large": (413, "The batch holds more items than allowed."),
    "payload_too_large": (413, "The request body is larger than the server accepts."),
    "unsupported_media_type": (415, "The body must be application/json."),
    "unprocessable": (422, "The request is well-formed but cannot be processed."),
    "action_type_invalid": (422, "The action type is unknown or inactive for this game."),
    "rate_limited": (429, "Too many requests; retry after `Retry-After` seconds."),
    "internal_error": (500, "An unexpected error; it was logged with the request id."),
    "upstream_unavailable": (503, "An upstream service (Roblox) is unavailable."),
    "service_unavailable": (503, "A required service (database or Redis) is unavailable."),
}


class DomainError(Exception):
    """A business-rule failure with a stable code; rendered by the API's exception handler.

    Services raise it; pages turn it into form errors or messages.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ):
        if code not in ERROR_CODES and status is None:
            raise ValueError(f"unknown error code {code!r}: add it to ERROR_CODES or pass a status")
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status if status is not None else ERROR_CODES[code][0]
        self.details = details or {}
        self.headers = headers or {}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}
