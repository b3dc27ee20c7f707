from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from adplatform.core.crypto import EncryptedTextField


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AdCategory(models.TextChoices):
    """Advertiser categories a container may block (and advertisers declare)."""

    TOYS = "toys", "Toys"
    FOOD = "food", "Food & drink"
    GAMES = "games", "Games"
    ENTERTAINMENT = "entertainment", "Movies & entertainment"
    APPAREL = "apparel", "Apparel"
    TECH = "tech", "Technology"
    EDUCATION = "education", "Education"
    SPORTS = "sports", "Sports"
    MUSIC = "music", "Music"
    NONPROFIT = "nonprofit", "Non-profit"
    OTHER = "other", "Other"


class ContainerType(models.TextChoices):
    DISPLAY = "DISPLAY", "Display (billboard)"
    NPC = "NPC", "NPC (sponsored character)"
    MINIGAME = "MINIGAME", "Minigame (sponsored challenge)"


class SyncStatus(models.TextChoices):
    PENDING = "PENDING", "Waiting for sync"
    SYNCING = "SYNCING", "Syncing"
    OK = "OK", "Synced"
    ERROR = "ERROR", "Sync failed"


class Game(TimeStamped):
    """A Roblox experience an owner registered, with the public stats synced from Roblox."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="games")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True, help_text="Used in public URLs (live leaderboard).")
    description = models.TextField(blank=True)
    roblox_place_id = models.BigIntegerField(unique=True, validators=[MinValueValidator(1)])
    roblox_universe_id = models.BigIntegerField(null=True, blank=True, validators=[MinValueValidator(1)])
    icon_url = models.URLField(max_length=500, blank=True)
    visits = models.BigIntegerField(default=0)
    playing = models.IntegerField(default=0)
    favorites = models.BigIntegerField(default=0)
    up_votes = models.BigIntegerField(default=0)
    down_votes = models.BigIntegerField(default=0)
    sync_status = models.CharField(max_length=16, choices=SyncStatus.choices, default=SyncStatus.PENDING)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_sync_error = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    # Write-only: set through games.services.game_set_open_cloud_key; never rendered, serialized or logged.
    # Stored encrypted (FIELD_ENCRYPTION_KEYS); read back in plain text by the code that calls Open Cloud.
    open_cloud_api_key = EncryptedTextField(
        blank=True, editable=False, help_text="Open Cloud API key for MessagingService (write-only)."
    )

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(roblox_place_id__gt=0), name="game_place_id_positive"),
            models.CheckConstraint(
                condition=models.Q(roblox_universe_id__isnull=True) | models.Q(roblox_universe_id__gt=0),
                name="game_universe_id_positive",
            ),
        ]
        indexes = [models.Index(fields=["owner", "name"])]

    def __str__(self) -> str:
        return self.name

    @property
    def roblox_url(self) -> str:
        return f"https://www.roblox.com/games/{self.roblox_place_id}"

    @property
    def like_ratio(self) -> float | None:
        total = self.up_votes + self.down_votes
        return self.up_votes / total if total else None


class AssetModeration(models.TextChoices):
    """Roblox's thumbnail states, which are how moderation shows through the public API."""

    UNKNOWN = "UNKNOWN", "Not checked yet"
    COMPLETED = "COMPLETED", "Approved"
    PENDING = "PENDING", "Pending"
    IN_REVIEW = "IN_REVIEW", "In review"
    TEMPORARILY_UNAVAILABLE = "TEMPORARILY_UNAVAILABLE", "Temporarily unavailable"
    BLOCKED = "BLOCKED", "Blocked by Roblox"
    ERROR = "ERROR", "Error"


class AssetType(models.TextChoices):
    """The Roblox asset types the platform shows (AssetTypeId in brackets)."""

    IMAGE = "Image", "Image (1)"
    DECAL = "Decal", "Decal (13)"
    MODEL = "Model", "Model (10)"
    VIDEO = "Video", "Video (62)"
    MESH = "MeshPart", "Mesh part (40)"
    UNKNOWN = "Unknown", "Unknown"


ROBLOX_ASSET_TYPE_IDS = {1: AssetType.IMAGE, 13: AssetType.DECAL, 10: AssetType.MODEL, 62: AssetType.VIDEO,
                         40: AssetType.MESH}  # fmt: skip

# Which asset types each kind of container can show.
ASSET_TYPES_FOR_CONTAINER = {
    ContainerType.DISPLAY: {AssetType.IMAGE, AssetType.DECAL, AssetType.VIDEO},
    ContainerType.NPC: {AssetType.MODEL, AssetType.MESH},
    ContainerType.MINIGAME: {AssetType.MODEL, AssetType.MESH, AssetType.IMAGE, AssetType.DECAL},
}


class Asset(TimeStamped):
    """A Roblox asset the platform shows (house content, creatives), with its moderation state."""

    roblox_asset_id = models.BigIntegerField(unique=True, validators=[MinValueValidator(1)])
    asset_type = models.CharField(max_length=16, choices=AssetType.choices, default=AssetType.UNKNOWN)
    name = models.CharField(max_length=200, blank=True)
    thumbnail_url = models.URLField(max_length=500, blank=True)
    moderation_state = models.CharField(max_length=32, choices=AssetModeration.choices, default=AssetModeration.UNKNOWN)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_sync_error = models.TextField(blank=True)

    class Meta:
        ordering = ["roblox_asset_id"]
        constraints = [models.CheckConstraint(condition=models.Q(roblox_asset_id__gt=0), name="asset_id_positive")]

    def __str__(self) -> str:
        return f"{self.name or 'Asset'} ({self.roblox_asset_id})"

    @property
    def is_blocked(self) -> bool:
        return self.moderation_state == AssetModeration.BLOCKED

    @property
    def content_uri(self) -> str:
        return f"rbxassetid://{self.roblox_asset_id}"


class Playlist(TimeStamped):
    """House content a game shows in its containers when no campaign fills them."""

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="playlists")
    name = models.CharField(max_length=100)
    container_type = models.CharField(max_length=16, choices=ContainerType.choices, default=ContainerType.DISPLAY)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["game", "name"], name="playlist_name_unique_per_game")]

    def __str__(self) -> str:
        return self.name


class PlaylistItem(models.Model):
    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="playlist_items")
    display_seconds = models.PositiveIntegerField(
        default=15, validators=[MinValueValidator(1), MaxValueValidator(3600)]
    )

    class Meta:
        ordering = ["playlist", "position"]
        constraints = [
            models.UniqueConstraint(fields=["playlist", "position"], name="playlist_item_position_unique"),
            models.CheckConstraint(
                condition=models.Q(display_seconds__gte=1, display_seconds__lte=3600),
                name="playlist_item_display_seconds_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.playlist} #{self.position}"

    def clean(self) -> None:
        allowed = ASSET_TYPES_FOR_CONTAINER[ContainerType(self.playlist.container_type)]
        if self.asset.asset_type != AssetType.UNKNOWN and self.asset.asset_type not in allowed:
            raise ValidationError(
                {
                    "asset": f"A {self.asset.asset_type} asset cannot be shown in a {self.playlist.container_type} "
                    f"container."
                }
            )


class ContainerStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "Active"
    INACTIVE = "INACTIVE", "Inactive"
    MAINTENANCE = "MAINTENANCE", "Maintenance"


DISPLAY_MIN_STUDS = (Decimal("8"), Decimal("4.5"))
DISPLAY_MAX_STUDS = (Decimal("32"), Decimal("18"))


class AdContainer(TimeStamped):
    """A place in a game where sponsored content appears."""

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="containers")
    name = models.CharField(max_length=100)
    type = models.CharField(max_length=16, choices=ContainerType.choices, default=ContainerType.DISPLAY)
    status = models.CharField(max_length=16, choices=ContainerStatus.choices, default=ContainerStatus.ACTIVE)
    placement = models.SlugField(
        max_length=64, help_text="The key the game script uses to find this container (a CollectionService tag)."
    )
    width_studs = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("16"))
    height_studs = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("9"))
    floor_price_cpm = models.DecimalField(
        max_digits=12, decimal_places=6, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))]
    )
    blocked_categories = ArrayField(
        models.CharField(max_length=32, choices=AdCategory.choices), default=list, blank=True
    )
    playlist = models.ForeignKey(Playlist, null=True, blank=True, on_delete=models.SET_NULL, related_name="containers")

    class Meta:
        ordering = ["game", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["game", "placement"], name="container_placement_unique_per_game"),
            models.CheckConstraint(condition=models.Q(floor_price_cpm__gte=0), name="container_floor_non_negative"),
            models.CheckConstraint(
                condition=models.Q(width_studs__gt=0, height_studs__gt=0), name="container_size_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_type_display()})"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.type == ContainerType.DISPLAY and self.width_studs is not None and self.height_studs is not None:
            (min_w, min_h), (max_w, max_h) = DISPLAY_MIN_STUDS, DISPLAY_MAX_STUDS
            if not min_w <= self.width_studs <= max_w:
                errors["width_studs"] = f"A display billboard is {min_w} to {max_w} studs wide (Roblox's limits)."
            if not min_h <= self.height_studs <= max_h:
                errors["height_studs"] = f"A display billboard is {min_h} to {max_h} studs high (Roblox's limits)."
        if self.playlist_id is not None and self.playlist is not None:
            if self.playlist.game_id != self.game_id:
                errors["playlist"] = "The playlist belongs to another game."
            elif self.playlist.container_type != self.type:
                errors["playlist"] = (
                    f"This playlist holds {self.playlist.container_type} content; the container is {self.type}."
                )
        unknown = set(self.blocked_categories or []) - set(AdCategory.values)
        if unknown:
            errors["blocked_categories"] = f"Unknown categories: {', '.join(sorted(unknown))}."
        if errors:
            raise ValidationError(errors)


class ContainerStatusChange(models.Model):
    """Audit trail: who switched a container, from what, to what, and why."""

    container = models.ForeignKey(AdContainer, on_delete=models.CASCADE, related_name="status_changes")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    from_status = models.CharField(max_length=16, choices=ContainerStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=ContainerStatus.choices)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.container}: {self.from_status or '-'} → {self.to_status}"


class GameApiKey(TimeStamped):
    """``X-API-Key`` of a game server. Only the SHA-256 of the key is kept.

    The signing secret must be readable to verify HMAC signatures, so it is
    kept encrypted (``FIELD_ENCRYPTION_KEYS``), not hashed; it is shown once at
    creation and never again by any page or endpoint.
    """

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    signing_secret = EncryptedTextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "game API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
