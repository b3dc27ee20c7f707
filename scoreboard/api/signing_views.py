"""Server signing keys and batched score updates (game servers; see :mod:`scoreboard.signing`)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from adplatform.core.api.contract import respond
from games.api.views import GameServerView
from scoreboard import batch, signing
from scoreboard.api.authentication import client_ip
from scoreboard.api.contract import ScoreBatch, ScoreBatchResult
from scoreboard.api.views import SCORES_TAG, SIGNATURE_HEADER


def _errors(*codes: str) -> OpenApiResponse:
    return OpenApiResponse(description="Error body of shared/API.md; `code` one of: " + ", ".join(codes) + ".")


class SigningKeyRequestSerializer(serializers.Serializer):
    server_id = serializers.CharField(
        max_length=signing.MAX_SERVER_ID_CHARS, help_text="The Roblox server's `game.JobId`: the key is bound to it."
    )


class SigningKeySerializer(serializers.Serializer):
    key_id = serializers.CharField(help_text="Send as `X-Signing-Key` with each signed request.")
    secret = serializers.CharField(help_text="Hex; the HMAC-SHA256 key of `X-Signature`. Shown only in this answer.")
    server_id = serializers.CharField()
    issued_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    refresh_after = serializers.DateTimeField(help_text="Fetch the next key after this time.")


class SigningKeyView(GameServerView):
    @extend_schema(
        operation_id="scores_signing_keys_create",
        summary="Trade the game key for a short-lived server signing key",
        description="For the game of the `X-API-Key` (which a Roblox server sends from its opaque `Secret`). "
        "The key is bound to `server_id` (the server's `game.JobId`), lives `SCORE_SERVER_KEY_TTL_SECONDS` "
        "(an hour by default) and dies with the game key. Sign score updates with it: `X-Signing-Key: <key_id>` "
        "and `X-Signature: hex HMAC-SHA256(secret, raw body)`. Nothing of it is stored on the platform.",
        tags=[SCORES_TAG],
        request=SigningKeyRequestSerializer,
        responses={201: SigningKeySerializer, 400: _errors("validation_error"), 401: _errors("api_key_invalid")},
    )
    def post(self, request, *args, **kwargs):
        serializer = SigningKeyRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = signing.server_key_issue(
            game_id=request.auth.game_id, api_key_id=request.auth.key_id, **serializer.validated_data
        )
        return Response(SigningKeySerializer(key).data, status=status.HTTP_201_CREATED)


SERVER_KEY_HEADER = OpenApiParameter(
    "X-Signing-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="The id of the server signing key whose secret keys `X-Signature`.",
)


class ScoreBatchView(APIView):
    authentication_classes: list = []  # the server signing key is the credential, checked by the service
    permission_classes = [AllowAny]
    throttle_classes: list = []  # limited per player and per key with each item's nonce

    @extend_schema(
        operation_id="scores_update_batch",
        summary="Credit many players' actions in one signed request",
        description=f"Up to {batch.MAX_BATCH} updates, each with its player's `token` and its own `nonce`; the "
        "raw body is signed once with the server signing key. Each item is checked exactly like "
        "`POST /api/v1/scores/update` and gets its own status and result or error; one bad item never fails the "
        "others. A larger batch is 413 `batch_too_large`.",
        tags=[SCORES_TAG],
        parameters=[SIGNATURE_HEADER, SERVER_KEY_HEADER],
        request=ScoreBatch,
        responses={
            200: ScoreBatchResult,
            400: _errors("validation_error", "malformed_json"),
            401: _errors("signature_invalid", "signing_key_invalid", "signing_key_expired"),
            413: _errors("batch_too_large"),
        },
    )
    def post(self, request, *args, **kwargs):
        result = batch.score_submit_batch(
            raw_body=request.body,
            server_key=request.headers.get("X-Signing-Key"),
            signature=request.headers.get("X-Signature"),
            ip=client_ip(request),
        )
        return respond(result, ScoreBatchResult)
