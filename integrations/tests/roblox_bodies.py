"""Bodies shaped like Roblox's real answers (field for field, as recorded from the public APIs)."""

from __future__ import annotations

from typing import Any

GAMES_URL = "https://games.roblox.com/v1/games"
VOTES_URL = "https://games.roblox.com/v1/games/votes"
GAME_ICONS_URL = "https://thumbnails.roblox.com/v1/games/icons"
ASSET_THUMBNAILS_URL = "https://thumbnails.roblox.com/v1/assets"


def place_universe_url(place_id: int) -> str:
    return f"https://apis.roblox.com/universes/v1/places/{place_id}/universe"


def asset_details_url(asset_id: int) -> str:
    return f"https://economy.roblox.com/v2/assets/{asset_id}/details"


def cloud_universe_url(universe_id: int) -> str:
    return f"https://apis.roblox.com/cloud/v2/universes/{universe_id}"


def publish_url(universe_id: int) -> str:
    return f"https://apis.roblox.com/cloud/v2/universes/{universe_id}:publishMessage"


def game(universe_id: int = 1818, **overrides: Any) -> dict[str, Any]:
    """An item of ``GET games.roblox.com/v1/games?universeIds=``."""
    item = {
        "id": universe_id,
        "rootPlaceId": 1818 if universe_id == 1818 else universe_id * 10 + 7,
        "name": "Classic: Crossroads" if universe_id == 1818 else f"Obby {universe_id}",
        "description": "The classic ROBLOX level is back!",
        "sourceName": "Classic: Crossroads",
        "sourceDescription": "The classic ROBLOX level is back!",
        "creator": {"id": 1, "name": "Roblox", "type": "User", "isRNVAccount": False, "hasVerifiedBadge": True},
        "price": None,
        "allowedGearGenres": ["Ninja"],
        "allowedGearCategories": [],
        "isGenreEnforced": True,
        "copyingAllowed": False,
        "playing": 312,
        "visits": 13016394,
        "maxPlayers": 10,
        "created": "2007-05-01T01:07:04.78Z",
        "updated": "2023-05-09T17:03:42.3933333Z",
        "studioAccessToApiAllowed": False,
        "createVipServersAllowed": False,
        "universeAvatarType": "MorphToR6",
        "genre": "Fighting",
        "genre_l1": "Action",
        "genre_l2": "",
        "isAllGenre": False,
        "isFavoritedByUser": False,
        "favoritedCount": 148584,
    }
    item.update(overrides)
    return item


def votes(universe_id: int, up: int = 81614, down: int = 4717) -> dict[str, Any]:
    return {"id": universe_id, "upVotes": up, "downVotes": down}


def thumbnail(target_id: int, state: str = "Completed", kind: str = "512/512/Image/Png") -> dict[str, Any]:
    """An item of the thumbnails API; ``imageUrl`` is null unless Completed."""
    completed = state == "Completed"
    return {
        "targetId": target_id,
        "state": state,
        "imageUrl": f"https://tr.rbxcdn.com/180DAY-{target_id:x}4a8e0c1f/{kind}/noFilter" if completed else None,
        "version": "TN3" if completed else None,
        "errorCode": 0,
        "errorMessage": "",
    }


def asset_details(asset_id: int = 102611803, **overrides: Any) -> dict[str, Any]:
    """The body of ``GET economy.roblox.com/v2/assets/{id}/details``."""
    body = {
        "TargetId": asset_id,
        "ProductType": "User Product",
        "AssetId": asset_id,
        "ProductId": 21372843,
        "Name": "Sponsor billboard",
        "Description": "Billboard artwork for the summer campaign.",
        "AssetTypeId": 13,
        "Creator": {
            "Id": 1,
            "Name": "Roblox",
            "CreatorType": "User",
            "CreatorTargetId": 1,
            "HasVerifiedBadge": True,
        },
        "IconImageAssetId": 0,
        "Created": "2013-01-22T20:30:44.597Z",
        "Updated": "2013-01-22T20:30:44.597Z",
        "PriceInRobux": None,
        "PriceInTickets": None,
        "Sales": 0,
        "IsNew": False,
        "IsForSale": False,
        "IsPublicDomain": True,
        "IsLimited": False,
        "IsLimitedUnique": False,
        "Remaining": None,
        "MinimumMembershipLevel": 0,
        "ContentRatingTypeId": 0,
        "SaleAvailabilityLocations": None,
        "SaleLocation": None,
        "CollectibleItemId": None,
        "CollectibleProductId": None,
        "CollectiblesItemDetails": None,
    }
    body.update(overrides)
    return body


def cloud_universe(universe_id: int = 1818) -> dict[str, Any]:
    """The body of ``GET apis.roblox.com/cloud/v2/universes/{id}``."""
    return {
        "path": f"universes/{universe_id}",
        "createTime": "2007-05-01T01:07:04.780Z",
        "updateTime": "2023-05-09T17:03:42.393Z",
        "displayName": "Classic: Crossroads",
        "description": "The classic ROBLOX level is back!",
        "user": "users/1",
        "visibility": "PUBLIC",
        "voiceChatEnabled": False,
        "ageRating": "AGE_RATING_9_PLUS",
        "desktopEnabled": True,
        "mobileEnabled": True,
        "tabletEnabled": True,
        "consoleEnabled": False,
        "vrEnabled": False,
    }


def legacy_error(code: int, message: str) -> dict[str, Any]:
    return {"errors": [{"code": code, "message": message, "userFacingMessage": "Something went wrong"}]}


def ids_param(call) -> list[int]:
    """The ids a recorded call asked for (``universeIds`` or ``assetIds``)."""
    from urllib.parse import parse_qs, urlsplit

    query = parse_qs(urlsplit(call.request.url).query)
    raw = (query.get("universeIds") or query["assetIds"])[0]
    return [int(i) for i in raw.split(",")]


def echo_games(request):
    """A ``responses`` callback answering ``/v1/games`` for whatever ids were asked, in reverse order."""
    import json

    ids = ids_param(type("Call", (), {"request": request}))
    return 200, {"Content-Type": "application/json"}, json.dumps({"data": [game(i) for i in reversed(ids)]})


def echo_thumbnails(state: str = "Completed"):
    """A ``responses`` callback answering the thumbnails API for whatever ids were asked, in reverse order."""
    import json

    def callback(request):
        ids = ids_param(type("Call", (), {"request": request}))
        return (
            200,
            {"Content-Type": "application/json"},
            json.dumps({"data": [thumbnail(i, state) for i in reversed(ids)]}),
        )

    return callback
