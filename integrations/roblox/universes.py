"""apis.roblox.com/universes: which universe (experience) a place belongs to."""

from __future__ import annotations

from integrations.roblox.errors import RobloxBadResponse, RobloxNotFound
from integrations.roblox.http import request_json

FAMILY = "universes"


def place_universe(place_id: int) -> int:
    """The universe id of a place. Raises :class:`RobloxNotFound` for an unknown place
    (Roblox answers 404, or 200 with ``{"universeId": null}``)."""
    body = request_json(FAMILY, "GET", f"/universes/v1/places/{int(place_id)}/universe")
    if not isinstance(body, dict):
        raise RobloxBadResponse("unexpected place universe response from Roblox")
    universe_id = body.get("universeId")
    if not universe_id:
        raise RobloxNotFound(f"Roblox has no universe for place {place_id}", status=200)
    try:
        return int(universe_id)
    except (TypeError, ValueError) as exc:
        raise RobloxBadResponse(f"unexpected universeId from Roblox: {universe_id!r}") from exc
