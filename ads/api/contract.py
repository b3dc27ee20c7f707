"""The declarations of the game servers' ad endpoints (decisions, batch decisions, events).

Each Struct validates the request (``adplatform.core.api.contract.decode``) and is the component of
``/api/schema/``; the response Structs are what the endpoints answer (tests check real answers against
them and against the served schema).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from adplatform.core.api.contract import MAX_ID, Contract, ErrorDetail, prepare
from ads.countries import COUNTRY_CODES
from ads.decisions import Player as DecisionPlayer
from ads.event_body import MAX_EVENTS, Event
from ads.models import Device

Id = Annotated[int, Meta(ge=1, le=MAX_ID)]
# Upper case as documented; lower case, as earlier servers took it (ISO codes are case-insensitive); "" or null: unknown
if TYPE_CHECKING:  # Literals built from data at import time: strings to the type checker, enums to msgspec
    CountryCode = str
    DeviceName = str
else:
    CountryCode = Literal[tuple(sorted(COUNTRY_CODES | {c.lower() for c in COUNTRY_CODES} | {""}))]
    DeviceName = Literal[(*Device.values, "")]
AgeBracket = Literal["under13", "13+", "unknown", ""]
Segment = Annotated[str, Meta(max_length=50)]


# --------------------------------------------------------------------------- POST /api/v1/decisions


class Player(Contract, kw_only=True):
    id: Annotated[Id, Meta(description="Roblox user id.")]
    country: CountryCode | None = None
    device: DeviceName | None = None
    age_bracket: AgeBracket | None = None
    ads_allowed: Annotated[bool, Meta(description="PolicyService's AreAdsAllowed; missing means no paid ads.")] = False
    segments: Annotated[list[Segment], Meta(max_length=50)] | None = None

    def decision_player(self, *, house_only: bool = False) -> DecisionPlayer:
        return DecisionPlayer(
            id=self.id,
            country=(self.country or "").upper(),
            device=self.device or "",
            age_bracket=self.age_bracket or "unknown",
            ads_allowed=self.ads_allowed and not house_only,
            segments=frozenset(s.strip().lower() for s in self.segments) if self.segments else frozenset(),
        )


ServerId = Annotated[str, Meta(max_length=100)]


class DecisionRequest(Contract, kw_only=True):
    container_id: Id
    player: Player
    server_id: ServerId | None = None


class NpcPayload(Contract, kw_only=True):
    model_asset_id: int | None
    dialogue: list[Any]


class DecisionCreative(Contract, kw_only=True):
    id: Annotated[int | None, Meta(description="null for house content.")]
    kind: str
    roblox_asset_id: int | None
    content: str
    npc: NpcPayload | None
    minigame: dict[str, Any] | None
    click_action: dict[str, Any]
    placement_id: (
        Annotated[
            str,
            Meta(
                description="Campaign fills only: the Ads Manager placement id to pass to "
                "AdService:RegisterDisclosureButton with the ad label."
            ),
        ]
        | UnsetType
    ) = UNSET
    display_seconds: Annotated[int, Meta(description="House fills only: how long to show it.")] | UnsetType = UNSET


Money = Annotated[str, Meta(pattern=r"^-?\d+\.\d{6}$", description="A decimal string with 6 places.")]


class Decision(Contract, kw_only=True):
    """A decision: filled by a ``campaign`` (paid) or ``house`` content, or ``filled: false`` with a ``reason``."""

    filled: bool
    source: Literal["campaign", "house"] | UnsetType = UNSET
    reason: str | UnsetType = UNSET
    decision_id: uuid.UUID | UnsetType = UNSET
    expires_at: datetime | UnsetType = UNSET
    campaign_id: int | UnsetType = UNSET
    roblox_ad_campaign_id: (
        Annotated[
            str,
            Meta(
                description="Campaign fills only: the Roblox ad-integration campaign id; check "
                "AdService:GetCampaignEligibilityAsync with it before showing the ad."
            ),
        ]
        | UnsetType
    ) = UNSET
    creative: Annotated[DecisionCreative, Meta(description="Filled answers only.")] | UnsetType = UNSET
    price_cpm: Money | UnsetType = UNSET
    # a pattern, not an enum: the campaign's PricingEnum component stays the one enum of these values
    pricing: Annotated[str, Meta(pattern="^(CPM|CPC)$", description="Campaign fills: `CPM` or `CPC`.")] | UnsetType = (
        UNSET
    )
    tracking_token: str | UnsetType = UNSET


# --------------------------------------------------------------------------- POST /api/v1/decisions/batch

MAX_BATCH_CONTAINERS = 50


class DecisionBatchRequest(Contract, kw_only=True):
    container_ids: Annotated[
        list[Any],
        Meta(
            min_length=1,
            description=f"Container ids, at most {MAX_BATCH_CONTAINERS} (more is 413 `batch_too_large`). An id "
            "that is not a positive integer, or not one of the game's containers, gets its own error item.",
            extra_json_schema={"maxItems": MAX_BATCH_CONTAINERS},
        ),
    ]
    player: Player
    server_id: ServerId | None = None
    house_only: Annotated[
        bool,
        Meta(
            description="Only house content (the player is not eligible for paid campaigns, e.g. "
            "AdService:GetCampaignEligibilityAsync said no)."
        ),
    ] = False


class DecisionBatchItem(Decision, kw_only=True):
    """``{"container_id", ...a decision}`` or ``{"container_id", "filled": false, "status", "error"}``."""

    container_id: Any
    status: int | UnsetType = UNSET
    error: ErrorDetail | UnsetType = UNSET


class DecisionBatch(Contract, kw_only=True):
    decisions: Annotated[list[DecisionBatchItem], Meta(description="In request order.")]


# --------------------------------------------------------------------------- POST /api/v1/events


class EventBatch(Contract, kw_only=True):
    # Raw: each event is validated on its own (by Event), so one bad event never fails the others
    events: Annotated[
        list[msgspec.Raw],
        Meta(
            description=f"At most {MAX_EVENTS} (more is 413 `batch_too_large`).",
            extra_json_schema={"maxItems": MAX_EVENTS},
        ),
    ]
    server_id: ServerId | None = None

    schema_includes = (Event,)
    schema_extra = {"properties": {"events": {"items": {"$ref": "#/components/schemas/Event"}}}}


class EventRejection(Contract, kw_only=True):
    index: int
    code: str
    message: str


class EventBatchResult(Contract, kw_only=True):
    accepted: int
    duplicates: int
    rejected: list[EventRejection]


# msgspec type info built now, at import, not by two threads at once on the first requests
prepare(DecisionRequest, Decision, DecisionBatchRequest, DecisionBatchItem, DecisionBatch, EventBatch, EventBatchResult)
