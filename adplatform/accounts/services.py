"""Every write to accounts and personal access tokens goes through here."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from adplatform.accounts.models import PersonalAccessToken, User

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "adp_"  # noqa: S105 - a public prefix, not a secret
# last_used_at is refreshed at most this often, so using a token is not a write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def user_signup_validate(
    *, username: str | None = None, email: str | None = None, password: str | None = None, role: str | None = None
) -> None:
    """Every problem ``user_signup`` would refuse these values for, writing nothing (a form shows them in one
    submit); a value left out (``None``) is not checked."""
    errors: dict[str, list[str]] = {}
    if role is not None and role not in (User.Role.OWNER, User.Role.ADVERTISER):
        errors["role"] = ["Choose game owner or advertiser."]
    if username is not None and User.objects.filter(username__iexact=username).exists():
        errors["username"] = ["That username is taken."]
    if email is not None and User.objects.filter(email__iexact=email).exists():
        errors["email"] = ["An account with this email already exists."]
    if password is not None:
        try:
            validate_password(password, User(username=username or "", email=email or ""))
        except ValidationError as exc:
            errors["password"] = exc.messages
    if errors:
        raise ValidationError(errors)


def user_signup(*, username: str, email: str, password: str, role: str, company: str = "", note: str = "") -> User:
    """Ask for an owner or advertiser account. It stays inactive until staff approve it."""
    user_signup_validate(username=username, email=email, password=password, role=role)
    user = User(username=username, email=email, role=role, company=company, signup_note=note, is_active=False)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    logger.info("account requested", extra={"user_id": user.pk, "role": role})
    return user


@transaction.atomic
def user_approve(*, user: User, approved_by: User) -> User:
    """Staff approve a sign-up: the account becomes active."""
    if user.is_active and user.approved_at is not None:
        return user
    user.is_active = True
    user.approved_at = timezone.now()
    user.approved_by = approved_by
    if user.role == User.Role.STAFF:
        user.is_staff = True
    user.save(update_fields=["is_active", "approved_at", "approved_by", "is_staff", "updated_at"])
    logger.info("account approved", extra={"user_id": user.pk, "approved_by": approved_by.pk})
    return user


@transaction.atomic
def users_delete(*, users: Iterable[User]) -> list[int]:
    """Delete accounts with their access tokens (refused from then on) and advertiser profile.

    Refused, deleting nothing, while an account still owns games or has campaigns: those are deleted or
    archived through their own services first. Returns the ids deleted.
    """
    ids = sorted({user.pk for user in users})
    if not ids:
        return []
    try:
        with transaction.atomic():
            User.objects.filter(pk__in=ids).delete()
    except ProtectedError as exc:
        kinds = sorted({str(obj._meta.verbose_name_plural) for obj in exc.protected_objects})
        raise ValidationError(f"These accounts still have {', '.join(kinds)}; remove those first.") from None
    logger.info("accounts deleted", extra={"user_ids": ids})
    return ids


def user_update_profile(*, user: User, data: dict) -> User:
    """Change the fields a person may change about themselves."""
    allowed = {"email", "first_name", "last_name", "company", "time_zone"}
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field cannot be changed."))
    email = data.get("email")
    if email and User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
        raise ValidationError({"email": "An account with this email already exists."})
    if "time_zone" in data:
        data = {**data, "time_zone": _valid_time_zone(data["time_zone"])}
    for field, value in data.items():
        setattr(user, field, value)
    user.full_clean(exclude=["password"])
    user.save(update_fields=[*data.keys(), "updated_at"])
    return user


def token_create(*, user: User, name: str, expires_in_days: int | None = None) -> tuple[PersonalAccessToken, str]:
    """Create a personal access token; the raw key is returned once and never stored."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the token a name."})
    if expires_in_days is not None and not 1 <= expires_in_days <= 3650:
        raise ValidationError({"expires_in_days": "Between 1 and 3650 days."})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = PersonalAccessToken.objects.create(
        user=user,
        name=name[:100],
        prefix=raw[:12],
        key_hash=hash_key(raw),
        expires_at=timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    logger.info("access token created", extra={"user_id": user.pk, "token_id": token.pk})
    return token, raw


def token_revoke(*, token: PersonalAccessToken) -> PersonalAccessToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
        logger.info("access token revoked", extra={"user_id": token.user_id, "token_id": token.pk})
    return token


def token_touch(*, token: PersonalAccessToken) -> None:
    """Record use, at most once per ``LAST_USED_RESOLUTION``."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        PersonalAccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


# --------------------------------------------------------------------------- notifications


def notification_send(
    *, user, kind: str, title: str, body: str = "", url: str = "", dedupe_key: str = "", email: bool = True
):
    """Tell ``user`` about something in the console and, after commit, by email (Django's email backend).

    Idempotent with a ``dedupe_key``: the same key for the same person notifies once (a retried job,
    a second approval of the same thing). Returns the notification, or ``None`` when it was a repeat.
    """
    from django.conf import settings
    from django.core.mail import send_mail

    from adplatform.accounts.models import Notification

    if kind not in Notification.Kind.values:
        raise ValidationError({"kind": f"One of {', '.join(Notification.Kind.values)}."})
    if dedupe_key and Notification.objects.filter(user=user, dedupe_key=dedupe_key).exists():
        return None
    notification = Notification.objects.create(
        user=user, kind=kind, title=title[:200], body=body, url=url[:500], dedupe_key=dedupe_key[:200]
    )
    if email and user.email:
        site = getattr(settings, "SITE_URL", "").rstrip("/")

        def deliver() -> None:
            text = body + (f"\n\n{site}{url}" if url else "")
            try:
                send_mail(title, text, None, [user.email], fail_silently=False)
            except Exception:  # a mail server down must not undo the change that caused the notification
                logger.warning("notification email failed", extra={"notification_id": notification.pk}, exc_info=True)
                return
            Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())

        transaction.on_commit(deliver)
    logger.info("notification sent", extra={"notification_id": notification.pk, "kind": kind, "user_id": user.pk})
    return notification


def notifications_mark_read(*, user, ids: list[int] | None = None) -> int:
    """Mark the person's notifications read (all unread ones without ``ids``); returns how many changed."""
    from adplatform.accounts.models import Notification

    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


def _valid_time_zone(value: str) -> str:
    """An IANA zone name such as ``Europe/Paris`` (the pages show times in it)."""
    import zoneinfo

    name = (value or "").strip()
    if name != "UTC" and name not in zoneinfo.available_timezones():
        raise ValidationError({"time_zone": "Choose a time zone from the list, e.g. Europe/Paris."})
    return name
