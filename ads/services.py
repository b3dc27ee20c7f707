"""Every write to advertisers, campaigns and creatives.

Pages, admin, the management API and tasks call these functions. Field
problems raise ``django.core.exceptions.ValidationError`` with a field dict
(shown on forms, rendered as a 400 by the API). Each change that affects
what may be served bumps the serving version after commit.
"""

from __future__ import annotations

import copy
import logging
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import redis
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from adplatform.core.serving import serving_version_bump
from ads import budget, compliance
from ads.creatives import clean_click_action, clean_dialogue, clean_minigame
from ads.models import (
    Advertiser,
    ApprovalState,
    Campaign,
    CampaignStatus,
    Creative,
    ModerationStatus,
    Pacing,
    Pricing,
)
from ads.targeting import clean_targeting
from games.models import AdCategory, ContainerType
from games.services import asset_get_or_create, asset_id_clean

logger = logging.getLogger(__name__)

MAX_MONEY = Decimal("10000000000")  # 1e10: far above any real budget, below the column's limit


# --------------------------------------------------------------------------- helpers


def _money(value: Any, field: str, *, allow_none: bool = False) -> Decimal | None:
    if value in (None, "") and allow_none:
        return None
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({field: "Enter an amount such as 2.50."}) from None
    if not amount.is_finite():
        raise ValidationError({field: "Enter an amount such as 2.50."})
    if amount <= 0:
        raise ValidationError({field: "Must be more than zero."})
    if amount >= MAX_MONEY:
        raise ValidationError({field: "That amount is too large."})
    if amount != amount.quantize(Decimal("0.000001")):
        raise ValidationError({field: "At most 6 decimal places."})
    return amount


def _when(value: Any, field: str) -> datetime:
    moment: datetime | None
    if isinstance(value, datetime):
        moment = value
    else:
        moment = parse_datetime(str(value or "").strip()) if value else None
        if moment is None:
            raise ValidationError({field: "Enter a date and time, e.g. 2026-12-01T00:00:00Z."})
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return moment


def _choice(value: Any, field: str, choices) -> str:
    if value not in choices.values:
        raise ValidationError({field: f"One of {', '.join(choices.values)}."})
    return value


def _frequency_cap(value: Any) -> tuple[int | None, int | None]:
    if value in (None, "", [], {}):
        return None, None
    if not isinstance(value, dict):
        raise ValidationError({"frequency_cap": 'An object {"count": N, "period_seconds": S} or null.'})
    count, period = value.get("count"), value.get("period_seconds")
    for field, number, low, high in (("count", count, 1, 10_000), ("period_seconds", period, 60, 90 * 86400)):
        if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
            raise ValidationError({f"frequency_cap.{field}": f"A whole number from {low} to {high}."})
    return count, period


CAMPAIGN_FIELDS = ("name", "pricing", "max_bid", "total_budget", "daily_budget", "start_at", "end_at", "pacing",
                   "frequency_cap", "targeting", "roblox_campaign_id", "game")  # fmt: skip


def _apply_campaign_fields(campaign: Campaign, data: dict[str, Any]) -> None:
    unknown = set(data) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown or read-only field."))
    errors: dict[str, list[str]] = {}

    def collect(fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key, []).extend(messages)
            return None

    if "name" in data:
        name = str(data["name"] or "").strip()
        if not name:
            errors["name"] = ["Give the campaign a name."]
        campaign.name = name[:200]
    if "pricing" in data:
        campaign.pricing = collect(_choice, data["pricing"], "pricing", Pricing) or campaign.pricing
    if "pacing" in data:
        campaign.pacing = collect(_choice, data["pacing"], "pacing", Pacing) or campaign.pacing
    for field in ("max_bid", "total_budget"):
        if field in data:
            value = collect(_money, data[field], field)
            if value is not None:
                setattr(campaign, field, value)
    if "daily_budget" in data:
        campaign.daily_budget = collect(_money, data["daily_budget"], "daily_budget", allow_none=True)
    for field in ("start_at", "end_at"):
        if field in data:
            value = collect(_when, data[field], field)
            if value is not None:
                setattr(campaign, field, value)
    if "frequency_cap" in data:
        cap = collect(_frequency_cap, data["frequency_cap"])
        if cap is not None:
            campaign.frequency_cap_count, campaign.frequency_cap_period_seconds = cap
    if "targeting" in data:
        targeting = collect(clean_targeting, data["targeting"])
        if targeting is not None:
            campaign.targeting = targeting
    if "roblox_campaign_id" in data:
        campaign.roblox_campaign_id = str(data["roblox_campaign_id"] or "").strip()[:64]
    if "game" in data:
        campaign.game = collect(_registered_game, data["game"])

    if not errors:
        if campaign.start_at and campaign.end_at and campaign.end_at <= campaign.start_at:
            errors["end_at"] = ["The end must come after the start."]
        if campaign.daily_budget and campaign.total_budget and campaign.daily_budget > campaign.total_budget:
            errors["daily_budget"] = ["The daily budget cannot exceed the total budget."]
        if campaign.total_budget is not None and campaign.total_budget < campaign.spent:
            errors["total_budget"] = [f"The campaign has already spent {campaign.spent}."]
        if campaign.game_id:
            t = campaign.targeting or {}
            if campaign.game_id in t.get("games_excluded", []) or (
                t.get("games_included") and campaign.game_id not in t["games_included"]
            ):
                errors["game"] = ["The targeting leaves out the campaign's own game: it could never serve."]
    if errors:
        raise ValidationError(errors)


def _registered_game(value: Any):
    """The game a campaign is registered for in Roblox Ads Manager (a Game, its id, or nothing)."""
    from games.models import Game

    if value in (None, ""):
        return None
    if isinstance(value, Game):
        return value
    if isinstance(value, bool) or not str(value).isdigit():
        raise ValidationError({"game": "The id of a game on the platform."})
    game = Game.objects.filter(pk=int(value), is_active=True).first()
    if game is None:
        raise ValidationError({"game": "No such game on the platform."})
    return game


# --------------------------------------------------------------------------- advertisers


@transaction.atomic
def advertiser_for_user(*, user) -> Advertiser:
    """The advertiser profile of an advertiser account (created on first use, waiting for approval)."""
    advertiser = Advertiser.objects.filter(user=user).first()
    if advertiser is None:
        advertiser = Advertiser.objects.create(
            user=user, company=user.company or user.get_full_name() or user.username, category=AdCategory.OTHER
        )
    return advertiser


@transaction.atomic
def advertiser_update(*, advertiser: Advertiser, company: str | None = None, category: str | None = None) -> Advertiser:
    advertiser_validate(company=company, category=category)
    if company is not None:
        company = company.strip()
        advertiser.company = company[:200]
    if category is not None:
        advertiser.category = _choice(category, "category", AdCategory)
        serving_version_bump("advertiser category changed")
    advertiser.save()
    return advertiser


@transaction.atomic
def advertiser_approve(*, advertiser: Advertiser, by) -> Advertiser:
    advertiser.approval = ApprovalState.APPROVED
    advertiser.approved_at = timezone.now()
    advertiser.approved_by = by
    advertiser.approval_note = ""
    advertiser.save()
    serving_version_bump("advertiser approved")
    logger.info("advertiser approved", extra={"advertiser_id": advertiser.pk, "by": getattr(by, "pk", None)})
    _after_advertiser_reviewed(advertiser)  # console (issue 20): notify, and start campaigns waiting for it
    return advertiser


@transaction.atomic
def advertiser_reject(*, advertiser: Advertiser, by, note: str = "") -> Advertiser:
    advertiser.approval = ApprovalState.REJECTED
    advertiser.approved_at = None
    advertiser.approved_by = by
    advertiser.approval_note = note
    advertiser.save()
    serving_version_bump("advertiser rejected")
    _after_advertiser_reviewed(advertiser)  # console (issue 20): notify the advertiser
    return advertiser


# --------------------------------------------------------------------------- campaigns


@transaction.atomic
def campaign_create(*, advertiser: Advertiser, data: dict[str, Any]) -> Campaign:
    """Create a campaign in DRAFT. Required: name, max_bid, total_budget, start_at, end_at."""
    data = dict(data)
    data.pop("status", None)  # a new campaign is always a draft
    campaign_validate(advertiser=advertiser, data=data, required=True)
    campaign = Campaign(advertiser=advertiser, status=CampaignStatus.DRAFT)
    _apply_campaign_fields(campaign, data)
    if campaign.end_at <= timezone.now():
        raise ValidationError({"end_at": "The end is already in the past."})
    campaign.full_clean()
    campaign.save()
    logger.info("campaign created", extra={"campaign_id": campaign.pk, "advertiser_id": advertiser.pk})
    return campaign


@transaction.atomic
def campaign_update(*, campaign: Campaign, data: dict[str, Any]) -> Campaign:
    """Change a campaign's settings; a ``status`` in ``data`` goes through :func:`campaign_set_status`."""
    data = dict(data)
    status = data.pop("status", None)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    previous = (campaign.total_budget, campaign.daily_budget)
    if data:
        if campaign.status in (CampaignStatus.ARCHIVED, CampaignStatus.COMPLETED):
            raise ValidationError({"status": f"A {campaign.status.lower()} campaign cannot be edited."})
        game_before = campaign.game_id
        _apply_campaign_fields(campaign, data)
        campaign.full_clean()
        campaign.save()
        if campaign.game_id != game_before:
            # Another game, another owner: every creative is checked with Roblox again before it serves.
            compliance.creatives_reset_review(campaign=campaign)
        serving_version_bump("campaign updated")
    if status is not None and status != campaign.status:
        campaign = campaign_set_status(campaign=campaign, status=status)
    if (campaign.total_budget, campaign.daily_budget) != previous:
        # Last, once nothing else can refuse the change: a cut is written to Redis before the commit.
        _budget_limits_change(campaign, previous)
    return campaign


def _budget_limits_change(campaign: Campaign, previous: tuple[Decimal, Decimal | None]) -> None:
    try:
        budget.budget_limits_change(campaign=campaign, previous=previous)
    except budget.BudgetBelowCommitted as exc:
        what = "spent or reserved today" if exc.field == "daily_budget" else "spent or reserved"
        raise ValidationError({exc.field: [f"The campaign has already {what} {exc.committed}."]}) from exc
    except redis.RedisError as exc:
        # A lower budget must be in force everywhere before it is saved; without Redis that cannot be known.
        raise ValidationError(
            {"total_budget": ["Budgets cannot be lowered right now (the budget store is unavailable); try again."]}
        ) from exc


def activation_problems(campaign: Campaign) -> list[str]:
    """Why this campaign may not be ACTIVE right now (empty when it may)."""
    problems = []
    if not campaign.advertiser.is_approved:
        problems.append("The advertiser account is not approved yet.")
    if campaign.remaining_budget <= 0:
        problems.append("The budget is spent; raise the total budget.")
    if campaign.end_at <= timezone.now():
        problems.append("The schedule has ended; move the end date.")
    if not campaign.creatives.filter(moderation_status=ModerationStatus.APPROVED).exists():
        problems.append("No approved creative yet; creatives are reviewed by staff.")
    return problems


_TRANSITIONS: dict[str, set[CampaignStatus]] = {
    CampaignStatus.ACTIVE: {CampaignStatus.DRAFT, CampaignStatus.PAUSED},
    CampaignStatus.PAUSED: {CampaignStatus.ACTIVE},
    CampaignStatus.COMPLETED: {CampaignStatus.ACTIVE, CampaignStatus.PAUSED},
    CampaignStatus.ARCHIVED: {
        CampaignStatus.DRAFT,
        CampaignStatus.ACTIVE,
        CampaignStatus.PAUSED,
        CampaignStatus.COMPLETED,
    },
}


@transaction.atomic
def campaign_set_status(*, campaign: Campaign, status: str) -> Campaign:
    """Move a campaign through DRAFT -> ACTIVE <-> PAUSED -> COMPLETED / ARCHIVED."""
    status = _choice(status, "status", CampaignStatus)
    locked = Campaign.objects.select_for_update().select_related("advertiser").get(pk=campaign.pk)
    if locked.status == status:
        return locked
    if status == CampaignStatus.DRAFT or locked.status not in _TRANSITIONS[status]:
        raise ValidationError({"status": f"A {locked.status.lower()} campaign cannot become {status.lower()}."})
    if status == CampaignStatus.ACTIVE:
        problems = activation_problems(locked)
        if problems:
            raise ValidationError({"status": problems})
    previous = locked.status
    locked.status = status
    locked.save(update_fields=["status", "updated_at"])
    if status == CampaignStatus.ACTIVE:
        # Its budget state is ready before any process sees the new serving version: the first decision
        # after activation can fill.
        transaction.on_commit(lambda: budget.budget_prepare(campaign=locked))
    serving_version_bump(f"campaign {status.lower()}")
    logger.info("campaign status changed", extra={"campaign_id": locked.pk, "from": previous, "to": status})
    return locked


def campaign_activate(*, campaign: Campaign) -> Campaign:
    return campaign_set_status(campaign=campaign, status=CampaignStatus.ACTIVE)


def campaign_pause(*, campaign: Campaign) -> Campaign:
    return campaign_set_status(campaign=campaign, status=CampaignStatus.PAUSED)


def campaign_resume(*, campaign: Campaign) -> Campaign:
    return campaign_set_status(campaign=campaign, status=CampaignStatus.ACTIVE)


def campaign_archive(*, campaign: Campaign) -> Campaign:
    return campaign_set_status(campaign=campaign, status=CampaignStatus.ARCHIVED)


# --------------------------------------------------------------------------- creatives

CREATIVE_FIELDS = ("name", "kind", "roblox_asset_id", "npc", "minigame", "click_action", "roblox_placement_id")
# Changing any of these sends an approved creative back to review.
CONTENT_FIELDS = ("kind", "roblox_asset_id", "npc", "minigame", "click_action")


def _apply_creative_fields(creative: Creative, data: dict[str, Any], *, check_only: bool = False) -> set[str]:
    """Set the given fields; return the names of content fields whose value changed.

    Every problem is collected and raised together (one ``ValidationError`` with all the fields), so a
    form learns them in one submit. ``check_only`` records no asset (``creative_validate`` writes nothing).
    """
    unknown = set(data) - set(CREATIVE_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown or read-only field."))
    errors: dict[str, list[str]] = {}

    def collect(fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ValidationError as exc:
            for key, messages in _error_dict(exc).items():
                errors.setdefault(key, []).extend(messages)
            return None

    before = {
        "kind": creative.kind,
        "roblox_asset_id": creative.roblox_asset_id,
        "npc": (creative.npc_model_asset_id, list(creative.npc_dialogue or [])),
        "minigame": creative.minigame,
        "click_action": creative.click_action,
    }
    if "name" in data:
        name = str(data["name"] or "").strip()
        if not name:
            errors["name"] = ["Give the creative a name."]
        creative.name = name[:200]
    if "kind" in data:
        creative.kind = collect(_choice, data["kind"], "kind", ContainerType) or creative.kind
    if "roblox_asset_id" in data:
        if check_only:
            asset_id = collect(asset_id_clean, data["roblox_asset_id"])
            if asset_id is not None:
                creative.roblox_asset_id = asset_id
        else:
            asset = collect(asset_get_or_create, roblox_asset_id=data["roblox_asset_id"])
            if asset is not None:
                creative.asset = asset
                creative.roblox_asset_id = asset.roblox_asset_id
    if "npc" in data:
        npc = data["npc"] or {}
        if not isinstance(npc, dict):
            errors["npc"] = ['An object {"model_asset_id": N, "dialogue": [...]}.']
            npc = {}
        model_id = npc.get("model_asset_id")
        if model_id in (None, ""):
            creative.npc_model_asset_id = None
        elif isinstance(model_id, bool) or not str(model_id).isdigit() or int(model_id) <= 0:
            errors["npc.model_asset_id"] = ["A positive Roblox asset id."]
        else:
            creative.npc_model_asset_id = int(model_id)
        dialogue = collect(clean_dialogue, npc.get("dialogue"))
        creative.npc_dialogue = dialogue if dialogue is not None else creative.npc_dialogue
    if "minigame" in data:
        creative.minigame = data["minigame"] or None
    if "click_action" in data:
        action = collect(clean_click_action, data["click_action"])
        if action is not None:
            creative.click_action = action
    if "roblox_placement_id" in data:
        creative.roblox_placement_id = str(data["roblox_placement_id"] or "").strip()[:64]

    # Rules that depend on the kind hold whatever was changed.
    if creative.kind == ContainerType.MINIGAME:
        creative.minigame = collect(clean_minigame, creative.minigame) or creative.minigame
    elif creative.minigame:
        errors.setdefault("minigame", []).append("Only a MINIGAME creative has a minigame configuration.")
    if creative.kind == ContainerType.NPC:
        if not creative.npc_model_asset_id and "npc.model_asset_id" not in errors:
            errors["npc.model_asset_id"] = ["An NPC creative needs the NPC model's asset id."]
        if not creative.npc_dialogue and "npc.dialogue" not in errors:
            errors["npc.dialogue"] = ["Give the NPC at least one line to say."]
    if errors:
        raise ValidationError(errors)
    if not creative.click_action:
        creative.click_action = clean_click_action(None)

    after = {
        "kind": creative.kind,
        "roblox_asset_id": creative.roblox_asset_id,
        "npc": (creative.npc_model_asset_id, list(creative.npc_dialogue or [])),
        "minigame": creative.minigame,
        "click_action": creative.click_action,
    }
    return {field for field in CONTENT_FIELDS if before[field] != after[field]}


def _error_dict(exc: ValidationError) -> dict[str, list[str]]:
    return exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: list(exc.messages)}


@transaction.atomic
def creative_create(*, campaign: Campaign, data: dict[str, Any]) -> Creative:
    """Add a creative; it waits for staff review (PENDING) before it can serve."""
    creative_validate(campaign=campaign, data=data)
    creative = Creative(campaign=campaign, kind=data.get("kind") or ContainerType.DISPLAY)
    _apply_creative_fields(creative, dict(data))
    creative.full_clean()
    compliance.verify_new_asset(creative=creative)  # refuses an asset that is not the game owner's
    creative.save()
    logger.info("creative created", extra={"creative_id": creative.pk, "campaign_id": campaign.pk})
    return creative


@transaction.atomic
def creative_update(*, creative: Creative, data: dict[str, Any]) -> Creative:
    """Edit a creative. Changing its content sends it back to review (PENDING)."""
    creative = Creative.objects.select_for_update(of=("self",)).select_related("campaign__game").get(pk=creative.pk)
    placement_before, assets_before = creative.roblox_placement_id, compliance.creative_assets(creative)
    changed = _apply_creative_fields(creative, dict(data))
    if compliance.creative_assets(creative) != assets_before:
        compliance.verify_new_asset(creative=creative)
    if creative.roblox_placement_id != placement_before:
        changed = changed | {"roblox_placement_id"}
    if changed - {"roblox_placement_id"} and creative.moderation_status != ModerationStatus.PENDING:
        creative.moderation_status = ModerationStatus.PENDING
        creative.moderation_reason = ""
        creative.moderated_by = None
        creative.moderated_at = None
    creative.full_clean()
    creative.save()
    if changed:
        serving_version_bump("creative content changed")
    return creative


@transaction.atomic
def creative_moderate(*, creative: Creative, status: str, reason: str = "", by) -> Creative:
    """Staff approve or reject a creative (a rejection says why)."""
    if by is None or not by.is_staff:
        raise PermissionDenied("Only staff moderate creatives.")
    if status not in (ModerationStatus.APPROVED, ModerationStatus.REJECTED):
        raise ValidationError({"status": "APPROVED or REJECTED."})
    reason = (reason or "").strip()
    if status == ModerationStatus.REJECTED and not reason:
        raise ValidationError({"reason": "Tell the advertiser why the creative is rejected."})
    creative = Creative.objects.select_for_update().get(pk=creative.pk)
    creative.moderation_status = status
    creative.moderation_reason = reason
    creative.moderated_by = by
    creative.moderated_at = timezone.now()
    creative.save(
        update_fields=["moderation_status", "moderation_reason", "moderated_by", "moderated_at", "updated_at"]
    )
    serving_version_bump("creative moderated")
    logger.info("creative moderated", extra={"creative_id": creative.pk, "status": status, "by": by.pk})
    _after_creative_moderated(creative)  # console (issue 20): notify, and go live if the campaign was submitted
    return creative


# ----------------------------------------------------------------------------------------------------------------
# --- console (issue 20), additive: form checks in one pass, and go-live on approval ------------------------------


_VALIDATE_COPIED = ("name", "pricing", "max_bid", "total_budget", "daily_budget", "start_at", "end_at", "pacing",
                    "frequency_cap_count", "frequency_cap_period_seconds", "targeting", "spent", "status")  # fmt: skip


def campaign_validate(
    *, advertiser: Advertiser, data: dict[str, Any], campaign: Campaign | None = None, required: bool = False
) -> None:
    """Raise every ``ValidationError`` that ``campaign_create``/``campaign_update`` would raise for the
    fields in ``data``, writing nothing, so a form shows all its problems in one submit.

    ``data`` may hold only some fields (those that passed the form's own checks): cross-field rules
    run on whichever values are there.
    """
    draft = Campaign(advertiser=advertiser, status=CampaignStatus.DRAFT)
    if campaign is not None:
        for field in _VALIDATE_COPIED:
            setattr(draft, field, getattr(campaign, field))
    errors: dict[str, list[str]] = {}
    data = dict(data)
    if required:  # a new campaign: what ``campaign_create`` needs, reported with everything else
        for field in ("name", "max_bid", "total_budget", "start_at", "end_at"):
            if data.get(field) in (None, ""):
                errors[field] = ["This field is required."]
                data.pop(field, None)
    try:
        _apply_campaign_fields(draft, data)
    except ValidationError as exc:
        for key, messages in exc.message_dict.items():
            errors.setdefault(key, []).extend(messages)
    start, end = draft.start_at, draft.end_at
    if start and end and end <= start and "start_at" not in errors and "end_at" not in errors:
        errors.setdefault("end_at", ["The end must come after the start."])
    elif campaign is None and end and end <= timezone.now() and "end_at" not in errors:
        errors.setdefault("end_at", ["The end is already in the past."])
    daily, total = draft.daily_budget, draft.total_budget
    if daily and total and daily > total and not {"daily_budget", "total_budget"} & set(errors):
        errors.setdefault("daily_budget", ["The daily budget cannot exceed the total budget."])
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def campaign_submit_for_review(*, campaign: Campaign) -> Campaign:
    """The advertiser asks to go live: the campaign is activated now if nothing stands in the way, or by
    itself (``campaign_go_live_if_ready``) the moment staff approve what it waits for."""
    locked = Campaign.objects.select_for_update().select_related("advertiser").get(pk=campaign.pk)
    if locked.status not in (CampaignStatus.DRAFT, CampaignStatus.PAUSED):
        raise ValidationError({"status": f"A {locked.status.lower()} campaign cannot be submitted."})
    locked.go_live_requested_at = timezone.now()
    locked.save(update_fields=["go_live_requested_at", "updated_at"])
    return campaign_go_live_if_ready(campaign=locked)


def campaign_go_live_if_ready(*, campaign: Campaign) -> Campaign:
    """Activate a campaign submitted for review once nothing stands in the way (through ``campaign_activate``)."""
    if campaign.go_live_requested_at is None or campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.PAUSED):
        return campaign
    if activation_problems(campaign):
        return campaign
    campaign = campaign_activate(campaign=campaign)
    Campaign.objects.filter(pk=campaign.pk).update(go_live_requested_at=None)
    campaign.go_live_requested_at = None
    _notify_advertiser(
        campaign.advertiser,
        kind="LIVE",
        title=f"“{campaign.name}” is live",
        body="Everything it waited for is approved: the campaign competes for containers from now on.",
        url=f"/campaigns/{campaign.pk}/",
        dedupe_key=f"campaign-live:{campaign.pk}:{campaign.updated_at.timestamp():.0f}",
    )
    return campaign


def _campaigns_waiting_on(advertiser_id: int, campaign_id: int | None = None) -> list[Campaign]:
    qs = Campaign.objects.select_related("advertiser").filter(
        advertiser_id=advertiser_id,
        go_live_requested_at__isnull=False,
        status__in=(CampaignStatus.DRAFT, CampaignStatus.PAUSED),
    )
    if campaign_id is not None:
        qs = qs.filter(pk=campaign_id)
    return list(qs)


def _notify_advertiser(advertiser: Advertiser, **kwargs) -> None:
    from adplatform.accounts.services import notification_send

    if advertiser.user_id:
        notification_send(user=advertiser.user, **kwargs)


def _after_creative_moderated(creative: Creative) -> None:
    assert creative.moderated_at is not None, "called after the moderation was saved"
    campaign = creative.campaign
    if creative.moderation_status == ModerationStatus.APPROVED:
        _notify_advertiser(
            campaign.advertiser,
            kind="APPROVED",
            title=f"Creative “{creative.name}” approved",
            body=f"Staff approved it for “{campaign.name}”.",
            url=f"/campaigns/{campaign.pk}/#creatives",
            dedupe_key=f"creative-approved:{creative.pk}:{creative.moderated_at.timestamp():.0f}",
        )
    else:
        _notify_advertiser(
            campaign.advertiser,
            kind="REJECTED",
            title=f"Creative “{creative.name}” rejected",
            body=f"Staff rejected it for “{campaign.name}”: {creative.moderation_reason}",
            url=f"/campaigns/{campaign.pk}/creatives/{creative.pk}/edit/",
            dedupe_key=f"creative-rejected:{creative.pk}:{creative.moderated_at.timestamp():.0f}",
        )
    for waiting in _campaigns_waiting_on(campaign.advertiser_id, campaign.pk):
        campaign_go_live_if_ready(campaign=waiting)


def _after_advertiser_reviewed(advertiser: Advertiser) -> None:
    if advertiser.approval == ApprovalState.APPROVED:
        assert advertiser.approved_at is not None, "called after the approval was saved"
        _notify_advertiser(
            advertiser,
            kind="APPROVED",
            title="Your advertiser account is approved",
            body="Campaigns you submitted go live as soon as their creatives are approved.",
            url="/campaigns/",
            dedupe_key=f"advertiser-approved:{advertiser.pk}:{advertiser.approved_at.timestamp():.0f}",
        )
        for waiting in _campaigns_waiting_on(advertiser.pk):
            campaign_go_live_if_ready(campaign=waiting)
    else:
        _notify_advertiser(
            advertiser,
            kind="REJECTED",
            title="Your advertiser account was not approved",
            body=advertiser.approval_note or "Contact staff to learn why.",
            url="/campaigns/profile/",
        )


def campaign_notify_budget_exhausted(*, campaign: Campaign) -> None:
    """Tell the advertiser their campaign's budget (total, or today's) is spent; once per campaign and day.

    Called where spending finds the budget gone (``ads.budget``: outcome ``budget_exhausted``)."""
    today = timezone.now().date().isoformat()
    total_gone = campaign.remaining_budget <= 0
    _notify_advertiser(
        campaign.advertiser,
        kind="BUDGET_EXHAUSTED",
        title=f"“{campaign.name}”: {'budget spent' if total_gone else 'daily budget spent'}",
        body="It serves nothing more until you raise the total budget."
        if total_gone
        else "It serves again after midnight UTC, or now if you raise the daily budget.",
        url=f"/campaigns/{campaign.pk}/edit/",
        dedupe_key=f"budget-exhausted:{campaign.pk}:{'total' if total_gone else today}",
    )


# --- end console ------------------------------------------------------------------------------------------------


def creative_validate(*, campaign: Campaign, data: dict[str, Any], creative: Creative | None = None) -> None:
    """Raise every ``ValidationError`` that ``creative_create`` (or ``creative_update`` of ``creative``)
    would raise for ``data``, writing nothing (no asset is recorded), so a form shows them in one submit.

    The check with Roblox that the asset is the game owner's (``compliance.verify_new_asset``) is left to
    the write: it may ask a worker, and runs once the rest is right.
    """
    errors: dict[str, list[str]] = {}
    data = dict(data)
    if campaign.status == CampaignStatus.ARCHIVED:
        errors["campaign"] = ["An archived campaign takes no new creatives."]
    if creative is None:
        for field in ("name", "roblox_asset_id"):
            if data.get(field) in (None, ""):
                errors[field] = ["This field is required."]
                data.pop(field, None)
        draft = Creative(campaign=campaign, kind=data.get("kind") or ContainerType.DISPLAY)
    else:
        draft = copy.copy(creative)
    try:
        _apply_creative_fields(draft, data, check_only=True)
    except ValidationError as exc:
        for key, messages in _error_dict(exc).items():
            errors.setdefault(key, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def advertiser_validate(*, company: str | None = None, category: str | None = None) -> None:
    """Every problem ``advertiser_update`` would refuse these values for, writing nothing."""
    errors: dict[str, list[str]] = {}
    if company is not None and not company.strip():
        errors["company"] = ["Enter the company name."]
    if category is not None and category not in AdCategory.values:
        errors["category"] = [f"One of {', '.join(AdCategory.values)}."]
    if errors:
        raise ValidationError(errors)
