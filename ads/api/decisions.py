"""``POST /api/v1/decisions``: what a game server shows in one container for one player."""

from __future__ import annotations

import json
from dataclasses import replace

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from adplatform.core.api.errors import DomainError
from adplatform.core.api.lean import json_response, with_lean_path
from ads.countries import COUNTRY_CODES
from ads.decisions import Player, ad_decide
from ads.models import Device
from games.authentication import GameApiKeyAuthentication, IsGameServer


class PlayerSerializer(serializers.Serializer):
    id = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="Roblox user id.")
    country = serializers.CharField(required=False, allow_blank=True, max_length=2, default="")
    device = serializers.ChoiceField(choices=Device.values, required=False, default="")
    age_bracket = serializers.ChoiceField(choices=["under13", "13+", "unknown"], required=False, default="unknown")
    ads_allowed = serializers.BooleanField(
        required=False, default=False, help_text="PolicyService's AreAdsAllowed; missing means no paid ads."
    )
    segments = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, default=list, max_length=50
    )

    def validate_country(self, value: str) -> str:
        value = value.strip().upper()
        if value and value not in COUNTRY_CODES:
            raise serializers.ValidationError("An ISO 3166 two-letter country code, e.g. US.")
        return value


class DecisionRequestSerializer(serializers.Serializer):
    container_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    player = PlayerSerializer()
    server_id = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")


_CREATIVE = inline_serializer(
    "DecisionCreative",
    {
        "id": serializers.IntegerField(allow_null=True),
        "kind": serializers.CharField(),
        "roblox_asset_id": serializers.IntegerField(),
        "content": serializers.CharField(),
        "npc": serializers.JSONField(allow_null=True),
        "minigame": serializers.JSONField(allow_null=True),
        "click_action": serializers.JSONField(),
        "placement_id": serializers.CharField(
            required=False,
            help_text="Campaign fills only: the Ads Manager placement id to pass to "
            "AdService:RegisterDisclosureButton with the ad label.",
        ),
        "display_seconds": serializers.IntegerField(required=False, help_text="House fills: how long to show it."),
    },
    required=False,  # only a filled answer has one
)
DECISION_RESPONSE = inline_serializer(
    "Decision",
    {
        "filled": serializers.BooleanField(),
        "source": serializers.ChoiceField(choices=["campaign", "house"], required=False),
        "reason": serializers.CharField(required=False),
        "decision_id": serializers.UUIDField(required=False),
        "expires_at": serializers.DateTimeField(required=False),
        "campaign_id": serializers.IntegerField(required=False),
        "roblox_ad_campaign_id": serializers.CharField(
            required=False,
            help_text="Campaign fills only: the Roblox ad-integration campaign id; check "
            "AdService:GetCampaignEligibilityAsync with it before showing the ad.",
        ),
        "creative": _CREATIVE,
        "price_cpm": serializers.DecimalField(max_digits=16, decimal_places=6, required=False),
        "tracking_token": serializers.CharField(required=False),
    },
)


class DecisionView(APIView):
    authentication_classes = [GameApiKeyAuthentication]
    permission_classes = [IsGameServer]
    throttle_classes: list = []  # game servers are limited by Roblox (500 requests/min); budgets cap the rest

    @classmethod
    def as_view(cls, **initkwargs):
        return with_lean_path(super().as_view(**initkwargs), cls.fast_path)

    @staticmethod
    def fast_path(request) -> HttpResponse | None:
        """Answer a well-formed request without DRF's request wrapper, negotiation and renderer.

        They cost about as much as the decision itself. The work is the same as ``post``: the
        same authentication class, the same validation, the same service. Anything unusual (no
        or bad key, not JSON, invalid fields, unknown container) returns None *before* any side
        effect, and DRF's full dispatch then answers it with the API's error body.
        """
        if request.method != "POST" or request.content_type != "application/json":
            return None
        try:
            info, _ = GameApiKeyAuthentication().authenticate(request)
            container_id, player, server_id = parse_decision_request(json.loads(request.body))
        except (exceptions.APIException, ValueError, RecursionError, RequestDataTooBig):
            return None
        try:
            result = ad_decide(container_id=container_id, game_id=info.game_id, player=player, server_id=server_id)
        except DomainError:  # raised before the script runs: nothing reserved, nothing streamed
            return None
        request.user = info  # for the access log, as DRF would set it
        return json_response(result.body)

    @extend_schema(
        operation_id="decision_create",
        request=DecisionRequestSerializer,
        responses={200: DECISION_RESPONSE},
        examples=[
            OpenApiExample(
                "A player in the lobby",
                value={
                    "container_id": 12,
                    "server_id": "roblox-job-id",
                    "player": {
                        "id": 123456789,
                        "country": "US",
                        "device": "mobile",
                        "age_bracket": "13+",
                        "ads_allowed": True,
                        "segments": ["rpg"],
                    },
                },
                request_only=True,
            )
        ],
        description="Ask for the ad to show in one container for one player. Unfilled answers are 200 with "
        "`filled: false` and a `reason` (`container_inactive`, `player_not_eligible`, `no_eligible_campaign`, "
        "`below_floor`, `budget_exhausted`, `daily_budget_exhausted`, `frequency_capped`, `paced` (EVEN pacing "
        "is ahead of its plan), `budget_state_missing` (the budget store could not be readied in time), "
        "`degraded` (Redis unreachable)).",
    )
    def post(self, request, version=None):
        # The hot path: validated by hand (DRF serializers cost more than the whole decision), with the
        # same rules as DecisionRequestSerializer above, which documents them in the schema.
        container_id, player, server_id = parse_decision_request(request.data)
        result = ad_decide(container_id=container_id, game_id=request.auth.game_id, player=player, server_id=server_id)
        return Response(result.body)


_MAX_ID = 2**63 - 1
_AGE_BRACKETS = frozenset({"under13", "13+", "unknown"})
_DEVICES = frozenset(Device.values)


def _positive_id(value) -> bool:
    return type(value) is int and 0 < value <= _MAX_ID


def parse_decision_request(data) -> tuple[int, Player, str]:
    """Validate a decision request; raise a 400 with field details like a serializer would."""
    if not isinstance(data, dict):
        raise serializers.ValidationError({"non_field_errors": ["Expected a JSON object."]})
    errors: dict = {}
    container_id = data.get("container_id")
    if not _positive_id(container_id):
        errors["container_id"] = ["A positive integer is required."]
    raw = data.get("player")
    player_errors: dict = {}
    if not isinstance(raw, dict):
        errors["player"] = ["An object is required."]
        raw = {}
    player_id = raw.get("id")
    if not _positive_id(player_id):
        player_errors["id"] = ["The Roblox user id, a positive integer."]
    country = raw.get("country") or ""
    if not isinstance(country, str) or (country and country.strip().upper() not in COUNTRY_CODES):
        player_errors["country"] = ["An ISO 3166 two-letter country code, e.g. US."]
        country = ""
    device = raw.get("device") or ""
    if not isinstance(device, str):  # [null] or {} would not even hash
        player_errors["device"] = [f"One of {', '.join(sorted(_DEVICES))}."]
        device = ""
    elif device and device not in _DEVICES:
        player_errors["device"] = [f"One of {', '.join(sorted(_DEVICES))}."]
    age = raw.get("age_bracket") or "unknown"
    if not isinstance(age, str) or age not in _AGE_BRACKETS:
        player_errors["age_bracket"] = ["One of under13, 13+, unknown."]
    ads_allowed = raw.get("ads_allowed", False)
    if type(ads_allowed) is not bool:
        player_errors["ads_allowed"] = ["Must be true or false."]
    segments = raw.get("segments") or []
    if (
        not isinstance(segments, list)
        or len(segments) > 50
        or not all(isinstance(s, str) and len(s) <= 50 for s in segments)
    ):
        player_errors["segments"] = ["A list of at most 50 short names."]
        segments = []
    server_id = data.get("server_id") or ""
    if not isinstance(server_id, str) or len(server_id) > 100:
        errors["server_id"] = ["A string of at most 100 characters."]
    if player_errors:
        errors["player"] = player_errors
    if errors:
        raise serializers.ValidationError(errors)
    player = Player(
        id=player_id,
        country=country.strip().upper(),
        device=device,
        age_bracket=age,
        ads_allowed=ads_allowed,
        segments=frozenset(s.strip().lower() for s in segments),
    )
    return container_id, player, server_id


# --------------------------------------------------------------------------- one request per player, every container

MAX_BATCH_CONTAINERS = 50


def _error_item(container_id, exc: DomainError) -> dict:
    return {
        "container_id": container_id,
        "filled": False,
        "status": exc.status,
        "error": {"code": exc.code, "message": exc.message, "details": exc.details},
    }


def parse_batch_decision_request(data) -> tuple[list, Player, str, bool]:
    """Validate ``{"container_ids": [...], "player": {...}, "server_id", "house_only"}`` (400 for the whole)."""
    if not isinstance(data, dict):
        raise serializers.ValidationError({"non_field_errors": ["Expected a JSON object."]})
    ids = data.get("container_ids")
    if not isinstance(ids, list) or not ids:
        raise serializers.ValidationError({"container_ids": ["A non-empty list of container ids."]})
    if len(ids) > MAX_BATCH_CONTAINERS:
        raise DomainError("batch_too_large", f"At most {MAX_BATCH_CONTAINERS} containers a request; split it.")
    house_only = data.get("house_only", False)
    if type(house_only) is not bool:
        raise serializers.ValidationError({"house_only": ["Must be true or false."]})
    # the player and server id are checked by the single decision's rules, with the first valid id as a stand-in
    _, player, server_id = parse_decision_request(
        {"container_id": 1, "player": data.get("player"), "server_id": data.get("server_id")}
    )
    if house_only:
        # the game found the player not eligible for the paid campaign (AdService): only house content may fill
        player = replace(player, ads_allowed=False)
    return ids, player, server_id, house_only


class DecisionBatchView(APIView):
    authentication_classes = [GameApiKeyAuthentication]
    permission_classes = [IsGameServer]
    throttle_classes: list = []

    @extend_schema(
        operation_id="decision_batch_create",
        summary="Decide every container for one player in one request",
        request=inline_serializer(
            "DecisionBatchRequest",
            {
                "container_ids": serializers.ListField(child=serializers.IntegerField(), max_length=50),
                "player": PlayerSerializer(),
                "server_id": serializers.CharField(required=False),
                "house_only": serializers.BooleanField(
                    required=False,
                    help_text="Only house content (the player is not eligible for paid campaigns, e.g. "
                    "AdService:GetCampaignEligibilityAsync said no).",
                ),
            },
        ),
        responses={
            200: inline_serializer(
                "DecisionBatch",
                {
                    "decisions": serializers.ListField(
                        child=serializers.JSONField(),
                        help_text='In request order: `{"container_id", ...the decision of POST /api/v1/decisions}`'
                        ' or `{"container_id", "filled": false, "status", "error": {"code", "message", "details"}}` '
                        "for an id that is malformed (400) or not one of the game's containers (404).",
                    )
                },
            )
        },
        description="A Roblox server may send only 500 requests a minute: one decision request per player covers "
        f"up to {MAX_BATCH_CONTAINERS} containers. Each container is decided exactly as by "
        "`POST /api/v1/decisions`; one bad id never fails the others.",
    )
    def post(self, request, version=None):
        ids, player, server_id, _ = parse_batch_decision_request(request.data)
        results = []
        seen: set[int] = set()
        for container_id in ids:
            if not _positive_id(container_id):
                exc = DomainError(
                    "validation_error", "Invalid input.", details={"container_id": ["A positive integer is required."]}
                )
                results.append(_error_item(container_id, exc))
                continue
            if container_id in seen:
                exc = DomainError(
                    "validation_error", "Invalid input.", details={"container_id": ["Listed twice in this request."]}
                )
                results.append(_error_item(container_id, exc))
                continue
            seen.add(container_id)
            try:
                result = ad_decide(
                    container_id=container_id, game_id=request.auth.game_id, player=player, server_id=server_id
                )
            except DomainError as exc:
                results.append(_error_item(container_id, exc))
                continue
            results.append({"container_id": container_id, **result.body})
        return Response({"decisions": results})
