"""Serializers of the advertisers' management API (campaigns, creatives, moderation).

Input serializers check shapes and types only: a money amount is a decimal
with at most 6 places, a time is ISO 8601, an enumeration is one of its
values, a JSON object is an object. Every business rule (budgets above zero,
the end after the start, known countries and devices, the minigame schema,
activation) belongs to ``ads.services``, whose ``ValidationError`` the API
renders as the same 400 with field details.

Field errors are flat, ``{"frequency_cap.count": ["..."]}``, the way the
services name them, so a client reads one format whoever refused the input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings

from ads.creatives import MINIGAME_TEMPLATES, PURCHASE_TYPES
from ads.models import (
    MONEY,
    Advertiser,
    Campaign,
    CampaignStatus,
    ClickAction,
    Creative,
    Device,
    ModerationStatus,
    Pacing,
    Pricing,
    RobloxReview,
)
from games.models import ContainerType

MAX_ROBLOX_ID = 2**63 - 1


def flat_errors(detail: Any, prefix: str = "") -> dict[str, Any]:
    """Nested serializer errors as ``{"npc.dialogue": ["..."]}``: ``details`` stays field -> messages."""
    if isinstance(detail, Mapping):
        flat: dict[str, Any] = {}
        for key, value in detail.items():
            if not prefix:
                name = str(key)
            elif key == api_settings.NON_FIELD_ERRORS_KEY:
                name = prefix
            else:
                name = f"{prefix}[{key}]" if str(key).isdigit() else f"{prefix}.{key}"
            flat.update(flat_errors(value, name))
        return flat
    if isinstance(detail, list) and any(isinstance(item, Mapping | list) for item in detail):
        flat = {}
        for index, value in enumerate(detail):
            if value:
                flat.update(flat_errors(value, f"{prefix}[{index}]"))
        return flat
    return {prefix or api_settings.NON_FIELD_ERRORS_KEY: detail}


class InputSerializer(serializers.Serializer):
    """Refuses keys it does not know, so a misspelt field is a 400 rather than silently dropped.

    ``ignored`` names the read-only fields of the object: a client may send back a body it read.
    """

    ignored: frozenset[str] = frozenset()

    def to_internal_value(self, data):
        unknown: dict[str, list[str]] = {}
        if isinstance(data, Mapping):
            unknown = {
                str(key): ["Unknown or read-only field."]
                for key in data
                if key not in self.fields and key not in self.ignored
            }
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({**flat_errors(exc.detail), **unknown}) from exc
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


def _money(**kwargs) -> serializers.DecimalField:
    # The sign and the limits are the services' rules; here only "a decimal with at most 6 places".
    return serializers.DecimalField(max_digits=MONEY["max_digits"], decimal_places=MONEY["decimal_places"], **kwargs)


# --------------------------------------------------------------------------- JSON objects (documented shapes)


class JSONObjectField(serializers.JSONField):
    """A JSON object (or null where allowed); its content is checked by the service that stores it.

    Roblox's JSON encoder writes an empty table as ``[]``, so ``[]`` is taken as ``{}``.
    """

    default_error_messages = {"not_an_object": "Must be a JSON object."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value == []:
            return {}
        if not isinstance(value, dict):
            self.fail("not_an_object")
        return value


class TargetingSchemaSerializer(serializers.Serializer):
    """Campaign targeting; every key optional, an empty or missing list means no restriction."""

    countries_included = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="ISO 3166 alpha-2 codes, e.g. US, GB."
    )
    countries_excluded = serializers.ListField(child=serializers.CharField(), required=False)
    devices = serializers.ListField(child=serializers.ChoiceField(choices=Device.choices), required=False)
    segments = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Short lower-case player segment names."
    )
    days_of_week = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6), required=False, help_text="0 is Monday (UTC)."
    )
    hours_utc = serializers.ListField(child=serializers.IntegerField(min_value=0, max_value=23), required=False)
    games_included = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False)
    games_excluded = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False)
    container_types = serializers.ListField(
        child=serializers.ChoiceField(choices=ContainerType.choices), required=False
    )


@extend_schema_field(TargetingSchemaSerializer)
class TargetingField(JSONObjectField):
    pass


class MinigameRewardSchemaSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["none", "badge", "points"])
    badge_id = serializers.IntegerField(required=False, help_text="For a badge reward.")
    amount = serializers.IntegerField(required=False, help_text="For a points reward: 1 to 100000.")


class MinigameQuestionSchemaSerializer(serializers.Serializer):
    prompt = serializers.CharField()
    choices = serializers.ListField(child=serializers.CharField(), min_length=2, max_length=6)
    answer = serializers.IntegerField(help_text="Index of the right choice.")


class MinigameBrandingSchemaSerializer(serializers.Serializer):
    primary_color = serializers.CharField(required=False, help_text="#RRGGBB")
    logo_asset_id = serializers.IntegerField(required=False)


class MinigameSchemaSerializer(serializers.Serializer):
    """A minigame configuration (``ads.creatives.MINIGAME_SCHEMA``)."""

    template = serializers.ChoiceField(choices=list(MINIGAME_TEMPLATES))
    duration_seconds = serializers.IntegerField(min_value=10, max_value=600)
    reward = MinigameRewardSchemaSerializer()
    branding = MinigameBrandingSchemaSerializer(required=False)
    questions = MinigameQuestionSchemaSerializer(many=True, required=False, help_text="A quiz only: 1 to 20.")


@extend_schema_field(MinigameSchemaSerializer(allow_null=True))
class MinigameField(JSONObjectField):
    pass


class ClickActionSchemaSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ClickAction.choices)
    place_id = serializers.IntegerField(required=False, help_text="For a teleport.")
    product_type = serializers.ChoiceField(choices=list(PURCHASE_TYPES), required=False, help_text="For a purchase.")
    product_id = serializers.IntegerField(required=False, help_text="For a purchase.")


@extend_schema_field(ClickActionSchemaSerializer)
class ClickActionField(JSONObjectField):
    pass


# --------------------------------------------------------------------------- campaigns


class FrequencyCapSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Impressions per player (1 to 10000).")
    period_seconds = serializers.IntegerField(help_text="In this many seconds (60 to 90 days).")


class CampaignSerializer(serializers.ModelSerializer):
    max_bid = _money(read_only=True)
    total_budget = _money(read_only=True)
    daily_budget = _money(read_only=True, allow_null=True)
    spent = _money(read_only=True, help_text="Confirmed spend, from the ledger.")
    remaining_budget = _money(read_only=True)
    frequency_cap = FrequencyCapSerializer(read_only=True, allow_null=True)
    targeting = TargetingField(read_only=True)
    advertiser = serializers.IntegerField(source="advertiser_id", read_only=True)
    game = serializers.IntegerField(
        source="game_id", read_only=True, allow_null=True, help_text="The game the campaign is registered for."
    )
    serving_problems = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "status",
            "pricing",
            "max_bid",
            "total_budget",
            "daily_budget",
            "start_at",
            "end_at",
            "pacing",
            "frequency_cap",
            "targeting",
            "roblox_campaign_id",
            "spent",
            "remaining_budget",
            "advertiser",
            "created_at",
            "updated_at",
            "game",
            "serving_problems",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_serving_problems(self, campaign: Campaign) -> list[str]:
        """What Roblox's ad-integration rules still need before it may serve (empty: nothing)."""
        from ads.compliance import serving_problems

        return serving_problems(campaign)


CAMPAIGN_READ_ONLY = frozenset({"id", "spent", "remaining_budget", "created_at", "updated_at", "serving_problems"})


class CampaignInputSerializer(InputSerializer):
    """Create a campaign (always a DRAFT) or, partially, change one."""

    ignored = CAMPAIGN_READ_ONLY

    name = serializers.CharField(max_length=200)
    status = serializers.ChoiceField(
        choices=CampaignStatus.choices,
        required=False,
        help_text="On update: ACTIVE activates or resumes (refused until the campaign may serve), PAUSED pauses, "
        "ARCHIVED archives. A new campaign is always a DRAFT.",
    )
    pricing = serializers.ChoiceField(choices=Pricing.choices, required=False)
    max_bid = _money(help_text="CPM bid (per 1,000 impressions), or price per click for CPC.")
    total_budget = _money()
    daily_budget = _money(required=False, allow_null=True)
    start_at = serializers.DateTimeField()
    end_at = serializers.DateTimeField()
    pacing = serializers.ChoiceField(choices=Pacing.choices, required=False)
    frequency_cap = FrequencyCapSerializer(required=False, allow_null=True)
    targeting = TargetingField(required=False, allow_null=True)
    roblox_campaign_id = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="The ad-integration campaign id from Roblox Ads Manager; required before the campaign serves.",
    )
    game = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        help_text="The game whose owner registered the campaign in Ads Manager: it serves only there, and its "
        "creatives must be that owner's assets.",
    )
    advertiser = serializers.PrimaryKeyRelatedField(
        queryset=Advertiser.objects.none(),
        required=False,
        help_text="Staff only: the advertiser the campaign is for. An advertiser's campaigns are always their own.",
    )

    def get_fields(self):
        fields = super().get_fields()
        user = getattr(self.context.get("request"), "user", None)
        if user is not None and user.is_authenticated and "advertiser" in fields:
            advertisers = Advertiser.objects.all()
            advertiser = fields["advertiser"]
            assert isinstance(advertiser, serializers.PrimaryKeyRelatedField)
            # DRF stubs read this attribute as a Manager descriptor.
            advertiser.queryset = advertisers if user.is_staff else advertisers.filter(user=user)  # type: ignore[arg-type]
        return fields

    def validate(self, attrs):
        user = getattr(self.context.get("request"), "user", None)
        if (
            not self.partial
            and user is not None
            and not getattr(user, "is_advertiser", False)
            and "advertiser" not in attrs
        ):
            raise serializers.ValidationError(
                {"advertiser": ["Staff create campaigns for an advertiser: give its id."]}
            )
        return attrs


class CampaignUpdateSerializer(CampaignInputSerializer):
    """A campaign's advertiser never changes; sending it back unchanged is harmless."""

    ignored = CAMPAIGN_READ_ONLY | {"advertiser"}
    advertiser = None  # type: ignore[assignment]  # DRF's way of dropping an inherited field


class CampaignFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CampaignStatus.choices, required=False)
    search = serializers.CharField(required=False, allow_blank=True, max_length=200)


# --------------------------------------------------------------------------- creatives


class NpcSerializer(serializers.Serializer):
    model_asset_id = serializers.IntegerField(
        min_value=1, max_value=MAX_ROBLOX_ID, required=False, allow_null=True, help_text="The NPC model's asset id."
    )
    dialogue = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=True),
        required=False,
        help_text="What the NPC says, one line per item (at most 20 lines of 200 characters).",
    )


class ModerationSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ModerationStatus.choices, source="moderation_status", read_only=True)
    reason = serializers.CharField(source="moderation_reason", read_only=True)
    decided_at = serializers.DateTimeField(source="moderated_at", read_only=True, allow_null=True)


class RobloxReviewSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=RobloxReview.choices, source="roblox_review", read_only=True)
    note = serializers.CharField(source="roblox_review_note", read_only=True)
    checked_at = serializers.DateTimeField(source="roblox_checked_at", read_only=True, allow_null=True)


class CreativeSerializer(serializers.ModelSerializer):
    campaign = serializers.IntegerField(source="campaign_id", read_only=True)
    npc = serializers.SerializerMethodField()
    minigame = MinigameField(read_only=True, allow_null=True)
    click_action = ClickActionField(read_only=True)
    moderation = ModerationSerializer(source="*", read_only=True)
    thumbnail_url = serializers.SerializerMethodField()
    content = serializers.CharField(source="content_uri", read_only=True)
    roblox_review = RobloxReviewSerializer(source="*", read_only=True)

    class Meta:
        model = Creative
        fields = [
            "id",
            "campaign",
            "name",
            "kind",
            "roblox_asset_id",
            "content",
            "npc",
            "minigame",
            "click_action",
            "moderation",
            "thumbnail_url",
            "created_at",
            "updated_at",
            "roblox_placement_id",
            "roblox_review",
        ]
        read_only_fields = fields

    @extend_schema_field(NpcSerializer(allow_null=True))
    def get_npc(self, creative: Creative) -> dict | None:
        if creative.npc_model_asset_id is None and not creative.npc_dialogue:
            return None
        return {"model_asset_id": creative.npc_model_asset_id, "dialogue": list(creative.npc_dialogue or [])}

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_thumbnail_url(self, creative: Creative) -> str | None:
        return (creative.asset.thumbnail_url if creative.asset is not None else "") or None


class CreativeInputSerializer(InputSerializer):
    """Create a creative (it waits for staff review) or, partially, change one (content changes re-review it)."""

    ignored = frozenset(
        {"id", "campaign", "content", "moderation", "thumbnail_url", "created_at", "updated_at", "roblox_review"}
    )

    name = serializers.CharField(max_length=200, required=False, help_text="Defaults to the kind and asset id.")
    kind = serializers.ChoiceField(choices=ContainerType.choices, required=False, help_text="Defaults to DISPLAY.")
    roblox_asset_id = serializers.IntegerField(min_value=1, max_value=MAX_ROBLOX_ID)
    npc = NpcSerializer(required=False, allow_null=True, help_text="An NPC creative's model and dialogue.")
    minigame = MinigameField(required=False, allow_null=True, help_text="A MINIGAME creative's configuration.")
    click_action = ClickActionField(required=False, allow_null=True, help_text='Defaults to {"type": "none"}.')
    roblox_placement_id = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="The ad-integration placement id Ads Manager gave this asset; required before it serves.",
    )

    def validate(self, attrs):
        if not self.partial and not attrs.get("name"):
            attrs["name"] = f"{attrs.get('kind') or ContainerType.DISPLAY} {attrs['roblox_asset_id']}".title()
        return attrs


class ModerationInputSerializer(InputSerializer):
    """A staff decision on a creative."""

    status = serializers.ChoiceField(choices=[ModerationStatus.APPROVED, ModerationStatus.REJECTED])
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Required for a rejection; the advertiser sees it."
    )
