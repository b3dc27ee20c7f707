"""Serializers of the score, leaderboard and action-type endpoints.

Input serializers check shapes and types at the boundary. The score update is
declared once in ``scoreboard.api.contract`` (its signed body is validated by
``scoreboard.services.score_submit`` after the signature is checked).
"""

from __future__ import annotations

from rest_framework import serializers

from scoreboard.models import MAX_BASE_SCORE, MAX_COOLDOWN_SECONDS, MAX_ROBLOX_ID, ActionType

USERNAME_PATTERN = r"^[A-Za-z0-9_]+$"


class ScoreTokenRequestSerializer(serializers.Serializer):
    player_id = serializers.IntegerField(min_value=1, max_value=MAX_ROBLOX_ID, help_text="The Roblox user id.")
    username = serializers.RegexField(
        USERNAME_PATTERN, max_length=50, required=False, allow_blank=True, help_text="The Roblox username."
    )


class ScoreTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="HS256 JWT with `sub`, `game`, `jti`, `exp`; send it as a Bearer token.")
    expires_at = serializers.DateTimeField()


class ScoreTokenRevokeSerializer(serializers.Serializer):
    token = serializers.CharField(required=False, max_length=2048, help_text="Revoke this token (by its `jti`).")
    player_id = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ROBLOX_ID, help_text="Revoke every token of this player."
    )

    def validate(self, attrs):
        if ("token" in attrs) == ("player_id" in attrs):
            raise serializers.ValidationError("Send either `token` or `player_id`.")
        return attrs


class LeaderboardEntrySerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    player_id = serializers.IntegerField()
    username = serializers.CharField()
    score = serializers.IntegerField()


class LeaderboardQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(required=False, default=10, min_value=1, help_text="1 to 100 (larger is 100).")


class LeaderboardSerializer(serializers.Serializer):
    game = serializers.CharField(source="game.slug")
    updated_at = serializers.DateTimeField(allow_null=True)
    entries = LeaderboardEntrySerializer(many=True)


class LeaderboardPlayerSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    score = serializers.IntegerField()
    player_id = serializers.IntegerField()
    username = serializers.CharField()
    around = LeaderboardEntrySerializer(many=True, help_text="Up to 5 players above and 5 below, in rank order.")


class StreakRuleSerializer(serializers.Serializer):
    window_seconds = serializers.IntegerField(min_value=1, max_value=604800)
    step_percent = serializers.IntegerField(min_value=0, max_value=1000, required=False)
    max_percent = serializers.IntegerField(min_value=100, max_value=1000, required=False)


class ActionTypeRulesSerializer(serializers.Serializer):
    """Optional scoring rules (every key optional; unknown keys are refused)."""

    streak = StreakRuleSerializer(
        required=False,
        help_text="Credits within `window_seconds` of the previous one continue a streak; credit n is worth "
        "base_score * min(100 + step_percent * (n - 1), max_percent) / 100 (defaults 10 and 200).",
    )


class ActionTypeSerializer(serializers.ModelSerializer):
    rules = ActionTypeRulesSerializer(read_only=True)

    class Meta:
        model = ActionType
        fields = [
            "id",
            "key",
            "name",
            "base_score",
            "cooldown_seconds",
            "max_per_hour",
            "is_active",
            "rules",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ActionTypeInputSerializer(serializers.Serializer):
    """Create (all of key, name, base_score) or change (any field but key) an action type."""

    key = serializers.SlugField(max_length=64)
    name = serializers.CharField(max_length=100)
    base_score = serializers.IntegerField(min_value=0, max_value=MAX_BASE_SCORE)
    cooldown_seconds = serializers.IntegerField(min_value=0, max_value=MAX_COOLDOWN_SECONDS, required=False)
    max_per_hour = serializers.IntegerField(min_value=1, max_value=3600, allow_null=True, required=False)
    is_active = serializers.BooleanField(required=False)
    rules = serializers.JSONField(required=False, help_text='See ActionTypeRules: {"streak": {...}} or {}.')
