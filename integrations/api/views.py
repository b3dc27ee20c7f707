"""The Roblox data API: cached, rate-limited reads of Roblox's public web APIs for tools.

Each view validates with a serializer, reads through :func:`integrations.readthrough.read` and serializes the
result. No request waits on Roblox: answers come from the cache, or from a Celery worker within
``ROBLOX_DATA_API_WAIT_MS``; otherwise ``503 upstream_unavailable`` with ``Retry-After`` says when to ask
again. Roblox trouble never becomes a 500: an unknown object is ``404 not_found``; Roblox failing is
``502 upstream_unavailable``; Roblox rate limiting us, our circuit breaker holding calls back, or the worker
still asking, is ``503 upstream_unavailable`` with ``Retry-After``.
"""

from __future__ import annotations

import logging
import math

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from adplatform.core.api.errors import DomainError
from adplatform.core.api.throttling import UserRateThrottle
from integrations import readthrough
from integrations.api.serializers import (
    AssetIdSerializer,
    GameIconsQuerySerializer,
    PlaceIdSerializer,
    RobloxApiErrorSerializer,
    RobloxAssetDetailsSerializer,
    RobloxGameDetailsSerializer,
    RobloxGameIconListSerializer,
    RobloxPlaceUniverseSerializer,
    UniverseIdSerializer,
)
from integrations.roblox.errors import (
    RobloxCircuitOpen,
    RobloxError,
    RobloxNotFound,
    RobloxPending,
    RobloxRateLimited,
)

logger = logging.getLogger(__name__)


class RobloxDataThrottle(UserRateThrottle):
    """Per-account rate of the Roblox data API (``THROTTLE_ROBLOX``), on top of the default throttles."""

    scope = "roblox"


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(RobloxApiErrorSerializer, description=description)


ERROR_RESPONSES = {
    400: _error("`validation_error`: a malformed id or query; `details` names the field."),
    401: _error("`not_authenticated` / `token_invalid` / `token_expired` / `token_revoked`."),
    404: _error("`not_found`: Roblox has no such object."),
    429: _error("`rate_limited`: too many requests; retry after `Retry-After` seconds."),
    502: _error("`upstream_unavailable`: Roblox failed or did not answer (after retries)."),
    503: _error(
        "`upstream_unavailable`: Roblox is rate limiting us, is held off by our circuit breaker, or is still being "
        "asked (the answer was not cached and a worker did not get it within 2 s); retry after `Retry-After` "
        "seconds."
    ),
}


def upstream_error(exc: RobloxError, *, not_found_message: str) -> DomainError:
    """Our API error for a failed Roblox call."""
    if isinstance(exc, RobloxNotFound):
        return DomainError("not_found", not_found_message, status=404)
    if isinstance(exc, RobloxRateLimited | RobloxCircuitOpen | RobloxPending):
        retry_after = max(1, math.ceil(exc.retry_after or 1))
        return DomainError(
            "upstream_unavailable",
            "Roblox is unavailable for the moment; retry later.",
            status=503,
            headers={"Retry-After": str(retry_after)},
        )
    logger.warning(
        "roblox data api upstream failure",
        extra={"error": type(exc).__name__, "upstream_status": exc.status, "host": exc.host},
    )
    return DomainError("upstream_unavailable", "Roblox did not answer properly; retry later.", status=502)


class RobloxDataView(APIView):
    """Base of the Roblox data API views: turns Roblox errors into the API's error format."""

    # api_settings imports the classes its setting names; the stubs type the setting's strings.
    throttle_classes = [*api_settings.DEFAULT_THROTTLE_CLASSES, RobloxDataThrottle]  # type: ignore[list-item]
    not_found_message = "Roblox has no such object."

    def handle_exception(self, exc):
        if isinstance(exc, RobloxError):
            exc = upstream_error(exc, not_found_message=self.not_found_message)
        return super().handle_exception(exc)


class PlaceUniverseView(RobloxDataView):
    """The universe (experience) a Roblox place belongs to."""

    not_found_message = "Roblox has no such place."

    @extend_schema(
        operation_id="roblox_place_universe",
        tags=["roblox"],
        parameters=[OpenApiParameter("place_id", OpenApiTypes.INT64, OpenApiParameter.PATH)],
        responses={200: RobloxPlaceUniverseSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, place_id: str, version=None):
        params = PlaceIdSerializer(data={"place_id": place_id})
        params.is_valid(raise_exception=True)
        place_id_int = params.validated_data["place_id"]
        universe_id = readthrough.read("place_universe", place_id=place_id_int)
        return Response(RobloxPlaceUniverseSerializer({"place_id": place_id_int, "universe_id": universe_id}).data)


class UniverseView(RobloxDataView):
    """Details of a Roblox universe (experience): name, creator, players, visits, ..."""

    not_found_message = "Roblox has no such universe."

    @extend_schema(
        operation_id="roblox_universe",
        tags=["roblox"],
        parameters=[OpenApiParameter("universe_id", OpenApiTypes.INT64, OpenApiParameter.PATH)],
        responses={200: RobloxGameDetailsSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, universe_id: str, version=None):
        params = UniverseIdSerializer(data={"universe_id": universe_id})
        params.is_valid(raise_exception=True)
        game = readthrough.read("universe", universe_id=params.validated_data["universe_id"])
        return Response(RobloxGameDetailsSerializer(game).data)


class AssetView(RobloxDataView):
    """Details of a Roblox asset: name, type, creator, price."""

    not_found_message = "Roblox has no such asset."

    @extend_schema(
        operation_id="roblox_asset",
        tags=["roblox"],
        parameters=[OpenApiParameter("asset_id", OpenApiTypes.INT64, OpenApiParameter.PATH)],
        responses={200: RobloxAssetDetailsSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, asset_id: str, version=None):
        params = AssetIdSerializer(data={"asset_id": asset_id})
        params.is_valid(raise_exception=True)
        asset = readthrough.read("asset", asset_id=params.validated_data["asset_id"])
        return Response(RobloxAssetDetailsSerializer(asset).data)


class GameIconsView(RobloxDataView):
    """Game icons of universes, in the order asked; a universe Roblox does not know is left out."""

    @extend_schema(
        operation_id="roblox_game_icons",
        tags=["roblox"],
        parameters=[GameIconsQuerySerializer],
        responses={200: RobloxGameIconListSerializer, **{k: v for k, v in ERROR_RESPONSES.items() if k != 404}},
    )
    def get(self, request, version=None):
        query = GameIconsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        ids = query.validated_data["universe_ids"]
        icons = readthrough.read(
            "game_icons",
            universe_ids=ids,
            size=query.validated_data["size"],
            image_format=query.validated_data["image_format"],
            is_circular=query.validated_data["is_circular"],
        )
        return Response(
            RobloxGameIconListSerializer({"results": [icons[i] for i in ids if i in icons], "next": None}).data
        )
