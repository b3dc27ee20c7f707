"""Score tokens and updates (game servers), public leaderboards, and action types (owners' management API).

Each view validates input, calls one service or selector from ``scoreboard``
and serializes the result. The score update reads the raw body itself: the
HMAC covers those exact bytes, so they are taken before DRF parses anything
and validated by the service after the signature is checked.
"""

from __future__ import annotations

import json
import time

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from adplatform.core.api.contract import respond
from adplatform.core.api.errors import DomainError
from adplatform.core.api.lean import error_response, with_lean_path
from games.api.views import GAME_PK, LIST_PARAMETERS, GameChildViewSet, GameServerView
from games.models import Game
from scoreboard import metrics, selectors, services
from scoreboard.api.authentication import HasScoreToken, ScoreTokenAuthentication, client_ip
from scoreboard.api.contract import ScoreUpdateBody, ScoreUpdateResult
from scoreboard.api.serializers import (
    ActionTypeInputSerializer,
    ActionTypeSerializer,
    LeaderboardPlayerSerializer,
    LeaderboardQuerySerializer,
    LeaderboardSerializer,
    ScoreTokenRequestSerializer,
    ScoreTokenRevokeSerializer,
    ScoreTokenSerializer,
)
from scoreboard.api.throttling import LeaderboardReadThrottle
from scoreboard.models import ActionType

SCORES_TAG = "scores"
LEADERBOARD_TAG = "leaderboards"


def _errors(*codes: str) -> OpenApiResponse:
    return OpenApiResponse(description="Error body of shared/API.md; `code` one of: " + ", ".join(codes) + ".")


# --------------------------------------------------------------------------- score tokens (X-API-Key)


class ScoreTokenView(GameServerView):
    @extend_schema(
        operation_id="scores_tokens_create",
        summary="Mint a player's score token",
        description="For the game of the `X-API-Key`. The token (HS256 JWT, at most 15 minutes) authorizes "
        "`POST /api/v1/scores/update` for this player; the player is created on first use.",
        tags=[SCORES_TAG],
        request=ScoreTokenRequestSerializer,
        responses={201: ScoreTokenSerializer, 400: _errors("validation_error"), 403: _errors("player_banned")},
    )
    def post(self, request, *args, **kwargs):
        serializer = ScoreTokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = services.score_token_issue(
            game_id=request.auth.game_id, key_id=request.auth.key_id, **serializer.validated_data
        )
        return Response(ScoreTokenSerializer(issued).data, status=status.HTTP_201_CREATED)


class ScoreTokenRevokeView(GameServerView):
    @extend_schema(
        operation_id="scores_tokens_revoke",
        summary="Revoke one score token or every token of a player",
        description='`{"token"}` revokes that token (by its `jti`); `{"player_id"}` every token of the player '
        "issued until now. Revocations survive a Redis restart (they are kept in PostgreSQL).",
        tags=[SCORES_TAG],
        request=ScoreTokenRevokeSerializer,
        responses={204: None, 400: _errors("validation_error"), 503: _errors("service_unavailable")},
    )
    def post(self, request, *args, **kwargs):
        serializer = ScoreTokenRevokeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.score_token_revoke(game_id=request.auth.game_id, **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --------------------------------------------------------------------------- score update (Bearer + X-Signature)

SIGNATURE_HEADER = OpenApiParameter(
    "X-Signature",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="Hex HMAC-SHA256 of the raw request body, keyed with the signing secret of the game key "
    "that minted the token.",
)

SIGNING_KEY_HEADER = OpenApiParameter(
    "X-Signing-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Optional: the id of a server signing key (`POST /api/v1/scores/signing-keys`); `X-Signature` is "
    "then keyed with that key's secret instead of the game key's signing secret.",
)


class ScoreUpdateView(APIView):
    authentication_classes = [ScoreTokenAuthentication]
    permission_classes = [HasScoreToken]
    throttle_classes = []  # the service limits per player and per key in the same Redis round trip as the nonce

    @classmethod
    def as_view(cls, **initkwargs):
        return with_lean_path(super().as_view(**initkwargs), cls.lean_post)

    @classmethod
    def lean_post(cls, request) -> HttpResponse | None:
        """Every POST, answered without DRF's request cycle (see :mod:`adplatform.core.api.lean`): the same
        authentication class, the same service, and errors through the API's exception handler.
        Other methods (405) go through DRF."""
        if request.method != "POST":
            return None
        started = time.perf_counter()
        outcome = "internal_error"
        try:
            try:
                claims, _ = ScoreTokenAuthentication().authenticate(request)
                request.user = claims  # for the access log, as DRF would set it
                response = respond(cls.credit(request, claims), ScoreUpdateResult)
                outcome = "credited"
            except Exception as exc:  # noqa: BLE001 - every error gets the API's body; unexpected ones are logged
                response = error_response(exc, request)
                outcome = json.loads(response.content)["error"]["code"]
            return response
        finally:
            metrics.SCORE_UPDATES.labels(outcome=outcome).inc()
            metrics.SCORE_UPDATE_SECONDS.observe(time.perf_counter() - started)

    @staticmethod
    def credit(request, claims) -> dict:
        result = services.score_submit(
            claims=claims,
            raw_body=request.body,  # the signature covers these exact bytes
            signature=request.headers.get("X-Signature"),
            ip=client_ip(request),
            server_key=request.headers.get("X-Signing-Key"),
        )
        return {
            "player_id": result.player_id,
            "score": result.score,
            "previous_score": result.previous_score,
            "increment": result.increment,
            "rank": result.rank,
        }

    @extend_schema(
        operation_id="scores_update",
        summary="Credit a player's action",
        description="The increment comes from the action type's rules on the server; the caller never sends a "
        "score. Checked in order: token, `X-Signature`, body, `timestamp` (300 s window), blocks, revocation, "
        "rate limits, `nonce` (single use), action type, ban, cooldown and hourly maximum, `action_id` (credited "
        "once per game). `429 rate_limited` carries `Retry-After` and `details.reason` (`player_rate`, `key_rate`, "
        "`cooldown`, `max_per_hour` or `blocked`: repeated token or signature failures block the key or address "
        "for a while). Redis unavailable: `503 service_unavailable` and nothing is credited.",
        tags=[SCORES_TAG],
        parameters=[SIGNATURE_HEADER, SIGNING_KEY_HEADER],
        request=ScoreUpdateBody,
        responses={
            200: ScoreUpdateResult,
            400: _errors("validation_error", "malformed_json"),
            401: _errors(
                "token_invalid",
                "token_expired",
                "token_revoked",
                "signature_invalid",
                "timestamp_out_of_window",
                "signing_key_invalid",
                "signing_key_expired",
            ),
            403: _errors("player_banned"),
            409: _errors("nonce_reused", "action_duplicate"),
            422: _errors("action_type_invalid"),
            429: _errors("rate_limited"),
            503: _errors("service_unavailable"),
        },
    )
    def post(self, request, *args, **kwargs):  # documents the operation; POSTs are answered by lean_post
        return respond(self.credit(request, request.auth), ScoreUpdateResult)


# --------------------------------------------------------------------------- public leaderboards

GAME_SLUG = OpenApiParameter("game_slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="The game's slug.")


class PublicView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [LeaderboardReadThrottle]


class LeaderboardView(PublicView):
    @extend_schema(
        operation_id="leaderboards_read",
        summary="A game's leaderboard",
        description="The top players, best first; ties go to the player who reached the score first.",
        tags=[LEADERBOARD_TAG],
        auth=[],
        parameters=[GAME_SLUG, LeaderboardQuerySerializer],
        responses={200: LeaderboardSerializer, 400: _errors("validation_error"), 404: _errors("not_found")},
    )
    def get(self, request, *args, **kwargs):
        query = LeaderboardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        board = services.leaderboard_top(kwargs["game_slug"], query.validated_data["limit"])
        if board is None:
            raise DomainError("not_found", "No such game.")
        return Response(LeaderboardSerializer(board).data)


class LeaderboardPlayerView(PublicView):
    @extend_schema(
        operation_id="leaderboards_player_read",
        summary="A player's rank with the players around them",
        tags=[LEADERBOARD_TAG],
        auth=[],
        parameters=[
            GAME_SLUG,
            OpenApiParameter("player_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Roblox user id."),
        ],
        responses={200: LeaderboardPlayerSerializer, 404: _errors("not_found")},
    )
    def get(self, request, *args, **kwargs):
        if selectors.game_by_slug(kwargs["game_slug"]) is None:
            raise DomainError("not_found", "No such game.")
        standing = services.leaderboard_player(kwargs["game_slug"], kwargs["player_id"])
        if standing is None:
            raise DomainError("not_found", "This player has no score in this game.")
        return Response(LeaderboardPlayerSerializer(standing).data)


# --------------------------------------------------------------------------- management: action types


@extend_schema_view(
    list=extend_schema(
        operation_id="manage_action_types_list", summary="The game's action types", parameters=LIST_PARAMETERS
    ),
    retrieve=extend_schema(operation_id="manage_action_types_read", summary="An action type"),
)
@extend_schema(tags=["manage: action types"], parameters=[GAME_PK])
class ActionTypeViewSet(GameChildViewSet):
    """A game's action types: what game servers may credit and how much each is worth."""

    serializer_class = ActionTypeSerializer
    queryset = ActionType.objects.none()
    http_method_names = ["get", "post", "patch", "head", "options"]

    def children(self, game: Game):
        return selectors.action_types_of(game)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ActionTypeSerializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return Response(ActionTypeSerializer(self.get_object()).data)

    @extend_schema(
        operation_id="manage_action_types_create",
        summary="Add an action type",
        request=ActionTypeInputSerializer,
        responses={201: ActionTypeSerializer},
    )
    def create(self, request, *args, **kwargs):
        game = self.get_game()
        serializer = ActionTypeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        action_type = services.action_type_create(game=game, data=dict(serializer.validated_data))
        return Response(ActionTypeSerializer(action_type).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="manage_action_types_update",
        summary="Change an action type",
        description="Any field but `key` (game scripts send it). Game servers see the change within 5 seconds.",
        request=ActionTypeInputSerializer,
        responses=ActionTypeSerializer,
    )
    def partial_update(self, request, *args, **kwargs):
        action_type = self.get_object()
        serializer = ActionTypeInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        action_type = services.action_type_update(action_type=action_type, data=dict(serializer.validated_data))
        return Response(ActionTypeSerializer(action_type).data)
