"""``POST /api/v1/decisions``: what a game server shows in one container for one player."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions
from rest_framework.views import APIView

from adplatform.core.api.contract import MAX_ID, decode, decode_request, respond
from adplatform.core.api.errors import DomainError
from adplatform.core.api.lean import with_lean_path
from ads.api.contract import (
    MAX_BATCH_CONTAINERS,
    Decision,
    DecisionBatch,
    DecisionBatchRequest,
    DecisionRequest,
)
from ads.decisions import ad_decide
from games.authentication import GameApiKeyAuthentication, IsGameServer


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
            ask = decode(request.body, DecisionRequest)
        except (exceptions.APIException, DomainError, RequestDataTooBig):
            return None
        try:
            result = ad_decide(
                container_id=ask.container_id,
                game_id=info.game_id,
                player=ask.player.decision_player(),
                server_id=ask.server_id or "",
            )
        except DomainError:  # raised before the script runs: nothing reserved, nothing streamed
            return None
        request.user = info  # for the access log, as DRF would set it
        return respond(result.body, Decision)

    @extend_schema(
        operation_id="decision_create",
        request=DecisionRequest,
        responses={200: Decision},
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
        ask = decode_request(request, DecisionRequest)  # the declaration validates and documents the body
        result = ad_decide(
            container_id=ask.container_id,
            game_id=request.auth.game_id,
            player=ask.player.decision_player(),
            server_id=ask.server_id or "",
        )
        return respond(result.body, Decision)


# --------------------------------------------------------------------------- one request per player, every container


def _error_item(container_id, exc: DomainError) -> dict:
    return {
        "container_id": container_id,
        "filled": False,
        "status": exc.status,
        "error": {"code": exc.code, "message": exc.message, "details": exc.details},
    }


def _positive_id(value) -> bool:
    return type(value) is int and 0 < value <= MAX_ID


class DecisionBatchView(APIView):
    authentication_classes = [GameApiKeyAuthentication]
    permission_classes = [IsGameServer]
    throttle_classes: list = []

    @extend_schema(
        operation_id="decision_batch_create",
        summary="Decide every container for one player in one request",
        request=DecisionBatchRequest,
        responses={200: DecisionBatch},
        description="A Roblox server may send only 500 requests a minute: one decision request per player covers "
        f"up to {MAX_BATCH_CONTAINERS} containers. Each container is decided exactly as by "
        "`POST /api/v1/decisions`; one bad id never fails the others.",
    )
    def post(self, request, version=None):
        ask = decode_request(request, DecisionBatchRequest)
        if len(ask.container_ids) > MAX_BATCH_CONTAINERS:
            raise DomainError("batch_too_large", f"At most {MAX_BATCH_CONTAINERS} containers a request; split it.")
        # house_only: the game found the player not eligible for paid campaigns (AdService); only house content
        player = ask.player.decision_player(house_only=ask.house_only)
        server_id = ask.server_id or ""
        results = []
        seen: set[int] = set()
        for container_id in ask.container_ids:
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
        return respond({"decisions": results}, DecisionBatch)
