"""The scoreboard's domain errors that more than one room raises (codes in shared/API.md)."""

from __future__ import annotations

import logging
import math

from adplatform.core.api.errors import DomainError

logger = logging.getLogger(__name__)


def _retry_after(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


def _redis_down(exc: Exception) -> DomainError:
    logger.warning("score service refused: redis unavailable", extra={"error": type(exc).__name__})
    return DomainError(
        "service_unavailable",
        "The score service is unavailable (Redis); nothing was credited. Retry later.",
        headers=_retry_after(5),
    )


def _token_invalid(message: str = "The score token is malformed or badly signed.") -> DomainError:
    return DomainError("token_invalid", message, headers={"WWW-Authenticate": 'Bearer realm="scores"'})


def _token_expired() -> DomainError:
    return DomainError(
        "token_expired",
        "The score token has expired; ask the game server for a new one.",
        headers={"WWW-Authenticate": 'Bearer realm="scores", error="invalid_token"'},
    )


def _player_banned() -> DomainError:
    return DomainError("player_banned", "This player is banned from the game's leaderboard.")


def _blocked(seconds: int) -> DomainError:
    return DomainError(
        "rate_limited",
        "Too many failed token or signature checks from this key or address; it is blocked for a while.",
        details={"reason": "blocked", "retry_after": seconds},
        headers=_retry_after(seconds),
    )


def _duplicate(action_id: str) -> DomainError:
    return DomainError(
        "action_duplicate", "This action id was already credited; nothing changed.", details={"action_id": action_id}
    )
