"""The game-server API (``X-API-Key``) and the owners' management API (``Authorization: Token``).

Each view validates input with a serializer, calls one service or selector
from ``games`` and serializes the result. Objects a caller may not see are
404, never 403 (shared/API.md).
"""

from __future__ import annotations

import base64
import binascii

from django.db import transaction
from django.db.models import ProtectedError
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from adplatform.core.api.errors import DomainError
from adplatform.core.api.pagination import CursorPagination
from games import selectors, services
from games.api import cache
from games.api.serializers import (
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    ContainerInputSerializer,
    ContainerSerializer,
    GameCreateSerializer,
    GameSerializer,
    GameServerContainerPageSerializer,
    GameServerContainerSerializer,
    GameServerGameSerializer,
    GameUpdateSerializer,
    PlaylistInputSerializer,
    PlaylistSerializer,
)
from games.api.throttling import GameServerRateThrottle
from games.authentication import GameApiKeyAuthentication, IsGameServer
from games.models import AdContainer, ContainerType, Game, GameApiKey, Playlist

# --------------------------------------------------------------------------- game-server API

GAME_SERVER_TAG = "game server"
MANAGE_TAG = "manage: games"

LIST_PARAMETERS = [
    OpenApiParameter("limit", OpenApiTypes.INT, description="Page size (default 50, at most 200)."),
    OpenApiParameter("cursor", OpenApiTypes.STR, description="The `next` or `previous` link's cursor."),
]


class GameServerView(APIView):
    """Base of the ``X-API-Key`` endpoints: a game server reads its own game only."""

    authentication_classes = [GameApiKeyAuthentication]
    permission_classes = [IsGameServer]
    throttle_classes = [GameServerRateThrottle]


class GameServerGameView(GameServerView):
    @extend_schema(
        operation_id="game_server_game",
        summary="The key's game",
        tags=[GAME_SERVER_TAG],
        responses=GameServerGameSerializer,
    )
    def get(self, request, *args, **kwargs):
        body = cache.game_details(request.auth.game_id)
        if body is None:  # deleted while another process still knew the key
            raise DomainError("api_key_invalid", "The key's game no longer exists.")
        return Response(body)


def _memory_page(request, items: tuple[dict, ...]) -> dict:
    """``?limit=`` / ``?cursor=`` over an in-memory list ordered by id, in the body of every list."""
    size = CursorPagination().get_page_size(request)
    after = 0
    raw_cursor = request.query_params.get("cursor")
    if raw_cursor:
        try:
            after = int(base64.urlsafe_b64decode(raw_cursor.encode()).decode().removeprefix("after:"))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise DomainError("invalid_cursor", "The cursor is not valid.") from None
    remaining = [item for item in items if item["id"] > after]
    page = remaining[:size]
    next_url = None
    if len(remaining) > size:
        cursor = base64.urlsafe_b64encode(f"after:{page[-1]['id']}".encode()).decode()
        next_url = replace_query_param(request.build_absolute_uri(), "cursor", cursor)
    return {"results": page, "next": next_url, "previous": None}


class GameServerContainerListView(GameServerView):
    @extend_schema(
        operation_id="game_server_containers_list",
        summary="The game's ad containers",
        description="Cached in each process; an owner's change shows here within 5 seconds.",
        tags=[GAME_SERVER_TAG],
        parameters=LIST_PARAMETERS,
        responses=GameServerContainerPageSerializer,
    )
    def get(self, request, *args, **kwargs):
        snapshot = cache.game_containers(request.auth.game_id)
        return Response(_memory_page(request, snapshot.items))


class GameServerContainerDetailView(GameServerView):
    @extend_schema(
        operation_id="game_server_containers_read",
        summary="One of the game's ad containers",
        tags=[GAME_SERVER_TAG],
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={
            200: GameServerContainerSerializer,
            404: OpenApiResponse(description="Not a container of the game."),
        },
    )
    def get(self, request, *args, **kwargs):
        body = cache.game_containers(request.auth.game_id).by_id.get(kwargs["id"])
        if body is None:
            raise DomainError("not_found", "No such container in this game.")
        return Response(body)


# --------------------------------------------------------------------------- management API


def _deleting(delete, **kwargs) -> Response:
    """Run a delete service; rows elsewhere that protect the object make it a 409, not a 500."""
    try:
        delete(**kwargs)
    except ProtectedError as exc:
        raise DomainError("conflict", "Other records still use this object; remove them first.") from exc
    return Response(status=status.HTTP_204_NO_CONTENT)


class CanCreateGames(permissions.BasePermission):
    """Game owners and staff register games; advertisers do not."""

    message = "Only game owners can register games."

    def has_permission(self, request, view) -> bool:
        if getattr(view, "action", None) != "create":
            return True
        user = request.user
        return bool(user.is_staff or getattr(user, "is_owner", False))


@extend_schema_view(
    list=extend_schema(
        operation_id="manage_games_list", summary="Games the caller may manage", parameters=LIST_PARAMETERS
    ),
    retrieve=extend_schema(operation_id="manage_games_read", summary="A game"),
)
@extend_schema(tags=[MANAGE_TAG])
class GameViewSet(viewsets.GenericViewSet):
    """Owners manage their own games; staff manage all. Others' games are 404."""

    serializer_class = GameSerializer
    queryset = Game.objects.none()  # the schema reads the model; requests use get_queryset
    permission_classes = [permissions.IsAuthenticated, CanCreateGames]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Game.objects.none()
        return selectors.games_visible_to(self.request.user)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(GameSerializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return Response(GameSerializer(self.get_object()).data)

    @extend_schema(
        operation_id="manage_games_create",
        summary="Register a game by its Roblox place id",
        description="Name, universe and icon are filled in by a background sync from Roblox.",
        request=GameCreateSerializer,
        responses={201: GameSerializer},
    )
    def create(self, request, *args, **kwargs):
        serializer = GameCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        game = services.game_create(owner=request.user, **serializer.validated_data)
        return Response(GameSerializer(game).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="manage_games_update",
        summary="Change a game",
        request=GameUpdateSerializer,
        responses=GameSerializer,
    )
    def partial_update(self, request, *args, **kwargs):
        game = self.get_object()
        serializer = GameUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        game = services.game_update(game=game, data=dict(serializer.validated_data))
        return Response(GameSerializer(game).data)

    @extend_schema(
        operation_id="manage_games_delete", summary="Delete a game with its containers and keys", responses={204: None}
    )
    def destroy(self, request, *args, **kwargs):
        return _deleting(services.game_delete, game=self.get_object())

    @extend_schema(
        operation_id="manage_games_sync",
        summary="Refresh the game's Roblox details now",
        request=None,
        responses={202: GameSerializer},
    )
    @action(detail=True, methods=["post"], url_path="sync")
    def sync(self, request, *args, **kwargs):
        game = services.game_request_sync(game=self.get_object())
        return Response(GameSerializer(game).data, status=status.HTTP_202_ACCEPTED)


GAME_PK = OpenApiParameter("game_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The game's id.")


class GameChildViewSet(viewsets.GenericViewSet):
    """Objects under ``manage/games/{game_pk}/``: a game the caller cannot see hides its children too."""

    def get_game(self) -> Game:
        if not hasattr(self, "_game"):
            self._game = get_object_or_404(selectors.games_visible_to(self.request.user), pk=self.kwargs["game_pk"])
        return self._game

    def children(self, game: Game):
        raise NotImplementedError

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset  # type: ignore[arg-type]  # DRF stubs read this class attribute as a Manager descriptor
        return self.children(self.get_game())


@extend_schema_view(
    list=extend_schema(
        operation_id="manage_containers_list", summary="The game's ad containers", parameters=LIST_PARAMETERS
    ),
    retrieve=extend_schema(operation_id="manage_containers_read", summary="An ad container"),
)
@extend_schema(tags=["manage: containers"], parameters=[GAME_PK])
class ContainerViewSet(GameChildViewSet):
    """A game's ad containers; a status change carries `status_reason` into the audit trail."""

    serializer_class = ContainerSerializer
    queryset = AdContainer.objects.none()
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def children(self, game: Game):
        return selectors.containers_of(game)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ContainerSerializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return Response(ContainerSerializer(self.get_object()).data)

    @extend_schema(
        operation_id="manage_containers_create",
        summary="Add an ad container",
        request=ContainerInputSerializer,
        responses={201: ContainerSerializer},
    )
    def create(self, request, *args, **kwargs):
        game = self.get_game()
        serializer = ContainerInputSerializer(data=request.data, context={"game": game})
        serializer.is_valid(raise_exception=True)
        container = services.container_create(game=game, data=dict(serializer.validated_data), by=request.user)
        return Response(ContainerSerializer(container).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="manage_containers_update",
        summary="Change an ad container",
        description="A `status` change is recorded in the container's audit trail with `status_reason` "
        "(required for MAINTENANCE).",
        request=ContainerInputSerializer,
        responses=ContainerSerializer,
    )
    def partial_update(self, request, *args, **kwargs):
        container = self.get_object()
        serializer = ContainerInputSerializer(data=request.data, partial=True, context={"game": self.get_game()})
        serializer.is_valid(raise_exception=True)
        container = services.container_update(
            container=container, data=dict(serializer.validated_data), by=request.user
        )
        return Response(ContainerSerializer(container).data)

    @extend_schema(operation_id="manage_containers_delete", summary="Delete an ad container", responses={204: None})
    def destroy(self, request, *args, **kwargs):
        return _deleting(services.container_delete, container=self.get_object())


@extend_schema_view(
    list=extend_schema(
        operation_id="manage_api_keys_list",
        summary="The game's server keys (never the key itself)",
        parameters=LIST_PARAMETERS,
    ),
    retrieve=extend_schema(operation_id="manage_api_keys_read", summary="A server key (never the key itself)"),
)
@extend_schema(tags=["manage: api keys"], parameters=[GAME_PK])
class ApiKeyViewSet(GameChildViewSet):
    """A game's server keys; the key and signing secret are shown once, at creation."""

    serializer_class = ApiKeySerializer
    queryset = GameApiKey.objects.none()
    http_method_names = ["get", "post", "delete", "head", "options"]

    def children(self, game: Game):
        return selectors.api_keys_of(game)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ApiKeySerializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return Response(ApiKeySerializer(self.get_object()).data)

    @extend_schema(
        operation_id="manage_api_keys_create",
        summary="Create a server key",
        description="The response holds `key` and `signing_secret`: the only time they are shown.",
        request=ApiKeyCreateSerializer,
        responses={201: ApiKeyCreatedSerializer},
    )
    def create(self, request, *args, **kwargs):
        game = self.get_game()
        serializer = ApiKeyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key, raw, secret = services.api_key_create(game=game, name=serializer.validated_data["name"], by=request.user)
        # Shown once: the raw key is stored only as its hash, so it rides on the instance for this response.
        key.key, key.signing_secret = raw, secret  # type: ignore[attr-defined]
        return Response(ApiKeyCreatedSerializer(key).data, status=status.HTTP_201_CREATED)

    @extend_schema(operation_id="manage_api_keys_revoke", summary="Revoke a server key", responses={204: None})
    def destroy(self, request, *args, **kwargs):
        services.api_key_revoke(key=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        operation_id="manage_playlists_list", summary="The game's house playlists", parameters=LIST_PARAMETERS
    ),
    retrieve=extend_schema(operation_id="manage_playlists_read", summary="A house playlist"),
)
@extend_schema(tags=["manage: playlists"], parameters=[GAME_PK])
class PlaylistViewSet(GameChildViewSet):
    """A game's house playlists: content its containers show when no campaign fills them."""

    serializer_class = PlaylistSerializer
    queryset = Playlist.objects.none()
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def children(self, game: Game):
        return selectors.playlists_of(game)

    def _fresh(self, playlist: Playlist) -> Playlist:
        return self.children(self.get_game()).get(pk=playlist.pk)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(PlaylistSerializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return Response(PlaylistSerializer(self.get_object()).data)

    @extend_schema(
        operation_id="manage_playlists_create",
        summary="Create a house playlist",
        request=PlaylistInputSerializer,
        responses={201: PlaylistSerializer},
    )
    def create(self, request, *args, **kwargs):
        game = self.get_game()
        serializer = PlaylistInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # The playlist and its items are one change: a bad item leaves no empty playlist behind.
        with transaction.atomic():
            playlist = services.playlist_create(
                game=game, name=data["name"], container_type=data.get("container_type", ContainerType.DISPLAY)
            )
            if "items" in data:
                services.playlist_set_items(playlist=playlist, items=data["items"])
        return Response(PlaylistSerializer(self._fresh(playlist)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="manage_playlists_update",
        summary="Change a house playlist",
        description="`items`, when sent, replaces the playlist's items in the order given.",
        request=PlaylistInputSerializer,
        responses=PlaylistSerializer,
    )
    def partial_update(self, request, *args, **kwargs):
        playlist = self.get_object()
        serializer = PlaylistInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            if "name" in data or "container_type" in data:
                services.playlist_update(
                    playlist=playlist, name=data.get("name"), container_type=data.get("container_type")
                )
            if "items" in data:
                services.playlist_set_items(playlist=playlist, items=data["items"])
        return Response(PlaylistSerializer(self._fresh(playlist)).data)

    @extend_schema(operation_id="manage_playlists_delete", summary="Delete a house playlist", responses={204: None})
    def destroy(self, request, *args, **kwargs):
        return _deleting(services.playlist_delete, playlist=self.get_object())
