"""``POST /api/v1/events``: batched engagement events from game servers."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from adplatform.core.api.errors import DomainError
from ads.events import MAX_BATCH, event_batch_ingest
from games.authentication import GameApiKeyAuthentication, IsGameServer


class EventSerializer(serializers.Serializer):
    """Documentation of one event; each event is checked on its own by the service (one bad event never fails
    the batch), so this serializer is not used to reject the request."""

    event_id = serializers.UUIDField()
    type = serializers.ChoiceField(choices=["impression", "click", "interaction", "conversion"])
    decision_id = serializers.UUIDField()
    tracking_token = serializers.CharField()
    player_id = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    viewability = inline_serializer(
        "Viewability",
        {
            "duration_ms": serializers.IntegerField(),
            "screen_coverage": serializers.FloatField(),
            "visible_fraction": serializers.FloatField(),
            "angle_deg": serializers.FloatField(),
        },
        required=False,
    )
    metadata = serializers.DictField(required=False)


class EventBatchSerializer(serializers.Serializer):
    events = serializers.ListField(child=serializers.JSONField(), allow_empty=True)
    server_id = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")


EVENT_RESPONSE = inline_serializer(
    "EventBatchResult",
    {
        "accepted": serializers.IntegerField(),
        "duplicates": serializers.IntegerField(),
        "rejected": inline_serializer(
            "EventRejection",
            {"index": serializers.IntegerField(), "code": serializers.CharField(), "message": serializers.CharField()},
            many=True,
        ),
    },
)


class EventBatchView(APIView):
    authentication_classes = [GameApiKeyAuthentication]
    permission_classes = [IsGameServer]
    throttle_classes: list = []

    @extend_schema(
        operation_id="events_create",
        request=inline_serializer(
            "EventBatch",
            {"events": EventSerializer(many=True), "server_id": serializers.CharField(required=False)},
        ),
        responses={202: EVENT_RESPONSE},
        description=f"Report up to {MAX_BATCH} events. Each event is checked on its own; rejected ones are listed "
        "with a code (`token_invalid`, `player_mismatch`, `event_too_old`, `event_in_future`, `validation_error`). "
        "An `event_id` already received is acknowledged as a duplicate and counted once. A larger batch is 413 "
        "`batch_too_large`.",
        examples=[
            OpenApiExample(
                "An impression and a click",
                request_only=True,
                value={"events": [
                    {"event_id": "5f0c6a1e-9a7b-4d0b-8a51-0f2a4a7c9b10", "type": "impression",
                     "decision_id": "0b8e...", "tracking_token": "...", "player_id": 123456789,
                     "occurred_at": "2026-11-21T09:00:00Z",
                     "viewability": {"duration_ms": 1400, "screen_coverage": 0.031, "visible_fraction": 0.8,
                                     "angle_deg": 30}},
                ]},
            )
        ],
    )  # fmt: skip
    def post(self, request, version=None):
        events = request.data.get("events") if isinstance(request.data, dict) else None
        if isinstance(events, list) and len(events) > MAX_BATCH:
            raise DomainError("batch_too_large", f"At most {MAX_BATCH} events a batch; split it.")
        serializer = EventBatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = event_batch_ingest(
            game_id=request.auth.game_id,
            events=serializer.validated_data["events"],
            server_id=serializer.validated_data["server_id"],
        )
        return Response(
            {"accepted": result.accepted, "duplicates": result.duplicates, "rejected": result.rejected}, status=202
        )
