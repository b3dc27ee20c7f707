"""Demo data for the accounts: one owner, one advertiser, one staff user, each with an API token.

``seed_demo`` calls the ``demo.seed(context)`` function of every app in
``DEMO_SEEDERS`` order; each adds its objects and fills in ``context``.
"""

from __future__ import annotations

import os

from django.db import transaction
from django.utils import timezone

from adplatform.accounts import services as account_services
from adplatform.accounts.models import PersonalAccessToken, User

DEMO_TOKEN_NAME = "seed_demo"  # noqa: S105 - a label
DEMO_USERS = {
    "owner": ("demo-owner", User.Role.OWNER, "Demo Studio"),
    "advertiser": ("demo-advertiser", User.Role.ADVERTISER, "Demo Brand"),
    "staff": ("demo-staff", User.Role.STAFF, "Platform"),
}


def demo_password() -> str:
    return os.environ.get("DEMO_PASSWORD") or "demo-password"


@transaction.atomic
def seed(context: dict) -> None:
    password = demo_password()
    context["password"] = password
    users = {}
    for role_key, (username, role, company) in DEMO_USERS.items():
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"role": role, "company": company, "email": f"{username}@example.com"},
        )
        if created or not user.check_password(password):
            user.set_password(password)
        user.role = role
        user.is_active = True
        user.approved_at = user.approved_at or timezone.now()
        user.is_staff = role == User.Role.STAFF
        user.is_superuser = role == User.Role.STAFF
        user.save()
        # Keys are stored hashed, so a re-run cannot print the old one: rotate it instead.
        for token in PersonalAccessToken.objects.filter(user=user, name=DEMO_TOKEN_NAME, revoked_at__isnull=True):
            account_services.token_revoke(token=token)
        _, raw = account_services.token_create(user=user, name=DEMO_TOKEN_NAME)
        context[f"{role_key}_token"] = raw
        context[f"{role_key}_username"] = username
        users[role_key] = user
    context["_users"] = users
