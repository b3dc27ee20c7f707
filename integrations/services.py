"""Roblox data for the rest of the project: cached, rate limited, retried calls to Roblox's web APIs.

Pure functions over the clients of :mod:`integrations.roblox` (no models). Every function may raise:

* :class:`~integrations.roblox.errors.RobloxNotFound`: Roblox has no such object;
* :class:`~integrations.roblox.errors.RobloxUnavailable` and its kinds
  :class:`~integrations.roblox.errors.RobloxRateLimited` / :class:`~integrations.roblox.errors.RobloxCircuitOpen`
  (each with ``retry_after`` seconds when known): Roblox is failing or we must not call it now, try later;
* :class:`~integrations.roblox.errors.RobloxError` for anything else Roblox refused.

Results are cached in Redis (lifetimes in ``ROBLOX_CACHE_TTLS``); ``use_cache=False`` asks Roblox
and refreshes the cache; ``fetch=False`` answers from the cache only and raises
:class:`~integrations.roblox.errors.RobloxNotCached` on a miss (what web requests use, through
:mod:`integrations.readthrough`: they never wait on Roblox's retries). Batch functions take any number of ids
(chunked to Roblox's limits) and return a dict keyed by id that leaves out ids Roblox does not know.

:func:`roblox_refresh` is the worker's side of a web request's miss: it asks Roblox (retrying as long as
it must), fills the cache, and records a failure the waiting requests answer with.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import redis

from adplatform.core.redis import get_redis
from integrations.roblox import cache, economy, games, opencloud, thumbnails, universes
from integrations.roblox._util import unique_ids
from integrations.roblox.config import cache_ttl
from integrations.roblox.errors import (
    RobloxCircuitOpen,
    RobloxError,
    RobloxNotCached,
    RobloxNotFound,
    RobloxRateLimited,
    RobloxUnavailable,
)
from integrations.roblox.types import (
    AssetDetails,
    CloudUniverse,
    GameDetails,
    GameVotes,
    Thumbnail,
    to_dict,
)

T = TypeVar("T")
logger = logging.getLogger(__name__)

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
    "roblox_refresh",
]


def _cached_batch(
    *,
    kind: str,
    ids: list[int],
    fetch_batch: Callable[[list[int]], dict[int, T]],
    decode: Callable[[dict[str, Any]], T],
    ttl: Callable[[T], float],
    use_cache: bool,
    fetch: bool = True,
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
    if missing and not fetch:
        raise RobloxNotCached(missing)
    if missing:
        fetched = fetch_batch(missing)
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


def roblox_place_universe(*, place_id: int, use_cache: bool = True, fetch: bool = True) -> int:
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
    if not fetch:
        raise RobloxNotCached([place_id])
    try:
        universe_id = universes.place_universe(place_id)
    except RobloxNotFound:
        cache.set_many(kind, [(place_id, None, cache_ttl("not_found"))])
        raise
    cache.set_many(kind, [(place_id, {"universe_id": universe_id}, cache_ttl("place_universe"))])
    return universe_id


def roblox_games_details(
    *, universe_ids: Iterable[int], use_cache: bool = True, fetch: bool = True
) -> dict[int, GameDetails]:
    """Details (name, description, creator, playing, visits, ...) of universes, keyed by universe id.

    Chunked to 50 ids a Roblox call; cached ``game_details`` seconds. Unknown universes are left out.
    """
    return _cached_batch(
        kind="game_details",
        ids=unique_ids(universe_ids),
        fetch_batch=games.games_details,
        decode=GameDetails.from_dict,
        ttl=lambda _: cache_ttl("game_details"),
        use_cache=use_cache,
        fetch=fetch,
    )


def roblox_game_details(*, universe_id: int, use_cache: bool = True, fetch: bool = True) -> GameDetails:
    """Details of one universe. Raises ``RobloxNotFound`` when Roblox does not know it."""
    found = roblox_games_details(universe_ids=[universe_id], use_cache=use_cache, fetch=fetch)
    if universe_id not in found:
        raise RobloxNotFound(f"Roblox has no universe {universe_id}")
    return found[universe_id]


def roblox_game_votes(*, universe_ids: Iterable[int], use_cache: bool = True) -> dict[int, GameVotes]:
    """Up and down votes of universes, keyed by universe id (50 ids a call; cached ``game_votes`` seconds)."""
    return _cached_batch(
        kind="game_votes",
        ids=unique_ids(universe_ids),
        fetch_batch=games.games_votes,
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
    fetch: bool = True,
) -> dict[int, Thumbnail]:
    """Game icons of universes, keyed by universe id, with their ``state``.

    Only a ``Completed`` icon has an ``image_url``. Final states are cached ``thumbnail`` seconds,
    ``Pending`` / ``InReview`` / ``TemporarilyUnavailable`` only ``thumbnail_pending`` seconds. 100 ids a call.
    """
    return _cached_batch(
        kind=f"game_icon:{size}:{image_format}:{int(is_circular)}",
        ids=unique_ids(universe_ids),
        fetch_batch=lambda ids: thumbnails.game_icons(
            ids, size=size, image_format=image_format, is_circular=is_circular
        ),
        decode=Thumbnail.from_dict,
        ttl=_thumbnail_ttl,
        use_cache=use_cache,
        fetch=fetch,
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
        fetch_batch=lambda ids: thumbnails.asset_thumbnails(ids, size=size, image_format=image_format),
        decode=Thumbnail.from_dict,
        ttl=_thumbnail_ttl,
        use_cache=use_cache,
    )


def roblox_asset_details(*, asset_id: int, use_cache: bool = True, fetch: bool = True) -> AssetDetails:
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
    if not fetch:
        raise RobloxNotCached([asset_id])
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


# --------------------------------------------------------------------------- web reads answered by a worker

# The reads a web request may hand to a worker on a cache miss, by the name the Celery task carries, with the
# parameter that holds their id(s).
READS: dict[str, tuple[Callable[..., Any], str]] = {
    "place_universe": (roblox_place_universe, "place_id"),
    "universe": (roblox_game_details, "universe_id"),
    "asset": (roblox_asset_details, "asset_id"),
    "game_icons": (roblox_game_icons, "universe_ids"),
}
REFRESH_PENDING_SECONDS = 30  # a lost task holds other requests off the same object this long at most
FAILURE_SECONDS = 5.0  # how long a failure answers waiting requests when Roblox named no wait
FAILURE_MAX_SECONDS = 60.0
_FAILURE_KINDS: dict[str, type[RobloxError]] = {
    cls.__name__: cls for cls in (RobloxRateLimited, RobloxCircuitOpen, RobloxUnavailable, RobloxError)
}


def _ids(kind: str, params: dict[str, Any]) -> list[int]:
    value = params[READS[kind][1]]
    return list(value) if isinstance(value, list | tuple) else [value]


def _marker(state: str, kind: str, params: dict[str, Any], ident: int) -> str:
    id_param = READS[kind][1]
    options = json.dumps({k: v for k, v in sorted(params.items()) if k != id_param}, separators=(",", ":"))
    return f"roblox:refresh:{state}:{kind}:{options}:{ident}"


def roblox_read_cached(*, kind: str, params: dict[str, Any]) -> Any:
    """The answer of read ``kind`` from the cache only; raises ``RobloxNotCached`` with the ids it lacks."""
    return READS[kind][0](**params, fetch=False)


def roblox_refresh_params(*, kind: str, params: dict[str, Any], ids: list[int]) -> dict[str, Any]:
    """``params`` narrowed to ``ids`` (a batch read refreshes only what the cache missed)."""
    id_param = READS[kind][1]
    return {**params, id_param: list(ids) if isinstance(params[id_param], list | tuple) else ids[0]}


def roblox_refresh_claim(*, kind: str, params: dict[str, Any], ids: list[int]) -> list[int]:
    """The ids no other request has already handed to a worker; they are now this caller's to queue."""
    try:
        pipe = get_redis().pipeline(transaction=False)
        for ident in ids:
            pipe.set(_marker("pending", kind, params, ident), 1, nx=True, ex=REFRESH_PENDING_SECONDS)
        return [ident for ident, claimed in zip(ids, pipe.execute(), strict=True) if claimed]
    except redis.RedisError:
        return list(ids)


def roblox_refresh_release(*, kind: str, params: dict[str, Any], ids: list[int]) -> None:
    try:
        get_redis().delete(*[_marker("pending", kind, params, ident) for ident in ids])
    except redis.RedisError:
        logger.warning("roblox refresh markers not released: redis unavailable", extra={"kind": kind})


def roblox_refresh_failure(*, kind: str, params: dict[str, Any], ids: list[int]) -> RobloxError | None:
    """The failure a worker recorded for one of ``ids`` in the last few seconds, as the exception to answer."""
    try:
        raw = get_redis().mget([_marker("failed", kind, params, ident) for ident in ids])
    except redis.RedisError:
        return None
    for value in raw:
        if value:
            failure = json.loads(value)
            cls = _FAILURE_KINDS.get(failure["error"], RobloxUnavailable)
            return cls(failure["message"], status=failure["status"], retry_after=failure["retry_after"])
    return None


def roblox_refresh(*, kind: str, params: dict[str, Any]) -> None:
    """Ask Roblox what a web request missed (the worker's side, retrying as Roblox allows) and cache it.

    An unknown object is cached as not found by the read itself. A failure is recorded for the ids concerned
    for what Roblox asked us to wait (``FAILURE_SECONDS`` when it said nothing, at most
    ``FAILURE_MAX_SECONDS``), so that requests waiting on it, and those that follow, answer at once.
    """
    ids = _ids(kind, params)
    try:
        READS[kind][0](**params, use_cache=False)
    except RobloxNotFound:
        pass
    except RobloxError as exc:
        ttl = min(FAILURE_MAX_SECONDS, exc.retry_after or FAILURE_SECONDS)
        failure = {
            "error": next((n for n, c in _FAILURE_KINDS.items() if isinstance(exc, c)), "RobloxError"),
            "message": exc.message,
            "status": exc.status,
            "retry_after": exc.retry_after,
        }
        try:
            pipe = get_redis().pipeline(transaction=False)
            for ident in ids:
                pipe.set(_marker("failed", kind, params, ident), json.dumps(failure), px=max(1, int(ttl * 1000)))
            pipe.execute()
        except redis.RedisError:
            logger.warning("roblox refresh failure not recorded: redis unavailable", extra={"kind": kind})
        logger.info("roblox refresh failed", extra={"kind": kind, "error": type(exc).__name__, "ids": len(ids)})
    finally:
        roblox_refresh_release(kind=kind, params=params, ids=ids)


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
