"""Open Cloud (apis.roblox.com/cloud/v2), authenticated with an owner's API key in ``x-api-key``.

The key is a secret of the owner's: it travels in the header only, never in a log line, an exception
message or a cache key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
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


# --------------------------------------------------------------------------- Assets API (assets/v1)
#
# Documented in Roblox's creator docs (cloud/reference: Assets v1; cloud/guides/usage-assets): an API key
# with ``asset:read`` reads an asset (creator, type, moderation), one with ``asset:write`` creates one.
# Creating is a long-running operation: the answer is an Operation ``{"path": "operations/{id}", "done"}``
# whose ``response`` is the Asset once done.

ASSET_MODERATION_STATES = {
    # Roblox has answered both spellings (the enum's and a short one).
    "MODERATION_STATE_APPROVED": "Approved",
    "MODERATION_STATE_REVIEWING": "Reviewing",
    "MODERATION_STATE_REJECTED": "Rejected",
    "APPROVED": "Approved",
    "REVIEWING": "Reviewing",
    "REJECTED": "Rejected",
}


@dataclass(frozen=True, slots=True)
class CloudAsset:
    """An asset as Open Cloud Assets describes it (``GET /assets/v1/assets/{id}``)."""

    id: int
    asset_type: str
    display_name: str
    creator_type: str  # "user" or "group"
    creator_id: int | None
    moderation_state: str  # "Approved", "Reviewing", "Rejected" or "" when Roblox said nothing

    @classmethod
    def from_roblox(cls, item: dict[str, Any]) -> CloudAsset:
        try:
            creator = (item.get("creationContext") or {}).get("creator") or {}
            if creator.get("userId"):
                creator_type, creator_id = "user", int(creator["userId"])
            elif creator.get("groupId"):
                creator_type, creator_id = "group", int(creator["groupId"])
            else:
                creator_type, creator_id = "", None
            state = str((item.get("moderationResult") or {}).get("moderationState") or "")
            return cls(
                id=int(item["assetId"]),
                asset_type=str(item.get("assetType") or ""),
                display_name=str(item.get("displayName") or ""),
                creator_type=creator_type,
                creator_id=creator_id,
                moderation_state=ASSET_MODERATION_STATES.get(state.upper(), ""),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RobloxBadResponse("unexpected Open Cloud asset response from Roblox") from exc


@dataclass(frozen=True, slots=True)
class CloudOperation:
    """A long-running Open Cloud operation; ``asset`` is set once it is done."""

    id: str
    done: bool
    asset: CloudAsset | None

    @classmethod
    def from_roblox(cls, item: Any) -> CloudOperation:
        if not isinstance(item, dict):
            raise RobloxBadResponse("unexpected Open Cloud operation response from Roblox")
        path = str(item.get("path") or "")
        operation_id = str(item.get("operationId") or (path.split("/", 1)[1] if path.startswith("operations/") else ""))
        if not operation_id:
            raise RobloxBadResponse("Open Cloud operation without an id")
        done = bool(item.get("done"))
        response = item.get("response")
        asset = CloudAsset.from_roblox(response) if done and isinstance(response, dict) else None
        return cls(id=operation_id, done=done, asset=asset)


def get_asset(asset_id: int, *, api_key: str) -> CloudAsset:
    """An asset's type, creator and moderation state. ``RobloxNotFound`` when the key cannot see it."""
    body = request_json(FAMILY, "GET", f"/assets/v1/assets/{int(asset_id)}", headers=_auth(api_key))
    if not isinstance(body, dict):
        raise RobloxBadResponse("unexpected Open Cloud asset response from Roblox")
    return CloudAsset.from_roblox(body)


def create_asset(
    *,
    api_key: str,
    asset_type: str,
    display_name: str,
    description: str,
    creator_type: str,
    creator_id: int,
    filename: str,
    content: bytes,
    content_type: str,
) -> CloudOperation:
    """Upload ``content`` as a new asset of the user or group ``creator_id`` (the key must act for it)."""
    creator = {"userId": str(int(creator_id))} if creator_type == "user" else {"groupId": str(int(creator_id))}
    request = {
        "assetType": asset_type,
        "displayName": display_name[:50],
        "description": description[:1000],
        "creationContext": {"creator": creator},
    }
    body = request_json(
        FAMILY,
        "POST",
        "/assets/v1/assets",
        headers=_auth(api_key),
        files={
            "request": (None, json.dumps(request), "application/json"),
            "fileContent": (filename, content, content_type),
        },
    )
    return CloudOperation.from_roblox(body)


def get_operation(operation_id: str, *, api_key: str) -> CloudOperation:
    """Where an asset operation stands."""
    if not operation_id or "/" in operation_id:
        raise ValueError("an Open Cloud operation id")
    body = request_json(FAMILY, "GET", f"/assets/v1/operations/{operation_id}", headers=_auth(api_key))
    return CloudOperation.from_roblox(body)
