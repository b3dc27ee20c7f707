"""Open Cloud (apis.roblox.com/cloud/v2), authenticated with an owner's API key in ``x-api-key``.

The key is a secret of the owner's: it travels in the header only, never in a log line, an exception
message or a cache key.
"""

from __future__ import annotations

import json
from typing import Any

from integrations.roblox.errors import RobloxBadResponse, RobloxMessageTooLarge
from integrations.roblox.http import request_json
from integrations.roblox.types import CloudUniverse

FAMILY = "opencloud"
MESSAGE_MAX_BYTES = 1024
TOPIC_MAX_CHARS = 80


def _auth(api_key: str) -> dict[str, str]:
    if not api_key or not api_key.strip():
        raise ValueError("an Open Cloud API key is required")
    return {"x-api-key": api_key.strip()}


def universe(universe_id: int, *, api_key: str) -> CloudUniverse:
    """The universe's Open Cloud resource (name, owner, visibility, devices, age rating)."""
    body = request_json(FAMILY, "GET", f"/cloud/v2/universes/{int(universe_id)}", headers=_auth(api_key))
    if not isinstance(body, dict):
        raise RobloxBadResponse("unexpected Open Cloud universe response from Roblox")
    return CloudUniverse.from_roblox(body)


def encode_message(message: Any) -> str:
    """A MessagingService message as sent: a string as is, anything else as compact JSON."""
    if isinstance(message, str):
        return message
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def publish_message(universe_id: int, *, api_key: str, topic: str, message: Any) -> None:
    """Publish ``message`` on ``topic`` to the universe's live servers (MessagingService).

    Refuses, before any request, a topic that is empty or over 80 characters (``ValueError``) and a message
    over 1 KiB once UTF-8 encoded (:class:`RobloxMessageTooLarge`).
    """
    if not topic or len(topic) > TOPIC_MAX_CHARS:
        raise ValueError(f"a MessagingService topic has 1 to {TOPIC_MAX_CHARS} characters")
    text = encode_message(message)
    size = len(text.encode("utf-8"))
    if size > MESSAGE_MAX_BYTES:
        raise RobloxMessageTooLarge(f"message is {size} bytes; MessagingService takes at most {MESSAGE_MAX_BYTES}")
    request_json(
        FAMILY,
        "POST",
        f"/cloud/v2/universes/{int(universe_id)}:publishMessage",
        json_body={"topic": topic, "message": text},
        headers=_auth(api_key),
    )
