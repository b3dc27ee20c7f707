from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower


class User(AbstractUser):
    """A person using the consoles: a game owner, an advertiser or staff.

    Sign-ups start inactive; staff approve them (``user_approve``).
    """

    class Role(models.TextChoices):
        OWNER = "OWNER", "Game owner"
        ADVERTISER = "ADVERTISER", "Advertiser"
        STAFF = "STAFF", "Staff"

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.OWNER)
    company = models.CharField(max_length=200, blank=True)
    signup_note = models.TextField(blank=True, help_text="What the person told us when asking for an account.")
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    time_zone = models.CharField(
        max_length=64, default="UTC", help_text="Pages show dates and times in this zone (an IANA name)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["username"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"), condition=~models.Q(email=""), name="accounts_user_email_unique_ci"
            ),
        ]

    @property
    def is_owner(self) -> bool:
        return self.role == self.Role.OWNER

    @property
    def is_advertiser(self) -> bool:
        return self.role == self.Role.ADVERTISER

    @property
    def is_pending_approval(self) -> bool:
        return not self.is_active and self.approved_at is None


class PersonalAccessToken(models.Model):
    """``Authorization: Token <key>`` for the management API. Only the SHA-256 of the key is kept."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="The first characters of the key, to recognise it in lists.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "personal access token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        from django.utils import timezone

        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()


class Notification(models.Model):
    """Something a person should know: a campaign approved or rejected, a budget spent, a container off.

    Shown in the console (the bell in the header) and sent by email once, through Django's email backend.
    ``dedupe_key`` makes a notification about one event idempotent (a retried job notifies once).
    """

    class Kind(models.TextChoices):
        APPROVED = "APPROVED", "Approved"
        REJECTED = "REJECTED", "Rejected"
        LIVE = "LIVE", "Went live"
        BUDGET_EXHAUSTED = "BUDGET_EXHAUSTED", "Budget spent"
        CONTAINER_OFF = "CONTAINER_OFF", "Container switched off"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    dedupe_key = models.CharField(max_length=200, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="accounts_notif_user_unread")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "dedupe_key"], condition=~models.Q(dedupe_key=""), name="accounts_notif_dedupe"
            ),
        ]

    def __str__(self) -> str:
        return self.title
