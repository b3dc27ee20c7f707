"""Players, action types, scores and their history, revoked score tokens and leaderboard snapshots.

PostgreSQL holds the truth; the Redis sorted sets of :mod:`scoreboard.leaderboard`
are rebuilt from :class:`Score` whenever they are missing.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from games.models import Game, GameApiKey

MAX_BASE_SCORE = 1_000_000
MAX_COOLDOWN_SECONDS = 30 * 86400
MAX_ROBLOX_ID = 2**63 - 1


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Player(TimeStamped):
    """A Roblox user as one game's leaderboard knows them (one row per game and Roblox user id)."""

    # Indexed by the unique (game, roblox_user_id) constraint, which leads with the game.
    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="players", db_index=False)
    roblox_user_id = models.BigIntegerField(validators=[MinValueValidator(1)])
    username = models.CharField(max_length=50, blank=True)
    is_banned = models.BooleanField(default=False)
    banned_at = models.DateTimeField(null=True, blank=True)
    ban_reason = models.TextField(blank=True)
    # Score tokens issued before this instant are refused ("revoke all of this player's tokens").
    # Redis keeps a copy for the fast path; this column is the copy that survives a Redis flush.
    tokens_not_before = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["game_id", "roblox_user_id"]
        constraints = [
            models.UniqueConstraint(fields=["game", "roblox_user_id"], name="player_unique_per_game"),
            models.CheckConstraint(condition=models.Q(roblox_user_id__gt=0), name="player_roblox_id_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.username or 'Player'} ({self.roblox_user_id})"


class ActionType(TimeStamped):
    """Something a player does that the game server reports and the platform scores.

    The increment is computed on the server: ``base_score``, times the multiplier
    of the optional ``rules``. ``rules`` is a JSON object; every key is optional
    and unknown keys are refused (``scoreboard.services.action_type_rules_clean``):

    ``{"streak": {"window_seconds": 86400, "step_percent": 10, "max_percent": 200}}``
        A credit of this type that comes within ``window_seconds`` of the
        player's previous credit of the same type continues a streak (the
        first credit is streak 1). Credit number *n* of a streak is worth
        ``base_score * min(100 + step_percent * (n - 1), max_percent) // 100``.
        ``window_seconds`` (required) is 1..604800, ``step_percent`` 0..1000
        (default 10) and ``max_percent`` 100..1000 (default 200).

    ``cooldown_seconds`` (0 = none) is the least time between two credits of
    this type for one player; ``max_per_hour`` (null = no limit) caps the
    credits of this type for one player in any 3600 seconds.
    """

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="action_types", db_index=False)
    key = models.SlugField(max_length=64, help_text="What the game server sends as `action_type`.")
    name = models.CharField(max_length=100)
    base_score = models.IntegerField(validators=[MinValueValidator(0), MaxValueValidator(MAX_BASE_SCORE)])
    cooldown_seconds = models.PositiveIntegerField(default=0, validators=[MaxValueValidator(MAX_COOLDOWN_SECONDS)])
    max_per_hour = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(3600)]
    )
    is_active = models.BooleanField(default=True)
    rules = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["game_id", "key"]
        constraints = [
            models.UniqueConstraint(fields=["game", "key"], name="action_type_key_unique_per_game"),
            models.CheckConstraint(
                condition=models.Q(base_score__gte=0, base_score__lte=MAX_BASE_SCORE),
                name="action_type_base_score_range",
            ),
            models.CheckConstraint(
                condition=models.Q(cooldown_seconds__lte=MAX_COOLDOWN_SECONDS), name="action_type_cooldown_range"
            ),
            models.CheckConstraint(
                condition=models.Q(max_per_hour__isnull=True) | models.Q(max_per_hour__gte=1, max_per_hour__lte=3600),
                name="action_type_max_per_hour_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"


class Score(TimeStamped):
    """A player's current score: one row per player, changed only with a :class:`ScoreHistory` row.

    ``reached_at`` is when the player reached this score (millisecond precision,
    the tie-break of the rankings); it is null until the first credit, and a
    player without it has no score. ``version`` is the id of the history row of
    the last change; the Redis board applies a change only over an older one.
    """

    player = models.OneToOneField(Player, on_delete=models.CASCADE, related_name="score")
    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="scores", db_index=False)
    score = models.BigIntegerField(default=0)
    reached_at = models.DateTimeField(null=True, blank=True)
    last_action_id = models.CharField(max_length=100, blank=True)
    last_action_at = models.DateTimeField(null=True, blank=True)
    version = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-score", "reached_at"]
        constraints = [models.CheckConstraint(condition=models.Q(score__gte=0), name="score_non_negative")]
        indexes = [models.Index(fields=["game", "-score", "reached_at"], name="score_game_rank_idx")]

    def __str__(self) -> str:
        return f"{self.player_id}: {self.score}"


class ScoreSource(models.TextChoices):
    GAME_SERVER = "GAME_SERVER", "Game server"
    SEED = "SEED", "Demo seed"


class ScoreHistory(models.Model):
    """One credited action: what was credited, how much, and the request that asked for it."""

    # Every credit inserts a row: no index that another one already covers (game: the unique action id
    # and the browsing index; player: the rules index; api_key: only read when a key row is deleted).
    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="score_history", db_index=False)
    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="history", db_index=False)
    action_type = models.ForeignKey(ActionType, on_delete=models.PROTECT, related_name="history")
    action_id = models.CharField(max_length=100)
    increment = models.BigIntegerField()
    previous_score = models.BigIntegerField()
    new_score = models.BigIntegerField()
    streak = models.PositiveIntegerField(default=1)
    multiplier_percent = models.PositiveIntegerField(default=100)
    source = models.CharField(max_length=16, choices=ScoreSource.choices, default=ScoreSource.GAME_SERVER)
    api_key = models.ForeignKey(
        GameApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    token_jti = models.CharField(max_length=64, blank=True)
    signature = models.CharField(max_length=64, blank=True)
    nonce = models.CharField(max_length=100, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    # When the action was credited: set by the service (seeded history lies in the past).
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "score history"
        constraints = [
            models.UniqueConstraint(fields=["game", "action_id"], name="score_history_action_id_unique_per_game"),
            models.CheckConstraint(
                condition=models.Q(new_score=models.F("previous_score") + models.F("increment")),
                name="score_history_new_score_consistent",
            ),
        ]
        indexes = [
            models.Index(fields=["player", "action_type", "-created_at"], name="score_history_player_type_idx"),
            models.Index(fields=["game", "-created_at"], name="score_history_game_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action_id}: +{self.increment}"


class RevokedToken(models.Model):
    """A score token refused before its expiry (revoked by ``jti``); kept until it would have expired."""

    class Reason(models.TextChoices):
        GAME_SERVER = "GAME_SERVER", "Revoked by the game server"
        STAFF = "STAFF", "Revoked by staff"

    jti = models.CharField(max_length=64, unique=True)
    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="revoked_score_tokens")
    player = models.ForeignKey(Player, null=True, blank=True, on_delete=models.CASCADE, related_name="revoked_tokens")
    expires_at = models.DateTimeField()
    reason = models.CharField(max_length=16, choices=Reason.choices, default=Reason.GAME_SERVER)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["expires_at"], name="revoked_token_expiry_idx")]

    def __str__(self) -> str:
        return self.jti


class ScoreboardSnapshot(TimeStamped):
    """The top of a game's leaderboard at one moment, written by the periodic job and kept for history."""

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="scoreboard_snapshots")
    taken_at = models.DateTimeField()
    total_players = models.PositiveIntegerField(default=0)
    entries = models.JSONField(default=list, blank=True, help_text="[{rank, player_id, username, score}]")

    class Meta:
        ordering = ["-taken_at", "-id"]
        indexes = [models.Index(fields=["game", "-taken_at"], name="snapshot_game_time_idx")]

    def __str__(self) -> str:
        return f"{self.game_id} @ {self.taken_at:%Y-%m-%d %H:%M}"
