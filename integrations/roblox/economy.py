"""economy.roblox.com: asset details."""

from __future__ import annotations

from integrations.roblox.errors import RobloxBadRequest, RobloxBadResponse, RobloxNotFound
from integrations.roblox.http import request_json
from integrations.roblox.types import AssetDetails

FAMILY = "economy"


def asset_details(asset_id: int) -> AssetDetails:
    """Name, type, creator, price and sale state of an asset. Raises :class:`RobloxNotFound` for an unknown one."""
    try:
        body = request_json(FAMILY, "GET", f"/v2/assets/{int(asset_id)}/details")
    except RobloxBadRequest as exc:
        # For a well-formed id this endpoint answers 400 "Asset is invalid or does not exist".
        if exc.status == 400:
            raise RobloxNotFound(exc.message, status=exc.status, code=exc.code, host=exc.host) from exc
        raise
    if not isinstance(body, dict):
        raise RobloxBadResponse("unexpected asset details response from Roblox")
    return AssetDetails.from_roblox(body)
