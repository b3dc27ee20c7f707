from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TypedDict

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db import models

from games.models import AdCategory, Asset, ContainerType, TimeStamped


class DecimalShape(TypedDict):
    max_digits: int
    decimal_places: int


MONEY: DecimalShape = {"max_digits": 16, "decimal_places": 6}


class ApprovalState(models.TextChoices):
    PENDING = "PENDING", "Waiting for approval"
    APPROVED = "APPROVED", "Approved"
    REJECTED = "REJECTED", "Rejected"


class Advertiser(TimeStamped):
    """A brand partner. Campaigns serve only once staff approved the advertiser."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="advertiser")
    company = models.CharField(max_length=200)
    category = models.CharField(max_length=32, choices=AdCategory.choices, default=AdCategory.OTHER)
    approval = models.CharField(max_length=16, choices=ApprovalState.choices, default=ApprovalState.PENDING)
    approval_note = models.TextField(blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["company", "id"]

    def __str__(self) -> str:
        return self.company

    @property
    def is_approved(self) -> bool:
        return self.approval == ApprovalState.APPROVED


class CampaignStatus(models.TextChoices):
    DRAFT = "DRAFT", "Draft"
    ACTIVE = "ACTIVE", "Active"
    PAUSED = "PAUSED", "Paused"
    COMPLETED = "COMPLETED", "Completed"
    ARCHIVED = "ARCHIVED", "Archived"


class Pricing(models.TextChoices):
    CPM = "CPM", "CPM (per 1,000 viewable impressions)"
    CPC = "CPC", "CPC (per click)"


class Pacing(models.TextChoices):
    EVEN = "EVEN", "Even (spread the daily budget over the day)"
    ASAP = "ASAP", "As fast as possible"


class Device(models.TextChoices):
    DESKTOP = "desktop", "Desktop"
    MOBILE = "mobile", "Mobile"
    TABLET = "tablet", "Tablet"
    CONSOLE = "console", "Console"
    VR = "vr", "VR"


class Campaign(TimeStamped):
    """What an advertiser buys: budget, bid, schedule, pacing, frequency cap and targeting.

    ``targeting`` is normalised by ``ads.targeting.clean_targeting`` (every key optional):
    ``countries_included``/``countries_excluded`` (ISO alpha-2), ``devices``, ``segments``,
    ``days_of_week`` (0 = Monday), ``hours_utc`` (0-23), ``games_included``/``games_excluded``
    (game ids), ``container_types``.
    """

    advertiser = models.ForeignKey(Advertiser, on_delete=models.PROTECT, related_name="campaigns")
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    pricing = models.CharField(max_length=8, choices=Pricing.choices, default=Pricing.CPM)
    max_bid = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("0.000001"))])
    total_budget = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("0.000001"))])
    daily_budget = models.DecimalField(
        **MONEY, null=True, blank=True, validators=[MinValueValidator(Decimal("0.000001"))]
    )
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    pacing = models.CharField(max_length=8, choices=Pacing.choices, default=Pacing.EVEN)
    frequency_cap_count = models.PositiveIntegerField(null=True, blank=True)
    frequency_cap_period_seconds = models.PositiveIntegerField(null=True, blank=True)
    targeting = models.JSONField(default=dict, blank=True)
    roblox_campaign_id = models.CharField(
        max_length=64, blank=True, help_text="The campaign id of the Roblox Ads Manager ad integration."
    )
    # Roblox registers an ad integration for one game, and its creatives must be assets of that game's
    # owner: a campaign serves only in this game (see ads/COMPLIANCE.md).
    game = models.ForeignKey(
        "games.Game",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ad_campaigns",
        help_text="The game whose owner registered this campaign in Roblox Ads Manager; it serves only there.",
    )
    spent = models.DecimalField(**MONEY, default=Decimal("0"), help_text="Confirmed spend, from the ledger.")
    # console (issue 20): set when the advertiser submits for review; the campaign goes live by itself once approved.
    go_live_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(max_bid__gt=0), name="campaign_bid_positive"),
            models.CheckConstraint(condition=models.Q(total_budget__gt=0), name="campaign_budget_positive"),
            models.CheckConstraint(
                condition=models.Q(daily_budget__isnull=True) | models.Q(daily_budget__gt=0),
                name="campaign_daily_budget_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(end_at__gt=models.F("start_at")), name="campaign_end_after_start"
            ),
            models.CheckConstraint(condition=models.Q(spent__gte=0), name="campaign_spent_non_negative"),
            models.CheckConstraint(
                condition=models.Q(frequency_cap_count__isnull=True, frequency_cap_period_seconds__isnull=True)
                | models.Q(frequency_cap_count__gt=0, frequency_cap_period_seconds__gt=0),
                name="campaign_frequency_cap_complete",
            ),
        ]
        indexes = [models.Index(fields=["status", "end_at"])]

    def __str__(self) -> str:
        return self.name

    @property
    def frequency_cap(self) -> dict | None:
        if self.frequency_cap_count is None:
            return None
        return {"count": self.frequency_cap_count, "period_seconds": self.frequency_cap_period_seconds}

    @property
    def remaining_budget(self) -> Decimal:
        return max(Decimal("0"), self.total_budget - self.spent)

    @property
    def spend_ratio(self) -> float:
        return float(self.spent / self.total_budget) if self.total_budget else 0.0


class ModerationStatus(models.TextChoices):
    PENDING = "PENDING", "Pending review"
    APPROVED = "APPROVED", "Approved"
    REJECTED = "REJECTED", "Rejected"


class ClickAction(models.TextChoices):
    NONE = "none", "Nothing"
    TELEPORT = "teleport", "Teleport to a place"
    PURCHASE = "purchase", "Prompt a purchase"


class RobloxReview(models.TextChoices):
    """Where a creative's asset stands with Roblox: it serves only once APPROVED."""

    UNCHECKED = "UNCHECKED", "Not checked with Roblox yet"
    IN_REVIEW = "IN_REVIEW", "In review at Roblox"
    APPROVED = "APPROVED", "Approved by Roblox"
    REJECTED = "REJECTED", "Rejected by Roblox"
    NOT_OWNED = "NOT_OWNED", "Not an asset of the game's owner"
    UNAVAILABLE = "UNAVAILABLE", "Could not be checked"


class Creative(TimeStamped):
    """What a campaign shows: an image, a sponsored NPC, or a minigame, each a Roblox asset.

    ``npc_dialogue`` is a list of lines; ``minigame`` follows ``ads.creatives.MINIGAME_SCHEMA``;
    ``click_action`` is ``{"type": "none"}``, ``{"type": "teleport", "place_id": N}`` or
    ``{"type": "purchase", "product_type": "gamepass"|"developer_product"|"asset", "product_id": N}``.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="creatives")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=ContainerType.choices, default=ContainerType.DISPLAY)
    roblox_asset_id = models.BigIntegerField(validators=[MinValueValidator(1)])
    asset = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.PROTECT, related_name="creatives")
    npc_model_asset_id = models.BigIntegerField(null=True, blank=True, validators=[MinValueValidator(1)])
    npc_dialogue = models.JSONField(default=list, blank=True)
    minigame = models.JSONField(null=True, blank=True)
    click_action = models.JSONField(default=dict, blank=True)
    moderation_status = models.CharField(
        max_length=16, choices=ModerationStatus.choices, default=ModerationStatus.PENDING
    )
    moderation_reason = models.TextField(blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    moderated_at = models.DateTimeField(null=True, blank=True)
    roblox_placement_id = models.CharField(
        max_length=64,
        blank=True,
        help_text="The ad-integration placement id Roblox Ads Manager gave this asset (Manage assets).",
    )
    roblox_review = models.CharField(
        max_length=16,
        choices=RobloxReview.choices,
        default=RobloxReview.UNCHECKED,
        help_text="Ownership and moderation of the asset at Roblox (checked through Open Cloud Assets).",
    )
    roblox_review_note = models.CharField(max_length=300, blank=True)
    roblox_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(roblox_asset_id__gt=0), name="creative_asset_id_positive"),
        ]
        indexes = [models.Index(fields=["moderation_status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    @property
    def content_uri(self) -> str:
        return f"rbxassetid://{self.roblox_asset_id}"

    @property
    def roblox_ready(self) -> bool:
        """Roblox approved the asset (the game owner's) and Ads Manager gave it a placement id."""
        return self.roblox_review == RobloxReview.APPROVED and bool(self.roblox_placement_id)


class UploadState(models.TextChoices):
    PENDING = "PENDING", "Waiting to be uploaded"
    PROCESSING = "PROCESSING", "Roblox is processing the upload"
    DONE = "DONE", "Uploaded"
    FAILED = "FAILED", "Failed"


class CreativeUpload(TimeStamped):
    """Artwork an advertiser handed in, uploaded by the platform as an asset of the game's owner.

    The image is kept here until the Open Cloud Assets operation finishes; the finished upload
    becomes a :class:`Creative` of the campaign (``creative``) with the new asset id.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="uploads")
    game = models.ForeignKey("games.Game", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=32)
    content = models.BinaryField()
    size_bytes = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    state = models.CharField(max_length=16, choices=UploadState.choices, default=UploadState.PENDING)
    operation_id = models.CharField(max_length=100, blank=True)
    roblox_asset_id = models.BigIntegerField(null=True, blank=True)
    creative = models.OneToOneField(Creative, null=True, blank=True, on_delete=models.SET_NULL, related_name="upload")
    error = models.CharField(max_length=300, blank=True)
    polls = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "updated_at"], name="creativeupload_state")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_state_display()})"


class LedgerKind(models.TextChoices):
    IMPRESSION_CHARGE = "IMPRESSION_CHARGE", "Impression charge"
    CLICK_CHARGE = "CLICK_CHARGE", "Click charge"
    RELEASE = "RELEASE", "Release of a reservation"
    ADJUSTMENT = "ADJUSTMENT", "Adjustment"


def utc_today() -> date:
    return datetime.now(UTC).date()


class LedgerEntry(models.Model):
    """The money record: every charge, release and adjustment of a campaign (append only).

    ``amount`` is what the campaign spends (positive) or gets back (negative, adjustments).
    A RELEASE records a reservation given back; its amount counts toward nothing spent.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="ledger_entries")
    kind = models.CharField(max_length=24, choices=LedgerKind.choices)
    amount = models.DecimalField(**MONEY)
    decision_id = models.UUIDField(null=True, blank=True)
    # The UTC day whose daily budget this counts against: the day the decision reserved it, not the day
    # the charge arrived (an impression confirmed after midnight belongs to the day it was reserved).
    spend_day = models.DateField(default=utc_today)
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["campaign", "spend_day"], name="ledger_campaign_spend_day")]
        constraints = [
            # A decision is charged or released at most once per kind: replays are absorbed.
            models.UniqueConstraint(
                fields=["decision_id", "kind"],
                condition=models.Q(decision_id__isnull=False),
                name="ledger_one_entry_per_decision_and_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} ({self.campaign_id})"


class DecisionState(models.TextChoices):
    RESERVED = "RESERVED", "Reserved (waiting for a viewable impression or click)"
    CONFIRMED = "CONFIRMED", "Confirmed (charged)"
    RELEASED = "RELEASED", "Released (expired without a charge)"
    HOUSE = "HOUSE", "House content (no charge)"
    UNFILLED = "UNFILLED", "Not filled"


class Decision(models.Model):
    """One answer of the decision engine for one container and one player.

    Rows are written in bulk from a Redis stream by a worker (the decision
    path never touches PostgreSQL), so a decision may appear here a moment
    after its answer was sent.
    """

    id = models.UUIDField(primary_key=True)
    game_id = models.BigIntegerField(db_index=True)
    container = models.ForeignKey(
        "games.AdContainer", null=True, on_delete=models.SET_NULL, related_name="decisions", db_constraint=False
    )
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="decisions")
    creative = models.ForeignKey(Creative, null=True, blank=True, on_delete=models.PROTECT, related_name="decisions")
    playlist_item_id = models.BigIntegerField(null=True, blank=True)
    player_id = models.BigIntegerField()
    country = models.CharField(max_length=2, blank=True)
    device = models.CharField(max_length=16, blank=True)
    server_id = models.CharField(max_length=100, blank=True)
    pricing = models.CharField(max_length=8, choices=Pricing.choices, blank=True)
    clearing_price_cpm = models.DecimalField(**MONEY, null=True, blank=True)
    reserved_amount = models.DecimalField(**MONEY, default=Decimal("0"))
    state = models.CharField(max_length=16, choices=DecisionState.choices)
    reason = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "expires_at"], name="decision_state_expiry"),
            models.Index(fields=["campaign", "created_at"], name="decision_campaign_time"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(reserved_amount__gte=0), name="decision_reserved_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.state}"


class EngagementType(models.TextChoices):
    IMPRESSION = "impression", "Impression"
    CLICK = "click", "Click"
    INTERACTION = "interaction", "Interaction"
    CONVERSION = "conversion", "Conversion"


class AdEngagement(models.Model):
    """One event a game server reported about a decision (raw, append only, ``event_id`` unique).

    Written in bulk from a Redis stream by a worker. ``viewable`` applies the in-game
    viewability standard; ``invalid_reason`` marks invalid traffic (never billed);
    ``charged`` says whether this event put money in the ledger.
    """

    event_id = models.UUIDField(unique=True)
    type = models.CharField(max_length=16, choices=EngagementType.choices)
    # Looked up by the (decision_id, type) index below: a second index on decision_id alone would only cost
    # another index write per stored event.
    decision_id = models.UUIDField()
    game_id = models.BigIntegerField()
    container_id = models.BigIntegerField(null=True)
    campaign_id = models.BigIntegerField(null=True, db_index=True)
    creative_id = models.BigIntegerField(null=True)
    player_id = models.BigIntegerField()
    server_id = models.CharField(max_length=100, blank=True)
    pricing = models.CharField(max_length=8, blank=True)
    price_micros = models.BigIntegerField(default=0)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField()
    duration_ms = models.IntegerField(null=True)
    screen_coverage = models.FloatField(null=True)
    visible_fraction = models.FloatField(null=True)
    angle_deg = models.FloatField(null=True)
    viewable = models.BooleanField(default=False)
    invalid_reason = models.CharField(max_length=40, blank=True)
    charged = models.BooleanField(default=False)
    charge_note = models.CharField(max_length=40, blank=True)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(fields=["occurred_at"], name="engagement_occurred"),
            models.Index(fields=["game_id", "occurred_at"], name="engagement_game_time"),
            models.Index(fields=["decision_id", "type"], name="engagement_decision_type"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class AdPerformance(models.Model):
    """Hourly delivery figures, rolled up from decisions, engagements and the ledger (``ads.reporting``).

    One row per hour x campaign x creative x container x game x country x device. Campaign and
    creative are empty for house and unfilled decisions; country and device are "" when unknown.
    The rows of an hour are always recomputed together from the raw rows, so they can be
    rebuilt at any time. ``spend`` is what the ledger counts as spent (charges and adjustments;
    releases are not spend), in the hour of the ledger entry.
    """

    hour = models.DateTimeField()
    # Plain references (no database constraint): the figures outlive a deleted game or container.
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    creative = models.ForeignKey(
        Creative, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    container = models.ForeignKey(
        "games.AdContainer", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    game = models.ForeignKey(
        "games.Game", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    country = models.CharField(max_length=2, blank=True)
    device = models.CharField(max_length=16, blank=True)
    decisions = models.PositiveIntegerField(default=0)
    fills_paid = models.PositiveIntegerField(default=0)
    fills_house = models.PositiveIntegerField(default=0)
    impressions = models.PositiveIntegerField(default=0)
    viewable_impressions = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    interactions = models.PositiveIntegerField(default=0)
    conversions = models.PositiveIntegerField(default=0)
    invalid_events = models.PositiveIntegerField(default=0)
    spend = models.DecimalField(**MONEY, default=Decimal("0"))
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-hour", "id"]
        verbose_name = "ad performance (hourly)"
        verbose_name_plural = "ad performance (hourly)"
        constraints = [
            models.UniqueConstraint(
                fields=["hour", "campaign", "creative", "container", "game", "country", "device"],
                nulls_distinct=False,
                name="adperformance_one_row_per_dimensions",
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "hour"], name="adperformance_campaign_hour"),
            models.Index(fields=["game", "hour"], name="adperformance_game_hour"),
            models.Index(fields=["container", "hour"], name="adperformance_container_hour"),
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}:00 campaign {self.campaign_id or '-'} container {self.container_id or '-'}"


# --------------------------------------------------------------------------- Roblox's revenue share (ad integrations)


class RevenueShareSchedule(TimeStamped):
    """Roblox's revenue share on ad-integration campaigns, as published, from ``effective_from`` on.

    Kept as data (editable in admin) so a new published table is a new row, not a code change.
    It applies to campaigns that start on or after ``effective_from``; a qualified visit within the
    first ``intro_days`` of its campaign pays its market tier's CPTV, later ones ``after_intro_cptv``.
    """

    name = models.CharField(max_length=100)
    effective_from = models.DateField(unique=True)
    intro_days = models.PositiveIntegerField(default=28)
    after_intro_cptv = models.DecimalField(**MONEY, help_text="Cost per 1,000 qualified visits after the intro days.")
    campaign_cap = models.DecimalField(
        **MONEY, null=True, blank=True, help_text="The most Roblox charges one campaign (USD); empty: no cap."
    )
    source_url = models.URLField(max_length=300, blank=True)

    class Meta:
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"{self.name} (from {self.effective_from})"


class RevenueShareTier(models.Model):
    """One market tier of a schedule: its countries and CPTV. One tier per schedule is the default
    (Roblox's "global floor") for every country no tier lists and for an unknown country."""

    schedule = models.ForeignKey(RevenueShareSchedule, on_delete=models.CASCADE, related_name="tiers")
    code = models.CharField(max_length=16)
    name = models.CharField(max_length=100)
    cptv = models.DecimalField(**MONEY, help_text="Cost per 1,000 qualified visits in the campaign's intro days.")
    countries = ArrayField(models.CharField(max_length=2), default=list, blank=True)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["schedule", "-cptv", "code"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "code"], name="revenue_share_tier_code_unique"),
            models.UniqueConstraint(
                fields=["schedule"], condition=models.Q(is_default=True), name="revenue_share_one_default_tier"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.cptv} CPTV)"


class QualifiedVisit(models.Model):
    """A player's server session with at least one viewable engagement of a campaign (once per session).

    The session is the game server (``server_id``) the player was on; a report without a server id
    counts one session per player and UTC day. ``tier`` and ``cost`` are what Roblox's revenue share
    schedule in force charged for it ("" and 0 when none applies).
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    game_id = models.BigIntegerField()
    player_id = models.BigIntegerField()
    session = models.CharField(max_length=100)
    country = models.CharField(max_length=2, blank=True)
    engaged_at = models.DateTimeField()
    tier = models.CharField(max_length=16, blank=True)
    cost = models.DecimalField(max_digits=16, decimal_places=8, default=Decimal("0"))

    class Meta:
        ordering = ["-engaged_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "player_id", "session"], name="qualified_visit_once_per_session"
            ),
        ]
        indexes = [models.Index(fields=["game_id", "engaged_at"], name="qualified_visit_game_time")]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id} player {self.player_id} {self.session}"
