"""thumbnails.roblox.com: game icons and asset thumbnails (100 ids a call).

Items come back in no set order and are matched on ``targetId``. ``state`` tells whether the image exists yet:
``Completed`` (``imageUrl`` set), ``Pending`` / ``InReview`` / ``TemporarilyUnavailable`` (ask again later),
``Blocked`` (moderation rejected it) or ``Error`` (final).
"""

from __future__ import annotations

from collections.abc import Iterable

from integrations.roblox._util import chunks, data_items, join_ids, unique_ids
from integrations.roblox.http import request_json
from integrations.roblox.types import Thumbnail

FAMILY = "thumbnails"
MAX_IDS_PER_CALL = 100
GAME_ICON_SIZES = ("50x50", "128x128", "150x150", "256x256", "420x420", "512x512")
IMAGE_FORMATS = ("Png", "Jpeg", "Webp")


def _fetch(path: str, id_param: str, ids: Iterable[int], params: dict[str, str]) -> dict[int, Thumbnail]:
    result: dict[int, Thumbnail] = {}
    for chunk in chunks(unique_ids(ids), MAX_IDS_PER_CALL):
        body = request_json(FAMILY, "GET", path, params={id_param: join_ids(chunk), **params})
        wanted = set(chunk)
        for item in data_items(body, "thumbnails"):
            thumbnail = Thumbnail.from_roblox(item)
            if thumbnail.target_id in wanted:
                result[thumbnail.target_id] = thumbnail
    return result


def game_icons(
    universe_ids: Iterable[int], *, size: str = "512x512", image_format: str = "Png", is_circular: bool = False
) -> dict[int, Thumbnail]:
    """Icons of universes, keyed by universe id."""
    params = {"size": size, "format": image_format, "isCircular": "true" if is_circular else "false"}
    return _fetch("/v1/games/icons", "universeIds", universe_ids, params)


def asset_thumbnails(
    asset_ids: Iterable[int], *, size: str = "420x420", image_format: str = "Png", is_circular: bool = False
) -> dict[int, Thumbnail]:
    """Thumbnails of assets, keyed by asset id; ``state`` carries Roblox's moderation verdict (``Blocked``)."""
    params = {"size": size, "format": image_format, "isCircular": "true" if is_circular else "false"}
    return _fetch("/v1/assets", "assetIds", asset_ids, params)


AVATAR_HEADSHOT_SIZES = ("48x48", "50x50", "60x60", "75x75", "100x100", "110x110", "150x150", "180x180", "352x352",
                         "420x420", "720x720")  # fmt: skip


def avatar_headshots(
    user_ids: Iterable[int], *, size: str = "150x150", image_format: str = "Png", is_circular: bool = False
) -> dict[int, Thumbnail]:
    """Avatar headshots of Roblox users, keyed by user id (the live leaderboards show them)."""
    params = {"size": size, "format": image_format, "isCircular": "true" if is_circular else "false"}
    return _fetch("/v1/users/avatar-headshot", "userIds", user_ids, params)
