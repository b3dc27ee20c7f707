"""The score update's body: parsed and validated (``action_type``, ``action_id``, ``nonce``, ``timestamp``)."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from adplatform.core.api.errors import DomainError

MAX_BODY_BYTES = 4096
_PRINTABLE = re.compile(r"^[\x21-\x7e]+$")
_SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,64}$")


@dataclass(frozen=True)
class _UpdateBody:
    action_type: str
    action_id: str
    nonce: str
    timestamp: float


def _parse_update_body(raw_body: bytes) -> _UpdateBody:
    if len(raw_body) > MAX_BODY_BYTES:
        raise DomainError(
            "validation_error", "Invalid input.", details={"non_field_errors": ["The body is too large."]}
        )
    try:
        data = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        raise DomainError("malformed_json", "The body is not valid JSON.") from None
    return parse_update_data(data)


def parse_update_data(data: Any) -> _UpdateBody:
    """Validate one update's fields (``action_type``, ``action_id``, ``nonce``, ``timestamp``) of a parsed body."""
    if not isinstance(data, dict):
        raise DomainError("validation_error", "Invalid input.", details={"non_field_errors": ["Send a JSON object."]})
    errors: dict[str, list[str]] = {}

    def text(field: str, pattern: re.Pattern, limit: int, hint: str) -> str:
        value = data.get(field)
        if value is None:
            errors[field] = ["This field is required."]
        elif not isinstance(value, str) or not 0 < len(value) <= limit or not pattern.match(value):
            errors[field] = [hint]
        return value if isinstance(value, str) else ""

    action_type = text("action_type", _SLUG, 64, "The key of one of the game's action types.")
    action_id = text("action_id", _PRINTABLE, 100, "1 to 100 printable characters, unique per action.")
    nonce = text("nonce", _PRINTABLE, 100, "8 to 100 printable characters, new for every request.")
    if "nonce" not in errors and len(nonce) < 8:
        errors["nonce"] = ["8 to 100 printable characters, new for every request."]
    timestamp = data.get("timestamp")
    if timestamp is None:
        errors["timestamp"] = ["This field is required."]
    elif isinstance(timestamp, bool) or not isinstance(timestamp, int | float) or not math.isfinite(timestamp):
        errors["timestamp"] = ["Unix time in seconds (a number)."]
    for field in ("score", "increment"):
        if field in data:
            errors[field] = ["The server computes the score from the action type; do not send it."]
    if errors:
        raise DomainError("validation_error", "Invalid input.", details=errors)
    return _UpdateBody(action_type=action_type, action_id=action_id, nonce=nonce, timestamp=float(timestamp))
