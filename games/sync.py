"""Sync jobs: what Roblox says about games and assets, written through the games services.

Every write goes through :mod:`games.services` (``game_apply_roblox_details`` / ``game_record_sync_error``,
``asset_apply_roblox`` / ``asset_record_sync_error``), so a sync is an idempotent upsert of the fields Roblox
owns, and a failed sync records its error on the object without touching the data already there.

Errors, as the Celery tasks in :mod:`games.tasks` expect them:

* ``RobloxNotFound`` is recorded on the object ("place not found on Roblox") and not raised: asking again will
  not help;
* ``RobloxUnavailable`` (5xx, timeouts, 429 past our retries, open circuit) is recorded and raised, so the task
  retries after ``retry_after``;
* any other ``RobloxError`` is recorded and not raised.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Iterable

from django.db.models import Q

from games.models import ROBLOX_ASSET_TYPE_IDS, Asset, AssetModeration, AssetType, Game
from games.services import (
    asset_apply_roblox,
    asset_record_sync_error,
    game_apply_roblox_details,
    game_record_sync_error,
)
from integrations.roblox._util import chunks
from integrations.roblox.errors import RobloxError, RobloxNotFound, RobloxUnavailable
from integrations.roblox.types import GameDetails, GameVotes, Thumbnail, ThumbnailState
from integrations.services import (
    roblox_asset_details,
    roblox_asset_thumbnails,
    roblox_cloud_asset,
    roblox_game_icons,
    roblox_game_votes,
    roblox_games_details,
    roblox_place_universe,
)

logger = logging.getLogger(__name__)

GAMES_PER_CHUNK = 50  # games.roblox.com takes at most 50 universe ids a call
ASSETS_PER_CHUNK = 100  # thumbnails.roblox.com, 100 ids a call in practice
GAME_ICON_SIZE = "512x512"
ASSET_THUMBNAIL_SIZE = "420x420"
URL_MAX_LENGTH = 500  # Game.icon_url, Asset.thumbnail_url

PLACE_NOT_FOUND = "place not found on Roblox"
ASSET_NOT_FOUND = "asset not found on Roblox"
THUMBNAIL_ERROR = "Roblox could not render this asset's thumbnail (state Error)"

MODERATION_FOR_STATE: dict[str, AssetModeration] = {
    ThumbnailState.COMPLETED: AssetModeration.COMPLETED,
    ThumbnailState.PENDING: AssetModeration.PENDING,
    ThumbnailState.IN_REVIEW: AssetModeration.IN_REVIEW,
    ThumbnailState.TEMPORARILY_UNAVAILABLE: AssetModeration.TEMPORARILY_UNAVAILABLE,
    ThumbnailState.BLOCKED: AssetModeration.BLOCKED,
    ThumbnailState.ERROR: AssetModeration.ERROR,
}
# Roblox has not decided yet: the asset is asked again later.
RETRY_LATER_STATES = frozenset(
    {ThumbnailState.PENDING, ThumbnailState.IN_REVIEW, ThumbnailState.TEMPORARILY_UNAVAILABLE}
)


def _unavailable_message(exc: RobloxUnavailable) -> str:
    wait = f"; retrying in about {round(exc.retry_after)} s" if exc.retry_after else "; will retry"
    return f"Roblox unavailable: {exc.message}{wait}"


def _error_message(exc: RobloxError) -> str:
    return f"Roblox refused the request: {exc.message}"


def _url(value: str | None) -> str | None:
    return value if value and len(value) <= URL_MAX_LENGTH else None


# --------------------------------------------------------------------------- games


def _game_fields(
    universe_id: int, details: GameDetails, votes: GameVotes | None, icon: Thumbnail | None
) -> dict[str, object]:
    """The Game fields Roblox owns; None (or an empty text) leaves the stored value as it is."""
    return {
        "roblox_universe_id": universe_id,
        "name": details.name.strip()[:200] or None,
        "description": details.description or None,
        "visits": details.visits,
        "playing": details.playing,
        "favorites": details.favorited_count,
        "up_votes": votes.up_votes if votes else None,
        "down_votes": votes.down_votes if votes else None,
        # Only a Completed icon has a URL; otherwise keep the icon we have.
        "icon_url": _url(icon.image_url) if icon is not None and icon.is_completed else None,
    }


def _sync_games(games: list[Game], counts: Counter) -> None:
    """Sync up to 50 games: resolve missing universes, then one details, one votes and one icons call.

    Raises ``RobloxUnavailable`` (after recording it on the games concerned); records everything else.
    """
    by_universe: dict[int, list[Game]] = defaultdict(list)
    for game in games:
        universe_id = game.roblox_universe_id
        if universe_id is None:
            try:
                universe_id = roblox_place_universe(place_id=game.roblox_place_id)
            except RobloxNotFound:
                game_record_sync_error(game=game, error=PLACE_NOT_FOUND)
                counts["not_found"] += 1
                continue
            except RobloxUnavailable as exc:
                game_record_sync_error(game=game, error=_unavailable_message(exc))
                counts["unavailable"] += 1
                raise
            except RobloxError as exc:
                game_record_sync_error(game=game, error=_error_message(exc))
                counts["error"] += 1
                continue
            counts["universe_resolved"] += 1
        by_universe[universe_id].append(game)
    if not by_universe:
        return

    universe_ids = list(by_universe)
    waiting = [game for group in by_universe.values() for game in group]
    try:
        # use_cache=False: the sync is what refreshes the cache the data API reads.
        details = roblox_games_details(universe_ids=universe_ids, use_cache=False)
        votes = roblox_game_votes(universe_ids=list(details), use_cache=False) if details else {}
        icons = roblox_game_icons(universe_ids=list(details), size=GAME_ICON_SIZE, use_cache=False) if details else {}
    except RobloxUnavailable as exc:
        for game in waiting:
            game_record_sync_error(game=game, error=_unavailable_message(exc))
        counts["unavailable"] += len(waiting)
        raise
    except RobloxError as exc:
        for game in waiting:
            game_record_sync_error(game=game, error=_error_message(exc))
        counts["error"] += len(waiting)
        return

    for universe_id, group in by_universe.items():
        for game in group:
            if universe_id not in details:
                game_record_sync_error(game=game, error=f"universe {universe_id} not found on Roblox")
                counts["not_found"] += 1
                continue
            fields = _game_fields(universe_id, details[universe_id], votes.get(universe_id), icons.get(universe_id))
            game_apply_roblox_details(game=game, details=fields)
            counts["synced"] += 1


def game_sync(*, game_id: int) -> Game | None:
    """Refresh one game from Roblox: universe (resolved from the place when missing), details, votes, icon.

    Records a failure on the game and keeps its data; raises ``RobloxUnavailable`` so that the task retries.
    Returns the game (None when it no longer exists).
    """
    game = Game.objects.filter(pk=game_id).first()
    if game is None:
        logger.info("game sync skipped: no such game", extra={"game_id": game_id})
        return None
    counts: Counter = Counter()
    started = time.monotonic()
    try:
        _sync_games([game], counts)
    finally:
        logger.info(
            "game sync done",
            extra={"game_id": game_id, "counts": dict(counts), "seconds": round(time.monotonic() - started, 3)},
        )
    return game


def games_sync_all() -> dict[str, int]:
    """Refresh every active game, 50 games a chunk (one details, one votes and one icons call each).

    Stops at the first chunk Roblox is unavailable for (the games of that chunk record the error; the rest
    keep their state until the next run). Returns the counts it logs.
    """
    started = time.monotonic()
    ids = list(Game.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    counts: Counter = Counter()
    batches = list(chunks(ids, GAMES_PER_CHUNK))
    done = 0
    for number, batch in enumerate(batches, start=1):
        games = list(Game.objects.filter(pk__in=batch).order_by("pk"))
        try:
            _sync_games(games, counts)
        except RobloxUnavailable as exc:
            counts["skipped"] += len(ids) - done - len(games)
            logger.warning(
                "games sync stopped: roblox unavailable",
                extra={"chunk": number, "chunks": len(batches), "error": exc.message, "retry_after": exc.retry_after},
            )
            break
        done += len(games)
        logger.info(
            "games sync progress", extra={"chunk": number, "chunks": len(batches), "done": done, "total": len(ids)}
        )
    result = {"total": len(ids), **counts}
    logger.info("games sync done", extra={**result, "seconds": round(time.monotonic() - started, 3)})
    return result


# --------------------------------------------------------------------------- assets


# Open Cloud spells asset types "Image" or "ASSET_TYPE_IMAGE".
CLOUD_ASSET_TYPES = {"IMAGE": AssetType.IMAGE, "DECAL": AssetType.DECAL, "MODEL": AssetType.MODEL,
                     "VIDEO": AssetType.VIDEO, "MESHPART": AssetType.MESH, "MESH_PART": AssetType.MESH}  # fmt: skip


def _owner_keys(asset_ids: list[int]) -> dict[int, str]:
    """An Open Cloud key (of a game owner whose game shows the asset) for the assets that have one."""
    keys: dict[int, str] = {}
    # Through Asset's reverse relations: the campaign's registered game for creatives, the playlist's for house ads.
    for path in ("creatives__campaign__game__open_cloud_api_key", "playlist_items__playlist__game__open_cloud_api_key"):
        rows = (
            Asset.objects.filter(roblox_asset_id__in=asset_ids)
            .exclude(**{f"{path}__isnull": True})
            .exclude(**{path: ""})
            .values_list("roblox_asset_id", path)
        )
        for asset_id, key in rows:
            keys.setdefault(asset_id, key)
    return keys


def _cloud_asset_details(asset_id: int, api_key: str) -> tuple[str | None, str | None] | None:
    """``(name, asset_type)`` from Open Cloud Assets (the documented API); None to fall back to the legacy one."""
    try:
        asset = roblox_cloud_asset(asset_id=asset_id, api_key=api_key)
    except RobloxError:  # not this key's asset, no asset:read scope, or Roblox trouble: the legacy call decides
        return None
    kind = asset.asset_type.upper().removeprefix("ASSET_TYPE_")
    return asset.display_name.strip() or None, CLOUD_ASSET_TYPES.get(kind, AssetType.UNKNOWN)


def _asset_details(asset_id: int, api_key: str | None = None) -> tuple[str | None, str | None, str, bool]:
    """``(name, asset_type, error, retry)``: from Open Cloud Assets with an owner's key when one is known,
    otherwise from the legacy economy API; ``None`` fields are left as they are."""
    if api_key:
        cloud = _cloud_asset_details(asset_id, api_key)
        if cloud is not None:
            return cloud[0], cloud[1], "", False
    try:
        details = roblox_asset_details(asset_id=asset_id)
    except RobloxNotFound:
        return None, None, "asset details not found on Roblox", False
    except RobloxUnavailable as exc:
        return None, None, f"details not refreshed: {_unavailable_message(exc)}", True
    except RobloxError as exc:
        return None, None, f"details not refreshed: {_error_message(exc)}", False
    asset_type = ROBLOX_ASSET_TYPE_IDS.get(details.asset_type_id, AssetType.UNKNOWN)
    return details.name.strip() or None, asset_type, "", False


def _sync_assets(asset_ids: list[int], counts: Counter, retry: list[int]) -> None:
    """Sync up to 100 assets: one thumbnails call, then the details of each asset.

    Raises ``RobloxUnavailable`` when the thumbnails could not be read (recorded on the assets first).
    """
    assets = {a.roblox_asset_id: a for a in Asset.objects.filter(roblox_asset_id__in=asset_ids)}
    counts["unknown_id"] += len(asset_ids) - len(assets)
    if not assets:
        return
    keys = _owner_keys(list(assets))
    try:
        # use_cache=False: a Completed thumbnail may have been Blocked since it was cached.
        thumbnails = roblox_asset_thumbnails(asset_ids=list(assets), size=ASSET_THUMBNAIL_SIZE, use_cache=False)
    except RobloxUnavailable as exc:
        for asset in assets.values():
            asset_record_sync_error(asset=asset, error=_unavailable_message(exc))
        counts["unavailable"] += len(assets)
        raise
    except RobloxError as exc:
        for asset in assets.values():
            asset_record_sync_error(asset=asset, error=_error_message(exc))
        counts["error"] += len(assets)
        return

    for asset_id, asset in assets.items():
        thumbnail = thumbnails.get(asset_id)
        if thumbnail is None:
            asset_record_sync_error(asset=asset, error=ASSET_NOT_FOUND)
            counts["not_found"] += 1
            continue
        name, asset_type, details_error, details_retry = _asset_details(asset_id, keys.get(asset_id))
        state = MODERATION_FOR_STATE.get(thumbnail.state)
        if state is None:  # a state Roblox added since: keep ours, ask again later
            error = f"Roblox answered an unknown thumbnail state {thumbnail.state!r}"
            asset_apply_roblox(
                asset=asset, moderation_state=asset.moderation_state, name=name, asset_type=asset_type, error=error
            )
            counts["unknown_state"] += 1
            retry.append(asset_id)
            continue
        if state == AssetModeration.COMPLETED:
            thumbnail_url = _url(thumbnail.image_url)
        elif state == AssetModeration.BLOCKED:
            thumbnail_url = ""  # never show an image Roblox rejected
        else:
            thumbnail_url = None  # keep the preview we have until Roblox decides
        errors = [THUMBNAIL_ERROR] if state == AssetModeration.ERROR else []
        if details_error:
            errors.append(details_error)
        asset_apply_roblox(
            asset=asset,
            moderation_state=state,
            thumbnail_url=thumbnail_url,
            name=name,
            asset_type=asset_type,
            error="; ".join(errors),
        )
        counts[str(state)] += 1
        if thumbnail.state in RETRY_LATER_STATES or details_retry:
            retry.append(asset_id)


def _valid_ids(ids: Iterable[object]) -> list[int]:
    seen: dict[int, None] = {}
    for value in ids:
        try:
            number = int(value)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            logger.warning("asset sync: ignoring a bad asset id", extra={"value": repr(value)[:50]})
            continue
        if number > 0:
            seen.setdefault(number, None)
    return list(seen)


def asset_sync(*, roblox_asset_ids: Iterable[int]) -> list[int]:
    """Refresh assets' thumbnail, moderation state, name and type from Roblox (100 thumbnails a call).

    ``Completed`` stores the thumbnail; ``Pending`` / ``InReview`` / ``TemporarilyUnavailable`` store the
    state and the asset id is returned to be synced again later; ``Blocked`` marks the asset blocked (the
    serving version is bumped, so creatives using it stop serving); ``Error`` is recorded. Ids that are not
    assets of the platform are skipped. Raises ``RobloxUnavailable`` when thumbnails cannot be read.
    """
    ids = _valid_ids(roblox_asset_ids)
    counts: Counter = Counter()
    retry: list[int] = []
    started = time.monotonic()
    try:
        for batch in chunks(ids, ASSETS_PER_CHUNK):
            _sync_assets(batch, counts, retry)
    finally:
        logger.info(
            "asset sync done",
            extra={
                "assets": len(ids),
                "counts": dict(counts),
                "retry_later": len(retry),
                "seconds": round(time.monotonic() - started, 3),
            },
        )
    return retry


def assets_in_use() -> list[int]:
    """Roblox ids of the assets creatives or playlists use."""
    return list(
        Asset.objects.filter(Q(creatives__isnull=False) | Q(playlist_items__isnull=False))
        .order_by("roblox_asset_id")
        .values_list("roblox_asset_id", flat=True)
        .distinct()
    )


def assets_sync_all() -> list[int]:
    """Refresh every asset creatives or playlists use (the hourly job). Returns the ids to ask again later.

    Stops at the first chunk Roblox is unavailable for; the next run picks the rest up.
    """
    started = time.monotonic()
    ids = assets_in_use()
    counts: Counter = Counter()
    retry: list[int] = []
    batches = list(chunks(ids, ASSETS_PER_CHUNK))
    for number, batch in enumerate(batches, start=1):
        try:
            _sync_assets(batch, counts, retry)
        except RobloxUnavailable as exc:
            logger.warning(
                "assets sync stopped: roblox unavailable",
                extra={"chunk": number, "chunks": len(batches), "error": exc.message, "retry_after": exc.retry_after},
            )
            break
        logger.info("assets sync progress", extra={"chunk": number, "chunks": len(batches), "total": len(ids)})
    logger.info(
        "assets sync done",
        extra={
            "total": len(ids),
            "counts": dict(counts),
            "retry_later": len(retry),
            "seconds": round(time.monotonic() - started, 3),
        },
    )
    return retry
