from __future__ import annotations

import hmac

from django.db.models import QuerySet

from adplatform.accounts.models import PersonalAccessToken, User
from adplatform.accounts.services import TOKEN_PREFIX, hash_key


def token_list(*, user: User) -> QuerySet[PersonalAccessToken]:
    return PersonalAccessToken.objects.filter(user=user)


def token_get_by_key(raw: str) -> PersonalAccessToken | None:
    """Find a token by its key. The lookup is by SHA-256, so timing says nothing about the key."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 128:
        return None
    digest = hash_key(raw)
    token = PersonalAccessToken.objects.select_related("user").filter(key_hash=digest).first()
    if token is None or not hmac.compare_digest(token.key_hash, digest):
        return None
    return token


def users_pending_approval() -> QuerySet[User]:
    return User.objects.filter(is_active=False, approved_at__isnull=True).order_by("date_joined")
