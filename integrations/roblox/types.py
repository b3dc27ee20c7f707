"""Typed results of the Roblox clients.

Each type is built from Roblox's own JSON with ``from_roblox`` (the clients call it) and goes to and from the
cache with ``to_dict`` / ``from_dict``. A Roblox item that does not have the documented shape raises
:class:`~integrations.roblox.errors.RobloxBadResponse`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Self

from integrations.roblox.errors import RobloxBadResponse


class ThumbnailState(StrEnum):
    COMPLETED = "Completed"
    PENDING = "Pending"
    IN_REVIEW = "InReview"
    TEMPORARILY_UNAVAILABLE = "TemporarilyUnavailable"
    BLOCKED = "Blocked"
    ERROR = "Error"


_FRACTION = re.compile(r"(?<=\d\d:\d\d:\d\d\.)(\d+)")

# Final states do not change by asking again; the others are asked again later.
FINAL_THUMBNAIL_STATES = frozenset({ThumbnailState.COMPLETED, ThumbnailState.BLOCKED, ThumbnailState.ERROR})


def thumbnail_state(value: Any) -> str:
    """Roblox's state as a :class:`ThumbnailState`, or the raw string for a state we do not know yet."""
    raw = str(value)
    try:
        return ThumbnailState(raw)
    except ValueError:
        return raw


def parse_datetime(value: Any) -> datetime | None:
    """Roblox timestamps (``2007-05-01T01:07:04.78Z``, up to 7 fraction digits) as aware datetimes."""
    if value in (None, ""):
        return None
    # Python reads at most 6 fraction digits; Roblox sometimes sends 7.
    text = _FRACTION.sub(lambda m: m.group(1)[:6], str(value), count=1)
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without a timezone: {value!r}")
    return parsed


def to_dict(obj: Any) -> dict[str, Any]:
    """A dataclass result as JSON-ready primitives (datetimes as ISO strings)."""
    out: dict[str, Any] = {}
    for field in fields(obj):
        value = getattr(obj, field.name)
        if is_dataclass(value):
            value = to_dict(value)
        elif isinstance(value, datetime):
            value = value.isoformat()
        out[field.name] = value
    return out


@contextmanager
def _shape(what: str) -> Iterator[None]:
    try:
        yield
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RobloxBadResponse(f"unexpected {what} from Roblox: {type(exc).__name__}: {exc}") from exc


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


@dataclass(frozen=True, slots=True)
class Creator:
    id: int
    name: str
    type: str  # "User" or "Group"
    has_verified_badge: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return cls(**data)


@dataclass(frozen=True, slots=True)
class GameDetails:
    """One experience from ``games.roblox.com/v1/games`` (``id`` is the universe id)."""

    id: int
    root_place_id: int
    name: str
    description: str
    creator: Creator
    price: int | None
    playing: int
    visits: int
    max_players: int
    created: datetime | None
    updated: datetime | None
    genre: str
    favorited_count: int
    universe_avatar_type: str

    @classmethod
    def from_roblox(cls, item: dict[str, Any]) -> Self:
        with _shape("game details"):
            creator = item["creator"]
            return cls(
                id=int(item["id"]),
                root_place_id=int(item["rootPlaceId"]),
                name=str(item.get("name") or ""),
                description=str(item.get("description") or ""),
                creator=Creator(
                    id=int(creator["id"]),
                    name=str(creator.get("name") or ""),
                    type=str(creator.get("type") or ""),
                    has_verified_badge=bool(creator.get("hasVerifiedBadge", False)),
                ),
                price=_int_or_none(item.get("price")),
                playing=int(item.get("playing") or 0),
                visits=int(item.get("visits") or 0),
                max_players=int(item.get("maxPlayers") or 0),
                created=parse_datetime(item.get("created")),
                updated=parse_datetime(item.get("updated")),
                genre=str(item.get("genre") or ""),
                favorited_count=int(item.get("favoritedCount") or 0),
                universe_avatar_type=str(item.get("universeAvatarType") or ""),
            )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return cls(
            **{
                **data,
                "creator": Creator.from_dict(data["creator"]),
                "created": parse_datetime(data["created"]),
                "updated": parse_datetime(data["updated"]),
            }
        )


@dataclass(frozen=True, slots=True)
class GameVotes:
    """Up and down votes of one experience (``id`` is the universe id)."""

    id: int
    up_votes: int
    down_votes: int

    @classmethod
    def from_roblox(cls, item: dict[str, Any]) -> Self:
        with _shape("game votes"):
            return cls(id=int(item["id"]), up_votes=int(item["upVotes"]), down_votes=int(item["downVotes"]))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return cls(**data)


@dataclass(frozen=True, slots=True)
class Thumbnail:
    """A game icon or asset thumbnail. ``image_url`` is None unless ``state`` is Completed.

    ``state`` is one of :class:`ThumbnailState` (kept as Roblox's string should Roblox add a state).
    """

    target_id: int
    state: str
    image_url: str | None
    version: str | None

    @property
    def is_final(self) -> bool:
        """Completed, Blocked or Error: asking again will not change it."""
        return self.state in FINAL_THUMBNAIL_STATES

    @property
    def is_completed(self) -> bool:
        return self.state == ThumbnailState.COMPLETED

    @property
    def is_blocked(self) -> bool:
        """Roblox moderation rejected the image."""
        return self.state == ThumbnailState.BLOCKED

    @classmethod
    def from_roblox(cls, item: dict[str, Any]) -> Self:
        with _shape("thumbnail"):
            return cls(
                target_id=int(item["targetId"]),
                state=thumbnail_state(item["state"]),
                image_url=item.get("imageUrl") or None,
                version=item.get("version") or None,
            )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return cls(**{**data, "state": thumbnail_state(data["state"])})


@dataclass(frozen=True, slots=True)
class AssetDetails:
    """An asset from ``economy.roblox.com/v2/assets/{id}/details``."""

    id: int
    product_id: int | None
    name: str
    description: str
    asset_type_id: int
    creator: Creator
    price_in_robux: int | None
    is_for_sale: bool
    is_limited: bool
    created: datetime | None
    updated: datetime | None

    @classmethod
    def from_roblox(cls, item: dict[str, Any]) -> Self:
        with _shape("asset details"):
            creator = item["Creator"]
            return cls(
                id=int(item["AssetId"]),
                product_id=_int_or_none(item.get("ProductId")),
                name=str(item.get("Name") or ""),
                description=str(item.get("Description") or ""),
                asset_type_id=int(item["AssetTypeId"]),
                creator=Creator(
                    id=int(creator.get("CreatorTargetId") or creator["Id"]),
                    name=str(creator.get("Name") or ""),
                    type=str(creator.get("CreatorType") or ""),
                    has_verified_badge=bool(creator.get("HasVerifiedBadge", False)),
                ),
                price_in_robux=_int_or_none(item.get("PriceInRobux")),
                is_for_sale=bool(item.get("IsForSale", False)),
                is_limited=bool(item.get("IsLimited", False) or item.get("IsLimitedUnique", False)),
                created=parse_datetime(item.get("Created")),
                updated=parse_datetime(item.get("Updated")),
            )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return cls(
            **{
                **data,
                "creator": Creator.from_dict(data["creator"]),
                "created": parse_datetime(data["created"]),
                "updated": parse_datetime(data["updated"]),
            }
        )


@dataclass(frozen=True, slots=True)
class CloudUniverse:
    """A universe as Open Cloud v2 describes it (``GET /cloud/v2/universes/{id}``)."""

    id: int
    display_name: str
    description: str
    owner_type: str  # "user" or "group"
    owner_id: int | None
    visibility: str
    age_rating: str
    voice_chat_enabled: bool
    private_server_price_robux: int | None
    desktop_enabled: bool
    mobile_enabled: bool
    tablet_enabled: bool
    console_enabled: bool
    vr_enabled: bool
    create_time: datetime | None
    update_time: datetime | None

    @classmethod
    def from_roblox(cls, item: dict[str, Any]) -> Self:
        with _shape("Open Cloud universe"):
            # Resource names: "universes/123", "users/456" or "groups/789".
            universe_id = int(str(item["path"]).rsplit("/", 1)[-1])
            owner = item.get("user") or item.get("group")
            return cls(
                id=universe_id,
                display_name=str(item.get("displayName") or ""),
                description=str(item.get("description") or ""),
                owner_type="user" if item.get("user") else ("group" if item.get("group") else ""),
                owner_id=int(str(owner).rsplit("/", 1)[-1]) if owner else None,
                visibility=str(item.get("visibility") or ""),
                age_rating=str(item.get("ageRating") or ""),
                voice_chat_enabled=bool(item.get("voiceChatEnabled", False)),
                private_server_price_robux=_int_or_none(item.get("privateServerPriceRobux")),
                desktop_enabled=bool(item.get("desktopEnabled", False)),
                mobile_enabled=bool(item.get("mobileEnabled", False)),
                tablet_enabled=bool(item.get("tabletEnabled", False)),
                console_enabled=bool(item.get("consoleEnabled", False)),
                vr_enabled=bool(item.get("vrEnabled", False)),
                create_time=parse_datetime(item.get("createTime")),
                update_time=parse_datetime(item.get("updateTime")),
            )
