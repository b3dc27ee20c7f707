"""Roblox's ad-integration rules, by construction (ads/COMPLIANCE.md).

A campaign serves only in the game whose owner registered it in Roblox Ads Manager, only with its
ad-integration campaign id, and only with creatives that carry their placement id and whose asset
belongs to that game's owner (user or group) and was approved by Roblox's moderation.

Every write here is a service (pages, admin, API and tasks call them):

* :func:`creative_roblox_check`: ask Roblox (Open Cloud Assets, the owner's key) who created the
  creative's asset and where its moderation stands;
* :func:`creative_upload_create` / :func:`ads.uploads.creative_upload_process`: artwork an advertiser hands in is
  validated, uploaded as the owner's asset, polled until Roblox finished, and becomes a creative.
"""

from __future__ import annotations

import functools
import io
import logging
from dataclasses import dataclass
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from adplatform.core.serving import serving_version_bump
from ads.models import Campaign, Creative, CreativeUpload, ModerationStatus, RobloxReview
from games.models import Game
from integrations.roblox.errors import RobloxError, RobloxForbidden, RobloxNotFound, RobloxUnavailable

logger = logging.getLogger(__name__)

# The Roblox work runs in Celery tasks (ads.tasks) that call back into this module: they are queued by their
# registered names, not imported (ads.apps imports the tasks at start-up, so every process knows the names).
ASSET_VERDICT_TASK = "ads.tasks.asset_verdict_task"
ROBLOX_CHECK_TASK = "ads.tasks.creative_roblox_check_task"
UPLOAD_PROCESS_TASK = "ads.tasks.creative_upload_process_task"


def _task(name: str):
    return current_app.tasks[name]


# What the console accepts as artwork (Open Cloud takes PNG, JPEG, BMP and TGA images below 8000 px).
UPLOAD_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "BMP": "image/bmp"}
UPLOAD_EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "BMP": "bmp"}


def upload_limits() -> dict[str, int]:
    return {
        "max_bytes": int(getattr(settings, "CREATIVE_UPLOAD_MAX_BYTES", 5 * 1024 * 1024)),
        "min_side": int(getattr(settings, "CREATIVE_UPLOAD_MIN_SIDE", 64)),
        "max_side": int(getattr(settings, "CREATIVE_UPLOAD_MAX_SIDE", 4096)),
    }


# --------------------------------------------------------------------------- the checklist


@dataclass(frozen=True)
class ChecklistItem:
    label: str
    ok: bool
    detail: str = ""


def compliance_checklist(campaign: Campaign) -> list[ChecklistItem]:
    """What a campaign needs before it may serve in a game, each item met or not (for the campaign page)."""
    game = campaign.game
    creatives = list(campaign.creatives.all())
    items = [
        ChecklistItem(
            "Registered for a game",
            game is not None,
            f"Serves only in {game.name}." if game else "Choose the game whose owner registered it in Ads Manager.",
        ),
        ChecklistItem(
            "Roblox ad-integration campaign id",
            bool(campaign.roblox_campaign_id),
            campaign.roblox_campaign_id or "Copy it from Ads Manager (Ad integrations) once the owner registered it.",
        ),
        ChecklistItem(
            "The game's owner connected Open Cloud",
            bool(game and game.open_cloud_api_key),
            "Needed to upload artwork and to check assets with Roblox."
            if not (game and game.open_cloud_api_key)
            else "",
        ),
    ]
    for creative in creatives:
        if not creative.roblox_placement_id:
            items.append(ChecklistItem(f"Placement id of “{creative.name}”", False, "From Ads Manager, Manage assets."))
        if creative.roblox_review != RobloxReview.APPROVED:
            items.append(
                ChecklistItem(
                    f"Roblox approved “{creative.name}”",
                    False,
                    creative.get_roblox_review_display()
                    + (f": {creative.roblox_review_note}" if creative.roblox_review_note else ""),
                )
            )
    ready = [c for c in creatives if c.roblox_ready and c.moderation_status == ModerationStatus.APPROVED]
    items.append(
        ChecklistItem(
            "A creative ready to serve",
            bool(ready),
            f"{len(ready)} ready." if ready else "Approved by staff and by Roblox, with its placement id.",
        )
    )
    return items


def serving_problems(campaign: Campaign) -> list[str]:
    """The unmet items of :func:`compliance_checklist` (empty when Roblox's rules let it serve)."""
    return [
        f"{item.label}: {item.detail}" if item.detail else item.label
        for item in compliance_checklist(campaign)
        if not item.ok
    ]


# --------------------------------------------------------------------------- asking Roblox about an asset


@dataclass(frozen=True)
class AssetVerdict:
    review: str
    note: str = ""
    retry: bool = False


def game_creator(game: Game) -> tuple[str, int]:
    """``("user"|"group", id)`` of the game's creator on Roblox (public game details, cached)."""
    from integrations.services import roblox_game_details

    if not game.roblox_universe_id:
        raise RobloxNotFound("the game has no universe id yet (sync it first)")
    details = roblox_game_details(universe_id=game.roblox_universe_id)
    return details.creator.type.lower(), int(details.creator.id)


def assess_asset(*, game: Game | None, roblox_asset_id: int) -> AssetVerdict:
    """Whether ``roblox_asset_id`` is an asset of the game's owner and what Roblox's moderation says.

    Reads only; never raises for Roblox trouble (the verdict says so, with ``retry`` when it may pass).
    """
    from integrations.services import roblox_cloud_asset

    if game is None:
        return AssetVerdict(RobloxReview.UNCHECKED, "Choose the campaign's game first.")
    if not game.open_cloud_api_key:
        return AssetVerdict(RobloxReview.UNAVAILABLE, "The game's owner has not connected an Open Cloud key yet.")
    try:
        creator_type, creator_id = game_creator(game)
    except RobloxNotFound:
        return AssetVerdict(
            RobloxReview.UNAVAILABLE, "The game is not synced with Roblox yet (no universe or creator)."
        )
    except RobloxUnavailable:
        return AssetVerdict(RobloxReview.UNAVAILABLE, "Roblox did not answer; checked again shortly.", retry=True)
    except RobloxError as exc:
        return AssetVerdict(RobloxReview.UNAVAILABLE, str(exc)[:300])
    try:
        asset = roblox_cloud_asset(asset_id=roblox_asset_id, api_key=game.open_cloud_api_key)
    except RobloxNotFound:
        return AssetVerdict(RobloxReview.NOT_OWNED, f"Roblox shows no asset {roblox_asset_id} to the game owner's key.")
    except RobloxForbidden:
        return AssetVerdict(RobloxReview.UNAVAILABLE, "The owner's Open Cloud key may not read assets (asset:read).")
    except RobloxUnavailable:
        return AssetVerdict(RobloxReview.UNAVAILABLE, "Roblox did not answer; checked again shortly.", retry=True)
    except RobloxError as exc:
        return AssetVerdict(RobloxReview.UNAVAILABLE, str(exc)[:300])
    if (asset.creator_type, asset.creator_id) != (creator_type, creator_id):
        owner = f"{asset.creator_type or 'unknown'} {asset.creator_id or ''}".strip()
        return AssetVerdict(
            RobloxReview.NOT_OWNED,
            f"Asset {roblox_asset_id} belongs to {owner}, not to the game's owner ({creator_type} {creator_id}).",
        )
    review = {"Approved": RobloxReview.APPROVED, "Rejected": RobloxReview.REJECTED}.get(
        asset.moderation_state, RobloxReview.IN_REVIEW
    )
    return AssetVerdict(
        review, "" if review == RobloxReview.APPROVED else f"Roblox moderation: {asset.moderation_state or 'pending'}."
    )


# From the verdict that lets a creative serve least to the one that lets it serve: a creative is as
# far as the least approved of its assets.
_REVIEW_RANK: list[str] = [RobloxReview.NOT_OWNED, RobloxReview.REJECTED, RobloxReview.UNAVAILABLE,
                           RobloxReview.UNCHECKED, RobloxReview.IN_REVIEW, RobloxReview.APPROVED]  # fmt: skip


def creative_assets(creative: Creative) -> list[tuple[str, int]]:
    """Every Roblox asset a creative shows, with the field it comes from: the main asset, an NPC's model,
    a minigame's logo. All must be the game owner's."""
    assets = [("roblox_asset_id", creative.roblox_asset_id)]
    if creative.npc_model_asset_id:
        assets.append(("npc.model_asset_id", creative.npc_model_asset_id))
    logo = ((creative.minigame or {}).get("branding") or {}).get("logo_asset_id")
    if logo:
        assets.append(("minigame.branding", int(logo)))
    return list(dict.fromkeys(assets))


def assess_creative(creative: Creative) -> tuple[AssetVerdict, str]:
    """The verdict on all of a creative's assets (the least approved one) and the field it is about."""
    worst: tuple[AssetVerdict, str] | None = None
    for field, asset_id in creative_assets(creative):
        verdict = assess_asset(game=creative.campaign.game, roblox_asset_id=asset_id)
        if worst is None or _REVIEW_RANK.index(verdict.review) < _REVIEW_RANK.index(worst[0].review):
            worst = (verdict, field)
        if verdict.review in (RobloxReview.NOT_OWNED, RobloxReview.UNCHECKED):
            break  # no need to ask Roblox about the others
    assert worst is not None  # a creative always has its main asset
    return worst


def apply_verdict(creative: Creative, verdict: AssetVerdict) -> bool:
    """Set the verdict on an (unsaved) creative; True when what may serve changed."""
    changed = creative.roblox_review != verdict.review
    creative.roblox_review = verdict.review
    creative.roblox_review_note = verdict.note[:300]
    creative.roblox_checked_at = timezone.now()
    return changed


# --- typed asset ids on the request path, without waiting on Roblox there (Celery workers call Roblox)

VERDICT_TTL = 300  # seconds a worker's verdict on (game, asset) answers web requests
VERDICT_PENDING_TTL = 30


def _verdict_key(game_id: int, asset_id: int) -> str:
    return f"compliance:asset-verdict:{game_id}:{asset_id}"


def asset_verdict_record(*, game_id: int, roblox_asset_id: int) -> AssetVerdict:
    """The worker's side: ask Roblox about (game, asset) and keep the verdict briefly for web requests."""
    import json

    from adplatform.core.redis import get_redis

    game = Game.objects.filter(pk=game_id).first()
    verdict = assess_asset(game=game, roblox_asset_id=roblox_asset_id)
    key = _verdict_key(game_id, roblox_asset_id)
    try:
        client = get_redis()
        client.set(key, json.dumps([verdict.review, verdict.note, verdict.retry]), ex=VERDICT_TTL)
        client.delete(key + ":pending")
    except Exception:  # noqa: BLE001 - Redis away: the creative's own check task still records the verdict
        logger.warning("asset verdict not kept: redis unavailable", extra={"game_id": game_id})
    return verdict


def _wait_seconds() -> float:
    return max(0.0, float(getattr(settings, "ROBLOX_DATA_API_WAIT_MS", 1500)) / 1000)


def _asset_verdict_for_request(game: Game | None, asset_id: int) -> AssetVerdict | None:
    """A verdict a worker found for (game, asset): kept, or asked for now and waited on briefly; None if late."""
    import json
    import time

    from adplatform.core.redis import get_redis

    if game is None or not game.open_cloud_api_key:
        return assess_asset(game=game, roblox_asset_id=asset_id)  # decided without Roblox
    key = _verdict_key(game.pk, asset_id)
    try:
        client = get_redis()
        raw = client.get(key)
        if raw is None:
            if client.set(key + ":pending", 1, nx=True, ex=VERDICT_PENDING_TTL):
                _task(ASSET_VERDICT_TASK).delay(game.pk, asset_id)
            deadline = time.monotonic() + _wait_seconds()
            while raw is None and time.monotonic() < deadline:
                time.sleep(0.05)
                raw = client.get(key)
    except Exception:  # noqa: BLE001 - Redis or the broker away: decided later by the creative's check task
        return None
    if raw is None:
        return None
    review, note, retry = json.loads(raw)
    return AssetVerdict(review, note, retry)


def verify_new_asset(*, creative: Creative) -> AssetVerdict:
    """For typed asset ids: refuse (ValidationError) any asset of the creative that is not the game owner's.

    Roblox is asked by a Celery worker, never by the web request: the request waits at most
    ``ROBLOX_DATA_API_WAIT_MS`` for the worker's verdict. Without one in time the creative is accepted
    as not checked yet (it does not serve) and its check task records the verdict, a refusal included.
    """
    game = creative.campaign.game
    worst: tuple[AssetVerdict, str] | None = None
    late = False
    for field, asset_id in creative_assets(creative):
        verdict = _asset_verdict_for_request(game, asset_id)
        if verdict is None:
            late = True
            continue
        if verdict.review == RobloxReview.NOT_OWNED:
            hint = " Upload the artwork instead: the platform uploads it as the owner's asset."
            raise ValidationError({field: verdict.note + (hint if field == "roblox_asset_id" else "")})
        if worst is None or _REVIEW_RANK.index(verdict.review) < _REVIEW_RANK.index(worst[0].review):
            worst = (verdict, field)
    if late:
        result = AssetVerdict(RobloxReview.UNCHECKED, "Being checked with Roblox.", retry=True)
        if worst is not None and _REVIEW_RANK.index(worst[0].review) < _REVIEW_RANK.index(result.review):
            result = worst[0]
    else:
        assert worst is not None  # a creative always has its main asset
        result = worst[0]
    apply_verdict(creative, result)
    if result.retry or late:
        transaction.on_commit(lambda: _queue_check_now(creative.pk))
    return result


@transaction.atomic
def creative_roblox_check(*, creative_id: int) -> Creative | None:
    """Ask Roblox again about a creative's asset and record the verdict (Celery, admin, polling)."""
    creative = (
        Creative.objects.select_for_update(of=("self",)).select_related("campaign__game").filter(pk=creative_id).first()
    )
    if creative is None:
        return None
    verdict, _ = assess_creative(creative)
    changed = apply_verdict(creative, verdict)
    creative.save(update_fields=["roblox_review", "roblox_review_note", "roblox_checked_at", "updated_at"])
    if changed:
        serving_version_bump("creative roblox review changed")
        logger.info("creative roblox review", extra={"creative_id": creative.pk, "review": verdict.review})
    # Still unreachable: the periodic refresh (roblox_reviews_refresh) asks again, no retry storm.
    return creative


@transaction.atomic
def creative_roblox_review_record(*, creative: Creative, review: str, note: str = "", by) -> Creative:
    """Staff record Roblox's verdict as Ads Manager shows it (when the owner's key cannot be used)."""
    from django.core.exceptions import PermissionDenied

    if by is None or not by.is_staff:
        raise PermissionDenied("Only staff record Roblox's verdict by hand.")
    if review not in RobloxReview.values:
        raise ValidationError({"roblox_review": f"One of {', '.join(RobloxReview.values)}."})
    creative = Creative.objects.select_for_update().get(pk=creative.pk)
    note = (note or "").strip() or f"Recorded by {by.get_username()}."
    changed = apply_verdict(creative, AssetVerdict(review, note))
    creative.save(update_fields=["roblox_review", "roblox_review_note", "roblox_checked_at", "updated_at"])
    if changed:
        serving_version_bump("creative roblox review recorded")
    logger.info("creative roblox review recorded", extra={"creative_id": creative.pk, "review": review, "by": by.pk})
    return creative


def creatives_reset_review(*, campaign: Campaign) -> int:
    """The campaign's game changed: every creative is checked again against the new owner."""
    ids = list(campaign.creatives.values_list("pk", flat=True))
    campaign.creatives.update(roblox_review=RobloxReview.UNCHECKED, roblox_review_note="", roblox_checked_at=None)
    for creative_id in ids:
        transaction.on_commit(functools.partial(_queue_check_now, creative_id))
    return len(ids)


def creative_roblox_check_queue(*, creative_id: int) -> None:
    """Have a worker check a creative with Roblox (the admin's "check again")."""
    _queue_check_now(creative_id)


def creative_upload_queue(*, upload_id: int) -> None:
    """Have a worker send or poll an upload now (the admin's "process now")."""
    _queue_upload(upload_id, countdown=0)


def _queue_check_now(creative_id: int) -> None:
    _task(ROBLOX_CHECK_TASK).delay(creative_id)


def roblox_reviews_refresh(*, older_than: timedelta = timedelta(minutes=10), limit: int = 200) -> int:
    """Poll Roblox's moderation of creatives still in review or not checked (the periodic job)."""
    stale = timezone.now() - older_than
    ids = list(
        Creative.objects.filter(
            roblox_review__in=[RobloxReview.IN_REVIEW, RobloxReview.UNAVAILABLE, RobloxReview.UNCHECKED],
            campaign__game__isnull=False,
        )
        .exclude(roblox_checked_at__gt=stale)
        .order_by("roblox_checked_at")
        .values_list("pk", flat=True)[:limit]
    )
    for creative_id in ids:
        creative_roblox_check(creative_id=creative_id)
    return len(ids)


# --------------------------------------------------------------------------- uploads


def _inspect_image(data: bytes) -> tuple[str, int, int]:
    """``(format, width, height)`` of an image, or a ValidationError saying what is wrong with it."""
    from PIL import Image, UnidentifiedImageError

    limits = upload_limits()
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format = image.format or ""
            width, height = image.size
            if width * height > limits["max_side"] ** 2:
                raise ValidationError({"image": "The image is too large."})
            image.verify()  # a truncated or corrupt file fails here
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError({"image": "Not an image we can read: upload a PNG, JPEG or BMP file."}) from None
    if image_format not in UPLOAD_FORMATS:
        raise ValidationError({"image": f"A {image_format or 'file of this'} type is not accepted: PNG, JPEG or BMP."})
    low, high = limits["min_side"], limits["max_side"]
    if not (low <= width <= high and low <= height <= high):
        raise ValidationError({"image": f"The image is {width} x {height} px; each side must be {low} to {high} px."})
    return image_format, width, height


@transaction.atomic
def creative_upload_validate(*, campaign: Campaign, name: str | None = None, data: bytes | None = None) -> None:
    """Every problem ``creative_upload_create`` would refuse the artwork for, writing nothing (a form shows
    them in one submit); ``None`` leaves a value unchecked."""
    from ads.models import CampaignStatus

    errors: dict[str, list[str]] = {}
    if campaign.status == CampaignStatus.ARCHIVED:
        errors["campaign"] = ["An archived campaign takes no new creatives."]
    if campaign.game is None:
        errors["game"] = ["Choose the campaign's game first: the artwork is uploaded as that game owner's asset."]
    elif not campaign.game.open_cloud_api_key:
        errors["game"] = ["The game's owner has not connected an Open Cloud key yet, so nothing can be uploaded."]
    if name is not None and not name.strip():
        errors["name"] = ["Give the creative a name."]
    if data is not None:
        limits = upload_limits()
        if not data:
            errors["image"] = ["Choose an image file."]
        elif len(data) > limits["max_bytes"]:
            errors["image"] = [f"The file is {len(data) // 1024} KiB; at most {limits['max_bytes'] // 1024} KiB."]
        else:
            try:
                _inspect_image(data)
            except ValidationError as exc:
                errors["image"] = exc.messages
    if errors:
        raise ValidationError(errors)


def creative_upload_create(
    *, campaign: Campaign, name: str, data: bytes, filename: str = "", by=None
) -> CreativeUpload:
    """Accept artwork for a campaign: validate it and queue its upload as the game owner's asset."""
    name = (name or "").strip()[:200]
    creative_upload_validate(campaign=campaign, name=name, data=data)
    game = campaign.game
    assert game is not None  # creative_upload_validate refuses a campaign without a game
    image_format, width, height = _inspect_image(data)
    upload = CreativeUpload.objects.create(
        campaign=campaign,
        game=game,
        name=name,
        filename=f"creative.{UPLOAD_EXTENSIONS[image_format]}",
        content_type=UPLOAD_FORMATS[image_format],
        content=data,
        size_bytes=len(data),
        width=width,
        height=height,
        uploaded_by=by if getattr(by, "pk", None) else None,
    )
    transaction.on_commit(lambda: _queue_upload(upload.pk, countdown=0))
    logger.info("creative upload accepted", extra={"upload_id": upload.pk, "campaign_id": campaign.pk})
    return upload


def _queue_upload(upload_id: int, *, countdown: int) -> None:
    _task(UPLOAD_PROCESS_TASK).apply_async(args=(upload_id,), countdown=countdown)
