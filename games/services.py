"""Every write to games, containers, playlists, assets and game API keys.

Pages, admin, the management API and tasks all call these functions. Field
problems raise ``django.core.exceptions.ValidationError`` with a field dict,
which pages show on their forms and the API renders as a 400.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from adplatform.core.serving import serving_version_bump
from games import jobs, keycache
from games.models import (
    AdContainer,
    Asset,
    ContainerStatus,
    ContainerStatusChange,
    ContainerType,
    Game,
    GameApiKey,
    Playlist,
    PlaylistItem,
    SyncStatus,
)

logger = logging.getLogger(__name__)

API_KEY_PREFIX = keycache.API_KEY_PREFIX
SIGNING_SECRET_PREFIX = "gs_"  # noqa: S105 - a public prefix, not a secret
MAX_PLAYLIST_ITEMS = 50


# --------------------------------------------------------------------------- helpers


def _positive_int(value: Any, field: str) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError({field: "Enter a whole number, such as 920587237."}) from None
    if number <= 0:
        raise ValidationError({field: "Must be a positive number."})
    if number > 2**63 - 1:
        raise ValidationError({field: "That number is too large."})
    return number


def _unique_slug(base: str, *, exclude_pk: int | None = None) -> str:
    root = slugify(base)[:60].strip("-") or "game"
    candidate, n = root, 1
    others = Game.objects.all() if exclude_pk is None else Game.objects.exclude(pk=exclude_pk)
    while others.filter(slug=candidate).exists():
        n += 1
        candidate = f"{root}-{n}"
    return candidate


def _save(instance, *, update_fields: list[str] | None = None) -> None:
    instance.full_clean()
    try:
        with transaction.atomic():
            instance.save(update_fields=update_fields)
    except IntegrityError as exc:  # a race past full_clean's uniqueness check
        raise ValidationError("This conflicts with an existing object; reload and try again.") from exc


def _enqueue_game_sync(game_id: int) -> None:
    transaction.on_commit(lambda: jobs.task(jobs.GAME_SYNC).delay(game_id))


# --------------------------------------------------------------------------- games

GAME_EDITABLE = {"name", "description", "slug", "is_active"}


@transaction.atomic
def game_create(*, owner, roblox_place_id: Any, name: str = "", description: str = "") -> Game:
    """Register a game by its Roblox place id; Roblox details are synced in the background."""
    game_create_validate(roblox_place_id=roblox_place_id, name=name)
    place_id = _positive_int(roblox_place_id, "roblox_place_id")
    name = (name or "").strip() or f"Place {place_id}"
    game = Game(
        owner=owner,
        roblox_place_id=place_id,
        name=name[:200],
        description=description or "",
        slug=_unique_slug(name if name != f"Place {place_id}" else f"place-{place_id}"),
        sync_status=SyncStatus.PENDING,
    )
    _save(game)
    logger.info("game created", extra={"game_id": game.pk, "owner_id": owner.pk, "place_id": place_id})
    _enqueue_game_sync(game.pk)
    return game


@transaction.atomic
def game_update(*, game: Game, data: dict[str, Any]) -> Game:
    game_update_validate(game=game, data=data)
    if "slug" in data:
        data = {**data, "slug": slugify(data["slug"] or "")}
    for field, value in data.items():
        setattr(game, field, value)
    _save(game)
    if "is_active" in data or "slug" in data:
        # Keys carry the game's activity and slug: every process forgets them at once.
        for key_hash, key_id in game.api_keys.values_list("key_hash", "pk"):
            keycache.forget(key_hash, key_id)
    if "is_active" in data:
        serving_version_bump("game activity changed")
    return game


def game_delete(*, game: Game) -> None:
    """Delete a game with its containers, playlists and keys."""
    games_delete(games=[game])


@transaction.atomic
def games_delete(*, games: Iterable[Game]) -> list[int]:
    """Delete games with their containers, playlists and keys (the admin's "delete selected" too).

    Their keys are forgotten by the key cache and the serving version is bumped once. Returns the ids deleted.
    """
    ids = sorted({game.pk for game in games})
    if not ids:
        return []
    keys = list(GameApiKey.objects.filter(game_id__in=ids).values_list("key_hash", "pk"))
    Game.objects.filter(pk__in=ids).delete()
    for key_hash, key_id in keys:
        keycache.forget(key_hash, key_id)
    serving_version_bump("game deleted")
    logger.info("games deleted", extra={"game_ids": ids, "keys_forgotten": len(keys)})
    return ids


def game_request_sync(*, game: Game) -> Game:
    """Ask the worker to refresh this game's Roblox details now."""
    Game.objects.filter(pk=game.pk).update(sync_status=SyncStatus.SYNCING)
    game.sync_status = SyncStatus.SYNCING
    _enqueue_game_sync(game.pk)
    return game


def game_apply_roblox_details(*, game: Game, details: dict[str, Any]) -> Game:
    """Store what Roblox said about a game (the sync job calls this); only known fields change."""
    allowed = {"roblox_universe_id", "name", "description", "icon_url", "visits", "playing", "favorites",
               "up_votes", "down_votes"}  # fmt: skip
    changed = []
    for field, value in details.items():
        if field in allowed and value is not None and getattr(game, field) != value:
            setattr(game, field, value)
            changed.append(field)
    game.sync_status = SyncStatus.OK
    game.last_synced_at = timezone.now()
    game.last_sync_error = ""
    game.save(update_fields=[*changed, "sync_status", "last_synced_at", "last_sync_error", "updated_at"])
    return game


def game_record_sync_error(*, game: Game, error: str) -> Game:
    """A failed sync keeps every value already there and records why it failed."""
    game.sync_status = SyncStatus.ERROR
    game.last_sync_error = error[:2000]
    game.save(update_fields=["sync_status", "last_sync_error", "updated_at"])
    return game


# --------------------------------------------------------------------------- containers

CONTAINER_FIELDS = {"name", "type", "placement", "width_studs", "height_studs", "floor_price_cpm",
                    "blocked_categories", "playlist"}  # fmt: skip


def _apply_container_fields(container: AdContainer, data: dict[str, Any]) -> None:
    unknown = set(data) - CONTAINER_FIELDS - {"status", "status_reason"}
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "Unknown field."))
    for field in ("width_studs", "height_studs", "floor_price_cpm"):
        if field in data and not isinstance(data[field], Decimal):
            try:
                data[field] = Decimal(str(data[field]))
            except (InvalidOperation, ValueError):
                raise ValidationError({field: "Enter a number."}) from None
    if "playlist" in data and data["playlist"] is not None and not isinstance(data["playlist"], Playlist):
        playlist = Playlist.objects.filter(pk=data["playlist"], game=container.game).first()
        if playlist is None:
            raise ValidationError({"playlist": "No such playlist in this game."})
        data["playlist"] = playlist
    if "blocked_categories" in data:
        data["blocked_categories"] = sorted(set(data["blocked_categories"] or []))
    for field in CONTAINER_FIELDS & set(data):
        setattr(container, field, data[field])


def _record_status_change(container: AdContainer, *, from_status: str, by, reason: str) -> None:
    ContainerStatusChange.objects.create(
        container=container, changed_by=by, from_status=from_status, to_status=container.status, reason=reason
    )


@transaction.atomic
def container_create(*, game: Game, data: dict[str, Any], by=None) -> AdContainer:
    data = dict(data)
    container_validate(game=game, data=data)
    status = data.pop("status", ContainerStatus.ACTIVE)
    reason = data.pop("status_reason", "") or ""
    container = AdContainer(game=game)
    _apply_container_fields(container, data)
    if status not in ContainerStatus.values:
        raise ValidationError({"status": f"One of {', '.join(ContainerStatus.values)}."})
    if status == ContainerStatus.MAINTENANCE and not reason.strip():
        raise ValidationError({"status_reason": "Say why the container is in maintenance."})
    container.status = status
    if not container.placement and container.name:
        container.placement = slugify(container.name)[:64]
    _save(container)
    _record_status_change(container, from_status="", by=by, reason=reason or "created")
    serving_version_bump("container created")
    logger.info("container created", extra={"container_id": container.pk, "game_id": game.pk})
    return container


@transaction.atomic
def container_update(*, container: AdContainer, data: dict[str, Any], by=None) -> AdContainer:
    """Change a container's settings; a ``status`` in ``data`` goes through :func:`container_set_status`."""
    data = dict(data)
    stored_status = AdContainer.objects.filter(pk=container.pk).values_list("status", flat=True).get()
    # A form may already have put the new status on the instance: status only changes with its audit row.
    wanted = data.pop("status", None) or container.status
    reason = data.pop("status_reason", "") or ""
    container.status = stored_status
    _apply_container_fields(container, data)
    _save(container)
    if wanted != stored_status:
        container_set_status(container=container, status=wanted, reason=reason, by=by)
    serving_version_bump("container updated")
    return container


@transaction.atomic
def container_set_status(*, container: AdContainer, status: str, reason: str = "", by=None) -> AdContainer:
    """Switch ACTIVE / INACTIVE / MAINTENANCE, with an audit row. MAINTENANCE needs a reason."""
    if status not in ContainerStatus.values:
        raise ValidationError({"status": f"One of {', '.join(ContainerStatus.values)}."})
    reason = (reason or "").strip()
    if status == ContainerStatus.MAINTENANCE and not reason:
        raise ValidationError({"status_reason": "Say why the container is in maintenance."})
    locked = AdContainer.objects.select_for_update().get(pk=container.pk)
    if locked.status == status:
        container.status = status
        return container
    previous = locked.status
    locked.status = status
    locked.save(update_fields=["status", "updated_at"])
    _record_status_change(locked, from_status=previous, by=by, reason=reason)
    container.status, container.updated_at = locked.status, locked.updated_at
    serving_version_bump("container status changed")
    _notify_container_switched_off(locked, previous=previous, by=by, reason=reason)  # console (issue 20)
    logger.info(
        "container status changed",
        extra={"container_id": container.pk, "from": previous, "to": status, "by": getattr(by, "pk", None)},
    )
    return container


def _notify_container_switched_off(container: AdContainer, *, previous: str, by, reason: str) -> None:
    """console (issue 20): an owner hears when someone else (staff, a job) switches off a live container."""
    from adplatform.accounts.services import notification_send

    if previous != ContainerStatus.ACTIVE or container.status == ContainerStatus.ACTIVE:
        return
    owner = container.game.owner
    if by is not None and getattr(by, "pk", None) == owner.pk:
        return
    state = "in maintenance" if container.status == ContainerStatus.MAINTENANCE else "switched off"
    notification_send(
        user=owner,
        kind="CONTAINER_OFF",
        title=f"Container “{container.name}” in {container.game.name} is {state}",
        body=(f"Reason: {reason}. " if reason else "") + "It shows no ads until it is switched back on.",
        url=f"/games/{container.game.slug}/#container-{container.pk}",
        dedupe_key=f"container-off:{container.pk}:{container.updated_at.timestamp():.0f}",
    )


@transaction.atomic
def container_delete(*, container: AdContainer) -> None:
    containers_delete(containers=[container])


@transaction.atomic
def containers_delete(*, containers: Iterable[AdContainer]) -> list[int]:
    """Delete containers (the admin's "delete selected" too): they stop serving at the next version, bumped once
    for their games. Returns the ids deleted."""
    ids = sorted({container.pk for container in containers})
    if not ids:
        return []
    game_ids = set(AdContainer.objects.filter(pk__in=ids).values_list("game_id", flat=True))
    AdContainer.objects.filter(pk__in=ids).delete()
    serving_version_bump("container deleted", game_ids=game_ids)
    logger.info("containers deleted", extra={"container_ids": ids})
    return ids


# --------------------------------------------------------------------------- assets and playlists


def asset_id_clean(roblox_asset_id: Any) -> int:
    """A Roblox asset id as the platform takes it (``ValidationError`` on ``roblox_asset_id`` otherwise)."""
    return _positive_int(roblox_asset_id, "roblox_asset_id")


def asset_get_or_create(*, roblox_asset_id: Any) -> Asset:
    """The platform's record of a Roblox asset; a new one is queued for a moderation/thumbnail sync."""
    asset_id = asset_id_clean(roblox_asset_id)
    asset, created = Asset.objects.get_or_create(roblox_asset_id=asset_id)
    if created:
        transaction.on_commit(lambda: jobs.task(jobs.ASSET_SYNC).delay([asset_id]))
    return asset


def assets_request_sync(*, roblox_asset_ids: Iterable[int]) -> list[int]:
    """Ask the worker to refresh these assets' thumbnails, moderation state and details now."""
    ids = sorted({int(i) for i in roblox_asset_ids})
    if ids:
        transaction.on_commit(lambda: jobs.task(jobs.ASSET_SYNC).delay(ids))
    return ids


@transaction.atomic
def playlist_create(*, game: Game, name: str, container_type: str = ContainerType.DISPLAY) -> Playlist:
    playlist_validate(game=game, name=name, container_type=container_type)
    name = (name or "").strip()
    playlist = Playlist(game=game, name=name, container_type=container_type)
    _save(playlist)
    return playlist


@transaction.atomic
def playlist_update(*, playlist: Playlist, name: str | None = None, container_type: str | None = None) -> Playlist:
    if name is not None:
        name = name.strip()
        if Playlist.objects.filter(game=playlist.game, name=name).exclude(pk=playlist.pk).exists():
            raise ValidationError({"name": "This game already has a playlist with that name."})
        playlist.name = name
    if container_type is not None and container_type != playlist.container_type:
        if playlist.containers.exists():
            raise ValidationError({"container_type": "Containers use this playlist; detach them first."})
        if playlist.items.exists():
            raise ValidationError({"container_type": "Empty the playlist before changing its type."})
        playlist.container_type = container_type
    _save(playlist)
    serving_version_bump("playlist updated")
    return playlist


@transaction.atomic
def playlist_set_items(*, playlist: Playlist, items: Iterable[dict[str, Any]]) -> list[PlaylistItem]:
    """Replace the playlist's items with ``[{"roblox_asset_id", "display_seconds"}]`` in order."""
    items = list(items)
    if len(items) > MAX_PLAYLIST_ITEMS:
        raise ValidationError({"items": f"At most {MAX_PLAYLIST_ITEMS} items."})
    built: list[PlaylistItem] = []
    errors: dict[str, list[str]] = {}
    for position, item in enumerate(items, start=1):
        try:
            asset = asset_get_or_create(roblox_asset_id=item.get("roblox_asset_id"))
            seconds = _positive_int(item.get("display_seconds", 15), "display_seconds")
            row = PlaylistItem(playlist=playlist, position=position, asset=asset, display_seconds=seconds)
            row.full_clean(exclude=["playlist"])
            row.clean()
        except ValidationError as exc:
            errors[f"items[{position - 1}]"] = exc.messages
            continue
        built.append(row)
    if errors:
        raise ValidationError(errors)
    playlist.items.all().delete()
    PlaylistItem.objects.bulk_create(built)
    Playlist.objects.filter(pk=playlist.pk).update(updated_at=timezone.now())
    serving_version_bump("playlist items changed")
    return built


def playlist_delete(*, playlist: Playlist) -> None:
    playlists_delete(playlists=[playlist])


@transaction.atomic
def playlists_delete(*, playlists: Iterable[Playlist]) -> list[int]:
    """Delete playlists (the admin's "delete selected" too); their containers fall back to no house content
    (SET_NULL). The serving version is bumped once for their games. Returns the ids deleted."""
    ids = sorted({playlist.pk for playlist in playlists})
    if not ids:
        return []
    game_ids = set(Playlist.objects.filter(pk__in=ids).values_list("game_id", flat=True))
    Playlist.objects.filter(pk__in=ids).delete()
    serving_version_bump("playlist deleted", game_ids=game_ids)
    logger.info("playlists deleted", extra={"playlist_ids": ids})
    return ids


# --------------------------------------------------------------------------- API keys


@transaction.atomic
def api_key_create(*, game: Game, name: str, by=None) -> tuple[GameApiKey, str, str]:
    """Create a game server key. Returns ``(key, raw_key, signing_secret)``: shown once, never again."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the key a name, e.g. “production servers”."})
    raw = API_KEY_PREFIX + secrets.token_urlsafe(32)
    secret = SIGNING_SECRET_PREFIX + secrets.token_urlsafe(32)
    key = GameApiKey.objects.create(
        game=game,
        name=name[:100],
        prefix=raw[:10],
        key_hash=keycache.hash_key(raw),
        signing_secret=secret,
        created_by=by,
    )
    logger.info("game api key created", extra={"game_id": game.pk, "key_id": key.pk})
    return key, raw, secret


def api_key_revoke(*, key: GameApiKey) -> GameApiKey:
    """Revoke a key: refused by this process at once, by every other as soon as the invalidation reaches it."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at", "updated_at"])
        logger.info("game api key revoked", extra={"game_id": key.game_id, "key_id": key.pk})
    keycache.forget(key.key_hash, key.pk)
    return key


def api_key_touch(*, key_id: int) -> None:
    """Record that a key was used (the key cache calls this at most once a minute per key)."""
    GameApiKey.objects.filter(pk=key_id).update(last_used_at=timezone.now())


# --------------------------------------------------------------------------- Roblox sync and Open Cloud

OPEN_CLOUD_KEY_MAX_LENGTH = 4096


def asset_apply_roblox(
    *,
    asset: Asset,
    moderation_state: str,
    thumbnail_url: str | None = None,
    name: str | None = None,
    asset_type: str | None = None,
    error: str = "",
) -> Asset:
    """Store what Roblox said about an asset (the sync job calls this); ``None`` leaves a field as it is.

    ``thumbnail_url=""`` clears the preview (a Blocked image). A change of moderation state bumps the serving
    version, so decision engines reload and a creative whose asset is now BLOCKED stops serving.
    """
    previous_state = asset.moderation_state
    changed: list[str] = []
    values = {"moderation_state": moderation_state, "thumbnail_url": thumbnail_url, "name": name,
              "asset_type": asset_type}  # fmt: skip
    for field, value in values.items():
        if value is None:
            continue
        if field == "name":
            value = value[:200]
        if getattr(asset, field) != value:
            setattr(asset, field, value)
            changed.append(field)
    asset.last_synced_at = timezone.now()
    asset.last_sync_error = error[:2000]
    asset.save(update_fields=[*changed, "last_synced_at", "last_sync_error", "updated_at"])
    if previous_state != asset.moderation_state:
        serving_version_bump("asset moderation changed")
        logger.info(
            "asset moderation changed",
            extra={"roblox_asset_id": asset.roblox_asset_id, "from": previous_state, "to": asset.moderation_state},
        )
    return asset


def asset_record_sync_error(*, asset: Asset, error: str) -> Asset:
    """A failed asset sync keeps every value already there (moderation state included) and records why."""
    asset.last_sync_error = error[:2000]
    asset.save(update_fields=["last_sync_error", "updated_at"])
    return asset


def open_cloud_key_clean(api_key: str | None) -> str:
    """The key as stored (stripped); ``ValidationError`` on ``open_cloud_api_key`` when it cannot be a key."""
    key = (api_key or "").strip()
    if len(key) > OPEN_CLOUD_KEY_MAX_LENGTH:
        raise ValidationError({"open_cloud_api_key": "That is too long for an Open Cloud API key."})
    if any(ch.isspace() or not ch.isprintable() for ch in key):
        raise ValidationError({"open_cloud_api_key": "An Open Cloud API key has no spaces or line breaks."})
    return key


def game_set_open_cloud_key(*, game: Game, api_key: str) -> Game:
    """Store (or, with an empty ``api_key``, remove) the game's Open Cloud API key.

    The key is write-only: no page, endpoint or log shows it again; only the MessagingService publisher reads it.
    """
    key = open_cloud_key_clean(api_key)
    game.open_cloud_api_key = key
    game.save(update_fields=["open_cloud_api_key", "updated_at"])
    logger.info("open cloud key " + ("stored" if key else "removed"), extra={"game_id": game.pk})
    return game


# ----------------------------------------------------------------------------------------------------------------
# --- forms that say everything at once (issue 20), additive: every problem of a change, writing nothing ---------
#
# Each ``*_validate`` raises one ``ValidationError`` with every field's problems, so a page shows them all in one
# submit (``adplatform.core.forms.form_is_valid``); the write services raise the same messages.

RESERVED_SLUGS = frozenset({"add"})  # page addresses under /games/ that a game's slug may not take


def _collect(errors: dict[str, list[str]], fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except ValidationError as exc:
        found = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: list(exc.messages)}
        for key, messages in found.items():
            errors.setdefault(key, []).extend(m for m in messages if m not in errors.get(key, []))
        return None


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def game_create_validate(*, roblox_place_id: Any, name: str = "") -> None:
    """Every problem ``game_create`` would refuse a new game for."""
    errors: dict[str, list[str]] = {}
    place_id = _collect(errors, _positive_int, roblox_place_id, "roblox_place_id")
    if place_id is not None and Game.objects.filter(roblox_place_id=place_id).exists():
        errors["roblox_place_id"] = ["This place is already registered on the platform."]
    if len((name or "").strip()) > 200:
        errors["name"] = ["At most 200 characters."]
    _raise(errors)


def game_update_validate(*, game: Game, data: dict[str, Any]) -> None:
    """Every problem ``game_update`` would refuse this change for."""
    errors: dict[str, list[str]] = {}
    unknown = set(data) - GAME_EDITABLE
    if unknown:
        errors.update({key: ["This field cannot be changed here."] for key in sorted(unknown)})
    if "slug" in data:
        slug = slugify(data["slug"] or "")
        if not slug:
            errors["slug"] = ["Use letters, numbers and hyphens."]
        elif slug in RESERVED_SLUGS:
            errors["slug"] = ["This address is reserved; choose another."]
        elif Game.objects.filter(slug=slug).exclude(pk=game.pk).exists():
            errors["slug"] = ["This address is taken by another game."]
    if "name" in data and not str(data["name"] or "").strip():
        errors["name"] = ["Give the game a name."]
    _raise(errors)


def container_validate(*, game: Game, data: dict[str, Any], container: AdContainer | None = None) -> None:
    """Every problem ``container_create`` (or ``container_update`` of ``container``) would refuse ``data`` for:
    field rules, the display size limits, a placement another container of the game uses, the maintenance reason."""
    errors: dict[str, list[str]] = {}
    data = dict(data)
    status = data.pop("status", None)
    reason = (data.pop("status_reason", "") or "").strip()
    draft = AdContainer(game=game)
    if container is not None:
        for field in CONTAINER_FIELDS | {"status"}:
            setattr(draft, field, getattr(container, field))
        draft.pk = container.pk
        draft._state.adding = False  # its own row is not a clash
    _collect(errors, _apply_container_fields, draft, data)
    if status is not None and status not in ContainerStatus.values:
        errors["status"] = [f"One of {', '.join(ContainerStatus.values)}."]
    elif status == ContainerStatus.MAINTENANCE and not reason:
        errors["status_reason"] = ["Say why the container is in maintenance."]
    if not draft.placement and draft.name:
        draft.placement = slugify(draft.name)[:64]
    if status is not None and status in ContainerStatus.values:
        draft.status = status
    # full_clean: field limits, Roblox's display sizes and the placement's uniqueness (a read, no write).
    _collect(errors, draft.full_clean, exclude=[f for f in errors if f in CONTAINER_FIELDS])
    _raise(errors)


def playlist_validate(
    *,
    game: Game,
    name: str | None,
    container_type: str | None,
    playlist: Playlist | None = None,
    items: Iterable[dict[str, Any]] | None = None,
) -> None:
    """Every problem ``playlist_create``/``playlist_update`` (and ``playlist_set_items`` with ``items``, which
    replace the playlist's rows) would refuse: the name, a type change while containers use it, each row."""
    errors: dict[str, list[str]] = {}
    if name is not None:
        name = name.strip()
        if not name:
            errors["name"] = ["Give the playlist a name."]
        elif Playlist.objects.filter(game=game, name=name).exclude(pk__in=[playlist.pk] if playlist else []).exists():
            errors["name"] = ["This game already has a playlist with that name."]
    if container_type is not None and container_type not in ContainerType.values:
        errors["container_type"] = [f"One of {', '.join(ContainerType.values)}."]
    elif playlist is not None and container_type is not None and container_type != playlist.container_type:
        if playlist.containers.exists():
            errors["container_type"] = ["Containers use this playlist; detach them first."]
        elif items is None and playlist.items.exists():
            errors["container_type"] = ["Empty the playlist before changing its type."]
    if items is not None:
        items = list(items)
        kind: str = container_type or (playlist.container_type if playlist else ContainerType.DISPLAY)
        if len(items) > MAX_PLAYLIST_ITEMS:
            errors["items"] = [f"At most {MAX_PLAYLIST_ITEMS} items."]
        known = {a.roblox_asset_id: a for a in Asset.objects.filter(roblox_asset_id__in=_asset_ids(items))}
        for index, item in enumerate(items):
            row_errors: dict[str, list[str]] = {}
            asset_id = _collect(row_errors, asset_id_clean, item.get("roblox_asset_id"))
            seconds = _collect(row_errors, _positive_int, item.get("display_seconds", 15), "display_seconds")
            if asset_id is not None and seconds is not None:
                row = PlaylistItem(
                    playlist=Playlist(game=game, container_type=kind),
                    position=index + 1,
                    asset=known.get(asset_id) or Asset(roblox_asset_id=asset_id),
                    display_seconds=seconds,
                )
                _collect(row_errors, row.full_clean, exclude=["playlist", "asset"])
                _collect(row_errors, row.clean)
            if row_errors:
                errors[f"items[{index}]"] = [m for messages in row_errors.values() for m in messages]
    _raise(errors)


def _asset_ids(items: list[dict[str, Any]]) -> list[int]:
    ids = []
    for item in items:
        try:
            ids.append(asset_id_clean(item.get("roblox_asset_id")))
        except ValidationError:
            continue
    return ids
