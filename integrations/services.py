"""Roblox data for the rest of the project: cached, rate limited, retried calls to Roblox's web APIs.

Pure functions over the clients of :mod:`integrations.roblox` (no models). Every function may raise:

* :class:`~integrations.roblox.errors.RobloxNotFound`: Roblox has no such object;
* :class:`~integrations.roblox.errors.RobloxUnavailable` and its kinds
  :class:`~integrations.roblox.errors.RobloxRateLimited` / :class:`~integrations.roblox.errors.RobloxCircuitOpen`
  (each with ``retry_after`` seconds when known): Roblox is failing or we must not call it now, try later;
* :class:`~integrations.roblox.errors.RobloxError` for anything else Roblox refused.

Results are cached in Redis (lifetimes in ``ROBLOX_CACHE_TTLS``); ``use_cache=False`` asks Roblox
and refreshes the cache. Batch functions take any number of ids (chunked to Roblox's limits) and return a
dict keyed by id that leaves out ids Roblox does not know.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from integrations.roblox import cache, economy, games, opencloud, thumbnails, universes
from integrations.roblox._util import unique_ids
from integrations.roblox.config import cache_ttl
from integrations.roblox.errors import RobloxNotFound
from integrations.roblox.types import (
    AssetDetails,
    CloudUniverse,
    GameDetails,
    GameVotes,
    Thumbnail,
    to_dict,
)

T = TypeVar("T")

__all__ = [
    "roblox_asset_details",
    "roblox_asset_thumbnails",
    "roblox_cloud_universe",
    "roblox_game_details",
    "roblox_game_icons",
    "roblox_game_votes",
    "roblox_games_details",
    "roblox_place_universe",
    "roblox_publish_message",
]


def _cached_batch(
    *,
    kind: str,
    ids: list[int],
    fetch: Callable[[list[int]], dict[int, T]],
    decode: Callable[[dict[str, Any]], T],
    ttl: Callable[[T], float],
    use_cache: bool,
) -> dict[int, T]:
    """Serve what the cache holds, fetch the rest in one batch, cache it (unknown ids as not found)."""
    result: dict[int, T] = {}
    missing = ids
    if use_cache:
        cached = cache.get_many(kind, ids)
        for ident, entry in cached.items():
            if entry is not cache.NOT_FOUND:
                result[ident] = decode(entry)  # type: ignore[arg-type]
        missing = [i for i in ids if i not in cached]
    if missing:
        fetched = fetch(missing)
        not_found_ttl = cache_ttl("not_found")
        cache.set_many(
            kind,
            [
                (ident, to_dict(fetched[ident]), ttl(fetched[ident]))
                if ident in fetched
                else (ident, None, not_found_ttl)
                for ident in missing
            ],
        )
        result.update(fetched)
    return {i: result[i] for i in ids if i in result}


def _thumbnail_ttl(thumbnail: Thumbnail) -> float:
    # A Pending / InReview image is asked again soon; a final state can be kept.
    return cache_ttl("thumbnail") if thumbnail.is_final else cache_ttl("thumbnail_pending")


def roblox_place_universe(*, place_id: int, use_cache: bool = True) -> int:
    """The universe id of a Roblox place (cached for a day).

    Raises ``RobloxNotFound`` when the place does not exist (remembered for ``not_found`` seconds).
    """
    (place_id,) = unique_ids([place_id])
    kind = "place_universe"
    if use_cache:
        entry = cache.get_many(kind, [place_id]).get(place_id)
        if entry is cache.NOT_FOUND:
            raise RobloxNotFound(f"Roblox has no universe for place {place_id}")
        if entry is not None:
            return int(entry["universe_id"])  # type: ignore[index]
    try:
        universe_id = universes.place_universe(place_id)
    except RobloxNotFound:
        cache.set_many(kind, [(place_id, None, cache_ttl("not_found"))])
        raise
    cache.set_many(kind, [(place_id, {"universe_id": universe_id}, cache_ttl("place_universe"))])
    return universe_id


def roblox_games_details(*, universe_ids: Iterable[int], use_cache: bool = True) -> dict[int, GameDetails]:
    """Details (name, description, creator, playing, visits, ...) of universes, keyed by universe id.

    Chunked to 50 ids a Roblox call; cached ``game_details`` seconds. Unknown universes are left out.
    """
    return _cached_batch(
        kind="game_details",
        ids=unique_ids(universe_ids),
        fetch=games.games_details,
        decode=GameDetails.from_dict,
        ttl=lambda _: cache_ttl("game_details"),
        use_cache=use_cache,
    )


def roblox_game_details(*, universe_id: int, use_cache: bool = True) -> GameDetails:
    """Details of one universe. Raises ``RobloxNotFound`` when Roblox does not know it."""
    found = roblox_games_details(universe_ids=[universe_id], use_cache=use_cache)
    if universe_id not in found:
        raise RobloxNotFound(f"Roblox has no universe {universe_id}")
    return found[universe_id]


def roblox_game_votes(*, universe_ids: Iterable[int], use_cache: bool = True) -> dict[int, GameVotes]:
    """Up and down votes of universes, keyed by universe id (50 ids a call; cached ``game_votes`` seconds)."""
    return _cached_batch(
        kind="game_votes",
        ids=unique_ids(universe_ids),
        fetch=games.games_votes,
        decode=GameVotes.from_dict,
        ttl=lambda _: cache_ttl("game_votes"),
        use_cache=use_cache,
    )


def roblox_game_icons(
    *,
    universe_ids: Iterable[int],
    size: str = "512x512",
    image_format: str = "Png",
    is_circular: bool = False,
    use_cache: bool = True,
) -> dict[int, Thumbnail]:
    """Game icons of universes, keyed by universe id, with their ``state``.

    Only a ``Completed`` icon has an ``image_url``. Final states are cached ``thumbnail`` seconds,
    ``Pending`` / ``InReview`` / ``TemporarilyUnavailable`` only ``thumbnail_pending`` seconds. 100 ids a call.
    """
    return _cached_batch(
        kind=f"game_icon:{size}:{image_format}:{int(is_circular)}",
        ids=unique_ids(universe_ids),
        fetch=lambda ids: thumbnails.game_icons(ids, size=size, image_format=image_format, is_circular=is_circular),
        decode=Thumbnail.from_dict,
        ttl=_thumbnail_ttl,
        use_cache=use_cache,
    )


def roblox_asset_thumbnails(
    *,
    asset_ids: Iterable[int],
    size: str = "420x420",
    image_format: str = "Png",
    use_cache: bool = True,
) -> dict[int, Thumbnail]:
    """Thumbnails of assets, keyed by asset id, with their ``state``.

    ``state`` is Roblox's moderation verdict as well: ``Blocked`` means the image was rejected (a creative
    using it must stop serving), ``Error`` is final, ``Pending`` / ``InReview`` / ``TemporarilyUnavailable``
    should be asked again later (they are cached only ``thumbnail_pending`` seconds). 100 ids a call.
    """
    return _cached_batch(
        kind=f"asset_thumbnail:{size}:{image_format}",
        ids=unique_ids(asset_ids),
        fetch=lambda ids: thumbnails.asset_thumbnails(ids, size=size, image_format=image_format),
        decode=Thumbnail.from_dict,
        ttl=_thumbnail_ttl,
        use_cache=use_cache,
    )


def roblox_asset_details(*, asset_id: int, use_cache: bool = True) -> AssetDetails:
    """Name, type, creator, price and sale state of an asset (cached ``asset_details`` seconds).

    Raises ``RobloxNotFound`` for an unknown asset (remembered for ``not_found`` seconds).
    """
    (asset_id,) = unique_ids([asset_id])
    kind = "asset_details"
    if use_cache:
        entry = cache.get_many(kind, [asset_id]).get(asset_id)
        if entry is cache.NOT_FOUND:
            raise RobloxNotFound(f"Roblox has no asset {asset_id}")
        if entry is not None:
            return AssetDetails.from_dict(entry)  # type: ignore[arg-type]
    try:
        details = economy.asset_details(asset_id)
    except RobloxNotFound:
        cache.set_many(kind, [(asset_id, None, cache_ttl("not_found"))])
        raise
    cache.set_many(kind, [(asset_id, to_dict(details), cache_ttl("asset_details"))])
    return details


def roblox_cloud_universe(*, universe_id: int, api_key: str) -> CloudUniverse:
    """The universe as Open Cloud describes it, read with the owner's API key. Not cached: what a key may
    read depends on the key. Raises ``RobloxForbidden`` when the key is refused."""
    (universe_id,) = unique_ids([universe_id])
    return opencloud.universe(universe_id, api_key=api_key)


def roblox_publish_message(*, universe_id: int, api_key: str, topic: str, message: Any) -> None:
    """Publish a MessagingService message to the universe's live servers through Open Cloud.

    ``message`` is a string, or any JSON-serialisable value (sent as compact JSON). Refused before any
    request when over 1 KiB (``RobloxMessageTooLarge``) or when the topic is empty or over 80 characters
    (``ValueError``). Raises ``RobloxForbidden`` when the key lacks ``universe-messaging-service:publish``
    for this universe. The key is never logged.
    """
    (universe_id,) = unique_ids([universe_id])
    opencloud.publish_message(universe_id, api_key=api_key, topic=topic, message=message)


# --------------------------------------------------------------------------- Open Cloud Assets (owner's key)


def roblox_cloud_asset(*, asset_id: int, api_key: str) -> opencloud.CloudAsset:
    """An asset's creator, type and moderation state through Open Cloud Assets, read with the game owner's
    key (``asset:read``). The documented replacement of the legacy asset-details call for ownership and
    moderation. Not cached: moderation changes, and what a key may read depends on the key."""
    (asset_id,) = unique_ids([asset_id])
    return opencloud.get_asset(asset_id, api_key=api_key)


def roblox_cloud_asset_create(**kwargs: Any) -> opencloud.CloudOperation:
    """Upload an asset as the game owner (``asset:write``); see :func:`opencloud.create_asset`."""
    return opencloud.create_asset(**kwargs)


def roblox_cloud_operation(*, operation_id: str, api_key: str) -> opencloud.CloudOperation:
    """Where an Open Cloud asset operation stands (done, and the asset once done)."""
    return opencloud.get_operation(operation_id, api_key=api_key)
