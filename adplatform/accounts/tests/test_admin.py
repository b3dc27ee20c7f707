"""The accounts admin: approving, revoking and deleting go through adplatform/accounts/services.py."""

from __future__ import annotations

import pytest
from django.urls import reverse

from adplatform.accounts import services
from adplatform.accounts.models import PersonalAccessToken, User
from games.tests.factories import GameFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def _changelist(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def _me(api_client, raw: str) -> int:
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return api_client.get("/api/v1/me").status_code


def test_revoke_tokens_action_stops_the_tokens_at_once(staff_client, api_client, owner):
    token, raw = services.token_create(user=owner, name="ci")
    assert _me(api_client, raw) == 200

    staff_client.post(_changelist(PersonalAccessToken), {"action": "revoke", "_selected_action": [token.pk]})

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert _me(api_client, raw) == 401


def test_tokens_are_revoked_not_deleted(staff_client, owner):
    token, _ = services.token_create(user=owner, name="ci")
    url = reverse("admin:accounts_personalaccesstoken_delete", args=[token.pk])
    assert staff_client.post(url, {"post": "yes"}).status_code == 403
    assert PersonalAccessToken.objects.filter(pk=token.pk).exists()


def test_delete_selected_accounts_goes_through_the_service(staff_client, api_client, user_factory):
    users = [user_factory(role="ADVERTISER"), user_factory(role="ADVERTISER")]
    _, raw = services.token_create(user=users[0], name="script")

    response = staff_client.post(
        _changelist(User),
        {"action": "delete_selected", "_selected_action": [u.pk for u in users], "post": "yes"},
        follow=True,
    )

    assert response.status_code == 200
    assert not User.objects.filter(pk__in=[u.pk for u in users]).exists()
    assert _me(api_client, raw) == 401


def test_an_account_that_owns_games_is_not_deleted(staff_client, owner):
    GameFactory(owner=owner)
    response = staff_client.post(
        _changelist(User), {"action": "delete_selected", "_selected_action": [owner.pk], "post": "yes"}, follow=True
    )
    assert User.objects.filter(pk=owner.pk).exists()
    assert response.status_code in (200, 403)


def test_the_delete_service_refuses_an_owner_of_games_and_deletes_nothing(owner, advertiser):
    from django.core.exceptions import ValidationError

    GameFactory(owner=owner)
    with pytest.raises(ValidationError, match="games"):
        services.users_delete(users=[advertiser, owner])
    assert User.objects.filter(pk__in=[owner.pk, advertiser.pk]).count() == 2
