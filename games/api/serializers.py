"""Serializers of the game-server and management APIs.

Input serializers only check shapes and types at the boundary (every 400 of a
malformed request comes from here); the rules that involve the database or
several fields (display sizes, playlists of another type, duplicate place
ids) stay in ``games.services`` and arrive as the same 400.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypedDict

from rest_framework import serializers
from rest_framework.settings import api_settings

from games.models import (
    AdCategory,
    AdContainer,
    ContainerStatus,
    ContainerType,
    Game,
    GameApiKey,
    Playlist,
    PlaylistItem,
)
from games.services import MAX_PLAYLIST_ITEMS

MAX_ROBLOX_ID = 2**63 - 1


class DecimalFieldShape(TypedDict):
    max_digits: int
    decimal_places: int
    min_value: Decimal
    coerce_to_string: bool


STUDS: DecimalFieldShape = {
    "max_digits": 6,
    "decimal_places": 2,
    "min_value": Decimal("0.01"),
    "coerce_to_string": False,
}
MONEY: DecimalFieldShape = {"max_digits": 12, "decimal_places": 6, "min_value": Decimal("0"), "coerce_to_string": True}


# --------------------------------------------------------------------------- game-server API


class GameServerGameSerializer(serializers.ModelSerializer):
    class Meta:
        model = Game
        fields = ["id", "slug", "name", "roblox_place_id", "roblox_universe_id"]
        read_only_fields = fields


class GameServerContainerSerializer(serializers.ModelSerializer):
    # Game scripts do arithmetic with sizes: numbers, not strings. Money stays a decimal string.
    width_studs = serializers.FloatField(read_only=True)
    height_studs = serializers.FloatField(read_only=True)
    floor_price_cpm = serializers.DecimalField(max_digits=12, decimal_places=6, read_only=True)
    playlist = serializers.IntegerField(source="playlist_id", allow_null=True, read_only=True)

    class Meta:
        model = AdContainer
        fields = [
            "id",
            "name",
            "type",
            "status",
            "placement",
            "width_studs",
            "height_studs",
            "updated_at",
            "floor_price_cpm",
            "playlist",
        ]
        read_only_fields = fields


class GameServerContainerPageSerializer(serializers.Serializer):
    """The list body of shared/API.md (schema only)."""

    results = GameServerContainerSerializer(many=True)
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


# --------------------------------------------------------------------------- management API: games


class GameStatsSerializer(serializers.ModelSerializer):
    class Meta:
        model = Game
        fields = ["visits", "playing", "favorites", "up_votes", "down_votes"]
        read_only_fields = fields


class GameSerializer(serializers.ModelSerializer):
    stats = GameStatsSerializer(source="*", read_only=True)
    roblox_url = serializers.CharField(read_only=True)
    # Empty until the first sync: documented as a plain string, since "" is no URI (the schema must hold)
    icon_url = serializers.CharField(read_only=True, help_text="The game icon's URL; empty before the first sync.")

    class Meta:
        model = Game
        fields = [
            "id",
            "slug",
            "name",
            "roblox_place_id",
            "roblox_universe_id",
            "icon_url",
            "sync_status",
            "last_synced_at",
            "last_sync_error",
            "description",
            "is_active",
            "stats",
            "roblox_url",
            "owner",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class GameCreateSerializer(serializers.Serializer):
    roblox_place_id = serializers.IntegerField(min_value=1, max_value=MAX_ROBLOX_ID)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)


class GameUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(allow_blank=True)
    slug = serializers.CharField(max_length=80)
    is_active = serializers.BooleanField()


# --------------------------------------------------------------------------- containers


class ContainerSerializer(serializers.ModelSerializer):
    width_studs = serializers.DecimalField(max_digits=6, decimal_places=2, coerce_to_string=False, read_only=True)
    height_studs = serializers.DecimalField(max_digits=6, decimal_places=2, coerce_to_string=False, read_only=True)
    floor_price_cpm = serializers.DecimalField(max_digits=12, decimal_places=6, read_only=True)
    blocked_categories = serializers.ListField(
        child=serializers.ChoiceField(choices=AdCategory.choices), read_only=True
    )
    playlist = serializers.IntegerField(source="playlist_id", allow_null=True, read_only=True)
    game = serializers.IntegerField(source="game_id", read_only=True)

    class Meta:
        model = AdContainer
        fields = [
            "id",
            "game",
            "name",
            "type",
            "status",
            "placement",
            "width_studs",
            "height_studs",
            "floor_price_cpm",
            "blocked_categories",
            "playlist",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ContainerInputSerializer(serializers.Serializer):
    """Create (``partial=False``) or change (``partial=True``) a container of ``context["game"]``."""

    name = serializers.CharField(max_length=100)
    type = serializers.ChoiceField(choices=ContainerType.choices, required=False)
    status = serializers.ChoiceField(choices=ContainerStatus.choices, required=False)
    status_reason = serializers.CharField(required=False, allow_blank=True, max_length=1000, write_only=True)
    placement = serializers.SlugField(max_length=64, required=False)
    width_studs = serializers.DecimalField(**STUDS, required=False)
    height_studs = serializers.DecimalField(**STUDS, required=False)
    floor_price_cpm = serializers.DecimalField(**MONEY, required=False)
    blocked_categories = serializers.ListField(
        child=serializers.ChoiceField(choices=AdCategory.choices), required=False, max_length=len(AdCategory.values)
    )
    playlist = serializers.PrimaryKeyRelatedField(queryset=Playlist.objects.none(), allow_null=True, required=False)

    def get_fields(self):
        fields = super().get_fields()
        game = self.context.get("game")
        if game is not None:
            playlist = fields["playlist"]
            assert isinstance(playlist, serializers.PrimaryKeyRelatedField)
            playlist.queryset = Playlist.objects.filter(game=game)  # type: ignore[arg-type]  # as in games/api/views.py
        return fields


# --------------------------------------------------------------------------- API keys


class ApiKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = GameApiKey
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at", "is_active"]
        read_only_fields = fields


class ApiKeyCreatedSerializer(ApiKeySerializer):
    """The create response: the only time ``key`` and ``signing_secret`` are shown."""

    key = serializers.CharField(read_only=True)
    signing_secret = serializers.CharField(read_only=True)

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key", "signing_secret"]
        read_only_fields = fields


class ApiKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)


# --------------------------------------------------------------------------- playlists


class PlaylistItemSerializer(serializers.ModelSerializer):
    roblox_asset_id = serializers.IntegerField(source="asset.roblox_asset_id", read_only=True)
    asset_type = serializers.CharField(source="asset.asset_type", read_only=True)
    asset_name = serializers.CharField(source="asset.name", read_only=True)
    moderation_state = serializers.CharField(source="asset.moderation_state", read_only=True)

    class Meta:
        model = PlaylistItem
        fields = ["position", "roblox_asset_id", "display_seconds", "asset_type", "asset_name", "moderation_state"]
        read_only_fields = fields


class PlaylistSerializer(serializers.ModelSerializer):
    items = PlaylistItemSerializer(many=True, read_only=True)

    class Meta:
        model = Playlist
        fields = ["id", "name", "container_type", "items", "created_at", "updated_at"]
        read_only_fields = fields


class PlaylistItemInputSerializer(serializers.Serializer):
    roblox_asset_id = serializers.IntegerField(min_value=1, max_value=MAX_ROBLOX_ID)
    display_seconds = serializers.IntegerField(min_value=1, max_value=3600, default=15)


def _flat_errors(detail: Any, prefix: str = "") -> dict[str, Any]:
    """Nested item errors as ``{"items[0].roblox_asset_id": ["..."]}``: ``details`` stays field -> messages."""
    if isinstance(detail, dict):
        flat: dict[str, Any] = {}
        for key, value in detail.items():
            if not prefix or key == api_settings.NON_FIELD_ERRORS_KEY:
                name = prefix or str(key)
            else:
                name = f"{prefix}[{key}]" if str(key).isdigit() else f"{prefix}.{key}"
            flat.update(_flat_errors(value, name))
        return flat
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        flat = {}
        for index, value in enumerate(detail):
            if value:
                flat.update(_flat_errors(value, f"{prefix}[{index}]"))
        return flat
    return {prefix or "non_field_errors": detail}


class PlaylistInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    container_type = serializers.ChoiceField(choices=ContainerType.choices, required=False)
    # many=True hands max_length to the ListSerializer (DRF 3.15); the stubs do not list it.
    items = PlaylistItemInputSerializer(many=True, required=False, max_length=MAX_PLAYLIST_ITEMS)  # type: ignore[call-arg]

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError(_flat_errors(exc.detail)) from exc
