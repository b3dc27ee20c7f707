"""``POST /api/v1/events``: batched engagement events from game servers."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.views import APIView

from adplatform.core.api.contract import decode_request, respond
from adplatform.core.api.errors import DomainError
from ads.api.contract import EventBatch, EventBatchResult
from ads.events import MAX_BATCH, event_batch_ingest
from games.authentication import GameApiKeyAuthentication, IsGameServer


class EventBatchView(APIView):
    authentication_classes = [GameApiKeyAuthentication]
    permission_classes = [IsGameServer]
    throttle_classes: list = []

    @extend_schema(
        operation_id="events_create",
        request=EventBatch,
        responses={202: EventBatchResult},
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
        # The body is decoded once by its declaration; each event stays raw JSON until the service checks it on
        # its own (one bad event never fails the others).
        batch = decode_request(request, EventBatch)
        if len(batch.events) > MAX_BATCH:
            raise DomainError("batch_too_large", f"At most {MAX_BATCH} events a batch; split it.")
        result = event_batch_ingest(game_id=request.auth.game_id, events=batch.events, server_id=batch.server_id or "")
        body = {"accepted": result.accepted, "duplicates": result.duplicates, "rejected": result.rejected}
        return respond(body, EventBatchResult, status=202)
