"""Serializers of the Roblox data API: query/path validation (every 400 comes from here) and responses."""

from __future__ import annotations

from rest_framework import serializers

from integrations.roblox.thumbnails import GAME_ICON_SIZES, IMAGE_FORMATS, MAX_IDS_PER_CALL

# Roblox ids are 64-bit.
MAX_ROBLOX_ID = 2**63 - 1


def roblox_id_field(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ROBLOX_ID, **kwargs)


class PlaceIdSerializer(serializers.Serializer):
    place_id = roblox_id_field()


class UniverseIdSerializer(serializers.Serializer):
    universe_id = roblox_id_field()


class AssetIdSerializer(serializers.Serializer):
    asset_id = roblox_id_field()


class GameIconsQuerySerializer(serializers.Serializer):
    universe_ids = serializers.CharField(
        help_text=f"Comma-separated universe ids, at most {MAX_IDS_PER_CALL}.", trim_whitespace=True
    )
    size = serializers.ChoiceField(choices=GAME_ICON_SIZES, default="512x512")
    image_format = serializers.ChoiceField(choices=IMAGE_FORMATS, default="Png")
    is_circular = serializers.BooleanField(default=False)

    def validate_universe_ids(self, value: str) -> list[int]:
        parts = [part.strip() for part in value.split(",")]
        if not parts or any(not part for part in parts):
            raise serializers.ValidationError("Give comma-separated universe ids, such as 1,2.")
        ids: list[int] = []
        for part in parts:
            if not (part.isascii() and part.isdigit()) or not 0 < int(part) <= MAX_ROBLOX_ID:
                raise serializers.ValidationError(f"{part[:20]!r} is not a universe id.")
            if int(part) not in ids:
                ids.append(int(part))
        if len(ids) > MAX_IDS_PER_CALL:
            raise serializers.ValidationError(f"At most {MAX_IDS_PER_CALL} universe ids.")
        return ids


class RobloxCreatorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    type = serializers.CharField(help_text='"User" or "Group".')
    has_verified_badge = serializers.BooleanField()


class RobloxPlaceUniverseSerializer(serializers.Serializer):
    place_id = serializers.IntegerField()
    universe_id = serializers.IntegerField()


class RobloxGameDetailsSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The universe id.")
    root_place_id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    creator = RobloxCreatorSerializer()
    price = serializers.IntegerField(allow_null=True, help_text="Price in Robux of a paid-access game.")
    playing = serializers.IntegerField()
    visits = serializers.IntegerField()
    max_players = serializers.IntegerField()
    created = serializers.DateTimeField(allow_null=True)
    updated = serializers.DateTimeField(allow_null=True)
    genre = serializers.CharField()
    favorited_count = serializers.IntegerField()
    universe_avatar_type = serializers.CharField()


class RobloxAssetDetailsSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The asset id.")
    product_id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    description = serializers.CharField()
    asset_type_id = serializers.IntegerField()
    creator = RobloxCreatorSerializer()
    price_in_robux = serializers.IntegerField(allow_null=True)
    is_for_sale = serializers.BooleanField()
    is_limited = serializers.BooleanField()
    created = serializers.DateTimeField(allow_null=True)
    updated = serializers.DateTimeField(allow_null=True)


class RobloxGameIconSerializer(serializers.Serializer):
    universe_id = serializers.IntegerField(source="target_id")
    state = serializers.CharField(
        help_text="Completed, Pending, InReview, TemporarilyUnavailable (ask again later), Blocked or Error."
    )
    image_url = serializers.CharField(allow_null=True, help_text="Set only when the state is Completed.")
    version = serializers.CharField(allow_null=True)


class RobloxGameIconListSerializer(serializers.Serializer):
    results = RobloxGameIconSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="Always null: every requested id fits in one page.")


class RobloxApiErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField()


class RobloxApiErrorSerializer(serializers.Serializer):
    """The common error body of the API."""

    error = RobloxApiErrorBodySerializer()
