"""Clients for Roblox's web APIs, one module per API family, over one shared HTTP session (:mod:`.http`).

* :mod:`.universes`: place -> universe
* :mod:`.games`: experience details and votes
* :mod:`.thumbnails`: game icons and asset thumbnails
* :mod:`.economy`: asset details
* :mod:`.opencloud`: Open Cloud universe details and MessagingService publishing

Callers elsewhere in the project use :mod:`integrations.services`, which adds caching.
"""

from integrations.roblox.errors import (
    RobloxBadRequest,
    RobloxBadResponse,
    RobloxCircuitOpen,
    RobloxError,
    RobloxForbidden,
    RobloxMessageTooLarge,
    RobloxNotFound,
    RobloxRateLimited,
    RobloxUnavailable,
)
from integrations.roblox.types import (
    AssetDetails,
    CloudUniverse,
    Creator,
    GameDetails,
    GameVotes,
    Thumbnail,
    ThumbnailState,
)

__all__ = [
    "AssetDetails",
    "CloudUniverse",
    "Creator",
    "GameDetails",
    "GameVotes",
    "RobloxBadRequest",
    "RobloxBadResponse",
    "RobloxCircuitOpen",
    "RobloxError",
    "RobloxForbidden",
    "RobloxMessageTooLarge",
    "RobloxNotFound",
    "RobloxRateLimited",
    "RobloxUnavailable",
    "Thumbnail",
    "ThumbnailState",
]
