from datetime import timedelta

import pytest
from django.utils import timezone

from adplatform.accounts import services

pytestmark = pytest.mark.django_db


def test_token_authenticates_its_owner(api_client, owner):
    _, raw = services.token_create(user=owner, name="ci")
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    response = api_client.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["username"] == owner.username


def test_revoked_token_is_401_token_revoked(api_client, owner):
    token, raw = services.token_create(user=owner, name="ci")
    services.token_revoke(token=token)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    response = api_client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_revoked"


def test_expired_token_is_401_token_expired(api_client, owner):
    token, raw = services.token_create(user=owner, name="ci", expires_in_days=1)
    token.expires_at = timezone.now() - timedelta(seconds=1)
    token.save()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert api_client.get("/api/v1/me").json()["error"]["code"] == "token_expired"


def test_token_of_a_deactivated_account_is_refused(api_client, owner):
    _, raw = services.token_create(user=owner, name="ci")
    owner.is_active = False
    owner.save()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert api_client.get("/api/v1/me").status_code == 401


def test_me_update_changes_only_allowed_fields(token_client, owner):
    client = token_client(owner)
    response = client.patch("/api/v1/me", {"company": "Blox Inc", "role": "STAFF", "is_staff": True}, format="json")
    assert response.status_code == 200
    owner.refresh_from_db()
    assert owner.company == "Blox Inc"
    assert owner.role == "OWNER" and owner.is_staff is False


def test_me_update_refuses_an_email_of_another_account(token_client, owner, advertiser):
    response = token_client(owner).patch("/api/v1/me", {"email": advertiser.email.upper()}, format="json")
    assert response.status_code == 400
    assert "email" in response.json()["error"]["details"]
    owner.refresh_from_db()
    assert owner.email != advertiser.email


def test_session_auth_on_the_api_requires_csrf(owner):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.get("/api/v1/me").status_code == 200
    response = client.patch("/api/v1/me", {"company": "x"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
